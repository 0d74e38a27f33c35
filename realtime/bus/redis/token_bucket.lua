-- KEYS: one bucket hash {t: tokens held, s: stamp ms}. ARGV: rate per second, burst, cost.
-- Returns {1, 0} when the cost was taken, else {0, ms until it could be}. The bucket expires once it would be full
-- again: an absent key is a full bucket, so keys of callers gone quiet cost nothing.
-- Runs after now.lua (scripts.py joins them).
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local held = redis.call('HMGET', KEYS[1], 't', 's')
local tokens = tonumber(held[1]) or burst
local stamp = tonumber(held[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate / 1000)
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = math.ceil((cost - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
if wait > 0 then return {0, wait} end
return {1, 0}
