-- Second step of a payment, on the user's side: debit the balance, once per reservation.
-- KEYS: {u:<id>}:profile, {u:<id>}:payments, {u:<id>}:idempotency, {u:<id>}:claims:<concertId>
-- ARGV: reservationId, paymentId, amount, concertId, scheduleId, seatNumber, userId, nowMs,
--       idempotencyField ('' when the request had no key)
-- Returns {'PAID', paymentJson, liveHolds} | {'DONE', paymentJson, liveHolds} (paid before) | {'VOID'} |
--         {'SHORT', balance} | {'KEY_REUSED'} | {'NO_USER'}
-- liveHolds: the user's holds of the concert still waiting for payment (claims, see claim_seat.lua).
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local profile_key, payments_key, idempotency_key, claims_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local reservation_id, payment_id, amount_text, concert_id, schedule_id, seat_number, user_id, now_ms, idempotency_field =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local now = tonumber(now_ms)
local PAID = 9e15 -- a claim's score once paid: it never lapses
local function live_holds()
  return redis.call('ZCOUNT', claims_key, '(' .. now, '(' .. PAID)
end
local existing = redis.call('HGET', payments_key, reservation_id)
if existing == 'VOID' then
  return {'VOID'}
end
if existing then
  return {'DONE', existing, live_holds()}
end
if idempotency_field ~= '' then
  local previous = redis.call('HGET', idempotency_key, idempotency_field)
  if previous and previous ~= reservation_id then
    return {'KEY_REUSED'}
  end
end
local balance = tonumber(redis.call('HGET', profile_key, 'balance'))
if not balance then
  return {'NO_USER'}
end
local amount = tonumber(amount_text)
if balance < amount then
  return {'SHORT', tostring(balance)}
end
balance = redis.call('HINCRBY', profile_key, 'balance', -amount)
local payment = cjson.encode({
  paymentId = payment_id, reservationId = reservation_id, userId = user_id, concertId = concert_id,
  scheduleId = schedule_id, seatNumber = tonumber(seat_number), amount = amount, balanceAfter = balance,
  paidAt = tonumber(now_ms),
})
redis.call('HSET', payments_key, reservation_id, payment)
if idempotency_field ~= '' then
  redis.call('HSET', idempotency_key, idempotency_field, reservation_id)
  redis.call('EXPIRE', idempotency_key, 86400)
end
redis.call('ZADD', claims_key, PAID, reservation_id)
return {'PAID', payment, live_holds()}
