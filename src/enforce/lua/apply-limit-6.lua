--[[
  Writes one account's limit unless a safety rail forbids it; the rails are checked here, atomically
  with the write, so concurrent lockstep instances cannot overrun a cap between them.

  KEYS[1]  ls:{enf}:limit:<accountId>   hash, the limit as gateways read it
  KEYS[2]  ls:{enf}:active              hash accountId -> limit JSON
  KEYS[3]  ls:{enf}:expiry              zset accountId by expiresAt
  KEYS[4]  ls:{enf}:alert:<alertId>     hash accountId -> limited | released
  KEYS[5]  ls:{enf}:recent              zset of new limits by time (hourly cap)
  KEYS[6]  ls:{enf}:version             counter

  ARGV[1] accountId  ARGV[2] nowMs  ARGV[3] expiresAtMs  ARGV[4] limit JSON
  ARGV[5] capPerAlert  ARGV[6] capPerHour  ARGV[7] alertStateTtlMs  ARGV[8] capWindowMs (one hour)
  ARGV[9..] field, value pairs of the limit hash

  Returns { status } (ScriptStatus in src/enforce/status.ts):
     1 Created   a new limit (counted against the hourly cap)
     2 Updated   replaced a live limit (not counted again)
    -1 CapPerAlert, -2 CapPerHour, -3 ReleasedByHuman: nothing written.
  All checks come before the first write (Lua has no rollback).
]]
local account = ARGV[1]
local now = tonumber(ARGV[2])

local state = redis.call('HGET', KEYS[4], account)
if state == 'released' then
  return { -3 }
end
local expiry = redis.call('ZSCORE', KEYS[3], account)
local live = expiry and tonumber(expiry) > now
if not state and redis.call('HLEN', KEYS[4]) >= tonumber(ARGV[5]) then
  return { -1 }
end
local windowStart = now - tonumber(ARGV[8])
if not live and redis.call('ZCOUNT', KEYS[5], '(' .. windowStart, '+inf') >= tonumber(ARGV[6]) then
  return { -2 }
end

redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 9))
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], account, ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], account)
redis.call('HSET', KEYS[4], account, 'limited')
redis.call('PEXPIRE', KEYS[4], ARGV[7])
redis.call('INCR', KEYS[6])
if live then
  return { 2 }
end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', windowStart)
redis.call('ZADD', KEYS[5], now, account .. '@' .. ARGV[2])
redis.call('PEXPIRE', KEYS[5], ARGV[8])
return { 1 }
