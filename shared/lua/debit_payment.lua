-- Second step of a payment, on the user's side: debit the balance, once per reservation.
-- KEYS: {u:<id>}:profile, {u:<id>}:payments, {u:<id>}:idempotency, {u:<id>}:claims:<concertId>
-- ARGV: reservationId, paymentId, amount, concertId, scheduleId, seatNumber, userId, nowMs,
--       idempotencyField ('' when the request had no key)
-- Returns {'PAID', paymentJson, liveHolds} | {'DONE', paymentJson, liveHolds} (paid before) | {'VOID'} |
--         {'SHORT', balance} | {'KEY_REUSED'} | {'NO_USER'}
-- liveHolds: the user's holds of the concert still waiting for payment (claims, see claim_seat.lua).
local now = tonumber(ARGV[8])
local PAID = 9e15 -- a claim's score once paid: it never lapses
local function live_holds()
  return redis.call('ZCOUNT', KEYS[4], '(' .. now, '(' .. PAID)
end
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing == 'VOID' then
  return {'VOID'}
end
if existing then
  return {'DONE', existing, live_holds()}
end
if ARGV[9] ~= '' then
  local previous = redis.call('HGET', KEYS[3], ARGV[9])
  if previous and previous ~= ARGV[1] then
    return {'KEY_REUSED'}
  end
end
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance'))
if not balance then
  return {'NO_USER'}
end
local amount = tonumber(ARGV[3])
if balance < amount then
  return {'SHORT', tostring(balance)}
end
balance = redis.call('HINCRBY', KEYS[1], 'balance', -amount)
local payment = cjson.encode({
  paymentId = ARGV[2], reservationId = ARGV[1], userId = ARGV[7], concertId = ARGV[4],
  scheduleId = ARGV[5], seatNumber = tonumber(ARGV[6]), amount = amount, balanceAfter = balance,
  paidAt = tonumber(ARGV[8]),
})
redis.call('HSET', KEYS[2], ARGV[1], payment)
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[9], ARGV[1])
  redis.call('EXPIRE', KEYS[3], 86400)
end
redis.call('ZADD', KEYS[4], PAID, ARGV[1])
return {'PAID', payment, live_holds()}
