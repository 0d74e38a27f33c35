"""Where the bus's Redis is, from HELPLINE_REDIS_URL: one server (`redis://`, `rediss://`, `unix://`) or the primary
that a set of Sentinels names (`redis+sentinel://`, `rediss+sentinel://`), with the sign-in and TLS options.

Parsing only: it opens no connection. `redis_client` builds a redis-py client, which connects on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from redis.asyncio import Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.sentinel import Sentinel

SCHEMES = ("redis://", "rediss://", "unix://", "redis+sentinel://", "rediss+sentinel://")
SENTINEL_PORT = 26379
# Options that concern the sentinels themselves, not the primary: taken out of the query.
SENTINEL_OPTIONS = ("sentinel_username", "sentinel_password")


@dataclass(frozen=True)
class RedisTarget:
    """`url` is a plain redis-py URL of the server; for Sentinel, of the primary with a placeholder address (its
    sign-in, database and TLS options), and `sentinels` / `service` say where to ask for the real one."""

    url: str
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str = ""
    sentinel_options: dict[str, str] = field(default_factory=dict)

    @property
    def sentinel(self) -> bool:
        return bool(self.sentinels)

    def connection_options(self) -> dict[str, Any]:
        """redis-py keyword arguments of a connection to the server (for Sentinel: to the primary, sans address)."""
        options: dict[str, Any] = dict(parse_url(self.url))
        if self.sentinel:
            options.pop("host", None)
            options.pop("port", None)
            if options.pop("connection_class", None) is not None:
                options["ssl"] = True  # the Sentinel pool picks its own (TLS) connection class from this flag
        return options

    def sentinel_connection_options(self) -> dict[str, Any]:
        """A sentinel's connection: the primary's TLS options, its own sign-in (none unless the URL gives one)."""
        options = {k: v for k, v in self.connection_options().items() if k.startswith("ssl")}
        if self.sentinel_options.get("sentinel_password"):
            options["password"] = self.sentinel_options["sentinel_password"]
            options["username"] = self.sentinel_options.get("sentinel_username") or None
        return options


def parse_redis_url(url: str) -> RedisTarget:
    """A RedisTarget, or ValueError naming what is wrong (an unknown scheme, no sentinel, no service name)."""
    if not url.startswith(SCHEMES):
        raise ValueError(f"HELPLINE_REDIS_URL must start with one of {', '.join(SCHEMES)}")
    if "+sentinel://" not in url:
        return RedisTarget(url=url)
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    sentinels = tuple(_host_port(h) for h in hosts.split(",") if h)
    path = [p for p in parts.path.split("/") if p]
    if not sentinels or not path:
        raise ValueError(
            "a Sentinel URL names its sentinels and its service: redis+sentinel://h1:26379,h2:26379/mymaster"
        )
    service = unquote(path[0])
    query = dict(parse_qsl(parts.query))
    sentinel_options = {k: query.pop(k) for k in SENTINEL_OPTIONS if k in query}
    if len(path) > 1:
        query.setdefault("db", path[1])
    scheme = "rediss" if parts.scheme.startswith("rediss") else "redis"
    sign_in = f"{credentials}@" if credentials else ""
    primary = f"{scheme}://{sign_in}primary.invalid:6379/{query.pop('db', '0')}"
    if query:
        primary += "?" + urlencode(query)
    return RedisTarget(url=primary, sentinels=sentinels, service=service, sentinel_options=sentinel_options)


def _host_port(text: str) -> tuple[str, int]:
    """`host`, `host:port` or `[v6]:port`."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else SENTINEL_PORT
    host, _, port = text.partition(":")
    return host, int(port) if port else SENTINEL_PORT


def sentinel_manager(target: RedisTarget, **options: Any) -> Sentinel:
    """The sentinels of a target, asked where the primary is; `options` go to the primary's connections."""
    sentinel_options = {**target.sentinel_connection_options(), "socket_connect_timeout": 1, "socket_timeout": 1}
    return Sentinel(
        list(target.sentinels),
        sentinel_kwargs=sentinel_options,  # type: ignore[no-untyped-call]
        **{**target.connection_options(), **options},
    )


def redis_client(target: RedisTarget, sentinels: Sentinel | None = None, **options: Any) -> Redis:
    """A redis-py client of the server, or of the primary that the sentinels name: it finds the primary again on
    every new connection and drops a connection that answers READONLY (a demoted primary)."""
    if not target.sentinel:
        return Redis.from_url(target.url, **options)
    manager = sentinels or sentinel_manager(target)
    client: Redis = manager.master_for(target.service, **{**target.connection_options(), **options})
    return client
