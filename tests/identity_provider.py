"""A real identity provider for tests: RSA and EC signing keys, and their JWKS document served over HTTP on a
free loopback port from a thread of the test process (it can also stall or go away, as providers do)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.services import free_port

ISSUER = "https://id.platform.example/"
AUDIENCE = "helpline"


class SigningKey:
    """One of the provider's private keys, its kid, and what it publishes of it."""

    def __init__(self, kid: str, algorithm: str) -> None:
        self.kid, self.algorithm = kid, algorithm
        self.private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if algorithm == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        public = self.private.public_key()
        self.public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        to_jwk = jwt.algorithms.RSAAlgorithm.to_jwk if algorithm == "RS256" else jwt.algorithms.ECAlgorithm.to_jwk
        self.jwk: dict[str, Any] = {**to_jwk(public, as_dict=True), "kid": kid, "use": "sig", "alg": algorithm}

    def sign(self, sub: str, *, kid: str | None = "", algorithm: str | None = None, **claims: Any) -> str:
        """A token for `sub` with the provider's iss and aud unless `claims` override them (None drops one)."""
        body = {
            "sub": sub,
            "name": sub.title(),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "exp": int(time.time()) + 600,
            **claims,
        }
        headers = {} if kid is None else {"kid": kid or self.kid}
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            self.private,
            algorithm=algorithm or self.algorithm,
            headers=headers,
        )


def hs256_with_public_key(key: SigningKey, sub: str, role: str = "admin") -> str:
    """The algorithm-confusion forgery: an HS256 token whose HMAC key is the provider's public key (PEM), which
    anyone can download. PyJWT refuses to make one, so it is assembled by hand."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = (
        part({"alg": "HS256", "typ": "JWT", "kid": key.kid})
        + "."
        + part({"sub": sub, "role": role, "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600})
    )
    mac = hmac.new(key.public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def unsigned(sub: str, role: str = "admin") -> str:
    return jwt.encode(
        {"sub": sub, "role": role, "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600},
        None,
        algorithm="none",
    )


class JwksServer:
    """Serves {"keys": [...]} at /jwks.json; `publish` swaps the keys (rotation), `stall` makes every request hang
    until `unstall`, `stop` closes the port. `fetches` counts the requests it got."""

    def __init__(self, *keys: SigningKey) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/jwks.json"
        self.fetches = 0
        self._document = b""
        self._released = threading.Event()
        self._released.set()
        self.publish(*keys)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.fetches += 1
                server._released.wait(60)
                body = server._document if self.path == "/jwks.json" else b"{}"
                self.send_response(200 if self.path == "/jwks.json" else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def publish(self, *keys: SigningKey) -> None:
        self.publish_document({"keys": [k.jwk for k in keys]})

    def publish_document(self, document: object) -> None:
        self._document = json.dumps(document).encode()

    def stall(self) -> None:
        self._released.clear()

    def unstall(self) -> None:
        self._released.set()

    def stop(self) -> None:
        self.unstall()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)
