-- Take a place in a concert's waiting room, or get back the place already held.
-- KEYS: {r:C}:seq, {r:C}:waiting, {r:C}:seen, {r:C}:joined, {r:C}:active, {r:C}:holder, {r:C}:settings,
--       {r:C}:owner
-- ARGV: userId, nowMs, lotteryKey (a uniform random number in [0, 1), drawn by the caller)
-- Returns {'CREATED', ticket} | {'EXISTING', ticket} | {'NOT_OPEN', prequeueOpensAtMs} |
--         {'SOLD_OUT'} | {'NO_ROOM'}
--
-- The waiting set's score is the order of admission. Before the sale opens (the pre-queue) a
-- place's score is its lottery key, below 1; from the opening on it is the ticket number, 1 and
-- up. So at the opening everyone in the pre-queue stands in one uniformly random order (arriving
-- early wins nothing), ahead of everyone who comes later, who stand first come, first served.
local now = tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[7], 'prequeueOpensAt', 'opensAt', 'soldOut', 'opened')
if not s[2] then
  return {'NO_ROOM'}
end
if s[3] == '1' then
  return {'SOLD_OUT'}
end
local ticket = redis.call('HGET', KEYS[6], ARGV[1])
if ticket and redis.call('HGET', KEYS[8], ticket) ~= ARGV[1] then
  ticket = nil
end
if ticket then
  if redis.call('ZSCORE', KEYS[2], ticket) then
    redis.call('ZADD', KEYS[3], now, ticket)
    return {'EXISTING', ticket}
  end
  local expires = redis.call('ZSCORE', KEYS[5], ticket)
  if expires and tonumber(expires) > now then
    return {'EXISTING', ticket}
  end
end
if now < tonumber(s[1]) then
  return {'NOT_OPEN', s[1]}
end
ticket = tostring(redis.call('INCR', KEYS[1]))
local score = ticket
if s[4] ~= '1' and now < tonumber(s[2]) then
  score = ARGV[3]
end
redis.call('ZADD', KEYS[2], score, ticket)
redis.call('ZADD', KEYS[3], now, ticket)
redis.call('HSET', KEYS[4], ticket, now)
redis.call('HSET', KEYS[6], ARGV[1], ticket)
-- The ticket's owner: a token is honoured only while the ticket it names is still its user's,
-- even if ticket numbers were ever issued twice (a counter lost in a restart).
redis.call('HSET', KEYS[8], ticket, ARGV[1])
return {'CREATED', ticket}
