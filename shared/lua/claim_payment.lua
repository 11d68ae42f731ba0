-- First step of a payment, on the schedule's side: check the hold and mark it as being paid.
-- KEYS: {s:<id>}:reservations
-- ARGV: reservationId, userId, nowMs, newPaymentId, concertId (of the caller's queue token),
--       balance (the user's, read just before; '' when unknown)
-- Returns {'HELD', reservationJson} (with its paymentId) | {'PAID', reservationJson} |
--         {'SHORT', balance, reservationJson} | {'ERR', code}
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
-- A balance that cannot pay is refused here, before the hold is marked as being paid, so a
-- refused payment leaves the hold as it was. (The balance may change before the debit; the debit
-- decides, and a short debit after this point is the rare race left to the sweeper.)
if not r.paymentId and ARGV[6] ~= '' and r.price > tonumber(ARGV[6]) then
  return {'SHORT', ARGV[6], raw}
end
-- Once a payment id is set the hold is only released by the sweeper, which first voids the debit
-- on the user's side (see void_payment.lua). A retry reuses the same payment id.
if not r.paymentId then
  r.paymentId = ARGV[4]
  raw = cjson.encode(r)
  redis.call('HSET', KEYS[1], ARGV[1], raw)
end
return {'HELD', raw}
