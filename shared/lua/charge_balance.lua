-- Add to a balance, once per Idempotency-Key.
-- KEYS: {u:<id>}:profile, {u:<id>}:idempotency
-- ARGV: amount, idempotencyField ('' when the request had no key), maxBalance
-- Returns {'OK', balance} | {'REPLAY', 'amount|balance'} | {'NO_USER'} | {'LIMIT', balance}
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'NO_USER'}
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
return {'OK', tostring(balance)}
