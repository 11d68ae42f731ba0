-- Count one answer of the booking path in its room's health for one second: answers, 5xx answers
-- and the latency bucket (see BUCKET_BOUNDS_MS in shared/src/domain/autopilot.rs). The hash
-- expires by itself; the autopilot reads the last complete seconds of it each tick.
-- KEYS: {r:C}:health:<epochSecond>
-- ARGV: bucket (0..7), serverError ('1' | '0'), ttlSeconds
-- Returns the answers counted in that second so far.
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local health_key =
  KEYS[1]
local bucket, server_error, ttl_seconds =
  ARGV[1], ARGV[2], ARGV[3]
local answers = redis.call('HINCRBY', health_key, 'n', 1)
redis.call('HINCRBY', health_key, 'b' .. bucket, 1)
if server_error == '1' then
  redis.call('HINCRBY', health_key, 'e', 1)
end
if answers == 1 then
  redis.call('EXPIRE', health_key, tonumber(ttl_seconds))
end
return answers
