--[[
  Applies one shard's part of a flush, exactly once per input partition.

  KEYS[1]            the shard's applied-markers hash (ls:{N}:applied)
  KEYS[2..1+B]       bucket hashes (ls:{N}:w:<scale>:<bucketStart>:<type>:<value>)
  KEYS[2+B..]        candidates sets (ls:{N}:cand:<scale>:<bucketStart>)

  ARGV[1]            a JSON array (cjson-decoded here: one argument instead of thousands, which
                     costs the writer far less to send and Redis no more to read), in order:
    nAdvances, then per advance: field, expectedMarker, nextMarker
    nWatermarks, then per watermark: field, watermarkMs
    maxMembersPerBucket, candidateMinMembers, nBuckets
    per bucket (B of them): ttlMs, candidatesKeyIndex (0 = none), ref, nFields, then nFields x (field, increment)
    (ttlMs and the increments as decimal strings: they go to redis.call unchanged, and a Lua number
    would be formatted there with sprintf)

  Returns { 1, membersCapped } when applied, or { -1, adviceIndex, storedMarker } when a partition's
  marker is not the expected one: then nothing was written (all checks come before the first write,
  since Lua has no rollback).
]]
local args = cjson.decode(ARGV[1])
local applied = KEYS[1]
local nAdv = tonumber(args[1])
local i = 2
for a = 1, nAdv do
  local cur = redis.call('HGET', applied, args[i])
  local curN = -1
  if cur then curN = tonumber(cur) end
  if curN ~= tonumber(args[i + 1]) then
    return { -1, a, curN }
  end
  i = i + 3
end

i = 2
for a = 1, nAdv do
  redis.call('HSET', applied, args[i], args[i + 2])
  i = i + 3
end
local nWm = tonumber(args[i])
i = i + 1
for w = 1, nWm do
  redis.call('HSET', applied, args[i] .. '|wm', args[i + 1])
  i = i + 2
end

local maxMembers = tonumber(args[i])
local candMin = tonumber(args[i + 1])
local nBuckets = tonumber(args[i + 2])
i = i + 3
local capped = 0
for b = 1, nBuckets do
  local key = KEYS[1 + b]
  local ttl = args[i]
  local candIdx = tonumber(args[i + 1])
  local ref = args[i + 2]
  local nf = tonumber(args[i + 3])
  i = i + 4
  local d = nil
  local d0 = nil
  for f = 1, nf do
    local field = args[i]
    local inc = args[i + 1]
    i = i + 2
    local kind = string.byte(field, 1)
    -- 'm' (109) and 'y' (121): member fields, bounded by maxMembers
    if kind == 109 or kind == 121 then
      if d == nil then
        d = tonumber(redis.call('HGET', key, 'd') or '0')
        d0 = d
      end
      if d >= maxMembers and redis.call('HEXISTS', key, field) == 0 then
        redis.call('HINCRBY', key, 'o', inc)
        capped = capped + 1
      else
        if redis.call('HINCRBY', key, field, inc) == tonumber(inc) then
          d = d + 1
        end
      end
    else
      redis.call('HINCRBY', key, field, inc)
    end
  end
  if d ~= nil and d ~= d0 then
    redis.call('HSET', key, 'd', d)
  end
  redis.call('PEXPIRE', key, ttl)
  if candIdx > 0 and d ~= nil and d >= candMin then
    redis.call('SADD', KEYS[candIdx], ref)
    redis.call('PEXPIRE', KEYS[candIdx], ttl)
  end
end
return { 1, capped }
