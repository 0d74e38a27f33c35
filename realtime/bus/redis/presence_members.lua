-- KEYS as PRESENCE_JOIN. Returns the user json of every live connection.
-- Runs after now.lua (scripts.py joins them).
local conns = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
if #conns == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(conns))
