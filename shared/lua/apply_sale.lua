-- Count one PaymentCompleted event in the schedule's sales ledger, once per event id, however
-- often Kafka delivers it.
-- KEYS: {s:<id>}:ledger, {s:<id>}:ledger-events
-- ARGV: eventId, amount
-- Returns 1 when counted now, 0 when it had been counted before.
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'soldSeats', 1)
redis.call('HINCRBY', KEYS[1], 'revenue', ARGV[2])
return 1
