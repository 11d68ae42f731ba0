-- Count one request of a client address against a limit per window (a fixed window).
-- KEYS: {rl:<address>}:<action>
-- ARGV: limit, windowMs
-- Returns {1, 0} when allowed, {0, msUntilTheWindowEnds} when over the limit.
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local counter_key =
  KEYS[1]
local limit, window_ms =
  ARGV[1], ARGV[2]
local n = redis.call('INCR', counter_key)
if n == 1 then
  redis.call('PEXPIRE', counter_key, window_ms)
end
if n > tonumber(limit) then
  local ttl = redis.call('PTTL', counter_key)
  if ttl < 0 then
    redis.call('PEXPIRE', counter_key, window_ms)
    ttl = tonumber(window_ms)
  end
  return {0, ttl}
end
return {1, 0}
