#!lua
-- KEYS: (author, client_id) -> seq hash, recent-history stream (commit.lua's second and third), published mark.
-- ARGV: author+client_id key (layout.author_client_key), channel, idle ttl ms.
-- Returns 1 when it published, 0 when there was nothing to publish.
-- The shebang declares no flags, so it is a write script: a primary demoted to read-only replica refuses it
-- (READONLY) rather than publish what it may be about to lose, even after a WAIT that failed there.
-- A replicated commit's publication (HELPLINE_REDIS_MIN_REPLICAS): sent in the commit's own write, right behind
-- its `WAIT N 0`, so Redis runs it only once that WAIT has returned, which it does only when N replicas have the
-- commit (when they take too long the gateway drops the connection, and Redis discards this with it). It
-- publishes the message this author's client_id names, as the recent history holds it: the commit just made, or
-- the first commit a retry found. Nothing when there is none (a commit that waits for its seed, or one trimmed
-- away).
local seq = redis.call('HGET', KEYS[1], ARGV[1])
if not seq then return 0 end
local entry = redis.call('XRANGE', KEYS[2], seq .. '-0', seq .. '-0')
if not entry[1] then return 0 end
redis.call('PUBLISH', ARGV[2], 'm' .. seq .. ' ' .. entry[1][2][2])
-- The mark joins read the recent history up to (catch_up.lua): this seq and every one before it are replicated.
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(seq) then redis.call('SET', KEYS[3], seq) end
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
