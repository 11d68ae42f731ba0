-- Release the seats of lapsed holds of one schedule, and forget finished reservations once they
-- are older than the retention (`finished` lists them by when they ended; a paid reservation is
-- never finished here: purchases stay).
-- KEYS: {s:<id>}:seats, {s:<id>}:reservations, {s:<id>}:holds, {s:<id>}:holders, {s:<id>}:finished,
--       {s:<id>}:states, {s:<id>}:meta (`lapsed` counts the seats released, for the waiting room's
--       forecast: shared/src/domain/forecast.rs)
-- ARGV: nowMs, limit, retentionCutoffMs
-- Returns {released, reservationId, userId, ...}: the pairs are lapsed holds on which a payment
-- was attempted; the caller settles each through the user's side first (void_payment.lua).
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local seats_key, reservations_key, holds_key, holders_key, finished_key, states_key, meta_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local now_ms, limit, retention_cutoff_ms =
  ARGV[1], ARGV[2], ARGV[3]
local ids = redis.call('ZRANGEBYSCORE', holds_key, '-inf', now_ms, 'LIMIT', 0, tonumber(limit))
local out = {0}
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', reservations_key, id)
  local r = raw and cjson.decode(raw)
  if r and r.status == 'HELD' and r.paymentId then
    out[#out + 1] = id
    out[#out + 1] = r.userId
  elseif r and r.status == 'HELD' then
    r.status = 'EXPIRED'
    redis.call('HSET', reservations_key, id, cjson.encode(r))
    redis.call('HDEL', seats_key, tostring(r.seatNumber))
    redis.call('BITFIELD', states_key, 'SET', 'i64', '#' .. r.seatNumber, 0)
    redis.call('ZREM', holds_key, id)
    if redis.call('HINCRBY', holders_key, r.userId, -1) <= 0 then
      redis.call('HDEL', holders_key, r.userId)
    end
    redis.call('ZADD', finished_key, now_ms, id)
    out[1] = out[1] + 1
  else
    redis.call('ZREM', holds_key, id)
  end
end
if out[1] > 0 then
  redis.call('HINCRBY', meta_key, 'lapsed', out[1])
end
local old = redis.call('ZRANGEBYSCORE', finished_key, '-inf', retention_cutoff_ms, 'LIMIT', 0, tonumber(limit))
if #old > 0 then
  redis.call('HDEL', reservations_key, unpack(old))
  redis.call('ZREM', finished_key, unpack(old))
end
return out
