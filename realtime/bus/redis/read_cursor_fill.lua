-- KEYS: read-cursor copy hash. ARGV: ttl ms, '' to fill from the database (then the '' marker is set) or 'note' for
-- one cursor that moved, then pairs (user id, seq).
-- The database is the truth; this is its copy for joins. The highest seq of a user wins, whoever writes last: a fill
-- read from the database before a cursor moved cannot take it back. A note on a copy not yet filled leaves it
-- unfilled (no '' marker), so joins still read the database until a fill completes it.
for i = 3, #ARGV, 2 do
  local known = redis.call('HGET', KEYS[1], ARGV[i])
  if (not known) or tonumber(known) < tonumber(ARGV[i + 1]) then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
if ARGV[2] == '' then redis.call('HSET', KEYS[1], '', 0) end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
