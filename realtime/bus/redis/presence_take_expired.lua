-- KEYS: the presence index zset. ARGV: limit, lease ms. Takes expired "ticket\nconnection" members under a lease
-- (their score moves to now + lease): each goes to one sweeping node, and comes due again if that node dies before
-- PRESENCE_LEAVE settles it.
-- Runs after now.lua (scripts.py joins them).
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), member) end
return due
