-- Where a ticket stands in its room; a waiting ticket's poll also proves its holder is still there.
-- KEYS: {r:C}:waiting, {r:C}:seen, {r:C}:active, {r:C}:stats, {r:C}:settings, {r:C}:owner
-- ARGV: ticket, nowMs, userId (the token's)
-- Returns {'ACTIVE', expiresAtMs} | {'PREQUEUE', opensAtMs} |
--         {'WAITING', position, ratePerSecond or '', paused ('1' | '0'), place} | {'SOLD_OUT'} |
--         {'EXPIRED'}
-- `place` is the ticket's place counted from the first ever admitted: the room's admitted total
-- plus the position. Against the public room state's `admittedTotal` it gives the position again
-- (at most the true one: fans ahead who left are not subtracted) without asking here.
local now = tonumber(ARGV[2])
if redis.call('HGET', KEYS[6], ARGV[1]) ~= ARGV[3] then
  return {'EXPIRED'}
end
local expires = redis.call('ZSCORE', KEYS[3], ARGV[1])
if expires and tonumber(expires) > now then
  return {'ACTIVE', expires}
end
local s = redis.call('HMGET', KEYS[5], 'opensAt', 'paused', 'soldOut', 'opened')
if s[3] == '1' then
  return {'SOLD_OUT'}
end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return {'EXPIRED'}
end
redis.call('ZADD', KEYS[2], 'XX', now, ARGV[1])
if s[4] ~= '1' and s[1] and now < tonumber(s[1]) then
  return {'PREQUEUE', s[1]}
end
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
local stats = redis.call('HMGET', KEYS[4], 'rate', 'admitted')
local place = tonumber(stats[2] or '0') + rank + 1
return {'WAITING', tostring(rank + 1), stats[1] or '', s[2] or '0', tostring(place)}
