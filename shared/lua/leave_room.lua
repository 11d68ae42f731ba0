-- Leave a room: a waiting place is freed at once, an ACTIVE slot goes to the next fan on the next
-- tick. Leaving again changes nothing.
-- KEYS: {r:C}:waiting, {r:C}:active, {r:C}:holder, {r:C}:seen
-- ARGV: fan (the token user's compact id), ticket
-- Returns {'WAITING' | 'ACTIVE' | 'GONE'}: where the ticket was. Only its owner's token can leave:
-- the ticket must be the user's latest (see room_status.lua).
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local waiting_key, active_key, holder_key, seen_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local fan, ticket =
  ARGV[1], ARGV[2]
if redis.call('HGET', holder_key, fan) ~= ticket then
  return {'GONE'}
end
redis.call('HDEL', holder_key, fan)
if redis.call('ZREM', waiting_key, ticket) == 1 then
  return {'WAITING'}
elseif redis.call('ZREM', active_key, ticket) == 1 then
  redis.call('ZREM', seen_key, ticket)
  return {'ACTIVE'}
end
return {'GONE'}
