"""The gateway's settings, read from the environment once; no other module of it reads os.environ.

The status page has its own (statuspage/settings.py); `status_port` is here for `helpline up`, which runs both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

DEFAULT_RESPONSE_TARGETS_S: dict[str, int] = {"premium": 3600, "pro_plus": 4 * 3600, "pro": 12 * 3600}


@dataclass(frozen=True)
class Settings:
    secret: str = ""
    # Identity from the host platform's identity provider (RS256/ES256); see support/core/tokens.py and docs/operations.md.
    jwt_public_key: str | None = None  # PEM text, or the path of a PEM file
    jwks_url: str | None = None
    jwt_issuer: str | None = None  # when set, every token must carry this `iss`
    jwt_audience: tuple[str, ...] = ()  # when set, every token's `aud` must name one of these
    jwt_algorithms: tuple[str, ...] = ()  # empty: HS256 with a secret, RS256 and ES256 with a key or JWKS URL
    jwks_timeout_s: float = 5.0
    jwks_cache_s: float = 300.0  # the key set is fetched again when older than this
    jwks_min_refresh_s: float = 5.0  # an unknown kid fetches the set again at most this often
    database_url: str = "sqlite+aiosqlite:///./helpline.db"
    redis_url: str | None = None
    allowed_origins: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    status_port: int = 8001
    status_url: str | None = None
    incident_poll_s: float = 5.0  # how often each gateway node looks for resolved incidents
    status_cache_s: float = 5.0  # how long a node reuses the status page's active incidents for matching
    heartbeat_s: float = 25.0
    hello_timeout_s: float = 10.0
    typing_ttl_s: float = 6.0
    presence_ttl_s: float = 30.0
    max_frame_bytes: int = 64 * 1024
    send_buffer_bytes: int = 512 * 1024  # unsent bytes for one client before it is cut off (4409)
    frame_rate_per_s: float = 30.0
    frame_burst: float = 120.0
    http_write_rate_per_s: float = 5.0
    http_write_burst: float = 30.0
    # Writes without a valid token (article events, refused attempts), per client address: many people may share
    # one address (an office, a carrier's NAT), so this is about floods, not about one person.
    anonymous_write_rate_per_s: float = 2.0
    anonymous_write_burst: float = 30.0
    # New WebSocket connections per client address (reconnect storms, handshake floods); on Redis, across nodes.
    connection_rate_per_s: float = 20.0
    connection_burst: float = 200.0
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (uvicorn's proxy headers): the load balancers.
    # Comma-separated addresses or networks, "*" for any; by default loopback only, so a client cannot choose
    # the address its limits are counted under.
    forwarded_allow_ips: str = "127.0.0.1,::1"
    max_connections_per_user: int = 20
    max_connections_per_ip: int = 1000
    response_targets_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_RESPONSE_TARGETS_S))
    business_hours: str = ""  # e.g. "Mon-Fri 09:00-18:00" in `timezone`; empty: targets count 24/7
    timezone: str = "UTC"
    auto_assign: bool = False  # new tickets go round-robin to online agents who are not away
    demo: bool = False  # hand out demo tokens on loopback: only `helpline up` with a secret it generated sets it
    key_prefix: str = "helpline"
    worker_metrics_port: int | None = None  # `helpline worker` serves /metrics here when set
    worker_claim_idle_s: float = 30.0  # a dead worker's pending entries are claimed after this long
    articles_dir: str | None = None  # None: the articles/ folder of the checkout
    articles_poll_s: float = 3.0
    attachments_dir: str = "./attachments"
    attachment_max_bytes: int = 5 * 1024 * 1024
    support_phone_number: str = "+1 800 555 0142"
    support_phone_hours: str = "Mon-Fri 07:00-22:00 UTC, Sat-Sun 09:00-17:00 UTC"
    webhook_backoff_base_s: float = 10.0  # first retry after about this long, doubling each attempt
    webhook_backoff_max_s: float = 3600.0
    webhook_retry_window_s: float = 24 * 3600.0  # then the delivery fails and its endpoint is marked failing
    webhook_timeout_s: float = 10.0
    webhook_poll_s: float = 1.0
    drain_s: float = 10.0  # on SIGTERM a gateway tells its clients to move over this long, spread with jitter

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        env = os.environ if env is None else env
        origins = tuple(o.strip().rstrip("/") for o in env.get("HELPLINE_ALLOWED_ORIGINS", "").split(",") if o.strip())
        targets = dict(DEFAULT_RESPONSE_TARGETS_S)
        for plan in list(targets):
            raw = env.get(f"HELPLINE_RESPONSE_TARGET_{plan.upper()}_S")
            if raw:
                targets[plan] = int(raw)
        values: dict[str, object] = dict(
            secret=env.get("HELPLINE_SECRET", ""),
            jwt_public_key=env.get("HELPLINE_JWT_PUBLIC_KEY") or None,
            jwks_url=env.get("HELPLINE_JWKS_URL") or None,
            jwt_issuer=env.get("HELPLINE_JWT_ISSUER") or None,
            jwt_audience=_names(env.get("HELPLINE_JWT_AUDIENCE", "")),
            jwt_algorithms=tuple(a.upper() for a in _names(env.get("HELPLINE_JWT_ALGORITHMS", ""))),
            jwks_timeout_s=float(env.get("HELPLINE_JWKS_TIMEOUT_S", cls.jwks_timeout_s)),
            jwks_cache_s=float(env.get("HELPLINE_JWKS_CACHE_S", cls.jwks_cache_s)),
            jwks_min_refresh_s=float(env.get("HELPLINE_JWKS_MIN_REFRESH_S", cls.jwks_min_refresh_s)),
            database_url=env.get("HELPLINE_DATABASE_URL", cls.database_url),
            redis_url=env.get("HELPLINE_REDIS_URL") or None,
            allowed_origins=origins,
            host=env.get("HOST", cls.host),
            port=int(env.get("PORT", cls.port)),
            status_port=int(env.get("STATUS_PORT", cls.status_port)),
            status_url=env.get("HELPLINE_STATUS_URL") or None,
            incident_poll_s=float(env.get("HELPLINE_INCIDENT_POLL_S", cls.incident_poll_s)),
            status_cache_s=float(env.get("HELPLINE_STATUS_CACHE_S", cls.status_cache_s)),
            heartbeat_s=float(env.get("HELPLINE_HEARTBEAT_S", cls.heartbeat_s)),
            hello_timeout_s=float(env.get("HELPLINE_HELLO_TIMEOUT_S", cls.hello_timeout_s)),
            typing_ttl_s=float(env.get("HELPLINE_TYPING_TTL_S", cls.typing_ttl_s)),
            presence_ttl_s=float(env.get("HELPLINE_PRESENCE_TTL_S", cls.presence_ttl_s)),
            response_targets_s=targets,
            business_hours=env.get("HELPLINE_BUSINESS_HOURS", cls.business_hours),
            timezone=env.get("HELPLINE_TIMEZONE", cls.timezone),
            auto_assign=env.get("HELPLINE_AUTO_ASSIGN", "").lower() in ("1", "true", "on", "yes"),
            key_prefix=env.get("HELPLINE_KEY_PREFIX", cls.key_prefix),
            worker_metrics_port=int(env["HELPLINE_WORKER_METRICS_PORT"]) if env.get("HELPLINE_WORKER_METRICS_PORT")
            else None,
            worker_claim_idle_s=float(env.get("HELPLINE_WORKER_CLAIM_IDLE_S", cls.worker_claim_idle_s)),
            frame_rate_per_s=float(env.get("HELPLINE_FRAME_RATE_PER_S", cls.frame_rate_per_s)),
            frame_burst=float(env.get("HELPLINE_FRAME_BURST", cls.frame_burst)),
            http_write_rate_per_s=float(env.get("HELPLINE_HTTP_WRITE_RATE_PER_S", cls.http_write_rate_per_s)),
            http_write_burst=float(env.get("HELPLINE_HTTP_WRITE_BURST", cls.http_write_burst)),
            anonymous_write_rate_per_s=float(env.get("HELPLINE_ANONYMOUS_WRITE_RATE_PER_S",
                                                     cls.anonymous_write_rate_per_s)),
            anonymous_write_burst=float(env.get("HELPLINE_ANONYMOUS_WRITE_BURST", cls.anonymous_write_burst)),
            connection_rate_per_s=float(env.get("HELPLINE_CONNECTION_RATE_PER_S", cls.connection_rate_per_s)),
            connection_burst=float(env.get("HELPLINE_CONNECTION_BURST", cls.connection_burst)),
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS") or cls.forwarded_allow_ips,
            max_connections_per_user=int(env.get("HELPLINE_MAX_CONNECTIONS_PER_USER", cls.max_connections_per_user)),
            max_connections_per_ip=int(env.get("HELPLINE_MAX_CONNECTIONS_PER_IP", cls.max_connections_per_ip)),
            articles_dir=env.get("HELPLINE_ARTICLES_DIR") or None,
            articles_poll_s=float(env.get("HELPLINE_ARTICLES_POLL_S", cls.articles_poll_s)),
            attachments_dir=env.get("HELPLINE_ATTACHMENTS_DIR", cls.attachments_dir),
            attachment_max_bytes=int(env.get("HELPLINE_ATTACHMENT_MAX_BYTES", cls.attachment_max_bytes)),
            support_phone_number=env.get("HELPLINE_SUPPORT_PHONE", cls.support_phone_number),
            support_phone_hours=env.get("HELPLINE_SUPPORT_PHONE_HOURS", cls.support_phone_hours),
            webhook_backoff_base_s=float(env.get("HELPLINE_WEBHOOK_BACKOFF_BASE_S", cls.webhook_backoff_base_s)),
            webhook_backoff_max_s=float(env.get("HELPLINE_WEBHOOK_BACKOFF_MAX_S", cls.webhook_backoff_max_s)),
            webhook_retry_window_s=float(env.get("HELPLINE_WEBHOOK_RETRY_WINDOW_S", cls.webhook_retry_window_s)),
            webhook_timeout_s=float(env.get("HELPLINE_WEBHOOK_TIMEOUT_S", cls.webhook_timeout_s)),
            webhook_poll_s=float(env.get("HELPLINE_WEBHOOK_POLL_S", cls.webhook_poll_s)),
            drain_s=float(env.get("HELPLINE_DRAIN_S", cls.drain_s)),
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _names(raw: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in raw.split(",") if n.strip())
