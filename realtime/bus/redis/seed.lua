-- KEYS: seq counter, (author, client_id) -> seq hash, recent-history stream (commit.lua's first three).
-- ARGV: idle ttl ms, seed floor ('' = only ask), then seed pairs (author+client_id key, seq) of the ticket's latest persisted messages.
-- Returns 0 when the ticket needs no seed, -1 when it does and no floor was given, 1 when it was seeded now.
-- The same seed as commit.lua's, done ahead of the ticket's first commit (at subscribe), so that commit finds the
-- counter and the hash and needs no database read; commit.lua still seeds whenever they are missing.
local current = redis.call('GET', KEYS[1])
if current and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if ARGV[2] == '' then return -1 end
local floor = tonumber(ARGV[2])
if current then floor = math.max(floor, tonumber(current)) end
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
if last[1] then floor = math.max(floor, tonumber(string.match(last[1][1], '^(%d+)'))) end
redis.call('SET', KEYS[1], floor)
for i = 3, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('HSETNX', KEYS[2], '', 0)  -- marks the hash as seeded even when the ticket had no message yet
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end  -- a ticket joined but never written to
return 1
