-- Take a place in a concert's waiting room, or get back the place already held.
-- KEYS: {r:C}:seq, {r:C}:waiting, {r:C}:fans, {r:C}:active, {r:C}:holder, {r:C}:settings
-- ARGV: fan (the user's compact id), nowMs, lotteryKey (a uniform random number in [0, 1), drawn
--       by the caller)
-- Returns {'CREATED', ticket} | {'EXISTING', ticket} | {'NOT_OPEN', prequeueOpensAtMs} |
--         {'SOLD_OUT'} | {'NO_ROOM'}
--
-- The waiting set's score is the order of admission. Before the sale opens (the pre-queue) a
-- place's score is its lottery key, below 1; from the opening on it is the ticket number, 1 and
-- up. So at the opening everyone in the pre-queue stands in one uniformly random order (arriving
-- early wins nothing), ahead of everyone who comes later, who stand first come, first served.
--
-- One fan, one place: the holder hash names each fan's latest ticket, so a resent join (or a
-- second tab) gets the same place back, and a token is honoured only while its ticket is still
-- its user's latest (see room_status.lua).
local now = tonumber(ARGV[2])
local nowSeconds = math.floor(now / 1000)
local s = redis.call('HMGET', KEYS[6], 'prequeueOpensAt', 'opensAt', 'soldOut', 'opened')
if not s[2] then
  return {'NO_ROOM'}
end
if s[3] == '1' then
  return {'SOLD_OUT'}
end
local ticket = redis.call('HGET', KEYS[5], ARGV[1])
if ticket then
  if redis.call('ZSCORE', KEYS[2], ticket) then
    redis.call('BITFIELD', KEYS[3], 'SET', 'u32', '#' .. (2 * ticket + 1), nowSeconds)
    return {'EXISTING', ticket}
  end
  local expires = redis.call('ZSCORE', KEYS[4], ticket)
  if expires and tonumber(expires) > now then
    return {'EXISTING', ticket}
  end
end
if now < tonumber(s[1]) then
  return {'NOT_OPEN', s[1]}
end
ticket = redis.call('INCR', KEYS[1])
-- A number whose 8 bytes in fans are already set was issued before: the counter went back while
-- the fans string did not (a partial loss, or a hand edit). Go on after the highest number issued.
if redis.call('BITFIELD', KEYS[3], 'GET', 'u32', '#' .. (2 * ticket))[1] ~= 0 then
  ticket = math.floor(redis.call('STRLEN', KEYS[3]) / 8)
  redis.call('SET', KEYS[1], ticket)
end
local score = ticket
if s[4] ~= '1' and now < tonumber(s[2]) then
  score = ARGV[3]
end
redis.call('ZADD', KEYS[2], score, ticket)
-- When it joined and when it was last seen: 8 bytes at the ticket's number.
redis.call('BITFIELD', KEYS[3], 'SET', 'u32', '#' .. (2 * ticket), nowSeconds, 'SET', 'u32', '#' .. (2 * ticket + 1), nowSeconds)
redis.call('HSET', KEYS[5], ARGV[1], ticket)
return {'CREATED', tostring(ticket)}
