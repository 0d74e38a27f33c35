"""Signed unsubscribe links: the token names the user and carries an HMAC, so nobody unsubscribes somebody else."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

PURPOSE = b"helpline.unsubscribe.v1:"


def _mac(key: str, user_id: str) -> str:
    digest = hmac.new(key.encode(), PURPOSE + user_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def unsubscribe_token(key: str, user_id: str) -> str:
    encoded = base64.urlsafe_b64encode(user_id.encode()).decode().rstrip("=")
    return f"{encoded}.{_mac(key, user_id)}"


def user_of_token(key: str, token: str) -> str | None:
    """The user a token was signed for, or None when it is malformed or its signature does not match."""
    encoded, _, mac = token.partition(".")
    if not encoded or not mac or len(token) > 600:
        return None
    try:
        user_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except ValueError:
        return None
    return user_id if hmac.compare_digest(mac, _mac(key, user_id)) else None


def unsubscribe_url(public_url: str, key: str, user_id: str) -> str:
    return f"{public_url.rstrip('/')}/api/email/unsubscribe?{urlencode({'token': unsubscribe_token(key, user_id)})}"
