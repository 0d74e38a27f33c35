-- KEYS: recent-history stream, seq counter, read-cursor copy hash, published mark (layout.Keys.catch_up_keys).
-- ARGV: after seq, '1' when commits wait for replicas (HELPLINE_REDIS_MIN_REPLICAS) else ''.
-- Returns {nothing_new, entries, cursors}: nothing_new 1 when the stream is empty and the counter has not passed
-- `after` (no commit since: no database read needed); entries as XRANGE gives them from `after` on; cursors the
-- copy's fields flat (HGETALL), its '' field present only once filled from the database.
-- One round trip for what a resume (a join with `since`) needs: a reconnect storm is thousands of these at once.
-- Waiting for replicas, a commit is in the stream before it is replicated: read only up to the published mark,
-- so a join never shows what a lost primary would take back (none at all without a mark: read the database).
local upto = '+'
if ARGV[2] == '1' then
  local mark = redis.call('GET', KEYS[4])
  upto = mark and (mark .. '-0') or '0-0'
end
local entries = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', upto)
local nothing_new = 0
if not entries[1] then
  local current = redis.call('GET', KEYS[2])
  if current and tonumber(current) <= tonumber(ARGV[1]) then nothing_new = 1 end
end
return {nothing_new, entries, redis.call('HGETALL', KEYS[3])}
