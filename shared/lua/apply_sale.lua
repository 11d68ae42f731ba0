-- Count one PaymentCompleted event in the schedule's sales ledger, once per event id, however
-- often Kafka delivers it. Everything is checked before anything is written, so an event is
-- either counted whole or not at all (a script that fails halfway keeps its earlier writes).
-- KEYS: {s:<id>}:ledger, {s:<id>}:ledger-events, {s:<id>}:meta
-- ARGV: eventId, amount
-- Returns 1 when counted now, 0 when it had been counted before, -1 for an amount that cannot be
-- counted (not a whole number from 0 to 10^15), -2 when no such schedule exists here (an event of
-- another deployment sharing the topic, or garbage): nothing is written for it.
local amount = tonumber(ARGV[2])
if not amount or amount < 0 or amount > 1e15 or amount % 1 ~= 0 then
  return -1
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  return -2
end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'soldSeats', 1)
redis.call('HINCRBY', KEYS[1], 'revenue', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
