-- KEYS as PRESENCE_JOIN. ARGV: connection, 'expired' to remove it only if its expiry has passed, channel, offline
-- payload (published here when the user went offline, for the same reason as in PRESENCE_JOIN), index member.
-- A connection renewed meanwhile gets its index entry back at its real expiry.
-- Returns the user json when this call removed the user's last live connection (exactly one caller wins).
-- Runs after now.lua and online_elsewhere.lua (scripts.py joins them).
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then
  redis.call('ZREM', KEYS[3], ARGV[5])
  return false
end
if ARGV[2] == 'expired' and tonumber(score) >= now then
  redis.call('ZADD', KEYS[3], score, ARGV[5])
  return false
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[5])
local u = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if not u then return false end
if online_elsewhere(cjson.decode(u).id, ARGV[1], now) then return false end
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return u
