"""The status page's own settings, read from the environment once: it shares no settings object with the gateway.

The variable names are the ones `helpline statuspage` always read (HELPLINE_STATUS_*, HOST, PORT, STATUS_PORT);
reading them, and the one-line errors, are support/core/environment.py, the same as the gateway's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from support.core.environment import (
    Variable,
    boolean,
    comma_list,
    integer,
    port,
    positive,
    read,
    text,
    url,
    variable,
)
from support.core.tokens import KEY_VARIABLES

GATEWAY_PORT = 8000  # the local gateway probed by default, when PORT does not say otherwise


@dataclass(frozen=True)
class StatusSettings:
    secret: str = ""  # admin tokens are HS256 JWTs signed with the same secret as the gateway's
    status_database_url: str = "sqlite+aiosqlite:///./status.db"
    status_components_file: str | None = None  # None: the packaged statuspage/components.toml
    status_probe_urls: tuple[str, ...] = ("http://127.0.0.1:8000/readyz",)
    status_probe_interval_s: float = 10.0
    host: str = "127.0.0.1"
    status_port: int = 8001
    # Admin tokens are checked with the gateway's keys and rules (support/core/tokens.py TokenVerifier.from_settings).
    jwt_public_key: str | None = None  # PEM text, or the path of a PEM file
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()
    jwt_algorithms: tuple[str, ...] = ()
    jwks_timeout_s: float = 5.0
    jwks_cache_s: float = 300.0
    jwks_min_refresh_s: float = 5.0
    metrics_token: str = ""  # when set, /metrics wants `Authorization: Bearer <token>`
    # Subscriptions (e-mail and webhook status updates) are off unless an SMTP server is named.
    status_smtp_host: str = ""
    status_smtp_port: int = 25
    status_smtp_user: str = ""
    status_smtp_password: str = ""
    status_smtp_starttls: bool = False
    status_mail_from: str = "status@localhost"
    status_subscription_secret: str = ""  # signs confirm/unsubscribe links; unset: derived from HELPLINE_SECRET
    status_webhook_private_ok: bool = False  # webhooks to loopback/private addresses (tests, internal networks)
    # POST /api/subscriptions sends a confirmation to whatever target it names: budgets per hour (statuspage/rate_limits.py)
    status_subscribe_ip_per_hour: int = 20  # per client address
    status_subscribe_target_per_hour: int = 3  # per e-mail address or webhook URL

    @property
    def subscriptions_on(self) -> bool:
        return bool(self.status_smtp_host and (self.status_subscription_secret or self.secret))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "StatusSettings":
        env = os.environ if env is None else env
        values = read(VARIABLES, env)
        gateway_port = values.pop("gateway_port", GATEWAY_PORT)
        if "status_probe_urls" not in values:
            values["status_probe_urls"] = _local_gateway(str(values.get("host", cls.host)), int(gateway_port))  # type: ignore[call-overload]
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _local_gateway(host: str, gateway_port: int) -> tuple[str, ...]:
    """By default the status page probes the local gateway from HOST/PORT."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"  # a wildcard bind address is not something one can connect to
    if ":" in host:
        host = f"[{host}]"
    return (f"http://{host}:{gateway_port}/readyz",)


V = variable
VARIABLES: tuple[Variable, ...] = (
    V("HELPLINE_SECRET", "secret", text(), "HS256 key the admin tokens are signed with", secret=True),
    V(
        "HELPLINE_STATUS_DATABASE_URL",
        "status_database_url",
        url("sqlite+aiosqlite", "postgresql+asyncpg"),
        "the status page's own store",
    ),
    V("HELPLINE_STATUS_COMPONENTS", "status_components_file", text(), "a components TOML file; unset: packaged"),
    V("HELPLINE_STATUS_PROBE_URLS", "status_probe_urls", comma_list(), "gateway /readyz URLs probed"),
    V("HELPLINE_STATUS_PROBE_INTERVAL_S", "status_probe_interval_s", positive(), "seconds between probes"),
    V("HOST", "host", text(), "the address the servers listen on"),
    V("PORT", "gateway_port", port(), "the gateway's port (the default probe URL)"),
    V("STATUS_PORT", "status_port", port(), "the status page's port"),
    V("HELPLINE_METRICS_TOKEN", "metrics_token", text(), "/metrics wants this Bearer token", secret=True),
    V(
        "HELPLINE_STATUS_SMTP_HOST",
        "status_smtp_host",
        text(),
        "SMTP server for status e-mails; unset: subscriptions off",
    ),
    V("HELPLINE_STATUS_SMTP_PORT", "status_smtp_port", port(), "the SMTP server's port"),
    V("HELPLINE_STATUS_SMTP_USER", "status_smtp_user", text(), "SMTP login (unset: none)"),
    V("HELPLINE_STATUS_SMTP_PASSWORD", "status_smtp_password", text(), "SMTP password", secret=True),
    V("HELPLINE_STATUS_SMTP_STARTTLS", "status_smtp_starttls", boolean(), "STARTTLS before logging in"),
    V("HELPLINE_STATUS_MAIL_FROM", "status_mail_from", text(), "From: of status e-mails"),
    V(
        "HELPLINE_STATUS_SUBSCRIPTION_SECRET",
        "status_subscription_secret",
        text(),
        "signs confirm/unsubscribe links; unset: derived from HELPLINE_SECRET",
        secret=True,
    ),
    V(
        "HELPLINE_STATUS_WEBHOOK_PRIVATE_OK",
        "status_webhook_private_ok",
        boolean(),
        "allow webhooks to loopback/private addresses",
    ),
    V(
        "HELPLINE_STATUS_SUBSCRIBE_IP_PER_HOUR",
        "status_subscribe_ip_per_hour",
        integer(1, 1_000_000),
        "subscription requests per client address per hour (then 429)",
    ),
    V(
        "HELPLINE_STATUS_SUBSCRIBE_TARGET_PER_HOUR",
        "status_subscribe_target_per_hour",
        integer(1, 1_000_000),
        "subscription requests per e-mail address or webhook URL per hour (then 429)",
    ),
    *KEY_VARIABLES,
)
