-- An operator's change to a room, applied from the next tick, and logged with old and new values.
-- KEYS: {r:C}:settings, {r:C}:changes
-- ARGV: nowMs, changesJson ({field: newValue} of admitPerTick, activeCap, overbooking, paused,
--       prequeueOpensAt, opensAt; values as strings)
-- Returns {'OK', changeJson} | {'NO_ROOM'} | {'ALREADY_OPEN'} | {'BAD_WINDOW'}
-- The sale times may change until the sale has opened: after that the line's order is set.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'NO_ROOM'}
end
local wanted = cjson.decode(ARGV[2])
local current = redis.call('HMGET', KEYS[1], 'prequeueOpensAt', 'opensAt', 'opened')
if (wanted.prequeueOpensAt or wanted.opensAt) and current[3] == '1' then
  return {'ALREADY_OPEN'}
end
local prequeue = tonumber(wanted.prequeueOpensAt or current[1])
local opens = tonumber(wanted.opensAt or current[2])
if prequeue > opens then
  return {'BAD_WINDOW'}
end
local change = {at = tonumber(ARGV[1]), old = {}, new = {}}
for field, value in pairs(wanted) do
  change.old[field] = redis.call('HGET', KEYS[1], field) or cjson.null
  change.new[field] = value
  redis.call('HSET', KEYS[1], field, value)
end
local json = cjson.encode(change)
redis.call('LPUSH', KEYS[2], json)
redis.call('LTRIM', KEYS[2], 0, 49)
return {'OK', json}
