-- Add to a balance, once per Idempotency-Key, and once per request however often it is sent.
-- KEYS: {u:<id>}:profile, {u:<id>}:idempotency, {u:<id>}:request:<requestId>
-- ARGV: amount, idempotencyField ('' when the request had no key), maxBalance
-- Returns {'OK', balance} | {'REPLAY', 'amount|balance'} | {'NO_USER'} | {'LIMIT', balance}
-- The request key makes a resent command (the client resends one that was in flight when its
-- connection dropped) answer the first result instead of charging again; it lasts 10 minutes.
-- KEYS and ARGV by name, in the order the script's struct in shared/src/store/ sends them
-- (ARGV are strings as sent).
local profile_key, idempotency_key, request_key =
  KEYS[1], KEYS[2], KEYS[3]
local amount_text, idempotency_field, max_balance =
  ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', profile_key) == 0 then
  return {'NO_USER'}
end
local resent = redis.call('GET', request_key)
if resent then
  return {'OK', resent}
end
if idempotency_field ~= '' then
  local previous = redis.call('HGET', idempotency_key, idempotency_field)
  if previous then
    return {'REPLAY', previous}
  end
end
local amount = tonumber(amount_text)
local balance = tonumber(redis.call('HGET', profile_key, 'balance'))
if balance + amount > tonumber(max_balance) then
  return {'LIMIT', tostring(balance)}
end
balance = redis.call('HINCRBY', profile_key, 'balance', amount)
if idempotency_field ~= '' then
  redis.call('HSET', idempotency_key, idempotency_field, amount_text .. '|' .. balance)
  redis.call('EXPIRE', idempotency_key, 86400)
end
redis.call('SET', request_key, tostring(balance), 'EX', 600)
return {'OK', tostring(balance)}
