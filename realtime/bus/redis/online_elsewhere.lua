-- Is user ARGV_uid online in this ticket through a live connection other than `skip`?
local function online_elsewhere(uid, skip, now)
  for _, c in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
    if c ~= skip then
      local u = redis.call('HGET', KEYS[2], c)
      if u and cjson.decode(u).id == uid then return true end
    end
  end
  return false
end
