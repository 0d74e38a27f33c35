"""A PyJWT decoder that checks an HMAC secret once, not on every token.

PyJWT's HMAC `prepare_key` runs on every decode and refuses secrets that look like asymmetric keys (PEM, SSH, DER
public keys and certificates, JSON Web Keys): it tries two DER loads through `cryptography` and a `json.loads`. For
the gateway's one shared secret that was 7 µs of a 24 µs token check (timeit; a reconnect storm checks thousands of
tokens at once, issue 18), and the answer never changes. Here each secret gets PyJWT's own checks the first time it is used,
and the prepared bytes are reused after that; signature and claims are still verified by PyJWT on every call.
Imports nothing of the project: the status page shares `support.core.tokens`.
"""

from __future__ import annotations

from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.utils import force_bytes

HS256 = "HS256"
MAX_SECRETS = 8  # the configured secret (a rotation may name a second): never a per-token key


class CheckedOnceHMAC(HMACAlgorithm):
    """HMAC whose key checks run once per secret; a refused secret is refused every time (nothing is kept)."""

    def __init__(self, hash_alg: Any) -> None:
        super().__init__(hash_alg)
        self._prepared: dict[bytes, bytes] = {}

    def prepare_key(self, key: str | bytes) -> bytes:
        key_bytes = force_bytes(key)
        prepared = self._prepared.get(key_bytes)
        if prepared is None:
            prepared = super().prepare_key(key_bytes)  # raises for an empty or asymmetric-looking secret
            if len(self._prepared) < MAX_SECRETS:
                self._prepared[key_bytes] = prepared
        return prepared


def decoder() -> jwt.PyJWT:
    """A PyJWT instance of its own (the module-level `jwt.decode` is left as it is), HS256 on `CheckedOnceHMAC`.

    PyJWT keeps its signature layer as `PyJWT._jws` (2.x) and offers no public way to give a PyJWT instance other
    algorithms; without that attribute this is a plain PyJWT, which is slower and just as correct."""
    instance = jwt.PyJWT()
    jws = getattr(instance, "_jws", None)
    if isinstance(jws, jwt.PyJWS):
        jws.unregister_algorithm(HS256)
        jws.register_algorithm(HS256, CheckedOnceHMAC(HMACAlgorithm.SHA256))
    return instance
