-- Decide, once and for all, the user's side of a payment attempt the schedule's side gave up on:
-- if the debit happened, report it; otherwise make sure it never can.
-- KEYS: {u:<id>}:payments
-- ARGV: reservationId
-- Returns {'PAID', paymentJson} | {'VOID'}
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local payments_key =
  KEYS[1]
local reservation_id =
  ARGV[1]
local payment = redis.call('HGET', payments_key, reservation_id)
if payment == 'VOID' then
  return {'VOID'}
end
if payment then
  return {'PAID', payment}
end
redis.call('HSET', payments_key, reservation_id, 'VOID')
return {'VOID'}
