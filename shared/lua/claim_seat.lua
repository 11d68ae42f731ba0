-- Before a hold, on the user's side: take one of the user's seats for this concert, so that live
-- holds plus purchases never exceed MAX_SEATS_PER_FAN, even under concurrent holds.
-- KEYS: {u:<id>}:claims:<concertId>   (zset: reservationId -> hold expiry ms, or 9e15 once paid),
--       {u:<id>}:profile
-- ARGV: nowMs, holdExpiresAtMs, reservationId, maxSeats
-- Returns {'OK', count} | {'LIMIT', count} | {'NO_USER', 0} (no hold for an account that is gone)
-- A claim lapses with its hold; debit_payment.lua makes a paid one permanent; a hold that was
-- refused gives its claim back (the caller removes it).
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local claims_key, profile_key =
  KEYS[1], KEYS[2]
local now_ms, hold_expires_at_ms, reservation_id, max_seats =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', profile_key) == 0 then
  return {'NO_USER', 0}
end
if redis.call('ZSCORE', claims_key, reservation_id) then
  -- This claim, sent again: already counted.
  return {'OK', redis.call('ZCARD', claims_key)}
end
redis.call('ZREMRANGEBYSCORE', claims_key, '-inf', now_ms)
local count = redis.call('ZCARD', claims_key)
if count >= tonumber(max_seats) then
  return {'LIMIT', count}
end
redis.call('ZADD', claims_key, hold_expires_at_ms, reservation_id)
return {'OK', count + 1}
