"""The gateway's settings, read from the environment once; no other module of it reads os.environ.

VARIABLES declares every variable: its field, what it accepts and what it means (docs/operations.md's table is
checked against it). Reading and the one-line errors are support/core/environment.py.

The status page has its own (statuspage/settings.py); `status_port` is here for `helpline up`, which runs both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Collection, Mapping

from support.core.environment import (
    Variable,
    boolean,
    choice,
    comma_list,
    integer,
    number,
    port,
    positive,
    read,
    text,
    url,
    variable,
)
from support.core.redis_url import SCHEMES as REDIS_SCHEMES
from support.core.tokens import KEY_VARIABLES

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
    redis_url: str | None = None  # redis://, rediss://, unix://, redis+sentinel://, redis+cluster:// (redis_url.py)
    redis_min_replicas: int = 0  # a commit is acked once this many replicas have it (WAIT); 0: on the primary
    redis_wait_timeout_ms: int = 1000  # how long a batch's WAIT may take before its commits answer `unavailable`
    group_window_ms: float = 0.0  # the in-memory bus's busy writer gathers commits this long into one transaction
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
    demo_data: bool = True  # seed demo tickets and canned replies when `demo` is on (helpline/demo_data.py)
    key_prefix: str = "helpline"
    worker_metrics_port: int | None = None  # `helpline worker` serves /metrics here when set
    worker_claim_idle_s: float = 30.0  # a dead worker's pending entries are claimed after this long
    articles_dir: str | None = None  # None: the articles/ folder of the checkout
    articles_poll_s: float = 3.0
    articles_search: str = "database"  # "memory": the in-memory index (support/help/memory_index.py) on any database
    attachments_dir: str = "./attachments"
    attachments_url: str | None = None  # s3://bucket/prefix: every node shares one bucket; None: attachments_dir
    s3_endpoint_url: str | None = None  # an S3-compatible server (MinIO, Ceph, ...); None: AWS itself
    attachment_max_bytes: int = 5 * 1024 * 1024
    support_phone_number: str = "+1 800 555 0142"
    support_phone_hours: str = "Mon-Fri 07:00-22:00 UTC, Sat-Sun 09:00-17:00 UTC"
    webhook_backoff_base_s: float = 10.0  # first retry after about this long, doubling each attempt
    webhook_backoff_max_s: float = 3600.0
    webhook_retry_window_s: float = 24 * 3600.0  # then the delivery fails and its endpoint is marked failing
    webhook_timeout_s: float = 10.0
    webhook_poll_s: float = 1.0
    # Reply e-mails (support/notifications/): off unless smtp_url is set; then public_url is needed for the links.
    smtp_url: str | None = None  # smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps:// (TLS)
    mail_from: str = "Helpline <support@localhost>"
    reply_mail_delay_s: float = 600.0  # a reply still unread this long after the last one of its burst is mailed
    mail_poll_s: float = 15.0
    public_url: str | None = None  # where people reach this gateway, e.g. https://support.example.com
    support_tab_url: str | None = None  # the host platform's Support tab; None: the gateway's own /support page
    mail_key: str = ""  # signs unsubscribe links; empty: HELPLINE_SECRET
    drain_s: float = 10.0  # on SIGTERM a gateway tells its clients to move over this long, spread with jitter
    gc_refreeze_s: float = 60.0  # a gateway freezes what became long-lived this often (helpline/collector.py); 0: off
    gc_full_collection_s: float = 3600.0  # and unfreezes everything for one full collection this often

    log_format: str = "text"  # "json": one object a line, for a log collector
    log_level: str | None = None  # None: the command's own default (info; warning for `helpline up`)
    metrics_port: int | None = None  # /metrics on its own port instead of the app's
    metrics_token: str = ""  # when set, /metrics wants `Authorization: Bearer <token>`
    backend_wait_s: float = 10.0  # how long start-up waits for the database and Redis before it gives up
    tracing: bool = False  # OpenTelemetry spans per HTTP request and per commit (helpline/tracing.py)

    @staticmethod
    def environment() -> Mapping[str, str]:
        """The process environment: read here and nowhere else."""
        return os.environ

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, only: Collection[str] | None = None, **overrides: object
    ) -> "Settings":
        """The settings the environment gives, every value checked (SettingsError names the variable); with `only`,
        the other fields keep their defaults and their variables are not read at all."""
        values = read(VARIABLES, os.environ if env is None else env, only)
        if "response_targets_s" in values:
            values["response_targets_s"] = {**DEFAULT_RESPONSE_TARGETS_S, **values["response_targets_s"]}  # type: ignore[dict-item]
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _origin(value: str) -> str:
    return value.strip().rstrip("/")


DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")
BUS_SCHEMES = tuple(
    scheme.removesuffix("://") for scheme in REDIS_SCHEMES
)  # the buses realtime.bus opens  # what realtime.bus.open_bus has a backend for

V = variable
VARIABLES: tuple[Variable, ...] = (
    V("HELPLINE_SECRET", "secret", text(), "HS256 key shared with the host platform", secret=True),
    *KEY_VARIABLES,
    V("HELPLINE_DATABASE_URL", "database_url", url(*DATABASE_SCHEMES), "the ticket database (SQLAlchemy async URL)"),
    V("HELPLINE_REDIS_URL", "redis_url", url(*BUS_SCHEMES), "the Redis bus; unset: in-memory bus, one process"),
    V(
        "HELPLINE_REDIS_MIN_REPLICAS",
        "redis_min_replicas",
        integer(0),
        "a commit is acked only once this many replicas have it (WAIT); 0: as soon as the primary has it",
    ),
    V(
        "HELPLINE_REDIS_WAIT_TIMEOUT_MS",
        "redis_wait_timeout_ms",
        integer(1),
        "how long a commit waits for those replicas before it is answered unavailable",
    ),
    V(
        "HELPLINE_GROUP_WINDOW_MS",
        "group_window_ms",
        number(),
        "without Redis: a busy writer gathers this long of commits into one SQLite transaction; 0: none",
    ),
    V(
        "HELPLINE_ALLOWED_ORIGINS",
        "allowed_origins",
        comma_list(_origin),
        "origins allowed to open /ws and call the API from a browser",
    ),
    V("HOST", "host", text(), "the address the servers listen on"),
    V("PORT", "port", port(), "the gateway's port"),
    V("STATUS_PORT", "status_port", port(), "the status page's port"),
    V("HELPLINE_STATUS_URL", "status_url", text(), "the status page's public URL, for the widget"),
    V("HELPLINE_INCIDENT_POLL_S", "incident_poll_s", positive(), "how often a node looks for resolved incidents"),
    V("HELPLINE_STATUS_CACHE_S", "status_cache_s", number(), "how long a node reuses the active incidents"),
    V("HELPLINE_HEARTBEAT_S", "heartbeat_s", positive(), "the heartbeat interval told to clients"),
    V("HELPLINE_HELLO_TIMEOUT_S", "hello_timeout_s", positive(), "a connection's time to send hello"),
    V("HELPLINE_TYPING_TTL_S", "typing_ttl_s", positive(), "how long a typing signal lasts"),
    V("HELPLINE_PRESENCE_TTL_S", "presence_ttl_s", positive(), "how long presence lasts without a heartbeat"),
    V("HELPLINE_MAX_FRAME_BYTES", "max_frame_bytes", integer(1024), "the largest client frame (bigger: close 1009)"),
    V(
        "HELPLINE_SEND_BUFFER_BYTES",
        "send_buffer_bytes",
        integer(1024),
        "unsent bytes for one client before it is cut off (4409)",
    ),
    V("HELPLINE_FRAME_RATE_PER_S", "frame_rate_per_s", positive(), "client frames per second, sustained"),
    V("HELPLINE_FRAME_BURST", "frame_burst", positive(), "client frames in a burst"),
    V("HELPLINE_HTTP_WRITE_RATE_PER_S", "http_write_rate_per_s", positive(), "API writes per second per user"),
    V("HELPLINE_HTTP_WRITE_BURST", "http_write_burst", positive(), "API writes in a burst per user"),
    V(
        "HELPLINE_ANONYMOUS_WRITE_RATE_PER_S",
        "anonymous_write_rate_per_s",
        positive(),
        "writes without a token per second per client address",
    ),
    V("HELPLINE_ANONYMOUS_WRITE_BURST", "anonymous_write_burst", positive(), "such writes in a burst"),
    V(
        "HELPLINE_CONNECTION_RATE_PER_S",
        "connection_rate_per_s",
        positive(),
        "new WebSocket connections per second per client address",
    ),
    V("HELPLINE_CONNECTION_BURST", "connection_burst", positive(), "new connections in a burst"),
    V(
        "FORWARDED_ALLOW_IPS",
        "forwarded_allow_ips",
        text(),
        "peers whose X-Forwarded-For is believed (the load balancers); `*` for any",
    ),
    V("HELPLINE_MAX_CONNECTIONS_PER_USER", "max_connections_per_user", integer(1), "open connections per user"),
    V("HELPLINE_MAX_CONNECTIONS_PER_IP", "max_connections_per_ip", integer(1), "open connections per address"),
    *(
        V(
            f"HELPLINE_RESPONSE_TARGET_{plan.upper()}_S",
            "response_targets_s",
            integer(1),
            f"first-response target of the {plan} plan, seconds",
            key=plan,
        )
        for plan in DEFAULT_RESPONSE_TARGETS_S
    ),
    V("HELPLINE_BUSINESS_HOURS", "business_hours", text(), 'e.g. "Mon-Fri 09:00-18:00"; empty: targets count 24/7'),
    V("HELPLINE_TIMEZONE", "timezone", text(), "the time zone of the business hours"),
    V("HELPLINE_AUTO_ASSIGN", "auto_assign", boolean(), "new tickets go round-robin to online agents"),
    V(
        "HELPLINE_DEMO_DATA",
        "demo_data",
        boolean(),
        "`helpline up` with a generated secret seeds demo tickets; false starts the demo empty",
    ),
    V("HELPLINE_KEY_PREFIX", "key_prefix", text(), "the prefix of every Redis key"),
    V("HELPLINE_WORKER_METRICS_PORT", "worker_metrics_port", port(), "`helpline worker` serves /metrics here"),
    V(
        "HELPLINE_WORKER_CLAIM_IDLE_S",
        "worker_claim_idle_s",
        positive(),
        "a dead worker's pending entries are claimed after this long",
    ),
    V("HELPLINE_ARTICLES_DIR", "articles_dir", text(), "the help articles' folder; unset: the packaged ones"),
    V("HELPLINE_ARTICLES_POLL_S", "articles_poll_s", positive(), "how often the articles folder is re-read"),
    V(
        "HELPLINE_ARTICLES_SEARCH",
        "articles_search",
        choice("database", "memory"),
        "article search: the database's full text (FTS5, PostgreSQL) or an in-memory index per node",
    ),
    V("HELPLINE_ATTACHMENTS_DIR", "attachments_dir", text(), "where attachments are stored"),
    V(
        "HELPLINE_ATTACHMENTS_URL",
        "attachments_url",
        url("s3", "file"),
        "s3://bucket/prefix (every node shares one bucket) or file:///folder; unset: HELPLINE_ATTACHMENTS_DIR",
    ),
    V(
        "HELPLINE_S3_ENDPOINT_URL",
        "s3_endpoint_url",
        url("https", "http"),
        "an S3-compatible server (MinIO, Ceph, moto); unset: AWS itself",
    ),
    V("HELPLINE_ATTACHMENT_MAX_BYTES", "attachment_max_bytes", integer(1), "the largest attachment"),
    V("HELPLINE_SUPPORT_PHONE", "support_phone_number", text(), "the premium phone line"),
    V("HELPLINE_SUPPORT_PHONE_HOURS", "support_phone_hours", text(), "when the phone line answers"),
    V("HELPLINE_WEBHOOK_BACKOFF_BASE_S", "webhook_backoff_base_s", positive(), "first webhook retry after"),
    V("HELPLINE_WEBHOOK_BACKOFF_MAX_S", "webhook_backoff_max_s", positive(), "the longest wait between retries"),
    V("HELPLINE_WEBHOOK_RETRY_WINDOW_S", "webhook_retry_window_s", positive(), "then a delivery fails"),
    V("HELPLINE_WEBHOOK_TIMEOUT_S", "webhook_timeout_s", positive(), "one webhook request's timeout"),
    V("HELPLINE_WEBHOOK_POLL_S", "webhook_poll_s", positive(), "how often the dispatcher looks for work"),
    V(
        "HELPLINE_SMTP_URL",
        "smtp_url",
        url("smtp", "smtps"),
        "reply e-mails go out through this server (smtp:// with STARTTLS when offered, smtps://); unset: none",
        secret=True,
    ),
    V("HELPLINE_MAIL_FROM", "mail_from", text(), "the From of reply e-mails"),
    V(
        "HELPLINE_REPLY_MAIL_DELAY_S",
        "reply_mail_delay_s",
        number(0),
        "an agent's reply still unread this long after the last of its burst is e-mailed to the customer",
    ),
    V("HELPLINE_MAIL_POLL_S", "mail_poll_s", positive(), "how often the reply e-mails look for quiet replies"),
    V("HELPLINE_PUBLIC_URL", "public_url", url("https", "http"), "this gateway's public URL, for links in e-mails"),
    V(
        "HELPLINE_SUPPORT_TAB_URL",
        "support_tab_url",
        url("https", "http"),
        "the host platform's Support tab, linked from e-mails; unset: the gateway's /support page",
    ),
    V("HELPLINE_MAIL_KEY", "mail_key", text(), "signs unsubscribe links; unset: HELPLINE_SECRET", secret=True),
    V("HELPLINE_DRAIN_S", "drain_s", number(0), "on SIGTERM, clients are told to move over this long (with jitter)"),
    V(
        "HELPLINE_GC_REFREEZE_S",
        "gc_refreeze_s",
        number(0),
        "a gateway freezes what became long-lived this often, out of automatic full collections; 0: never",
    ),
    V(
        "HELPLINE_GC_FULL_COLLECTION_S",
        "gc_full_collection_s",
        positive(),
        "with refreezing on, a gateway unfreezes everything for one full collection this often",
    ),
    V("HELPLINE_LOG_FORMAT", "log_format", choice("text", "json"), "text for a terminal, json for a log collector"),
    V("HELPLINE_LOG_LEVEL", "log_level", choice("debug", "info", "warning", "error"), "the lowest level logged"),
    V("HELPLINE_METRICS_PORT", "metrics_port", port(), "serve /metrics on this port instead of the app's"),
    V("HELPLINE_METRICS_TOKEN", "metrics_token", text(), "/metrics wants this Bearer token", secret=True),
    V(
        "HELPLINE_TRACING",
        "tracing",
        boolean(),
        "OpenTelemetry spans per HTTP request and per commit (the otel extra; OTEL_* configure the export)",
    ),
    V("HELPLINE_BACKEND_WAIT_S", "backend_wait_s", number(0), "start-up waits this long for the database and Redis"),
)
