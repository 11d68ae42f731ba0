-- Count one PaymentCompleted event in the schedule's sales ledger, once per event id, however
-- often Kafka delivers it. Everything is checked before anything is written, so an event is
-- either counted whole or not at all (a script that fails halfway keeps its earlier writes).
-- KEYS: {s:<id>}:ledger, {s:<id>}:ledger-events, {s:<id>}:meta
-- ARGV: eventId, amount
-- Returns 1 when counted now, 0 when it had been counted before, -1 for an amount that cannot be
-- counted (not a whole number from 0 to 10^15), -2 when no such schedule exists here (an event of
-- another deployment sharing the topic, or garbage): nothing is written for it.
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local ledger_key, ledger_events_key, meta_key =
  KEYS[1], KEYS[2], KEYS[3]
local event_id, amount_text =
  ARGV[1], ARGV[2]
local amount = tonumber(amount_text)
if not amount or amount < 0 or amount > 1e15 or amount % 1 ~= 0 then
  return -1
end
if redis.call('EXISTS', meta_key) == 0 then
  return -2
end
if redis.call('SISMEMBER', ledger_events_key, event_id) == 1 then
  return 0
end
redis.call('HINCRBY', ledger_key, 'soldSeats', 1)
redis.call('HINCRBY', ledger_key, 'revenue', amount_text)
redis.call('SADD', ledger_events_key, event_id)
return 1
