-- Leave a room: a waiting place is freed at once, an ACTIVE slot goes to the next fan on the next
-- tick. Leaving again changes nothing.
-- KEYS: {r:C}:waiting, {r:C}:seen, {r:C}:joined, {r:C}:active, {r:C}:holder, {r:C}:owner
-- ARGV: userId, ticket
-- Returns {'WAITING' | 'ACTIVE' | 'GONE'}: where the ticket was. Only its owner's token can leave.
if redis.call('HGET', KEYS[6], ARGV[2]) ~= ARGV[1] then
  return {'GONE'}
end
local waiting = redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
local active = redis.call('ZREM', KEYS[4], ARGV[2])
if redis.call('HGET', KEYS[5], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[5], ARGV[1])
end
if waiting == 1 then
  return {'WAITING'}
elseif active == 1 then
  return {'ACTIVE'}
end
return {'GONE'}
