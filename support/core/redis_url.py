"""Where the bus's Redis is, from HELPLINE_REDIS_URL: one server (`redis://`, `rediss://`, `unix://`) or the primary
that a set of Sentinels names (`redis+sentinel://`, `rediss+sentinel://`), or a Redis Cluster (`redis+cluster://`,
`rediss+cluster://`, naming some of its nodes), with the sign-in and TLS options.

Parsing only: it opens no connection. `redis_client` builds a redis-py client, which connects on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import parse_url
from redis.asyncio.sentinel import Sentinel

from support.core.cluster_keys import KnownKeysParser

SCHEMES = (
    "redis://",
    "rediss://",
    "unix://",
    "redis+sentinel://",
    "rediss+sentinel://",
    "redis+cluster://",
    "rediss+cluster://",
)
SENTINEL_PORT = 26379
CLUSTER_PORT = 6379
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
    cluster_nodes: tuple[tuple[str, int], ...] = ()  # a Redis Cluster's startup nodes; `url` is the first's

    @property
    def sentinel(self) -> bool:
        return bool(self.sentinels)

    @property
    def cluster(self) -> bool:
        return bool(self.cluster_nodes)

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
    if "+cluster://" in url:
        return _parse_cluster_url(url)
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


def _parse_cluster_url(url: str) -> RedisTarget:
    """`redis+cluster://[user:password@]h1:p1,h2:p2[?options]`: some nodes of the cluster (the rest are found)."""
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    nodes = tuple(_host_port(h, CLUSTER_PORT) for h in hosts.split(",") if h)
    path = [p for p in parts.path.split("/") if p]
    if not nodes:
        raise ValueError("a Redis Cluster URL names at least one node: redis+cluster://h1:6379,h2:6379")
    if path and path[0] != "0":
        raise ValueError("a Redis Cluster has only database 0: drop the /db from the cluster URL")
    scheme = "rediss" if parts.scheme.startswith("rediss") else "redis"
    sign_in = f"{credentials}@" if credentials else ""
    host, port = nodes[0]
    first = f"{scheme}://{sign_in}{host if ':' not in host else f'[{host}]'}:{port}/0"
    if parts.query:
        first += "?" + parts.query
    return RedisTarget(url=first, cluster_nodes=nodes)


def _host_port(text: str, default_port: int = SENTINEL_PORT) -> tuple[str, int]:
    """`host`, `host:port` or `[v6]:port`."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    host, _, port = text.partition(":")
    return host, int(port) if port else default_port


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
    every new connection and drops a connection that answers READONLY (a demoted primary). For a cluster, a
    RedisCluster (typed as Redis: the commands used on it are the same)."""
    if target.cluster:
        return cast(Redis, cluster_client(target, **options))
    if not target.sentinel:
        return Redis.from_url(target.url, **options)
    manager = sentinels or sentinel_manager(target)
    client: Redis = manager.master_for(target.service, **{**target.connection_options(), **options})
    return client


def cluster_client(target: RedisTarget, **options: Any) -> RedisCluster:
    """A redis-py cluster client: it learns the slot map from the URL's nodes and follows MOVED / ASK and failovers;
    it finds the keys of every command the project sends without asking a node (support/core/cluster_keys.py)."""
    connection = {k: v for k, v in target.connection_options().items() if k not in ("host", "port", "db")}
    if connection.pop("connection_class", None) is not None:
        connection["ssl"] = True
    connection.pop("connection_pool_class", None)
    client = RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in target.cluster_nodes], **{**connection, **options}
    )
    client.commands_parser = KnownKeysParser()  # no COMMAND GETKEYS round trip before each stream read
    return client
