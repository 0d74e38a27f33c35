"""Identity tokens: HS256 JWTs signed by the host platform, checked with PyJWT.

Plan and role come from the token only, never from a request body.
"""

from __future__ import annotations

import time

import jwt
import msgspec

PLANS = ("free", "pro", "pro_plus", "premium")
ROLES = ("customer", "agent", "admin")


class Identity(msgspec.Struct, frozen=True):
    id: str
    name: str
    role: str
    plan: str

    @property
    def is_staff(self) -> bool:
        return self.role in ("agent", "admin")

    def public(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role}


class TokenError(Exception):
    """The token is refused: bad signature, expired, or claims out of the contract."""


def verify_token(token: str, secret: str) -> Identity:
    if not secret:
        raise TokenError("server has no secret")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from None
    sub, name = claims.get("sub"), claims.get("name")
    role, plan = claims.get("role", "customer"), claims.get("plan", "free")
    if not isinstance(sub, str) or not sub or len(sub) > 128 or "\x00" in sub:
        raise TokenError("sub must be a non-empty string")
    if role not in ROLES:
        raise TokenError("unknown role")
    if plan not in PLANS:
        raise TokenError("unknown plan")
    if name is not None and (not isinstance(name, str) or len(name) > 200 or "\x00" in name):
        raise TokenError("name must be a string")
    return Identity(id=sub, name=name or sub, role=role, plan=plan)


def issue_token(secret: str, sub: str, name: str | None = None, plan: str = "free",
                role: str = "customer", ttl_s: int = 3600) -> str:
    if plan not in PLANS or role not in ROLES:
        raise ValueError("unknown plan or role")
    now = int(time.time())
    claims = {"sub": sub, "name": name or sub, "plan": plan, "role": role, "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, secret, algorithm="HS256")


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
