-- Leave a room: a waiting place is freed at once, an ACTIVE slot goes to the next fan on the next
-- tick. Leaving again changes nothing.
-- KEYS: {r:C}:waiting, {r:C}:active, {r:C}:holder
-- ARGV: fan (the token user's compact id), ticket
-- Returns {'WAITING' | 'ACTIVE' | 'GONE'}: where the ticket was. Only its owner's token can leave:
-- the ticket must be the user's latest (see room_status.lua).
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
  return {'GONE'}
end
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('ZREM', KEYS[1], ARGV[2]) == 1 then
  return {'WAITING'}
elseif redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  return {'ACTIVE'}
end
return {'GONE'}
