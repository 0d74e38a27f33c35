-- KEYS: recent-history stream, seq counter, read-cursor copy hash (layout.Keys.catch_up_keys).
-- ARGV: after seq.
-- Returns {nothing_new, entries, cursors}: nothing_new 1 when the stream is empty and the counter has not passed
-- `after` (no commit since: no database read needed); entries as XRANGE gives them from `after` on; cursors the
-- copy's fields flat (HGETALL), its '' field present only once filled from the database.
-- One round trip for what a resume (a join with `since`) needs: a reconnect storm is thousands of these at once.
local entries = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', '+')
local nothing_new = 0
if not entries[1] then
  local current = redis.call('GET', KEYS[2])
  if current and tonumber(current) <= tonumber(ARGV[1]) then nothing_new = 1 end
end
return {nothing_new, entries, redis.call('HGETALL', KEYS[3])}
