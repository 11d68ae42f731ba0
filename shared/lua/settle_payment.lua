-- Last step of a payment, on the schedule's side, following what the user's side decided:
-- 'PAID' sells the seat and, in the same atomic step, appends the PaymentCompleted event to the
-- schedule's outbox (no sale without its event, no event without its sale); 'VOID' releases the
-- seat. Repeating a settle changes nothing and appends nothing.
-- A debited payment whose hold was released anyway (only lost data can do that: a failover that
-- dropped the last writes) is never taken for a sale: it is recorded in `refunds` for operators
-- and answered 'ORPHANED'.
-- KEYS: {s:<id>}:seats, {s:<id>}:reservations, {s:<id>}:holds, {s:<id>}:outbox, {s:<id>}:meta,
--       {s:<id>}:holders, {s:<id>}:refunds, {s:<id>}:finished, {s:<id>}:states
-- ARGV: reservationId, outcome ('PAID' | 'VOID'), paidAtMs, eventId, paidAtRfc3339
-- Returns {status, reservationJson[, outboxEntryId, eventJson, outboxLength]} | {'ORPHANED', reservationJson}
--         | {'ERR', code}
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then
  return {'ERR', 'RESERVATION_NOT_FOUND'}
end
local r = cjson.decode(raw)
if r.status == 'EXPIRED' and ARGV[2] == 'PAID' then
  redis.call('HSET', KEYS[7], ARGV[1], cjson.encode({
    reservationId = r.reservationId, paymentId = r.paymentId, userId = r.userId, seatNumber = r.seatNumber,
    amount = r.price, recordedAt = tonumber(ARGV[3]),
  }))
  return {'ORPHANED', raw}
end
if r.status ~= 'HELD' then
  return {r.status, raw}
end
local seat = tostring(r.seatNumber)
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HINCRBY', KEYS[6], r.userId, -1) <= 0 then
  redis.call('HDEL', KEYS[6], r.userId)
end
if ARGV[2] ~= 'PAID' then
  r.status = 'EXPIRED'
  redis.call('HDEL', KEYS[1], seat)
  redis.call('BITFIELD', KEYS[9], 'SET', 'i64', '#' .. seat, 0)
  redis.call('ZADD', KEYS[8], ARGV[3], ARGV[1])
  raw = cjson.encode(r)
  redis.call('HSET', KEYS[2], ARGV[1], raw)
  return {r.status, raw}
end
r.status = 'PAID'
r.paidAt = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], seat, 'S|0|' .. ARGV[1])
redis.call('BITFIELD', KEYS[9], 'SET', 'i64', '#' .. seat, 1)
redis.call('HINCRBY', KEYS[5], 'sold', 1)
raw = cjson.encode(r)
redis.call('HSET', KEYS[2], ARGV[1], raw)
local event = cjson.encode({
  schemaVersion = 1, type = 'PaymentCompleted', eventId = ARGV[4], paymentId = r.paymentId,
  reservationId = r.reservationId, userId = r.userId, concertId = r.concertId,
  scheduleId = r.scheduleId, seatNumber = r.seatNumber, amount = r.price, paidAt = ARGV[5],
})
local id = redis.call('XADD', KEYS[4], '*', 'event', event)
return {r.status, raw, id, event, tostring(redis.call('XLEN', KEYS[4]))}
