-- Enter the waiting room, or get back the place already held.
-- KEYS: {q}:seq, {q}:waiting, {q}:seen, {q}:active, {q}:holder
-- ARGV: userId, nowMs
-- Returns {ticket, created (1|0)}
local now = tonumber(ARGV[2])
local ticket = redis.call('HGET', KEYS[5], ARGV[1])
if ticket then
  if redis.call('ZSCORE', KEYS[2], ticket) then
    redis.call('ZADD', KEYS[3], now, ticket)
    return {ticket, 0}
  end
  local expires = redis.call('ZSCORE', KEYS[4], ticket)
  if expires and tonumber(expires) > now then
    return {ticket, 0}
  end
end
-- Ticket numbers only grow, so the waiting set ordered by number is first come, first served.
ticket = tostring(redis.call('INCR', KEYS[1]))
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('ZADD', KEYS[3], now, ticket)
redis.call('HSET', KEYS[5], ARGV[1], ticket)
return {ticket, 1}
