--[[
  Counts one request of a limited account against its token bucket: capacity limitRpm, refilled
  continuously at limitRpm per minute. The caller's clock is used (ARGV), not the server's.

  KEYS[1]  ls:{rl:<accountId>}   hash { tk = tokens, ts = last refill ms }

  ARGV[1] limitRpm  ARGV[2] nowMs  ARGV[3] idleTtlMs

  Returns (ScriptStatus in src/enforce/status.ts):
     { 4, 0 }             Allowed
     { -6, retryAfterMs } Denied: the next token arrives in retryAfterMs
]]
local rpm = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local stored = redis.call('HMGET', KEYS[1], 'tk', 'ts')
local tokens = rpm
local last = now
if stored[1] then
  tokens = tonumber(stored[1])
  last = tonumber(stored[2])
  if now > last then
    tokens = math.min(rpm, tokens + (now - last) * rpm / 60000)
    last = now
  end
  if tokens > rpm then
    tokens = rpm
  end
end

local status = -6
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  status = 4
else
  retry = math.ceil((1 - tokens) * 60000 / rpm)
end
redis.call('HSET', KEYS[1], 'tk', tostring(tokens), 'ts', last)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return { status, retry }
