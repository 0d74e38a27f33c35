"""Identity tokens: JWTs signed by the host platform (HS256 with the shared secret) or by its identity provider
(RS256/ES256 with a configured public key or JWKS URL), checked with PyJWT.

The key decides the algorithm, never the token's header alone. Plan and role come from the token only, never from
a request body. Provider keys are fetched asynchronously, never blocking the event loop. Imports nothing of the
project: the status page shares this module.
"""

from __future__ import annotations

import asyncio
import binascii
import functools
import json
import logging
import math
import re
import time
from pathlib import Path
from typing import Any, Collection, Protocol

import httpx
import jwt
import msgspec
from jwt.utils import base64url_decode
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from support.core.jwt_decoder import decoder
from support.core.environment import Variable, comma_list, number, positive, text, url, variable

log = logging.getLogger("helpline.auth")
PLANS = ("free", "pro", "pro_plus", "premium")
ROLES = ("customer", "agent", "admin")
SHARED_SECRET_ALGORITHM = "HS256"
PUBLIC_KEY_ALGORITHMS = ("RS256", "ES256")
MIN_RSA_BITS = 2048
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,4}$")


class Identity(msgspec.Struct, frozen=True):
    id: str
    name: str
    role: str
    plan: str
    locale: str | None = None  # e.g. "en", "vi": the viewer's language, first in support.core.i18n.negotiate
    email: str | None = None  # where reply notices may go: carried, not used yet

    @property
    def is_staff(self) -> bool:
        return self.role in ("agent", "admin")

    def public(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role}


class TokenError(Exception):
    """The token is refused: bad signature, expired, or claims out of the contract."""


# The variables of KeySettings, declared once for both settings objects (support/core/settings.py and
# statuspage/settings.py): the gateway and the status page check tokens by the same rules.
V = variable
KEY_VARIABLES: tuple[Variable, ...] = (
    V("HELPLINE_JWT_PUBLIC_KEY", "jwt_public_key", text(), "PEM text or file of the identity provider's key"),
    V("HELPLINE_JWKS_URL", "jwks_url", url("https", "http"), "the identity provider's key set"),
    V("HELPLINE_JWT_ISSUER", "jwt_issuer", text(), "every token must carry this `iss`"),
    V("HELPLINE_JWT_AUDIENCE", "jwt_audience", comma_list(), "every token's `aud` must name one of these"),
    V(
        "HELPLINE_JWT_ALGORITHMS",
        "jwt_algorithms",
        comma_list(lambda a: a.strip().upper()),
        "the token algorithms accepted; unset: HS256 with a secret, RS256/ES256 with a key",
    ),
    V("HELPLINE_JWKS_TIMEOUT_S", "jwks_timeout_s", positive(), "one key set fetch's timeout"),
    V("HELPLINE_JWKS_CACHE_S", "jwks_cache_s", positive(), "the key set is fetched again when older"),
    V("HELPLINE_JWKS_MIN_REFRESH_S", "jwks_min_refresh_s", number(0), "an unknown kid refetches at most this often"),
)


class KeySettings(Protocol):
    """What a verifier is built from: the gateway's settings and the status page's both carry it (read only)."""

    @property
    def secret(self) -> str: ...

    @property
    def jwt_public_key(self) -> str | None: ...

    @property
    def jwks_url(self) -> str | None: ...

    @property
    def jwt_issuer(self) -> str | None: ...

    @property
    def jwt_audience(self) -> tuple[str, ...]: ...

    @property
    def jwt_algorithms(self) -> tuple[str, ...]: ...

    @property
    def jwks_timeout_s(self) -> float: ...

    @property
    def jwks_cache_s(self) -> float: ...

    @property
    def jwks_min_refresh_s(self) -> float: ...


class TokenVerifier:
    """Checks tokens against every key the configuration names.

    HS256 tokens are checked with the shared secret only; RS256 and ES256 tokens with the provider's key for their
    `kid` (from the JWKS URL) or with the configured public key, and only with the algorithm that key's type allows,
    so an HS256 token "signed" with the public key, or `alg: none`, is refused. `iss` and `aud`, when configured,
    are required of every token."""

    def __init__(
        self,
        *,
        secret: str = "",
        public_key: str | None = None,
        jwks: ProviderKeys | None = None,
        algorithms: Collection[str] = (),
        issuer: str | None = None,
        audience: Collection[str] = (),
    ) -> None:
        self._secret = secret
        loaded: tuple[Any, str | None] = _load_public_key(public_key) if public_key else (None, None)
        self._public_key, self._public_key_algorithm = loaded
        self._jwks = jwks
        self.algorithms = frozenset(algorithms) or default_algorithms(bool(secret), bool(public_key or jwks))
        unknown = self.algorithms - {SHARED_SECRET_ALGORITHM, *PUBLIC_KEY_ALGORITHMS}
        if unknown:
            raise ValueError(
                f"HELPLINE_JWT_ALGORITHMS: {', '.join(sorted(unknown))} not accepted (HS256, RS256, ES256)"
            )
        self._issuer = issuer
        self._audience = list(audience) or None
        self._required = ["exp", "sub", *(["iss"] if issuer else []), *(["aud"] if audience else [])]
        self._decoder = decoder()  # the shared secret is checked for asymmetric look-alikes once, not per token

    @classmethod
    def from_settings(cls, settings: KeySettings) -> "TokenVerifier":
        algorithms = settings.jwt_algorithms or default_algorithms(
            bool(settings.secret), bool(settings.jwt_public_key or settings.jwks_url)
        )
        jwks = (
            ProviderKeys(
                settings.jwks_url,
                algorithms=set(algorithms) & set(PUBLIC_KEY_ALGORITHMS),
                timeout_s=settings.jwks_timeout_s,
                max_age_s=settings.jwks_cache_s,
                min_refresh_s=settings.jwks_min_refresh_s,
            )
            if settings.jwks_url
            else None
        )
        return cls(
            secret=settings.secret,
            public_key=settings.jwt_public_key,
            jwks=jwks,
            algorithms=algorithms,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )

    async def verify(self, token: str) -> Identity:
        algorithm, kid = _header(token)
        key = await self._key_for(algorithm, kid)
        try:
            claims = self._decoder.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": self._required},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from None
        return identity_from_claims(claims)

    async def close(self) -> None:
        if self._jwks is not None:
            await self._jwks.close()

    async def _key_for(self, algorithm: str, kid: str | None) -> Any:
        if algorithm not in self.algorithms:
            raise TokenError(f"algorithm {algorithm!r} is not accepted")
        if algorithm == SHARED_SECRET_ALGORITHM:
            if not self._secret:
                raise TokenError("no shared secret is configured")
            return self._secret
        if self._jwks is not None and (kid is not None or self._public_key is None):
            try:
                jwk = await self._jwks.signing_key(kid)
            except KeyNotFound as exc:
                raise TokenError(str(exc)) from None
            if jwk.algorithm_name != algorithm:
                raise TokenError(f"key {kid!r} does not sign with {algorithm}")
            return jwk.key
        if self._public_key is not None and self._public_key_algorithm == algorithm:
            return self._public_key
        raise TokenError(f"no key is configured for {algorithm}")


# -- the identity provider's keys: its JWKS, cached, fetched again on an unknown kid, at most once per min_refresh_s --
class KeyNotFound(Exception):
    """No usable key for this kid: the set does not hold it, or the set could not be fetched."""


def key_algorithm(key: object) -> str | None:
    """The one algorithm a public key may verify: RS256 for RSA, ES256 for P-256; None for anything else."""
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    return None


class ProviderKeys:
    """The keys of one JWKS URL. `signing_key(kid)` answers from the cache while it is fresh; an unknown kid or an
    old cache fetches the set again (one fetch at a time; concurrent callers wait for it). When the provider cannot
    be reached, the keys already held stay in use and unknown kids are refused."""

    def __init__(
        self, url: str, *, algorithms: Collection[str], timeout_s: float, max_age_s: float, min_refresh_s: float
    ) -> None:
        try:
            scheme = httpx.URL(url).scheme
        except httpx.InvalidURL:
            scheme = ""
        if scheme not in ("http", "https"):
            raise ValueError(f"HELPLINE_JWKS_URL must be an http(s) URL, not {url!r}")
        self.url = url
        self._algorithms = frozenset(algorithms)
        self._timeout_s = timeout_s
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = -math.inf  # monotonic time of the last fetch that gave a key set
        self._tried_at = -math.inf  # of the last attempt, whatever came of it
        self._lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None

    async def signing_key(self, kid: str | None) -> jwt.PyJWK:
        key = self._lookup(kid)
        if key is not None and not self._old():
            return key
        async with self._lock:
            key = self._lookup(kid)
            if (key is None or self._old()) and time.monotonic() - self._tried_at >= self._min_refresh_s:
                await self._fetch()
                key = self._lookup(kid)
        if key is None:
            raise KeyNotFound(f"the identity provider's key set has no usable key {kid!r}")
        return key

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:  # a token without kid is fine while the set has one key
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    def _old(self) -> bool:
        return time.monotonic() - self._fetched_at > self._max_age_s

    async def _fetch(self) -> None:
        previous, self._tried_at = self._tried_at, time.monotonic()
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False)
        try:
            async with asyncio.timeout(self._timeout_s):  # the whole fetch, however slowly the bytes trickle in
                response = await self._client.get(self.url, headers={"accept": "application/json"})
            response.raise_for_status()
            keys = self._usable_keys(response.json())
        except asyncio.CancelledError:
            self._tried_at = previous  # the caller went away; the next one may try at once
            raise
        except (httpx.HTTPError, TimeoutError, ValueError) as exc:
            self._tried_at = time.monotonic()  # the next attempt waits min_refresh_s from the end of this one
            log.warning("identity provider keys not fetched from %s: %s", self.url, exc or type(exc).__name__)
            return
        self._keys, self._fetched_at = keys, time.monotonic()
        log.info("identity provider keys fetched from %s: %s", self.url, sorted(map(str, keys)))

    def _usable_keys(self, document: Any) -> dict[str | None, jwt.PyJWK]:
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWK set (no keys list)")
        keys: dict[str | None, jwt.PyJWK] = {}
        for data in document["keys"]:
            if not isinstance(data, dict) or data.get("use", "sig") != "sig":
                continue
            try:
                jwk = jwt.PyJWK(data)
            except (jwt.PyJWTError, KeyError, TypeError, ValueError):
                continue  # a key we cannot read or do not support is skipped, as PyJWKSet does
            # Only the algorithms configured, and only the one each key's type allows: an "oct" key (HMAC)
            # published by mistake, or an RSA key labelled ES256, never verifies anything.
            if jwk.algorithm_name in self._algorithms and key_algorithm(jwk.key) == jwk.algorithm_name:
                keys[jwk.key_id] = jwk
        return keys


def default_algorithms(has_secret: bool, has_public_keys: bool) -> frozenset[str]:
    return frozenset(
        ([SHARED_SECRET_ALGORITHM] if has_secret else []) + (list(PUBLIC_KEY_ALGORITHMS) if has_public_keys else [])
    )


def _load_public_key(pem_or_path: str) -> tuple[Any, str]:
    """HELPLINE_JWT_PUBLIC_KEY is the PEM itself or the path of a PEM file; a key we cannot use stops start-up."""
    text = pem_or_path if pem_or_path.lstrip().startswith("-----BEGIN") else Path(pem_or_path).read_text()
    text = text.replace("\\n", "\n")  # PEM in one line of an env file, newlines written as \n
    try:
        key = load_pem_public_key(text.strip().encode())
    except ValueError as exc:
        raise ValueError(f"HELPLINE_JWT_PUBLIC_KEY is not a PEM public key: {exc}") from None
    algorithm = key_algorithm(key)
    if algorithm is None:
        raise ValueError("HELPLINE_JWT_PUBLIC_KEY must be an RSA key of 2048 bits or more, or an EC P-256 key")
    return key, algorithm


def _header(token: str) -> tuple[str, str | None]:
    """The header's alg and kid, to pick the key; jwt.decode then checks the whole token, header included.

    Only the first segment is decoded here: PyJWT's get_unverified_header decodes all three, and a reconnect storm
    verifies thousands of tokens at once (it was a third of the hello's cost)."""
    head, dot, _ = token.partition(".")
    if not dot:
        raise TokenError("Invalid header: not enough segments")
    return _known_header(head) if len(head) <= HEADER_CACHED_UP_TO else _decode_header(head)


def _decode_header(head: str) -> tuple[str, str | None]:
    try:
        header = json.loads(base64url_decode(head))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise TokenError(f"Invalid header: {exc}") from None
    if not isinstance(header, dict):
        raise TokenError("Invalid header: not a JSON object")
    algorithm, kid = header.get("alg"), header.get("kid")
    if not isinstance(algorithm, str) or (kid is not None and not isinstance(kid, str)):
        raise TokenError("alg must be a string, kid a string when present")
    return algorithm, kid


# An issuer signs every token with the same header (alg, typ, kid): decoded once, not at every hello. Only headers
# that parse are kept (lru_cache keeps no exception), of a header's usual size (so 64 entries stay small), and
# jwt.decode still checks the whole token, its header included.
HEADER_CACHED_UP_TO = 512
_known_header = functools.lru_cache(maxsize=64)(_decode_header)


def _optional_text(claims: dict[str, Any], name: str, limit: int) -> str | None:
    value = claims.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > limit or "\x00" in value):
        raise TokenError(f"{name} must be a string")
    return value or None


def identity_from_claims(claims: dict[str, Any]) -> Identity:
    sub = claims.get("sub")
    role, plan = claims.get("role", "customer"), claims.get("plan", "free")
    if not isinstance(sub, str) or not sub or len(sub) > 128 or "\x00" in sub:
        raise TokenError("sub must be a non-empty string")
    if role not in ROLES:
        raise TokenError("unknown role")
    if plan not in PLANS:
        raise TokenError("unknown plan")
    name = _optional_text(claims, "name", 200)
    locale = _optional_text(claims, "locale", 35)
    if locale is not None and not _LOCALE.match(locale):
        raise TokenError("locale must be a language tag such as en or vi")
    email = _optional_text(claims, "email", 254)
    if email is not None and (email.count("@") != 1 or any(c.isspace() for c in email)):
        raise TokenError("email must be an address")
    return Identity(id=sub, name=name or sub, role=role, plan=plan, locale=locale, email=email)


def issue_token(
    secret: str,
    sub: str,
    name: str | None = None,
    plan: str = "free",
    role: str = "customer",
    ttl_s: int = 3600,
    *,
    issuer: str | None = None,
    audience: str | None = None,
    locale: str | None = None,
) -> str:
    """An HS256 token for development and tests (`helpline token`); production tokens come from the platform."""
    if plan not in PLANS or role not in ROLES:
        raise ValueError("unknown plan or role")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "name": name or sub,
        "plan": plan,
        "role": role,
        "iat": now,
        "exp": now + ttl_s,
    }
    if issuer:
        claims["iss"] = issuer
    if locale:
        claims["locale"] = locale
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm=SHARED_SECRET_ALGORITHM)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
