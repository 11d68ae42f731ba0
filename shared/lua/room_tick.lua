-- One admission tick of one concert's waiting room.
-- KEYS: {r:C}:waiting, {r:C}:fans, {r:C}:active, {r:C}:holder, {r:C}:stats, {r:C}:settings,
--       {r:C}:seq, {r:C}:seen (when each ACTIVE ticket was last seen on the booking path),
--       {r:C}:decisions (the autopilot's decision log)
-- ARGV: tickStartMs (the start of this tick's period, in epoch ms), nowMs, admitPerTick, activeCap, overbooking (the environment's defaults, for
--       settings the operator has not set), activeTtlMs, abandonCutoffMs (places unseen since
--       are dropped wherever they stand), tickMs, step (the most tickets one call admits, drops
--       or expires), availableSeats, fansHolding (fans with a live hold), soldOut ('1' | '0'),
--       presentCutoffMs (a place at the front is admitted only if seen since; else dropped),
--       autopilotLimit (the autopilot's most admitted this tick; '' when it is off),
--       decisionJson (the autopilot's decision, logged once per tick; '' for none),
--       activeIdleCutoffMs (an ACTIVE ticket not seen since gives its slot back),
--       admittedSeenMs (the last-seen time given to a ticket admitted now: earlier than now, so
--       a fan who never shows up gives the slot back sooner than one who went idle; it ends in
--       '.5', a mark no sighting has, so a fan not seen since its admission is told apart from one
--       seen and gone: idle-outs of the first are counted in `noShows`, and the room's forecast
--       weighs the two apart, see shared/src/domain/forecast.rs),
--       soldSeats, heldSeats (the concert's, for what the line can still count on),
--       seatsPerFanPrior, priorFans (where the seats-per-admitted-fan estimate starts, and how
--       many finished fans that start is worth), waitBuckets (the queue-wait histogram's upper
--       bounds in seconds, comma-separated), engagedMs (an ACTIVE fan not seen this long is gone
--       or not there yet), noShowPrior, noShowPriorFans (where the share of admitted fans who
--       never come starts, and how many finished fans that start is worth), holdsToSell (the
--       seats the live holds are expected to sell, from the hold outlook: see measureLine; ''
--       when not known)
-- Returns {ran (1 | 0), admitted, expiredActive, droppedIdle, waiting, active, soldOutNow (1 | 0),
--          more (1 | 0: call again with the same tick)} | {'DRAW'}.
--
-- The opening: the first tick at or after opensAt marks the room opened (joins from then on
-- stand by ticket number, see join_room.lua) and, when the pre-queue took places, answers DRAW
-- before anything else: the caller draws the lottery (shared/src/store/queue/lottery.rs) and
-- calls again. Until `lotteryDrawnAt` is set the tick admits nobody.
--
-- A tick is named by the time its period starts; each start runs once, so overlapping schedule
-- invocations never admit twice in one tick, and a change of TICK_MILLIS (which changes how long
-- a period is, not which time it starts at) never makes later ticks look old. Admission knows the inventory: ACTIVE fans without a hold never exceed
-- the seats still available times the overbooking factor, so admission slows as seats run out and
-- resumes when lapsed holds return seats. Once every seat is sold the room turns SOLD_OUT: the
-- waiting line and the ACTIVE slots are released (no one can hold a seat any more), and polls and
-- new arrivals are told so.
--
-- Steps: one call moves at most `step` tickets, so no call holds Redis long, whatever the tick
-- admits or the line's length (every other room's and user's requests wait behind a running
-- script). The first call of a tick decides how many the tick admits, from the settings and the
-- inventory as they are then, stores it with the tick (`tickLeft`) and admits up to a step; while
-- some are left it answers more = 1 and the caller calls again with the same tick, each call
-- admitting up to a step of what is left. The tick's total stays exact, in line order and once:
-- concurrent or resent calls share the stored budget, and the next tick starts afresh.
--
-- Presence: a fan far back may follow the room's public state and poll its own status rarely
-- (a heartbeat within abandonCutoff), but the places taken from the front must have been polled
-- since presentCutoff: an abandoned place is dropped when its turn comes instead of taking an
-- ACTIVE slot, and the tick takes the next place in line. When each ticket was last seen is 4
-- bytes in the fans string (see join_room.lua), to the second.
--
-- Idle ACTIVE: an admitted fan who does nothing (no listing, hold, payment or status request
-- since activeIdleCutoff) gives the slot back, so vanished fans stop counting against the
-- inventory bound long before ACTIVE_TTL. Each admitted ticket enters `seen`; the booking path
-- refreshes it (`ZADD XX`, see store/gate.rs); tickets granted ACTIVE otherwise are not in it and
-- never idle out.
--
-- Autopilot: the budget is min(the operator's admitPerTick, the ACTIVE cap, the inventory bound,
-- the autopilot's limit), the limit decided by the caller from the booking path's health
-- (shared/src/domain/autopilot.rs) and logged here, once per tick.
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local waiting_key, fans_key, active_key, holder_key, stats_key, settings_key, seq_key, seen_key, decisions_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local tick_start_ms, now_ms, default_admit_per_tick, default_active_cap, default_overbooking, active_ttl_ms, abandon_cutoff_ms, tick_ms, step_text, available_seats, fans_holding, sold_out, present_cutoff_ms, autopilot_limit, decision_json, active_idle_cutoff_ms, admitted_seen_ms, sold_seats, held_seats, seats_per_fan_prior, prior_fans, wait_buckets, engaged_ms, no_show_prior, no_show_prior_fans, holds_to_sell =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14], ARGV[15], ARGV[16], ARGV[17], ARGV[18], ARGV[19], ARGV[20], ARGV[21], ARGV[22], ARGV[23], ARGV[24], ARGV[25], ARGV[26]
local tick = tonumber(tick_start_ms)
local now = tonumber(now_ms)
local step = tonumber(step_text)
local last = tonumber(redis.call('HGET', stats_key, 'tickAt') or '-1')

-- Lua's unpack has a small stack limit, so variadic commands go in chunks.
local function chunked(command, key, items)
  for i = 1, #items, 1000 do
    redis.call(command, key, unpack(items, i, math.min(i + 999, #items)))
  end
end

-- When each of `tickets` was last seen and when it joined, in epoch seconds (0: never). Tickets
-- from the opening on leave the line in number order, so one GETRANGE of their span of the fans
-- string reads them all; a pre-queue's lottery order scatters them over the numbers, and they are
-- read one by one.
local function seenAndJoined(tickets)
  local lo, hi = math.huge, 0
  for _, ticket in ipairs(tickets) do
    local t = tonumber(ticket)
    lo, hi = math.min(lo, t), math.max(hi, t)
  end
  local seen, joined = {}, {}
  if hi - lo < #tickets * 4 then
    local raw = redis.call('GETRANGE', fans_key, 8 * lo, 8 * hi + 7)
    for i, ticket in ipairs(tickets) do
      local at = 8 * (tonumber(ticket) - lo) + 1
      joined[i] = at + 3 <= #raw and struct.unpack('>I4', raw, at) or 0
      seen[i] = at + 7 <= #raw and struct.unpack('>I4', raw, at + 4) or 0
    end
    return seen, joined
  end
  for i = 1, #tickets, 500 do
    local reads = {}
    for j = i, math.min(i + 499, #tickets) do
      reads[#reads + 1] = 'GET'
      reads[#reads + 1] = 'u32'
      reads[#reads + 1] = '#' .. (2 * tickets[j])
      reads[#reads + 1] = 'GET'
      reads[#reads + 1] = 'u32'
      reads[#reads + 1] = '#' .. (2 * tickets[j] + 1)
    end
    local got = redis.call('BITFIELD', fans_key, unpack(reads))
    for k = 1, #got, 2 do
      joined[#joined + 1] = got[k]
      seen[#seen + 1] = got[k + 1]
    end
  end
  return seen, joined
end

-- The queue wait of the fans admitted now, for the operator's report: from joining (from the
-- opening for the pre-queue) to now, counted in `wait:<bound>` of the stats, the first of the
-- buckets' upper bounds (seconds; `waitBuckets`) it does not exceed.
local waitBounds = {}
for bound in string.gmatch(wait_buckets, '%d+') do
  waitBounds[#waitBounds + 1] = tonumber(bound)
end
local function countWaits(waits)
  local counts = {}
  for _, wait in ipairs(waits) do
    local bucket = 'wait:inf'
    for _, bound in ipairs(waitBounds) do
      if wait <= bound then
        bucket = 'wait:' .. bound
        break
      end
    end
    counts[bucket] = (counts[bucket] or 0) + 1
  end
  for bucket, count in pairs(counts) do
    redis.call('HINCRBY', stats_key, bucket, count)
  end
end

-- Moves up to n present tickets from the head of the line to ACTIVE, dropping the absent ones it
-- takes from the front on the way; takes at most a step of tickets off the line. Returns the
-- numbers admitted and dropped.
local function admit(n)
  local present = math.floor(tonumber(present_cutoff_ms) / 1000)
  local nowSeconds = math.floor(now / 1000)
  local opensAtSeconds = math.floor(tonumber(redis.call('HGET', settings_key, 'opensAt') or '0') / 1000)
  local expiresAt = now + tonumber(active_ttl_ms)
  local admitted, dropped, taken = 0, 0, 0
  while admitted < n and taken < step do
    -- The head of the line, then removed by rank: cheaper than ZPOPMIN, which also answers the
    -- scores.
    local count = math.min(n - admitted, step - taken)
    local head = redis.call('ZRANGE', waiting_key, 0, count - 1)
    if #head == 0 then
      break
    end
    redis.call('ZREMRANGEBYRANK', waiting_key, 0, #head - 1)
    taken = taken + #head
    local pairs, seenPairs, waits = {}, {}, {}
    local seen, joined = seenAndJoined(head)
    for j, ticket in ipairs(head) do
      if seen[j] >= present then
        pairs[#pairs + 1] = expiresAt
        pairs[#pairs + 1] = ticket
        seenPairs[#seenPairs + 1] = admitted_seen_ms
        seenPairs[#seenPairs + 1] = ticket
        waits[#waits + 1] = math.max(0, nowSeconds - math.max(joined[j], opensAtSeconds))
      else
        dropped = dropped + 1
      end
    end
    countWaits(waits)
    for i = 1, #pairs, 2000 do
      redis.call('ZADD', active_key, unpack(pairs, i, math.min(i + 1999, #pairs)))
      redis.call('ZADD', seen_key, unpack(seenPairs, i, math.min(i + 1999, #seenPairs)))
    end
    admitted = admitted + #pairs / 2
  end
  if dropped > 0 then
    redis.call('HINCRBY', stats_key, 'dropped', dropped)
  end
  return admitted, dropped
end

-- The admitted fans without a hold who will not buy: the ACTIVE fans not seen for `engagedMs`
-- (the fan's page asks every 5 s while a fan chooses) who were seen since their admission (gone),
-- and of those not seen since it (the '.5' mark: they may still come, following the line) the
-- share of admitted fans who never came (`noShows` over the fans done, from the prior). Reads at
-- most 2,000 of them. Returns that number and the share.
local function choosingGone(active)
  local stats = redis.call('HMGET', stats_key, 'noShows', 'admitted')
  local done = math.max(0, tonumber(stats[2] or '0') - active)
  local share = (tonumber(stats[1] or '0') + tonumber(no_show_prior) * tonumber(no_show_prior_fans)) / (done + tonumber(no_show_prior_fans))
  local stale = redis.call('ZRANGEBYSCORE', seen_key, '-inf', '(' .. (now - tonumber(engaged_ms)), 'WITHSCORES', 'LIMIT', 0, 2000)
  local gone, unseen = 0, 0
  for i = 2, #stale, 2 do
    if string.sub(stale[i], -2) == '.5' then unseen = unseen + 1 else gone = gone + 1 end
  end
  return gone + share * unseen, share
end

-- What the line can count on, for each waiting fan's ETA and chance of a ticket
-- (shared/src/domain/queue.rs `LineAhead`), written to the stats at the end of each tick:
-- - the seats per admitted fan: the seats sold and those the live holds are expected to sell
--   (`holdsToSell`: a hold unpaid for longer than paid holds take is expected to lapse) over the
--   admitted fans who are done or holding, starting from the prior as if `priorFans` had bought
--   that many each. (Over the fans done alone, early in a sale with long holds it counted the
--   fans who paid within seconds and not those holding until their holds lapse: 1.25 seats a fan
--   where 0.72 was the truth.) A fan who left the room with a live hold counts among the fans
--   done and the fans holding: the fans holding counted are at most the ACTIVE ones.
-- - the seats left for the line if every live hold is paid and if every one lapses: neither sold
--   nor held, less what the admitted fans still choosing will buy (not those gone, see
--   choosingGone), which is at most the seats there are for them now: a fan who finds none
--   leaves or idles out long before a hold of minutes lapses;
-- - the fans expected not to buy (`choosingGone`) and the no-show share for the room's forecast
--   (shared/src/domain/forecast.rs);
-- - while admitting: the pace (this tick's limit, per second), the headroom (how many more fans
--   the ACTIVE cap and the inventory bound let in before anyone admitted finishes) and, over the ticks
--   where the cap or the inventory held admission under the limit, the rate the line moved: what
--   a fan beyond the headroom waits on. Bound, the line moves in bursts (holds lapsing together,
--   fans leaving), so the rate is the admissions over the time bound, both sums decayed by a
--   120th a tick (about the last two minutes bound), and only once they span 30 s: a rate from
--   the last few ticks promised fans seconds after a burst and minutes after a lull, and one of
--   the first 10 s bound still carried the opening's burst.
local function measureLine(active, admitting)
  local stats = redis.call('HMGET', stats_key, 'admitted', 'tickRoom', 'tickLimit', 'tickAdmitted', 'boundAdmitted', 'boundMs',
                          'tickCapRoom', 'tickSeatRoom', 'tickOverbooking')
  local prior = tonumber(prior_fans)
  local done = math.max(0, tonumber(stats[1] or '0') - active)
  local perFan
  if holds_to_sell == '' then
    perFan = (tonumber(sold_seats) + tonumber(seats_per_fan_prior) * prior) / (done + prior)
  else
    perFan = (tonumber(sold_seats) + tonumber(holds_to_sell) + tonumber(seats_per_fan_prior) * prior)
             / (done + math.min(tonumber(fans_holding), active) + prior)
  end
  local gone, noShowShare = choosingGone(active)
  local available = tonumber(available_seats)
  local choosingBuy = math.min(math.max(0, active - tonumber(fans_holding) - gone) * perFan, available)
  local ifPaid = available - choosingBuy
  local fields = {'seatsPerFan', string.format('%.3f', perFan), 'seatsIfHoldsPaid', string.format('%.1f', ifPaid),
                  'seatsIfHoldsLapse', string.format('%.1f', ifPaid + tonumber(held_seats)),
                  'choosingGone', string.format('%.2f', gone), 'noShowShare', string.format('%.4f', noShowShare)}
  if admitting and stats[2] then
    local room, limit, admitted = tonumber(stats[2]), tonumber(stats[3]), tonumber(stats[4] or '0')
    fields[#fields + 1] = 'admitPace'
    fields[#fields + 1] = string.format('%.3f', limit * 1000 / tonumber(tick_ms))
    -- Each fan let in takes a slot under the cap; under the inventory bound it takes one while
    -- choosing, and then its seats times the overbooking factor once it holds them: the seat
    -- room lasts for room / (overbooking x seats per fan) fans, not room.
    local capLeft = tonumber(stats[7]) - admitted
    local seatLeft = (tonumber(stats[8]) - admitted) / math.max(1, tonumber(stats[9]) * perFan)
    fields[#fields + 1] = 'headroom'
    fields[#fields + 1] = math.max(0, math.floor(math.min(capLeft, seatLeft)))
    if room < limit then
      local keep = 1 - 1 / 120
      local boundAdmitted = tonumber(stats[5] or '0') * keep + admitted
      local boundMs = tonumber(stats[6] or '0') * keep + tonumber(tick_ms)
      fields[#fields + 1] = 'boundAdmitted'
      fields[#fields + 1] = string.format('%.4f', boundAdmitted)
      fields[#fields + 1] = 'boundMs'
      fields[#fields + 1] = string.format('%.1f', boundMs)
      if boundMs >= 30000 then
        fields[#fields + 1] = 'rateBound'
        fields[#fields + 1] = string.format('%.4f', boundAdmitted * 1000 / boundMs)
      end
    end
  end
  redis.call('HSET', stats_key, unpack(fields))
end

-- Admits a step of what is left of this tick's budget; once nothing is left (or nobody waits),
-- closes the tick: the admission rate people see in their ETA is an exponentially weighted
-- average over the ticks where people were left waiting (so it includes slow-downs for lack of
-- seats).
local function proceed(left, expired, dropped)
  local admitted, absent = admit(math.min(left, step))
  dropped = dropped + absent
  local waiting = redis.call('ZCARD', waiting_key)
  local active = redis.call('ZCARD', active_key)
  left = left - admitted
  if waiting == 0 then
    left = 0
  end
  redis.call('HINCRBY', stats_key, 'admitted', admitted)
  local total = redis.call('HINCRBY', stats_key, 'tickAdmitted', admitted)
  redis.call('HSET', stats_key, 'tickLeft', left)
  if left > 0 then
    return {1, admitted, expired, dropped, waiting, active, 0, 1}
  end
  measureLine(active, true)
  if waiting > 0 then
    local sample = total * 1000 / tonumber(tick_ms)
    local rate = tonumber(redis.call('HGET', stats_key, 'rate') or '')
    -- A line that stopped moving (no budget: the ACTIVE cap full, every seat held) decays to 0
    -- below one admission in about 17 minutes, not to 1e-21; once it moves again the first
    -- sample is the rate, as at the opening, rather than a fifth of it. (A paused room's ticks
    -- stop before this: its rate is kept for the resume.)
    if rate and rate > 0 then rate = rate * 0.8 + sample * 0.2 else rate = sample end
    if rate < 0.001 then rate = 0 end
    redis.call('HSET', stats_key, 'rate', tostring(rate))
  end
  return {1, admitted, expired, dropped, waiting, active, 0, 0}
end

if tick == last then
  -- A later step of this tick.
  local left = tonumber(redis.call('HGET', stats_key, 'tickLeft') or '0')
  if left <= 0 then
    return {0, 0, 0, 0, 0, 0, 0, 0}
  end
  return proceed(left, 0, 0)
end
if tick < last then
  return {0, 0, 0, 0, 0, 0, 0, 0}
end
local lottery = redis.call('HMGET', settings_key, 'opensAt', 'lotteryTickets', 'lotteryDrawnAt')
if lottery[2] and not lottery[3] and now >= tonumber(lottery[1]) then
  redis.call('HSET', settings_key, 'opened', '1')
  return {'DRAW'}
end
-- `activeTtlMs`: what leave_room.lua takes from an ACTIVE expiry for the admission time.
redis.call('HSET', stats_key, 'tickAt', tick, 'tickLeft', 0, 'tickAdmitted', 0, 'activeTtlMs', active_ttl_ms)
-- Joins per second since the last tick: the pressure the door's difficulty follows (see
-- shared/src/domain/challenge.rs); the ticket counter counts every join.
local joinSeq = tonumber(redis.call('GET', seq_key) or '0')
local lastJoin = redis.call('HMGET', stats_key, 'joinSeq', 'joinSeqAt')
if lastJoin[1] and tick > tonumber(lastJoin[2]) then
  local perSecond = math.max(0, joinSeq - tonumber(lastJoin[1])) * 1000 / (tick - tonumber(lastJoin[2]))
  redis.call('HSET', stats_key, 'joinsPerSecond', tostring(perSecond))
end
redis.call('HSET', stats_key, 'joinSeq', joinSeq, 'joinSeqAt', tick)
local s = redis.call('HMGET', settings_key, 'admitPerTick', 'activeCap', 'overbooking', 'paused', 'opensAt', 'soldOut', 'opened')
if decision_json ~= '' then
  redis.call('LPUSH', decisions_key, decision_json)
  redis.call('LTRIM', decisions_key, 0, 99)
end
if autopilot_limit ~= '' then
  redis.call('HSET', stats_key, 'autopilotLimit', autopilot_limit)
end

-- ACTIVE slots whose time ran out, then those of fans gone idle, a step at a time each.
local lapsed = redis.call('ZRANGEBYSCORE', active_key, '-inf', now, 'LIMIT', 0, step)
chunked('ZREM', active_key, lapsed)
chunked('ZREM', seen_key, lapsed)
local idleSeen = redis.call('ZRANGEBYSCORE', seen_key, '-inf', '(' .. active_idle_cutoff_ms, 'WITHSCORES', 'LIMIT', 0, step)
local idleActive, noShows = {}, 0
for i = 1, #idleSeen, 2 do
  idleActive[#idleActive + 1] = idleSeen[i]
  if string.sub(idleSeen[i + 1], -2) == '.5' then
    noShows = noShows + 1
  end
end
chunked('ZREM', active_key, idleActive)
chunked('ZREM', seen_key, idleActive)
if #idleActive > 0 then
  redis.call('HINCRBY', stats_key, 'idleActive', #idleActive)
end
if noShows > 0 then
  redis.call('HINCRBY', stats_key, 'noShows', noShows)
end
local expired = #lapsed + #idleActive

if s[6] == '1' then
  return {1, 0, expired, 0, 0, 0, 0, 0}
end
if sold_out == '1' then
  local waiting = redis.call('ZCARD', waiting_key)
  redis.call('HSET', settings_key, 'soldOut', '1', 'soldOutAt', now)
  redis.call('HSET', stats_key, 'soldOutWaiting', waiting)
  -- UNLINK frees the line's memory in the background: O(1) here, whatever its length.
  redis.call('UNLINK', waiting_key, fans_key, active_key, holder_key, seen_key)
  return {1, 0, expired, 0, 0, 0, 1, 0}
end

-- Abandoned places anywhere in the line, not seen since the abandon cutoff: each tick reads when
-- four steps of ticket numbers were last seen (reading is cheap; only the drops write), from a
-- cursor that goes round the numbers issued, and drops the waiting places among them. A round
-- takes (tickets issued / 4 steps) ticks: 250 at a million tickets and the default step, well
-- within WAIT_ABANDON_SECONDS. Places at the front are checked again, against the stricter
-- presentCutoff, as they are admitted.
local issued = tonumber(redis.call('GET', seq_key) or '0')
local from = tonumber(redis.call('HGET', stats_key, 'sweepAt') or '1')
if from > issued then
  from = 1
end
local to = math.min(issued, from + 4 * step - 1)
local idle = {}
if to >= from then
  local cutoff = math.floor(tonumber(abandon_cutoff_ms) / 1000)
  local raw = redis.call('GETRANGE', fans_key, 8 * from, 8 * to + 7)
  for i = 0, to - from do
    local at = 8 * i + 5
    if at + 3 <= #raw then
      local seen = struct.unpack('>I4', raw, at)
      if seen > 0 and seen < cutoff then
        idle[#idle + 1] = from + i
      end
    end
  end
  redis.call('HSET', stats_key, 'sweepAt', to + 1)
end
local droppedIdle = 0
for i = 1, #idle, 1000 do
  droppedIdle = droppedIdle + redis.call('ZREM', waiting_key, unpack(idle, i, math.min(i + 999, #idle)))
end
if droppedIdle > 0 then
  redis.call('HINCRBY', stats_key, 'dropped', droppedIdle)
end

-- Not open yet, or paused by the operator: nobody is admitted this tick.
local function closed()
  redis.call('HINCRBY', stats_key, 'admitted', 0)
  local active = redis.call('ZCARD', active_key)
  measureLine(active, false)
  return {1, 0, expired, droppedIdle, redis.call('ZCARD', waiting_key), active, 0, 0}
end
if now < tonumber(s[5]) then
  return closed()
end
if s[7] ~= '1' then
  redis.call('HSET', settings_key, 'opened', '1')
end
if s[4] == '1' then
  return closed()
end
local active = redis.call('ZCARD', active_key)
local perTick = tonumber(s[1] or default_admit_per_tick)
local cap = tonumber(s[2] or default_active_cap)
local overbooking = tonumber(s[3] or default_overbooking)
local choosing = math.max(0, active - tonumber(fans_holding))
-- Rounded up, so the last seat is offered to two fans (1 x 1.5): a fan admitted for it who never
-- shows up does not stall the sale alone.
local inventory = math.ceil(tonumber(available_seats) * overbooking) - choosing
local limit = math.min(perTick, tonumber(autopilot_limit) or math.huge)
local room = math.max(0, math.min(cap - active, inventory))
redis.call('HSET', stats_key, 'tickRoom', room, 'tickLimit', limit, 'tickCapRoom', cap - active, 'tickSeatRoom', inventory,
           'tickOverbooking', tostring(overbooking))
return proceed(math.min(limit, room), expired, droppedIdle)
