-- Hold one seat for one user. Exactly one of any number of concurrent holds of a seat wins,
-- because this script is the only writer of the seat's entry and runs atomically.
-- KEYS: {s:<id>}:meta, {s:<id>}:seats, {s:<id>}:reservations, {s:<id>}:holds, {s:<id>}:holders,
--       {s:<id>}:finished, {s:<id>}:states, {s:<id>}:held-by (a HyperLogLog of the fans who held,
--       for the operator's report)
-- ARGV: seatNumber, reservationId, userId, nowMs, holdMs, scheduleId, concertId (of the caller's
--       queue token)
-- Returns {'OK', reservationJson} (a new hold, or the caller's own live hold of the seat) |
--         {'ERR', code}
-- Seat entries are `H|expiresAtMs|reservationId` (see SeatEntry in shared/src/domain/models.rs);
-- `holders` counts each user's live holds, for admission's view of who is still choosing; `states`
-- holds each seat's state for listings (see SeatState): the hold's expiry.
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local meta_key, seats_key, reservations_key, holds_key, holders_key, finished_key, states_key, held_by_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local seat_number, reservation_id, user_id, now_ms, hold_ms, schedule_id, concert_id =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local meta = redis.call('HMGET', meta_key, 'seatCount', 'price', 'concertId')
if not meta[1] then
  return {'ERR', 'SCHEDULE_NOT_FOUND'}
end
if meta[3] ~= concert_id then
  return {'ERR', 'WRONG_CONCERT'}
end
local seat = tonumber(seat_number)
if seat > tonumber(meta[1]) then
  return {'ERR', 'SEAT_NOT_FOUND'}
end
local now = tonumber(now_ms)
local current = redis.call('HGET', seats_key, seat_number)
if current then
  local id = string.match(current, '|([^|]+)$')
  if id == reservation_id then
    -- This very hold, sent again (the client resends a command that was in flight when its
    -- connection dropped): the same answer, nothing changed.
    return {'OK', redis.call('HGET', reservations_key, id)}
  end
  local old = cjson.decode(redis.call('HGET', reservations_key, id))
  if old.status == 'HELD' and old.expiresAt > now and old.userId == user_id then
    -- The caller's own live hold of this seat, asked for again (a retry after an answer was lost):
    -- that hold, unchanged. The caller gives back what it took for the new reservation id.
    return {'OK', redis.call('HGET', reservations_key, id)}
  end
  -- A lapsed hold is released here, once, unless a payment was attempted on it: then only the
  -- sweeper may release it, after making sure the debit can no longer happen.
  if old.status ~= 'HELD' or old.expiresAt > now or old.paymentId then
    return {'ERR', 'SEAT_TAKEN'}
  end
  old.status = 'EXPIRED'
  redis.call('HSET', reservations_key, id, cjson.encode(old))
  redis.call('ZREM', holds_key, id)
  if redis.call('HINCRBY', holders_key, old.userId, -1) <= 0 then
    redis.call('HDEL', holders_key, old.userId)
  end
  redis.call('ZADD', finished_key, now, id)
end
local expiresAt = now + tonumber(hold_ms)
local reservation = cjson.encode({
  reservationId = reservation_id, userId = user_id, concertId = meta[3], scheduleId = schedule_id,
  seatNumber = seat, price = tonumber(meta[2]), status = 'HELD', heldAt = now, expiresAt = expiresAt,
})
redis.call('HSET', seats_key, seat_number, 'H|' .. expiresAt .. '|' .. reservation_id)
redis.call('BITFIELD', states_key, 'SET', 'i64', '#' .. seat, expiresAt)
redis.call('HSET', reservations_key, reservation_id, reservation)
redis.call('ZADD', holds_key, expiresAt, reservation_id)
redis.call('HINCRBY', holders_key, user_id, 1)
redis.call('PFADD', held_by_key, user_id)
return {'OK', reservation}
