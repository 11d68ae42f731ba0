-- Add to a balance, once per Idempotency-Key, and once per request however often it is sent.
-- KEYS: {u:<id>}:profile, {u:<id>}:idempotency, {u:<id>}:request:<requestId>
-- ARGV: amount, idempotencyField ('' when the request had no key), maxBalance
-- Returns {'OK', balance} | {'REPLAY', 'amount|balance'} | {'NO_USER'} | {'LIMIT', balance}
-- The request key makes a resent command (the client resends one that was in flight when its
-- connection dropped) answer the first result instead of charging again; it lasts 10 minutes.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'NO_USER'}
end
local resent = redis.call('GET', KEYS[3])
if resent then
  return {'OK', resent}
end
if ARGV[2] ~= '' then
  local previous = redis.call('HGET', KEYS[2], ARGV[2])
  if previous then
    return {'REPLAY', previous}
  end
end
local amount = tonumber(ARGV[1])
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance'))
if balance + amount > tonumber(ARGV[3]) then
  return {'LIMIT', tostring(balance)}
end
balance = redis.call('HINCRBY', KEYS[1], 'balance', amount)
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[1] .. '|' .. balance)
  redis.call('EXPIRE', KEYS[2], 86400)
end
redis.call('SET', KEYS[3], tostring(balance), 'EX', 600)
return {'OK', tostring(balance)}
