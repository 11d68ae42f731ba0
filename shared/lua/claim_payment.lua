-- First step of a payment, on the schedule's side: check the hold and mark it as being paid.
-- KEYS: {s:<id>}:reservations
-- ARGV: reservationId, userId, nowMs, newPaymentId, concertId (of the caller's queue token)
-- Returns {'HELD', reservationJson} (with its paymentId) | {'PAID', reservationJson} | {'ERR', code}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then
  return {'ERR', 'RESERVATION_NOT_FOUND'}
end
local r = cjson.decode(raw)
if r.userId ~= ARGV[2] then
  return {'ERR', 'RESERVATION_NOT_FOUND'}
end
if r.concertId ~= ARGV[5] then
  return {'ERR', 'WRONG_CONCERT'}
end
if r.status == 'PAID' then
  return {'PAID', raw}
end
if r.status ~= 'HELD' or r.expiresAt <= tonumber(ARGV[3]) then
  return {'ERR', 'HOLD_EXPIRED'}
end
-- Once a payment id is set the hold is only released by the sweeper, which first voids the debit
-- on the user's side (see void_payment.lua). A retry reuses the same payment id.
if not r.paymentId then
  r.paymentId = ARGV[4]
  raw = cjson.encode(r)
  redis.call('HSET', KEYS[1], ARGV[1], raw)
end
return {'HELD', raw}
