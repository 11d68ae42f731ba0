-- Release the seats of lapsed holds of one schedule.
-- KEYS: {s:<id>}:seats, {s:<id>}:reservations, {s:<id>}:holds, {s:<id>}:holders
-- ARGV: nowMs, limit
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
    redis.call('ZREM', KEYS[3], id)
    if redis.call('HINCRBY', KEYS[4], r.userId, -1) <= 0 then
      redis.call('HDEL', KEYS[4], r.userId)
    end
    out[1] = out[1] + 1
  else
    redis.call('ZREM', KEYS[3], id)
  end
end
return out
