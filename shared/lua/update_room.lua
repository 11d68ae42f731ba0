-- An operator's change to a room, applied from the next tick, and logged with old and new values.
-- KEYS: {r:C}:settings, {r:C}:changes
-- ARGV: nowMs, changesJson ({field: newValue} of admitPerTick, activeCap, overbooking, paused,
--       prequeueOpensAt, opensAt; values as strings)
-- Returns {'OK', changeJson} | {'NO_ROOM'} | {'ALREADY_OPEN'} | {'BAD_WINDOW'}
-- The sale times may change until the sale has opened: after that the line's order is set.
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local settings_key, changes_key =
  KEYS[1], KEYS[2]
local now_ms, changes_json =
  ARGV[1], ARGV[2]
if redis.call('EXISTS', settings_key) == 0 then
  return {'NO_ROOM'}
end
local wanted = cjson.decode(changes_json)
local current = redis.call('HMGET', settings_key, 'prequeueOpensAt', 'opensAt', 'opened')
if (wanted.prequeueOpensAt or wanted.opensAt) and current[3] == '1' then
  return {'ALREADY_OPEN'}
end
local prequeue = tonumber(wanted.prequeueOpensAt or current[1])
local opens = tonumber(wanted.opensAt or current[2])
if prequeue > opens then
  return {'BAD_WINDOW'}
end
local change = {at = tonumber(now_ms), old = {}, new = {}}
for field, value in pairs(wanted) do
  change.old[field] = redis.call('HGET', settings_key, field) or cjson.null
  change.new[field] = value
  redis.call('HSET', settings_key, field, value)
end
local json = cjson.encode(change)
redis.call('LPUSH', changes_key, json)
redis.call('LTRIM', changes_key, 0, 49)
return {'OK', json}
