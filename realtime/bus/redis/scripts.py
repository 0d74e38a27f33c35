"""The Lua scripts of the Redis bus, each one atomic step, loaded once and called by SHA (reloaded on NOSCRIPT).

Times come from the Redis server's clock (TIME), so gateway nodes with skewed clocks agree on presence expiry.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from realtime.bus.redis.wire import CommandPipe, ReplyError

# KEYS: seq counter, client_id -> seq hash, recent-history stream, persistence stream.
# ARGV: client_id, draft bytes, ticket, recent cap, idle ttl ms, seed ('' = none), channel ('' = the caller publishes
#       once replicas have the commit: HELPLINE_REDIS_MIN_REPLICAS), then seed pairs (client_id, seq) of the
#       ticket's latest persisted messages.
# Returns {1, seq} committed; {0, seq, draft?} duplicate of the first commit; {-1} the counter needs a seed.
COMMIT = """
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
"""

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# Is user ARGV_uid online in this ticket through a live connection other than `skip`?
_ONLINE_ELSEWHERE = """
local function online_elsewhere(uid, skip, now)
  for _, c in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
    if c ~= skip then
      local u = redis.call('HGET', KEYS[2], c)
      if u and cjson.decode(u).id == uid then return true end
    end
  end
  return false
end
"""

# KEYS: presence zset (connection -> expiry ms), users hash (connection -> user json), the presence index.
# ARGV: connection, user json, user id, ttl ms, channel, online payload, index member ("ticket\nconnection").
# Returns {1 if the user just came online, expiry ms}. The index is updated and the payload published here, inside
# the script: a node killed half-way cannot leave a live entry the sweep never sees, and presence events leave in
# the order of the changes they announce, whichever node made them.
PRESENCE_JOIN = _NOW + _ONLINE_ELSEWHERE + """
local own = redis.call('ZSCORE', KEYS[1], ARGV[1])
local was_online = (own and tonumber(own) >= now) or online_elsewhere(ARGV[3], ARGV[1], now)
local expiry = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], 4 * tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[2], 4 * tonumber(ARGV[4]))
redis.call('ZADD', KEYS[3], expiry, ARGV[7])
if was_online then return {0, expiry} end
if ARGV[5] and ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return {1, expiry}
"""

# KEYS as PRESENCE_JOIN. ARGV: connection, 'expired' to remove it only if its expiry has passed, channel, offline
# payload (published here when the user went offline, for the same reason as in PRESENCE_JOIN), index member.
# A connection renewed meanwhile gets its index entry back at its real expiry.
# Returns the user json when this call removed the user's last live connection (exactly one caller wins).
PRESENCE_LEAVE = _NOW + _ONLINE_ELSEWHERE + """
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
"""

# KEYS as PRESENCE_JOIN. Returns the user json of every live connection.
PRESENCE_MEMBERS = _NOW + """
local conns = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
if #conns == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(conns))
"""

# KEYS: the presence index zset. ARGV: limit, lease ms. Takes expired "ticket\\nconnection" members under a lease
# (their score moves to now + lease): each goes to one sweeping node, and comes due again if that node dies before
# PRESENCE_LEAVE settles it.
PRESENCE_TAKE_EXPIRED = _NOW + """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), member) end
return due
"""


class Script:
    """One Lua script: EVALSHA, and on NOSCRIPT (a restarted or failed-over Redis) load it again and retry."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()  # what Redis names it: known without a SCRIPT LOAD

    async def on(self, pipe: CommandPipe, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """Through the pipelined connection; on NOSCRIPT, EVAL sends the source (and caches it in Redis)."""
        try:
            return await pipe.call("EVALSHA", self.sha, len(keys), *keys, *args)
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await pipe.call("EVAL", self.source, len(keys), *keys, *args)

    async def on_replicated(self, pipe: CommandPipe, replicas: int, timeout_ms: int, keys: Sequence[Any],
                            args: Sequence[Any]) -> tuple[Any, int]:
        """As `on`, followed by the write's WAIT: (the script's reply, how many replicas have it)."""
        try:
            return await pipe.call_replicated(replicas, timeout_ms, "EVALSHA", self.sha, len(keys), *keys, *args)
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await pipe.call_replicated(replicas, timeout_ms, "EVAL", self.source, len(keys), *keys, *args)

    async def __call__(self, redis: Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.source)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)

    async def many(self, redis: Redis, calls: Sequence[tuple[Sequence[str], Sequence[Any]]]) -> list[Any]:
        """The same script for many (keys, args) in one pipelined round trip (e.g. a heartbeat's renewals)."""
        for attempt in (1, 2):
            pipe = redis.pipeline(transaction=False)
            for keys, args in calls:
                pipe.evalsha(self.sha, len(keys), *keys, *args)
            results = await pipe.execute(raise_on_error=False)
            if attempt == 1 and any(isinstance(r, NoScriptError) for r in results):
                await redis.script_load(self.source)  # Redis lost its script cache: load it, run the batch again
                continue
            for result in results:
                if isinstance(result, Exception):
                    raise result
            return list(results)
        return []


COMMIT_SCRIPT = Script(COMMIT)
PRESENCE_JOIN_SCRIPT = Script(PRESENCE_JOIN)
PRESENCE_LEAVE_SCRIPT = Script(PRESENCE_LEAVE)
PRESENCE_MEMBERS_SCRIPT = Script(PRESENCE_MEMBERS)
PRESENCE_TAKE_EXPIRED_SCRIPT = Script(PRESENCE_TAKE_EXPIRED)
