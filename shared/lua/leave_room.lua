-- Leave a room: a waiting place is freed at once, an ACTIVE slot goes to the next fan on the next
-- tick. Leaving again changes nothing.
-- KEYS: {r:C}:waiting, {r:C}:active, {r:C}:holder, {r:C}:seen, {r:C}:stats
-- ARGV: fan (the token user's compact id), ticket, why ('LEFT': the fan left; 'BOUGHT': a payment
--       left it no live hold), nowMs (the payment's time, for BOUGHT), pathBuckets (the report's
--       time buckets, seconds, comma-separated)
-- For the operator's report: the stats count `leftWaiting` and `leftActive` (fans who left), and
-- for a ticket that ends bought, its time in the booking path (admission, its ACTIVE expiry less
-- the `activeTtlMs` the tick keeps, to now) in `path:<bound>`, the first bound it does not exceed,
-- or `path:inf`.
-- Returns {'WAITING' | 'ACTIVE' | 'GONE'}: where the ticket was. Only its owner's token can leave:
-- the ticket must be the user's latest (see room_status.lua).
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local waiting_key, active_key, holder_key, seen_key, stats_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local fan, ticket, why, now_ms, path_buckets =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('HGET', holder_key, fan) ~= ticket then
  return {'GONE'}
end
redis.call('HDEL', holder_key, fan)
if redis.call('ZREM', waiting_key, ticket) == 1 then
  redis.call('HINCRBY', stats_key, 'leftWaiting', 1)
  return {'WAITING'}
end
local expires = redis.call('ZSCORE', active_key, ticket)
if expires then
  redis.call('ZREM', active_key, ticket)
  redis.call('ZREM', seen_key, ticket)
  local ttl = redis.call('HGET', stats_key, 'activeTtlMs')
  if why ~= 'BOUGHT' then
    redis.call('HINCRBY', stats_key, 'leftActive', 1)
  elseif ttl then
    local took = (tonumber(now_ms) - (tonumber(expires) - tonumber(ttl))) / 1000
    local bucket = 'path:inf'
    for bound in string.gmatch(path_buckets, '%d+') do
      if took <= tonumber(bound) then
        bucket = 'path:' .. bound
        break
      end
    end
    redis.call('HINCRBY', stats_key, bucket, 1)
  end
  return {'ACTIVE'}
end
return {'GONE'}
