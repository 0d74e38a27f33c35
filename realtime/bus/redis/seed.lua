-- KEYS: seq counter, (author, client_id) -> seq hash, recent-history stream (commit.lua's first three), published
--       mark (layout.Keys.published).
-- ARGV: idle ttl ms, seed floor ('' = only ask), n, then n (seq, payload) pairs of the ticket's latest persisted
--       messages (ascending and gapless up to the floor), then seed pairs (author+client_id key, seq).
-- Returns 0 when the ticket needs no seed, -1 when it does and no floor was given, 1 when it was seeded now.
-- The same seed as commit.lua's, done ahead of the ticket's first commit (at subscribe), so that commit finds the
-- counter and the hash and needs no database read; commit.lua still seeds whenever they are missing.
-- It also puts the database's latest messages into a missing recent-history stream: a ticket's first message is
-- written by the database alone (the ticket and it in one transaction), and until the stream reached back to it
-- every join without `since` read the database.
local current = redis.call('GET', KEYS[1])
local seeded = current and redis.call('EXISTS', KEYS[2]) == 1
local has_recent = redis.call('EXISTS', KEYS[3]) == 1
if seeded and has_recent then return 0 end
if ARGV[2] == '' then return -1 end
local floor = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
-- Only when Redis holds no commit the database lacks: a counter ahead of the floor means messages still on their
-- way to the database, and a stream of the database's messages alone would hide them from a catch-up.
if (not has_recent) and n > 0 and ((not current) or tonumber(current) <= floor) then
  for i = 4, 2 + 2 * n, 2 do redis.call('XADD', KEYS[3], ARGV[i] .. '-0', 'd', ARGV[i + 1]) end
  -- The database's messages are replicated and written: a join may read them (catch_up.lua, MIN_REPLICAS).
  local seeded_up_to = tonumber(ARGV[2 + 2 * n])
  if tonumber(redis.call('GET', KEYS[4]) or '0') < seeded_up_to then redis.call('SET', KEYS[4], seeded_up_to) end
end
if not seeded then
  if current then floor = math.max(floor, tonumber(current)) end
  local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
  if last[1] then floor = math.max(floor, tonumber(string.match(last[1][1], '^(%d+)'))) end
  redis.call('SET', KEYS[1], floor)
  for i = 4 + 2 * n, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
  redis.call('HSETNX', KEYS[2], '', 0)  -- marks the hash as seeded even when the ticket had no message yet
end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end  -- a ticket joined but never written to
return 1
