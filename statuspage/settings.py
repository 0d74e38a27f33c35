"""The status page's own settings, read from the environment once: it shares no settings object with the gateway.

The variable names are the ones `helpline statuspage` always read (HELPLINE_STATUS_*, HOST, PORT, STATUS_PORT).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "StatusSettings":
        env = os.environ if env is None else env
        values: dict[str, object] = dict(
            secret=env.get("HELPLINE_SECRET", ""),
            status_database_url=env.get("HELPLINE_STATUS_DATABASE_URL", cls.status_database_url),
            status_components_file=env.get("HELPLINE_STATUS_COMPONENTS") or None,
            status_probe_urls=_probe_urls(env),
            status_probe_interval_s=float(env.get("HELPLINE_STATUS_PROBE_INTERVAL_S", cls.status_probe_interval_s)),
            host=env.get("HOST", cls.host),
            status_port=int(env.get("STATUS_PORT", cls.status_port)),
            jwt_public_key=env.get("HELPLINE_JWT_PUBLIC_KEY") or None,
            jwks_url=env.get("HELPLINE_JWKS_URL") or None,
            jwt_issuer=env.get("HELPLINE_JWT_ISSUER") or None,
            jwt_audience=_names(env.get("HELPLINE_JWT_AUDIENCE", "")),
            jwt_algorithms=tuple(a.upper() for a in _names(env.get("HELPLINE_JWT_ALGORITHMS", ""))),
            jwks_timeout_s=float(env.get("HELPLINE_JWKS_TIMEOUT_S", cls.jwks_timeout_s)),
            jwks_cache_s=float(env.get("HELPLINE_JWKS_CACHE_S", cls.jwks_cache_s)),
            jwks_min_refresh_s=float(env.get("HELPLINE_JWKS_MIN_REFRESH_S", cls.jwks_min_refresh_s)),
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _names(raw: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in raw.split(",") if n.strip())


def _probe_urls(env: Mapping[str, str]) -> tuple[str, ...]:
    """The gateway readiness URLs the status page probes; by default the local gateway from HOST/PORT."""
    raw = env.get("HELPLINE_STATUS_PROBE_URLS", "")
    urls = tuple(u.strip() for u in raw.split(",") if u.strip())
    if urls:
        return urls
    host = env.get("HOST", StatusSettings.host)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"  # a wildcard bind address is not something one can connect to
    if ":" in host:
        host = f"[{host}]"
    return (f"http://{host}:{int(env.get('PORT', GATEWAY_PORT))}/readyz",)
