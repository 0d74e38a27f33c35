-- KEYS: presence zset (connection -> expiry ms), users hash (connection -> user json), the presence index.
-- ARGV: connection, user json, user id, ttl ms, channel, online payload, index member ("ticket\nconnection").
-- Returns {1 if the user just came online, expiry ms}. The index is updated and the payload published here, inside
-- the script: a node killed half-way cannot leave a live entry the sweep never sees, and presence events leave in
-- the order of the changes they announce, whichever node made them.
-- Runs after now.lua and online_elsewhere.lua (scripts.py joins them).
local own = redis.call('ZSCORE', KEYS[1], ARGV[1])
local was_online = (own and tonumber(own) >= now) or online_elsewhere(ARGV[3], ARGV[1], now)
local expiry = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], 4 * tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[2], 4 * tonumber(ARGV[4]))
redis.call('ZADD', KEYS[3], expiry, ARGV[7])
if was_online then return {0, expiry} end
if ARGV[5] and ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return {1, expiry}
