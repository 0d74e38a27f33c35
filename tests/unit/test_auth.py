"""Identity tokens: what is accepted and what is refused."""

from __future__ import annotations

import time

import jwt
import pytest

from support.core.tokens import TokenError, issue_token, verify_token

SECRET = "s" * 32


def test_a_signed_token_gives_the_identity() -> None:
    who = verify_token(issue_token(SECRET, "u1", "Uma", "pro_plus"), SECRET)
    assert (who.id, who.name, who.role, who.plan) == ("u1", "Uma", "customer", "pro_plus")


@pytest.mark.parametrize("claims", [
    {"sub": "u", "exp": int(time.time()) - 10},                       # expired
    {"sub": "u"},                                                     # no exp
    {"exp": int(time.time()) + 60},                                   # no sub
    {"sub": "u", "exp": int(time.time()) + 60, "plan": "platinum"},   # unknown plan
    {"sub": "u", "exp": int(time.time()) + 60, "role": "root"},       # unknown role
    {"sub": 5, "exp": int(time.time()) + 60},                         # sub not a string
])
def test_tokens_out_of_contract_are_refused(claims: dict) -> None:
    with pytest.raises(TokenError):
        verify_token(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET)


def test_wrong_key_and_alg_none_are_refused() -> None:
    claims = {"sub": "u", "exp": int(time.time()) + 60, "role": "admin"}
    with pytest.raises(TokenError):
        verify_token(jwt.encode(claims, "another-key-entirely-32-bytes-long", algorithm="HS256"), SECRET)
    with pytest.raises(TokenError):
        verify_token(jwt.encode(claims, None, algorithm="none"), SECRET)
