-- KEYS: seq counter, (author, client_id) -> seq hash, recent-history stream, persistence stream.
-- ARGV: author+client_id key (layout.author_client_key), draft bytes, ticket, recent cap, idle ttl ms, seed
--       ('' = none), channel ('' = the caller publishes once replicas have the commit: HELPLINE_REDIS_MIN_REPLICAS),
--       then seed pairs (author+client_id key, seq) of the ticket's latest persisted messages.
-- Returns {1, seq} committed; {0, seq, draft?} duplicate of this author's first commit; {-1} the counter needs a seed.
-- The key holds the author: another author's client_id is another message, never its duplicate.
local known = redis.call('HGET', KEYS[2], ARGV[1])
if not known then
  local current = redis.call('GET', KEYS[1])
  if (not current) or redis.call('EXISTS', KEYS[2]) == 0 then
    if ARGV[6] == '' then return {-1} end
    -- Re-seed after a loss or on a ticket's first commit: never below the database, the counter, the stream tail.
    local floor = tonumber(ARGV[6])
    if current then floor = math.max(floor, tonumber(current)) end
    local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
    if last[1] then floor = math.max(floor, tonumber(string.match(last[1][1], '^(%d+)'))) end
    redis.call('SET', KEYS[1], floor)
    for i = 8, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
    redis.call('HSETNX', KEYS[2], '', 0)  -- marks the hash as seeded even when the ticket had no message yet
    known = redis.call('HGET', KEYS[2], ARGV[1])
  end
end
if known then
  local entry = redis.call('XRANGE', KEYS[3], known .. '-0', known .. '-0')
  if entry[1] then return {0, tonumber(known), entry[1][2][2]} end
  return {0, tonumber(known)}
end
local seq = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], seq)
redis.call('XADD', KEYS[4], '*', 't', ARGV[3], 's', seq, 'd', ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], seq .. '-0', 'd', ARGV[2])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[7], 'm' .. seq .. ' ' .. ARGV[2]) end
return {1, seq}
