-- Where a ticket stands in its room; a waiting ticket's poll also proves its holder is still there.
-- KEYS: {r:C}:waiting, {r:C}:fans, {r:C}:active, {r:C}:stats, {r:C}:settings, {r:C}:holder,
--       {r:C}:seen (when each ACTIVE ticket was last seen: asking counts)
-- ARGV: ticket, nowMs, fan (the token user's compact id), nowSeconds
-- Returns {'ACTIVE', expiresAtMs} | {'PREQUEUE', opensAtMs} |
--         {'WAITING', position, ratePerSecond or '', paused ('1' | '0'), place, admitPace, headroom,
--          rateBound, seatsPerFan, seatsIfHoldsPaid, seatsIfHoldsLapse, forecast ('' each until a
--          tick measured it; the forecast: shared/src/domain/forecast.rs)} |
--         {'SOLD_OUT'} |
--         {'EXPIRED'}
-- Every waiting fan's poll runs this, so it formats no number itself: Lua writes numbers with
-- printf's floating-point path, a measurable share of the call. The caller sends the time in
-- seconds as text, the fans slot is written with an integer format, and positions go back as
-- integer replies.
-- `place` is the ticket's place counted from the first ever admitted: the room's admitted total
-- plus the position. Against the public room state's `admittedTotal` it gives the position again
-- (at most the true one: fans ahead who left are not subtracted) without asking here.
--
-- A token is honoured only while its ticket is its user's latest (the holder hash). That holds
-- even if ticket numbers were ever issued twice: a counter can only go back by losing writes
-- (a restart from an older file, a failover to a lagging replica), and what Redis keeps is then
-- a prefix of what it was sent, so the holder entry written after the lost number is lost too.
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local waiting_key, fans_key, active_key, stats_key, settings_key, holder_key, seen_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local ticket, now_ms, fan, now_seconds =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now = tonumber(now_ms)
local owned = redis.call('HGET', holder_key, fan) == ticket
if owned then
  local expires = redis.call('ZSCORE', active_key, ticket)
  if expires and tonumber(expires) > now then
    redis.call('ZADD', seen_key, 'XX', now, ticket)
    return {'ACTIVE', expires}
  end
end
local s = redis.call('HMGET', settings_key, 'opensAt', 'paused', 'soldOut', 'opened', 'lotteryTickets', 'lotteryDrawnAt')
-- A sold-out room has let its places go (holders included): every token of it hears so.
if s[3] == '1' then
  return {'SOLD_OUT'}
end
-- The rank doubles as the membership check (one call fewer on every waiting fan's poll).
local rank = owned and redis.call('ZRANK', waiting_key, ticket)
if not rank then
  return {'EXPIRED'}
end
redis.call('BITFIELD', fans_key, 'SET', 'u32', string.format('#%d', 2 * tonumber(ticket) + 1), now_seconds)
-- Until the opening's lottery is drawn the pre-queue has no order: its places are still PREQUEUE.
if (s[4] ~= '1' and s[1] and now < tonumber(s[1])) or (s[5] and not s[6]) then
  return {'PREQUEUE', s[1]}
end
local stats = redis.call('HMGET', stats_key, 'rate', 'admitted', 'admitPace', 'headroom', 'rateBound', 'seatsPerFan', 'seatsIfHoldsPaid', 'seatsIfHoldsLapse', 'forecast')
local place = tonumber(stats[2] or '0') + rank + 1
return {'WAITING', rank + 1, stats[1] or '', s[2] or '0', place, stats[3] or '', stats[4] or '', stats[5] or '', stats[6] or '', stats[7] or '', stats[8] or '', stats[9] or ''}
