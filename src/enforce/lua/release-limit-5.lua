--[[
  Removes one account's limit, only if it still belongs to the alert the caller read (another alert
  may have taken it over in between).

  KEYS[1]  ls:{enf}:limit:<accountId>
  KEYS[2]  ls:{enf}:active
  KEYS[3]  ls:{enf}:expiry
  KEYS[4]  ls:{enf}:alert:<expectedAlertId>
  KEYS[5]  ls:{enf}:version

  ARGV[1] accountId  ARGV[2] expectedAlertId  ARGV[3] byHuman (1 = the alert must not limit it again)
  ARGV[4] alertStateTtlMs

  Returns (ScriptStatus in src/enforce/status.ts):
     { 3, limitJSON }  Released
     { -4 }            NotFound: no limit
     { -5, limitJSON } Conflict: the limit belongs to another alert; nothing written
]]
local account = ARGV[1]
local current = redis.call('HGET', KEYS[2], account)
if not current then
  return { -4 }
end
if cjson.decode(current)['alertId'] ~= ARGV[2] then
  return { -5, current }
end

redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], account)
redis.call('ZREM', KEYS[3], account)
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[4], account, 'released')
  redis.call('PEXPIRE', KEYS[4], ARGV[4])
end
redis.call('INCR', KEYS[5])
return { 3, current }
