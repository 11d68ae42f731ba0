-- Last step of a payment, on the schedule's side, following what the user's side decided:
-- 'PAID' sells the seat and, in the same atomic step, appends the PaymentCompleted event to the
-- schedule's outbox (no sale without its event, no event without its sale); 'VOID' releases the
-- seat. Repeating a settle changes nothing and appends nothing.
-- A debited payment whose hold was released anyway (only lost data can do that: a failover that
-- dropped the last writes) is never taken for a sale: it is recorded in `refunds` for operators
-- and answered 'ORPHANED'.
-- KEYS: {s:<id>}:seats, {s:<id>}:reservations, {s:<id>}:holds, {s:<id>}:holders,
--       {s:<id>}:finished, {s:<id>}:states, {s:<id>}:outbox, {s:<id>}:meta, {s:<id>}:refunds,
--       {s:<id>}:minutes (seats sold per minute, for the operator's report), {s:<id>}:bought-by (a
--       HyperLogLog of the fans who bought, for the report)
-- ARGV: reservationId, outcome ('PAID' | 'VOID'), paidAtMs, eventId, paidAtRfc3339, paidInBuckets
--       (upper bounds in seconds, comma-separated: a sale counts the time from its hold in the
--       meta's `paidIn:<bound>`, the first bound it does not exceed, or `paidIn:inf`; a voided hold
--       counts in `lapsed`. The waiting room's forecast reads both: shared/src/domain/forecast.rs)
-- Returns {status, reservationJson[, outboxEntryId, eventJson, outboxLength]} | {'ORPHANED', reservationJson}
--         | {'ERR', code}
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local seats_key, reservations_key, holds_key, holders_key, finished_key, states_key, outbox_key, meta_key, refunds_key, minutes_key, bought_by_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local reservation_id, outcome, paid_at_ms, event_id, paid_at_rfc3339, paid_in_buckets =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local raw = redis.call('HGET', reservations_key, reservation_id)
if not raw then
  return {'ERR', 'RESERVATION_NOT_FOUND'}
end
local r = cjson.decode(raw)
if r.status == 'EXPIRED' and outcome == 'PAID' then
  redis.call('HSET', refunds_key, reservation_id, cjson.encode({
    reservationId = r.reservationId, paymentId = r.paymentId, userId = r.userId, seatNumber = r.seatNumber,
    amount = r.price, recordedAt = tonumber(paid_at_ms),
  }))
  return {'ORPHANED', raw}
end
if r.status ~= 'HELD' then
  return {r.status, raw}
end
local seat = tostring(r.seatNumber)
redis.call('ZREM', holds_key, reservation_id)
if redis.call('HINCRBY', holders_key, r.userId, -1) <= 0 then
  redis.call('HDEL', holders_key, r.userId)
end
if outcome ~= 'PAID' then
  r.status = 'EXPIRED'
  redis.call('HDEL', seats_key, seat)
  redis.call('BITFIELD', states_key, 'SET', 'i64', '#' .. seat, 0)
  redis.call('ZADD', finished_key, paid_at_ms, reservation_id)
  raw = cjson.encode(r)
  redis.call('HSET', reservations_key, reservation_id, raw)
  redis.call('HINCRBY', meta_key, 'lapsed', 1)
  return {r.status, raw}
end
r.status = 'PAID'
r.paidAt = tonumber(paid_at_ms)
redis.call('HSET', seats_key, seat, 'S|0|' .. reservation_id)
redis.call('BITFIELD', states_key, 'SET', 'i64', '#' .. seat, 1)
redis.call('HINCRBY', meta_key, 'sold', 1)
redis.call('HINCRBY', minutes_key, math.floor(tonumber(paid_at_ms) / 60000), 1)
local took = (tonumber(paid_at_ms) - (r.heldAt or tonumber(paid_at_ms))) / 1000
local bucket = 'paidIn:inf'
for bound in string.gmatch(paid_in_buckets, '%d+') do
  if took <= tonumber(bound) then
    bucket = 'paidIn:' .. bound
    break
  end
end
redis.call('HINCRBY', meta_key, bucket, 1)
redis.call('PFADD', bought_by_key, r.userId)
raw = cjson.encode(r)
redis.call('HSET', reservations_key, reservation_id, raw)
local event = cjson.encode({
  schemaVersion = 1, type = 'PaymentCompleted', eventId = event_id, paymentId = r.paymentId,
  reservationId = r.reservationId, userId = r.userId, concertId = r.concertId,
  scheduleId = r.scheduleId, seatNumber = r.seatNumber, amount = r.price, paidAt = paid_at_rfc3339,
})
local id = redis.call('XADD', outbox_key, '*', 'event', event)
return {r.status, raw, id, event, tostring(redis.call('XLEN', outbox_key))}
