-- Decide, once and for all, the user's side of a payment attempt the schedule's side gave up on:
-- if the debit happened, report it; otherwise make sure it never can.
-- KEYS: {u:<id>}:payments
-- ARGV: reservationId
-- Returns {'PAID', paymentJson} | {'VOID'}
local payment = redis.call('HGET', KEYS[1], ARGV[1])
if payment == 'VOID' then
  return {'VOID'}
end
if payment then
  return {'PAID', payment}
end
redis.call('HSET', KEYS[1], ARGV[1], 'VOID')
return {'VOID'}
