-- Last step of a payment, on the schedule's side, following what the user's side decided:
-- 'PAID' sells the seat, 'VOID' releases it. Repeating a settle changes nothing.
-- KEYS: {s:<id>}:seats, {s:<id>}:reservations, {s:<id>}:holds
-- ARGV: reservationId, outcome ('PAID' | 'VOID'), paidAtMs
-- Returns {status, reservationJson} | {'ERR', code}
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then
  return {'ERR', 'RESERVATION_NOT_FOUND'}
end
local r = cjson.decode(raw)
if r.status ~= 'HELD' then
  return {r.status, raw}
end
local seat = tostring(r.seatNumber)
if ARGV[2] == 'PAID' then
  r.status = 'PAID'
  r.paidAt = tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], seat, 'S|0|' .. ARGV[1])
else
  r.status = 'EXPIRED'
  redis.call('HDEL', KEYS[1], seat)
end
redis.call('ZREM', KEYS[3], ARGV[1])
raw = cjson.encode(r)
redis.call('HSET', KEYS[2], ARGV[1], raw)
return {r.status, raw}
