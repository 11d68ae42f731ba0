-- Release the seats of lapsed holds of one schedule, and forget finished reservations once they
-- are older than the retention (`finished` lists them by when they ended; a paid reservation is
-- never finished here: purchases stay).
-- KEYS: {s:<id>}:seats, {s:<id>}:reservations, {s:<id>}:holds, {s:<id>}:holders, {s:<id>}:finished,
--       {s:<id>}:states
-- ARGV: nowMs, limit, retentionCutoffMs
-- Returns {released, reservationId, userId, ...}: the pairs are lapsed holds on which a payment
-- was attempted; the caller settles each through the user's side first (void_payment.lua).
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {0}
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[2], id)
  local r = raw and cjson.decode(raw)
  if r and r.status == 'HELD' and r.paymentId then
    out[#out + 1] = id
    out[#out + 1] = r.userId
  elseif r and r.status == 'HELD' then
    r.status = 'EXPIRED'
    redis.call('HSET', KEYS[2], id, cjson.encode(r))
    redis.call('HDEL', KEYS[1], tostring(r.seatNumber))
    redis.call('BITFIELD', KEYS[6], 'SET', 'i64', '#' .. r.seatNumber, 0)
    redis.call('ZREM', KEYS[3], id)
    if redis.call('HINCRBY', KEYS[4], r.userId, -1) <= 0 then
      redis.call('HDEL', KEYS[4], r.userId)
    end
    redis.call('ZADD', KEYS[5], ARGV[1], id)
    out[1] = out[1] + 1
  else
    redis.call('ZREM', KEYS[3], id)
  end
end
local old = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[2]))
if #old > 0 then
  redis.call('HDEL', KEYS[2], unpack(old))
  redis.call('ZREM', KEYS[5], unpack(old))
end
return out
