-- Where a ticket stands; a WAITING ticket's poll also proves its holder is still there.
-- KEYS: {q}:waiting, {q}:seen, {q}:active, {q}:stats
-- ARGV: ticket, nowMs
-- Returns {'ACTIVE', expiresAtMs} | {'WAITING', position, ratePerSecond or ''} | {'EXPIRED'}
local now = tonumber(ARGV[2])
local expires = redis.call('ZSCORE', KEYS[3], ARGV[1])
if expires and tonumber(expires) > now then
  return {'ACTIVE', expires}
end
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if rank then
  redis.call('ZADD', KEYS[2], 'XX', now, ARGV[1])
  return {'WAITING', tostring(rank + 1), redis.call('HGET', KEYS[4], 'rate') or ''}
end
return {'EXPIRED'}
