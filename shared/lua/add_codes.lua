-- Adds presale codes to a room. A code already there keeps its owner, so loading the same batch
-- again changes nothing (a resent request is safe).
-- KEYS: {r:C}:settings (the room must exist), {r:C}:codes (code -> the account bound to it, '' before)
-- ARGV: codes (normalized, comma-separated; at most a chunk of them per call)
-- Returns {'OK', added, issued} | {'NO_ROOM'}
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local settings_key, codes_key =
  KEYS[1], KEYS[2]
local codes =
  ARGV[1]
if redis.call('EXISTS', settings_key) == 0 then
  return {'NO_ROOM'}
end
local added = 0
for code in string.gmatch(codes, '[^,]+') do
  added = added + redis.call('HSETNX', codes_key, code, '')
end
return {'OK', added, redis.call('HLEN', codes_key)}
