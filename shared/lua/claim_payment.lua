-- First step of a payment, on the schedule's side: check the hold and mark it as being paid.
-- KEYS: {s:<id>}:reservations
-- ARGV: reservationId, userId, nowMs, newPaymentId, concertId (of the caller's queue token),
--       balance (the user's, read just before; '' when unknown)
-- Returns {'HELD', reservationJson} (with its paymentId) | {'PAID', reservationJson} |
--         {'SHORT', balance, reservationJson} | {'ERR', code}
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local reservations_key =
  KEYS[1]
local reservation_id, user_id, now_ms, new_payment_id, concert_id, balance =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local raw = redis.call('HGET', reservations_key, reservation_id)
if not raw then
  return {'ERR', 'RESERVATION_NOT_FOUND'}
end
local r = cjson.decode(raw)
if r.userId ~= user_id then
  return {'ERR', 'RESERVATION_NOT_FOUND'}
end
if r.concertId ~= concert_id then
  return {'ERR', 'WRONG_CONCERT'}
end
if r.status == 'PAID' then
  return {'PAID', raw}
end
if r.status ~= 'HELD' or r.expiresAt <= tonumber(now_ms) then
  return {'ERR', 'HOLD_EXPIRED'}
end
-- A balance that cannot pay is refused here, before the hold is marked as being paid, so a
-- refused payment leaves the hold as it was. (The balance may change before the debit; the debit
-- decides, and a short debit after this point is the rare race left to the sweeper.)
if not r.paymentId and balance ~= '' and r.price > tonumber(balance) then
  return {'SHORT', balance, raw}
end
-- Once a payment id is set the hold is only released by the sweeper, which first voids the debit
-- on the user's side (see void_payment.lua). A retry reuses the same payment id.
if not r.paymentId then
  r.paymentId = new_payment_id
  raw = cjson.encode(r)
  redis.call('HSET', reservations_key, reservation_id, raw)
end
return {'HELD', raw}
