-- One admission tick of the waiting room.
-- KEYS: {q}:waiting, {q}:seen, {q}:active, {q}:stats
-- ARGV: tickNumber, nowMs, admitPerTick, activeCap, activeTtlMs, idleCutoffMs, tickMs, maxIdleDrops
-- Returns {admitted, expiredActive, droppedIdle, stillWaiting}, or {-1, 0, 0, 0} when this tick
-- number already ran (overlapping schedule invocations must not admit twice in one tick).
local tick = tonumber(ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[4], 'tick') or '-1')
if tick <= last then
  return {-1, 0, 0, 0}
end
redis.call('HSET', KEYS[4], 'tick', tick)
local now = tonumber(ARGV[2])

-- Lua's unpack has a small stack limit, so variadic commands go in chunks.
local function chunked(command, key, items)
  for i = 1, #items, 1000 do
    redis.call(command, key, unpack(items, i, math.min(i + 999, #items)))
  end
end

local expired = redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)

-- Abandoned places: not polled since the cutoff.
local idle = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[6], 'LIMIT', 0, tonumber(ARGV[8]))
if #idle > 0 then
  chunked('ZREM', KEYS[1], idle)
  chunked('ZREM', KEYS[2], idle)
end

local slots = math.min(tonumber(ARGV[3]), tonumber(ARGV[4]) - redis.call('ZCARD', KEYS[3]))
local admitted = 0
if slots > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], slots)
  local expiresAt = now + tonumber(ARGV[5])
  local pairs, tickets = {}, {}
  for i = 1, #popped, 2 do
    tickets[#tickets + 1] = popped[i]
    pairs[#pairs + 1] = expiresAt
    pairs[#pairs + 1] = popped[i]
  end
  admitted = #tickets
  if admitted > 0 then
    for i = 1, #pairs, 2000 do
      redis.call('ZADD', KEYS[3], unpack(pairs, i, math.min(i + 1999, #pairs)))
    end
    chunked('ZREM', KEYS[2], tickets)
  end
end

-- The admission rate people see in their ETA: an exponentially weighted average over the ticks
-- where the queue, not a lack of people, limited admission.
local waiting = redis.call('ZCARD', KEYS[1])
if waiting > 0 then
  local sample = admitted * 1000 / tonumber(ARGV[7])
  local rate = tonumber(redis.call('HGET', KEYS[4], 'rate') or '')
  if rate then rate = rate * 0.8 + sample * 0.2 else rate = sample end
  redis.call('HSET', KEYS[4], 'rate', tostring(rate))
end
redis.call('HINCRBY', KEYS[4], 'admitted', admitted)
return {admitted, expired, #idle, waiting}
