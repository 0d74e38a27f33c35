"""The identity provider's signing keys, read from its JWKS URL: cached, fetched again on an unknown `kid`.

Fetched with httpx's async client, so a slow or dead provider never blocks the event loop, and at most once per
`min_refresh_s`, so tokens naming made-up kids cannot make us hammer the provider. Imports nothing of the project:
the status page shares it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any, Collection

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

log = logging.getLogger("helpline.jwks")
MIN_RSA_BITS = 2048


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

    def __init__(self, url: str, *, algorithms: Collection[str], timeout_s: float, max_age_s: float,
                 min_refresh_s: float) -> None:
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
