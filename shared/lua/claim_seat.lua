-- Before a hold, on the user's side: take one of the user's seats for this concert, so that live
-- holds plus purchases never exceed MAX_SEATS_PER_FAN, even under concurrent holds.
-- KEYS: {u:<id>}:claims:<concertId>   (zset: reservationId -> hold expiry ms, or 9e15 once paid),
--       {u:<id>}:profile
-- ARGV: nowMs, holdExpiresAtMs, reservationId, maxSeats
-- Returns {'OK', count} | {'LIMIT', count} | {'NO_USER', 0} (no hold for an account that is gone)
-- A claim lapses with its hold; debit_payment.lua makes a paid one permanent; a hold that was
-- refused gives its claim back (the caller removes it).
if redis.call('EXISTS', KEYS[2]) == 0 then
  return {'NO_USER', 0}
end
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  -- This claim, sent again: already counted.
  return {'OK', redis.call('ZCARD', KEYS[1])}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[4]) then
  return {'LIMIT', count}
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return {'OK', count + 1}
