--[[
  Sweeps limits whose expiry has passed. Each is returned to exactly one caller, however many
  lockstep instances sweep at once, so each expiry is published and audited once.

  KEYS[1]  ls:{enf}:active
  KEYS[2]  ls:{enf}:expiry
  KEYS[3]  ls:{enf}:version

  ARGV[1] nowMs  ARGV[2] max limits swept per call

  Returns { n, limitJSON... } with n >= 0 limits removed (their limit:<accountId> keys expired by
  themselves at expiresAt).
]]
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = { 0 }
for _, account in ipairs(due) do
  local current = redis.call('HGET', KEYS[1], account)
  if current then
    out[#out + 1] = current
  end
end

if #due == 0 then
  return out
end
redis.call('ZREM', KEYS[2], unpack(due))
redis.call('HDEL', KEYS[1], unpack(due))
redis.call('INCR', KEYS[3])
out[1] = #out - 1
return out
