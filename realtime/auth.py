"""Identity tokens: JWTs signed by the host platform (HS256 with the shared secret) or by its identity provider
(RS256/ES256 with a configured public key or JWKS URL), checked with PyJWT.

The key decides the algorithm, never the token's header alone. Plan and role come from the token only, never from
a request body. Imports nothing of the project but realtime.jwks: the status page shares it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Collection

import jwt
import msgspec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from realtime.jwks import KeyNotFound, ProviderKeys, key_algorithm

if TYPE_CHECKING:
    from realtime.settings import Settings

PLANS = ("free", "pro", "pro_plus", "premium")
ROLES = ("customer", "agent", "admin")
SHARED_SECRET_ALGORITHM = "HS256"
PUBLIC_KEY_ALGORITHMS = ("RS256", "ES256")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,4}$")


class Identity(msgspec.Struct, frozen=True):
    id: str
    name: str
    role: str
    plan: str
    locale: str | None = None  # e.g. "en", "vi": carried for the notices to come, not used yet
    email: str | None = None  # where reply notices may go: carried, not used yet

    @property
    def is_staff(self) -> bool:
        return self.role in ("agent", "admin")

    def public(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role}


class TokenError(Exception):
    """The token is refused: bad signature, expired, or claims out of the contract."""


class TokenVerifier:
    """Checks tokens against every key the configuration names.

    HS256 tokens are checked with the shared secret only; RS256 and ES256 tokens with the provider's key for their
    `kid` (from the JWKS URL) or with the configured public key, and only with the algorithm that key's type allows,
    so an HS256 token "signed" with the public key, or `alg: none`, is refused. `iss` and `aud`, when configured,
    are required of every token."""

    def __init__(self, *, secret: str = "", public_key: str | None = None, jwks: ProviderKeys | None = None,
                 algorithms: Collection[str] = (), issuer: str | None = None,
                 audience: Collection[str] = ()) -> None:
        self._secret = secret
        self._public_key, self._public_key_algorithm = _load_public_key(public_key) if public_key else (None, None)
        self._jwks = jwks
        self.algorithms = frozenset(algorithms) or default_algorithms(bool(secret), bool(public_key or jwks))
        unknown = self.algorithms - {SHARED_SECRET_ALGORITHM, *PUBLIC_KEY_ALGORITHMS}
        if unknown:
            raise ValueError(f"HELPLINE_JWT_ALGORITHMS: {', '.join(sorted(unknown))} not accepted "
                             f"(HS256, RS256, ES256)")
        self._issuer = issuer
        self._audience = list(audience) or None
        self._required = ["exp", "sub", *(["iss"] if issuer else []), *(["aud"] if audience else [])]

    @classmethod
    def from_settings(cls, settings: "Settings") -> "TokenVerifier":
        algorithms = settings.jwt_algorithms or default_algorithms(
            bool(settings.secret), bool(settings.jwt_public_key or settings.jwks_url))
        jwks = ProviderKeys(settings.jwks_url, algorithms=set(algorithms) & set(PUBLIC_KEY_ALGORITHMS),
                            timeout_s=settings.jwks_timeout_s, max_age_s=settings.jwks_cache_s,
                            min_refresh_s=settings.jwks_min_refresh_s) if settings.jwks_url else None
        return cls(secret=settings.secret, public_key=settings.jwt_public_key, jwks=jwks, algorithms=algorithms,
                   issuer=settings.jwt_issuer, audience=settings.jwt_audience)

    async def verify(self, token: str) -> Identity:
        algorithm, kid = _header(token)
        key = await self._key_for(algorithm, kid)
        try:
            claims = jwt.decode(token, key, algorithms=[algorithm], issuer=self._issuer, audience=self._audience,
                                options={"require": self._required})
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


def default_algorithms(has_secret: bool, has_public_keys: bool) -> frozenset[str]:
    return frozenset(([SHARED_SECRET_ALGORITHM] if has_secret else []) +
                     (list(PUBLIC_KEY_ALGORITHMS) if has_public_keys else []))


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
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if not isinstance(algorithm, str) or (kid is not None and not isinstance(kid, str)):
        raise TokenError("alg must be a string, kid a string when present")
    return algorithm, kid


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


def issue_token(secret: str, sub: str, name: str | None = None, plan: str = "free",
                role: str = "customer", ttl_s: int = 3600, *, issuer: str | None = None,
                audience: str | None = None) -> str:
    """An HS256 token for development and tests (`helpline token`); production tokens come from the platform."""
    if plan not in PLANS or role not in ROLES:
        raise ValueError("unknown plan or role")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": sub, "name": name or sub, "plan": plan, "role": role, "iat": now,
                              "exp": now + ttl_s}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm=SHARED_SECRET_ALGORITHM)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
