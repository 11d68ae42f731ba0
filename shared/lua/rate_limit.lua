-- Count one request of a client address against a limit per window (a fixed window).
-- KEYS: {rl:<address>}:<action>
-- ARGV: limit, windowMs
-- Returns {1, 0} when allowed, {0, msUntilTheWindowEnds} when over the limit.
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if n > tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
  return {0, ttl}
end
return {1, 0}
