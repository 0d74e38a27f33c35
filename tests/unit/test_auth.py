"""Identity tokens: what is accepted and what is refused, with the shared secret, a configured public key and a JWKS
served by a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator, Iterator

import jwt
import pytest

from support.core.tokens import Identity, KeyNotFound, ProviderKeys, TokenError, TokenVerifier, issue_token
from support.core.settings import Settings
from tests.identity_provider import AUDIENCE, ISSUER, JwksServer, SigningKey, hs256_with_public_key, unsigned

SECRET = "s" * 32
RSA_A, RSA_B, EC_E, STRANGER = (
    SigningKey("A", "RS256"),
    SigningKey("B", "RS256"),
    SigningKey("E", "ES256"),
    SigningKey("A", "RS256"),
)  # STRANGER reuses kid A with a key the provider never had


async def verify(token: str, secret: str = SECRET) -> Identity:
    return await TokenVerifier(secret=secret).verify(token)


async def test_a_signed_token_gives_the_identity() -> None:
    who = await verify(issue_token(SECRET, "u1", "Uma", "pro_plus"))
    assert (who.id, who.name, who.role, who.plan) == ("u1", "Uma", "customer", "pro_plus")
    assert (who.locale, who.email) == (None, None)


async def test_locale_and_email_are_carried_into_the_identity() -> None:
    claims = {"sub": "u", "exp": int(time.time()) + 60, "locale": "vi", "email": "lan@example.com"}
    who = await verify(jwt.encode(claims, SECRET, algorithm="HS256"))
    assert (who.locale, who.email) == ("vi", "lan@example.com")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "u", "exp": int(time.time()) - 10},  # expired
        {"sub": "u"},  # no exp
        {"exp": int(time.time()) + 60},  # no sub
        {"sub": "u", "exp": int(time.time()) + 60, "plan": "platinum"},  # unknown plan
        {"sub": "u", "exp": int(time.time()) + 60, "role": "root"},  # unknown role
        {"sub": 5, "exp": int(time.time()) + 60},  # sub not a string
        {"sub": "u", "exp": int(time.time()) + 60, "locale": 7},  # locale not a string
        {"sub": "u", "exp": int(time.time()) + 60, "locale": "<script>"},  # locale not a language tag
        {"sub": "u", "exp": int(time.time()) + 60, "email": "no at sign"},
    ],
)
async def test_tokens_out_of_contract_are_refused(claims: dict) -> None:
    with pytest.raises(TokenError):
        await verify(jwt.encode(claims, SECRET, algorithm="HS256"))


async def test_wrong_key_and_alg_none_are_refused() -> None:
    claims = {"sub": "u", "exp": int(time.time()) + 60, "role": "admin"}
    with pytest.raises(TokenError):
        await verify(jwt.encode(claims, "another-key-entirely-32-bytes-long", algorithm="HS256"))
    with pytest.raises(TokenError):
        await verify(jwt.encode(claims, None, algorithm="none"))


async def test_one_verifier_checks_every_token_though_its_secret_is_checked_once() -> None:
    """The secret's key checks run once (support/core/jwt_decoder.py); each token's signature still every time."""
    verifier = TokenVerifier(secret=SECRET)
    claims = {"sub": "u", "exp": int(time.time()) + 60}
    for _ in range(3):
        assert (await verifier.verify(jwt.encode(claims, SECRET, algorithm="HS256"))).id == "u"
        with pytest.raises(TokenError):
            await verifier.verify(jwt.encode(claims, "another-key-entirely-32-bytes-long", algorithm="HS256"))


async def test_a_secret_that_is_a_public_key_is_refused_on_every_token() -> None:
    """PyJWT refuses an asymmetric key as an HMAC secret (key confusion); kept once checked, it must stay refused."""
    pem = SigningKey("P", "RS256").public_pem
    verifier = TokenVerifier(secret=pem)
    forged = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, "x" * 32, algorithm="HS256")
    for _ in range(2):
        with pytest.raises(TokenError, match="asymmetric key"):
            await verifier.verify(forged)


@pytest.mark.parametrize(
    "token",
    ["", "no-dots-at-all", "!!!.e30.", "bm90IGpzb24.e30.", "WzFd.e30.", "e30.e30.", "eyJhbGciOiJIUzI1NiJ9.%%%.x"],
)
async def test_tokens_that_are_no_jwt_are_refused(token: str) -> None:
    """Not segments, a header that is no base64 JSON object, no alg, a broken payload: refused, never a crash."""
    with pytest.raises(TokenError):
        await verify(token)


async def test_a_known_header_still_needs_its_token_to_verify() -> None:
    """The header of a token is decoded once per issuer; every token under it is still checked whole."""
    good = issue_token(SECRET, "u1", "Uma", "pro")
    head = good.split(".")[0]
    assert (await verify(good)).id == "u1"
    assert (await verify(issue_token(SECRET, "u2", "Ugo", "pro"))).id == "u2"  # the same header, another token
    for forged in (good[:-4] + "AAAA", head + ".e30.", head + "." + good.split(".")[1] + "."):
        with pytest.raises(TokenError):
            await verify(forged)
    for _ in range(2):  # a header that does not parse is refused each time (never remembered as good)
        with pytest.raises(TokenError):
            await verify("bm90IGpzb24." + good.split(".", 1)[1])
    claims = {"sub": "u3", "name": "Ula", "plan": "pro", "role": "customer", "exp": int(time.time()) + 60}
    long_header = jwt.encode(claims, SECRET, headers={"pad": "x" * 600})
    assert len(long_header.split(".")[0]) > 512 and (await verify(long_header)).id == "u3"


@pytest.mark.parametrize("key", [RSA_A, EC_E], ids=["RS256", "ES256"])
async def test_a_configured_public_key_accepts_its_own_algorithm_only(key: SigningKey) -> None:
    verifier = TokenVerifier(secret=SECRET, public_key=key.public_pem, issuer=ISSUER, audience=[AUDIENCE])
    who = await verifier.verify(key.sign("u7", kid=None, role="agent", email="u7@platform.example", locale="en"))
    assert (who.id, who.role, who.email, who.locale) == ("u7", "agent", "u7@platform.example", "en")
    other = EC_E if key is RSA_A else RSA_A  # a token of the other algorithm has no key here
    for forged in (hs256_with_public_key(key, "u7"), unsigned("u7"), other.sign("u7", kid=None)):
        with pytest.raises(TokenError):
            await verifier.verify(forged)


async def test_the_public_key_may_be_a_file_or_one_line_of_pem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "provider.pem"
    path.write_text(EC_E.public_pem)
    one_line = TokenVerifier.from_settings(Settings(jwt_public_key=EC_E.public_pem.replace("\n", "\\n")))
    assert (await one_line.verify(EC_E.sign("u8", kid=None, iss=None, aud=None))).id == "u8"
    verifier = TokenVerifier.from_settings(Settings(jwt_public_key=str(path)))
    assert (await verifier.verify(EC_E.sign("u8", kid=None, iss=None, aud=None))).id == "u8"
    with pytest.raises(TokenError):  # an audience the gateway was not told it is: refused (RFC 7519 4.1.3)
        await verifier.verify(EC_E.sign("u8", kid=None, aud="elsewhere"))
    with pytest.raises(TokenError):  # no secret configured: HS256 is not accepted at all
        await verifier.verify(issue_token("any-secret-at-all-32-bytes-long!", "u8"))


@pytest.mark.parametrize(
    "settings",
    [
        Settings(secret=SECRET, jwt_algorithms=("NONE",)),
        Settings(secret=SECRET, jwt_algorithms=("HS256", "PS256")),
        Settings(jwt_public_key="-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"),
        Settings(jwt_public_key=SigningKey("small", "ES256").public_pem.replace("PUBLIC", "PRIVATE")),
        Settings(jwks_url="file:///etc/jwks.json"),
    ],
    ids=["none", "PS256", "garbage PEM", "not a public key", "not http"],
)
def test_a_configuration_that_cannot_be_used_stops_start_up(settings: Settings) -> None:
    with pytest.raises(ValueError):
        TokenVerifier.from_settings(settings)


@pytest.fixture
def provider() -> Iterator[JwksServer]:
    server = JwksServer(RSA_A, EC_E)
    yield server
    server.stop()


@pytest.fixture
async def verifier(provider: JwksServer) -> AsyncIterator[TokenVerifier]:
    checked = TokenVerifier.from_settings(
        Settings(
            secret=SECRET,
            jwks_url=provider.url,
            jwt_issuer=ISSUER,
            jwt_audience=(AUDIENCE,),
            jwks_min_refresh_s=0.3,
            jwks_timeout_s=1.0,
        )
    )
    yield checked
    await checked.close()


async def test_jwks_keys_verify_rs256_and_es256_and_the_set_is_fetched_once(
    verifier: TokenVerifier, provider: JwksServer
) -> None:
    assert (await verifier.verify(RSA_A.sign("ria", plan="premium"))).plan == "premium"
    assert (await verifier.verify(EC_E.sign("eli", role="agent"))).role == "agent"
    await asyncio.gather(*(verifier.verify(RSA_A.sign(f"u{i}")) for i in range(20)))
    assert provider.fetches == 1


async def test_refused_with_jwks(verifier: TokenVerifier) -> None:
    refused = {
        "not the provider's key": STRANGER.sign("u"),
        "unknown kid": SigningKey("Z", "ES256").sign("u"),
        "wrong issuer": RSA_A.sign("u", iss="https://evil.example/"),
        "no issuer": RSA_A.sign("u", iss=None),
        "wrong audience": RSA_A.sign("u", aud="someone-else"),
        "no audience": RSA_A.sign("u", aud=None),
        "expired": RSA_A.sign("u", exp=int(time.time()) - 5),
        "HS256 with the public key": hs256_with_public_key(RSA_A, "u"),
        "alg none": unsigned("u"),
        "RS256 header on the EC key": STRANGER.sign("u", kid="E"),
        "HS256 from the secret without iss": issue_token(SECRET, "u"),
    }
    for why, token in refused.items():
        with pytest.raises(TokenError):
            await verifier.verify(token)
            pytest.fail(f"accepted: {why}")
    assert (await verifier.verify(issue_token(SECRET, "dev", issuer=ISSUER, audience=AUDIENCE))).id == "dev"


async def test_rotation_is_picked_up_on_the_unknown_kid(verifier: TokenVerifier, provider: JwksServer) -> None:
    assert (await verifier.verify(RSA_A.sign("u"))).id == "u"
    with pytest.raises(TokenError):  # B is not published yet
        await verifier.verify(RSA_B.sign("u"))
    provider.publish(RSA_B, EC_E)
    await asyncio.sleep(0.35)  # unknown kids fetch again at most every jwks_min_refresh_s
    assert (await verifier.verify(RSA_B.sign("u"))).id == "u"
    with pytest.raises(TokenError):  # the withdrawn key is not trusted after the fetch
        await verifier.verify(RSA_A.sign("u"))


async def test_made_up_kids_do_not_make_us_hammer_the_provider(verifier: TokenVerifier, provider: JwksServer) -> None:
    forged = [STRANGER.sign("u", kid=f"made-up-{i}") for i in range(30)]
    await verifier.verify(RSA_A.sign("u"))
    started = time.monotonic()
    for token in forged:
        with pytest.raises(TokenError):
            await verifier.verify(token)
    # One fetch for the first token, then at most one per jwks_min_refresh_s (0.3 s), however many kids come.
    assert provider.fetches <= 2 + int((time.monotonic() - started) / 0.3)
    assert provider.fetches < 10


async def test_a_stalled_or_dead_provider_refuses_unknown_kids_and_keeps_the_known_ones(
    verifier: TokenVerifier, provider: JwksServer
) -> None:
    assert (await verifier.verify(RSA_A.sign("u"))).id == "u"
    provider.stall()
    await asyncio.sleep(0.35)  # past jwks_min_refresh_s, so the unknown kid makes a fetch
    started = time.monotonic()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    with pytest.raises(TokenError):
        await verifier.verify(RSA_B.sign("u"))
    ticker.cancel()
    assert 0.9 < time.monotonic() - started < 5  # jwks_timeout_s (1 s) bounds the wait
    assert ticks >= 5  # the loop kept running while the fetch waited (a blocked loop ticks once at most)
    provider.stop()
    await asyncio.sleep(0.35)
    with pytest.raises(TokenError):
        await verifier.verify(RSA_B.sign("u"))
    assert (await verifier.verify(RSA_A.sign("u2"))).id == "u2"  # keys already held stay in use


async def test_unusable_keys_in_the_set_are_skipped(provider: JwksServer) -> None:
    hmac_key = {"kty": "oct", "kid": "H", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}
    mislabelled = {**RSA_B.jwk, "alg": "ES256"}
    provider.publish_document({"keys": [hmac_key, mislabelled, {"kty": "RSA", "kid": "R"}, "junk", EC_E.jwk]})
    keys = ProviderKeys(
        provider.url, algorithms={"RS256", "ES256", "HS256"}, timeout_s=1, max_age_s=60, min_refresh_s=0
    )
    try:
        assert (await keys.signing_key("E")).algorithm_name == "ES256"
        for kid in ("H", "B", "R"):
            with pytest.raises(KeyNotFound):
                await keys.signing_key(kid)
    finally:
        await keys.close()
