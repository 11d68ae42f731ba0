-- Take a place in a concert's waiting room, or get back the place already held.
-- KEYS: {r:C}:seq, {r:C}:waiting, {r:C}:fans, {r:C}:active, {r:C}:holder, {r:C}:settings,
--       {r:C}:solutions (the challenge salts that took a place, scored by their expiry),
--       {r:C}:codes (presale code -> the account it is bound to, '' before), {r:C}:stats
-- ARGV: fan (the user's compact id), nowMs, defaultPowMaxBits (the environment's, for a room without its own; 0: the
--       door is open to all), salt and saltExpiresMs (of the challenge the caller checked; empty
--       when none was sent), code (the presale code sent, normalized; empty when none)
-- Returns {'CREATED', ticket} | {'EXISTING', ticket} | {'NOT_OPEN', prequeueOpensAtMs} |
--         {'SOLD_OUT'} | {'NO_ROOM'} | {'CHALLENGE_REQUIRED'} | {'CHALLENGE_REUSED'} |
--         {'CODE_REQUIRED'} | {'CODE_NOT_FOUND'} | {'CODE_TAKEN'}
--
-- The waiting set's score is the order of admission. A place taken before the sale opens (the
-- pre-queue) scores 0 until the opening's lottery gives it its key, below 1 (the tick hands the
-- draw to the store: shared/src/domain/lottery.rs); from the opening on a place's score is its
-- ticket number, 1 and up. So at the opening everyone in the pre-queue stands in one random
-- order that anyone can recompute (arriving early wins nothing), ahead of everyone who comes
-- later, who stand first come, first served. `lotteryTickets` in the settings is the last ticket
-- number the pre-queue issued: the draw's count of places, final once the tick marks the room
-- opened.
--
-- One fan, one place: the holder hash names each fan's latest ticket, so a resent join (or a
-- second tab) gets the same place back, and a token is honoured only while its ticket is still
-- its user's latest (see room_status.lua).
--
-- The door: where the room asks a proof of work (shared/src/domain/challenge.rs), a new place
-- needs a solved challenge, whose salt is taken here, once; a fan's own live place comes back
-- without one. Expired salts leave the set as joins pass, and the set itself expires a challenge's
-- lifetime after the last join.
--
-- Presale (the room's `presale` setting): a new place needs one of the room's codes, bound to the
-- first account that brings it; another account is refused, the same one may use it again.
-- Every refusal comes before the join's first write.
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local seq_key, waiting_key, fans_key, active_key, holder_key, settings_key, solutions_key, codes_key, stats_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local fan, now_ms, default_pow_max_bits, salt, salt_expires_ms, code =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local now = tonumber(now_ms)
local nowSeconds = math.floor(now / 1000)
local s = redis.call('HMGET', settings_key, 'prequeueOpensAt', 'opensAt', 'soldOut', 'opened', 'powMaxBits', 'presale')
if not s[2] then
  return {'NO_ROOM'}
end
if s[3] == '1' then
  return {'SOLD_OUT'}
end
local ticket = redis.call('HGET', holder_key, fan)
if ticket then
  if redis.call('ZSCORE', waiting_key, ticket) then
    redis.call('BITFIELD', fans_key, 'SET', 'u32', '#' .. (2 * ticket + 1), nowSeconds)
    return {'EXISTING', ticket}
  end
  local expires = redis.call('ZSCORE', active_key, ticket)
  if expires and tonumber(expires) > now then
    return {'EXISTING', ticket}
  end
end
if now < tonumber(s[1]) then
  return {'NOT_OPEN', s[1]}
end
local door = tonumber(s[5] or default_pow_max_bits) > 0
if door then
  if salt == '' then
    return {'CHALLENGE_REQUIRED'}
  end
  redis.call('ZREMRANGEBYSCORE', solutions_key, '-inf', now)
  if redis.call('ZSCORE', solutions_key, salt) then
    return {'CHALLENGE_REUSED'}
  end
end
local firstUse = false
if s[6] == '1' then
  if code == '' then
    return {'CODE_REQUIRED'}
  end
  local owner = redis.call('HGET', codes_key, code)
  if not owner then
    return {'CODE_NOT_FOUND'}
  end
  if owner ~= '' and owner ~= fan then
    return {'CODE_TAKEN'}
  end
  firstUse = owner == ''
end
if firstUse then
  redis.call('HSET', codes_key, code, fan)
  redis.call('HINCRBY', stats_key, 'codesRedeemed', 1)
end
if door then
  redis.call('ZADD', solutions_key, salt_expires_ms, salt)
  local ttl = redis.call('PTTL', solutions_key)
  if ttl < 0 or now + ttl < tonumber(salt_expires_ms) then
    redis.call('PEXPIREAT', solutions_key, salt_expires_ms)
  end
end
ticket = redis.call('INCR', seq_key)
-- A number whose 8 bytes in fans are already set was issued before: the counter went back while
-- the fans string did not (a partial loss, or a hand edit). Go on after the highest number issued.
if redis.call('BITFIELD', fans_key, 'GET', 'u32', '#' .. (2 * ticket))[1] ~= 0 then
  ticket = math.floor(redis.call('STRLEN', fans_key) / 8)
  redis.call('SET', seq_key, ticket)
end
local score = ticket
if s[4] ~= '1' and now < tonumber(s[2]) then
  score = 0
  redis.call('HSET', settings_key, 'lotteryTickets', ticket)
end
redis.call('ZADD', waiting_key, score, ticket)
-- When it joined and when it was last seen: 8 bytes at the ticket's number.
redis.call('BITFIELD', fans_key, 'SET', 'u32', '#' .. (2 * ticket), nowSeconds, 'SET', 'u32', '#' .. (2 * ticket + 1), nowSeconds)
redis.call('HSET', holder_key, fan, ticket)
return {'CREATED', tostring(ticket)}
