-- Hold one seat for one user. Exactly one of any number of concurrent holds of a seat wins,
-- because this script is the only writer of the seat's entry and runs atomically.
-- KEYS: {s:<id>}:meta, {s:<id>}:seats, {s:<id>}:reservations, {s:<id>}:holds, {s:<id>}:holders,
--       {s:<id>}:finished, {s:<id>}:states
-- ARGV: seatNumber, reservationId, userId, nowMs, holdMs, scheduleId, concertId (of the caller's
--       queue token)
-- Returns {'OK', reservationJson} (a new hold, or the caller's own live hold of the seat) |
--         {'ERR', code}
-- Seat entries are `H|expiresAtMs|reservationId` (see SeatEntry in shared/src/domain/models.rs);
-- `holders` counts each user's live holds, for admission's view of who is still choosing; `states`
-- holds each seat's state for listings (see SeatState): the hold's expiry.
local meta = redis.call('HMGET', KEYS[1], 'seatCount', 'price', 'concertId')
if not meta[1] then
  return {'ERR', 'SCHEDULE_NOT_FOUND'}
end
if meta[3] ~= ARGV[7] then
  return {'ERR', 'WRONG_CONCERT'}
end
local seat = tonumber(ARGV[1])
if seat > tonumber(meta[1]) then
  return {'ERR', 'SEAT_NOT_FOUND'}
end
local now = tonumber(ARGV[4])
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current then
  local id = string.match(current, '|([^|]+)$')
  if id == ARGV[2] then
    -- This very hold, sent again (the client resends a command that was in flight when its
    -- connection dropped): the same answer, nothing changed.
    return {'OK', redis.call('HGET', KEYS[3], id)}
  end
  local old = cjson.decode(redis.call('HGET', KEYS[3], id))
  if old.status == 'HELD' and old.expiresAt > now and old.userId == ARGV[3] then
    -- The caller's own live hold of this seat, asked for again (a retry after an answer was lost):
    -- that hold, unchanged. The caller gives back what it took for the new reservation id.
    return {'OK', redis.call('HGET', KEYS[3], id)}
  end
  -- A lapsed hold is released here, once, unless a payment was attempted on it: then only the
  -- sweeper may release it, after making sure the debit can no longer happen.
  if old.status ~= 'HELD' or old.expiresAt > now or old.paymentId then
    return {'ERR', 'SEAT_TAKEN'}
  end
  old.status = 'EXPIRED'
  redis.call('HSET', KEYS[3], id, cjson.encode(old))
  redis.call('ZREM', KEYS[4], id)
  if redis.call('HINCRBY', KEYS[5], old.userId, -1) <= 0 then
    redis.call('HDEL', KEYS[5], old.userId)
  end
  redis.call('ZADD', KEYS[6], now, id)
end
local expiresAt = now + tonumber(ARGV[5])
local reservation = cjson.encode({
  reservationId = ARGV[2], userId = ARGV[3], concertId = meta[3], scheduleId = ARGV[6],
  seatNumber = seat, price = tonumber(meta[2]), status = 'HELD', heldAt = now, expiresAt = expiresAt,
})
redis.call('HSET', KEYS[2], ARGV[1], 'H|' .. expiresAt .. '|' .. ARGV[2])
redis.call('BITFIELD', KEYS[7], 'SET', 'i64', '#' .. seat, expiresAt)
redis.call('HSET', KEYS[3], ARGV[2], reservation)
redis.call('ZADD', KEYS[4], expiresAt, ARGV[2])
redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
return {'OK', reservation}
