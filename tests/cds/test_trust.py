"""verify_cds_jwt on real databases: what CDS Hooks 2.0 "Trusting CDS Clients" accepts and
everything it refuses, each refusal with its own error."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlalchemy.ext.asyncio import AsyncSession

from app.cds import clients
from app.cds.errors import (
    BadCdsSignature,
    CdsAlgorithmNotAllowed,
    CdsClientKeysUnavailable,
    CdsJkuNotAllowed,
    CdsTokenExpired,
    CdsTokenNotYetValid,
    CdsTokenTooLongLived,
    CdsUnauthorized,
    MalformedCdsToken,
    MissingCdsClaim,
    ReplayedCdsToken,
    UnknownCdsClient,
    UnknownCdsSigningKey,
    WrongCdsAudience,
)
from app.cds.jwks import JwksCache
from app.cds.models import CdsClient, CdsJwtSeen
from app.cds.trust import TrustedCaller, verify_cds_jwt
from app.config import Mode
from tests.cds.jwt_factory import (
    AUDIENCE,
    ISS,
    JWKS_URL,
    NOW,
    OTHER_ISS,
    OTHER_JWKS_URL,
    JwksServer,
    Signer,
    unsigned,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> JwksServer:
    return JwksServer()


@pytest.fixture
async def http(server: JwksServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> JwksCache:
    return JwksCache(ttl_seconds=300, refetch_after_seconds=60, clock=clock)


@pytest.fixture
def es384() -> Signer:
    return Signer.es384()


@pytest.fixture
async def registered(session: AsyncSession, server: JwksServer, es384: Signer) -> Signer:
    """An EHR registered with its JWKS URL, publishing the ES384 key there."""
    server.documents[JWKS_URL] = es384.jwks()
    await clients.register(session, iss=ISS, jwks_url=JWKS_URL, mode=Mode.PRODUCTION)
    await session.commit()
    return es384


async def verify(
    token: str,
    session: AsyncSession,
    http: httpx.AsyncClient,
    cache: JwksCache,
    **overrides: Any,
) -> TrustedCaller:
    arguments: dict[str, Any] = {"audience": AUDIENCE, "now": NOW, **overrides}
    return await verify_cds_jwt(token, session=session, http=http, jwks_cache=cache, **arguments)


async def test_an_es384_token_signed_with_the_published_key_is_accepted(
    session, http, cache, registered
):
    token = registered.sign(jti="call-1", tenant="org-7")

    caller = await verify(token, session, http, cache)

    assert (caller.iss, caller.jti, caller.tenant) == (ISS, "call-1", "org-7")
    assert caller.expires_at == NOW + timedelta(seconds=120 + 60)


async def test_an_rs384_token_checked_against_a_jwks_given_at_registration_is_accepted(
    session, http, cache, server
):
    rs384 = Signer.rs384()
    await clients.register(session, iss=ISS, jwks=rs384.jwks(), mode=Mode.PRODUCTION)
    await session.commit()

    caller = await verify(rs384.sign(jti="rsa-call"), session, http, cache)

    assert caller.jti == "rsa-call"
    assert server.requests == []


async def test_the_iss_is_matched_with_or_without_a_trailing_slash(
    session, http, cache, registered
):
    caller = await verify(registered.sign(iss=ISS + "/"), session, http, cache)

    assert caller.iss == ISS


async def test_a_token_from_an_unregistered_iss_is_refused_as_an_unknown_client(
    session, http, cache, registered, server
):
    token = registered.sign(iss="https://stranger.example.org/fhir")

    with pytest.raises(UnknownCdsClient, match="unknown CDS client") as refused:
        await verify(token, session, http, cache)

    assert refused.value.status == 401
    assert server.requests == []  # nothing fetched on behalf of a stranger


@pytest.mark.parametrize("change", ["deactivated", "no longer registered"])
async def test_a_client_changed_by_another_process_is_refused_at_once(
    session, http, cache, registered, change
):
    # This process has read the client (and keeps it a few seconds); another process, the
    # CLI, deactivates or removes it: the change is not seen through this process's copy.
    await verify(registered.sign(), session, http, cache)
    if change == "deactivated":
        await session.execute(sa.update(CdsClient).values(active=False))
    else:
        await session.execute(sa.delete(CdsJwtSeen))
        await session.execute(sa.delete(CdsClient))
    await session.commit()

    with pytest.raises(UnknownCdsClient, match=change):
        await verify(registered.sign(), session, http, cache)


async def test_a_deactivated_client_is_refused(session, http, cache, registered):
    await clients.set_active(session, ISS, active=False)
    await session.commit()

    with pytest.raises(UnknownCdsClient, match="deactivated"):
        await verify(registered.sign(), session, http, cache)


async def test_a_token_signed_by_another_key_with_the_same_kid_is_refused(
    session, http, cache, registered
):
    impostor = Signer.es384(kid=registered.kid)

    with pytest.raises(BadCdsSignature):
        await verify(impostor.sign(), session, http, cache)


async def test_alg_none_is_refused(session, http, cache, registered):
    now = int(NOW.timestamp())
    token = unsigned({"iss": ISS, "aud": AUDIENCE, "iat": now, "exp": now + 60, "jti": "x"})

    with pytest.raises(CdsAlgorithmNotAllowed, match="asymmetric"):
        await verify(token, session, http, cache)


async def test_an_hmac_signed_token_is_refused(session, http, cache, registered):
    secret = OctKey.generate_key(256)
    now = int(NOW.timestamp())
    claims = {"iss": ISS, "aud": AUDIENCE, "iat": now, "exp": now + 60, "jti": "x"}
    token = jwt.encode({"alg": "HS256", "kid": registered.kid}, claims, secret)

    with pytest.raises(CdsAlgorithmNotAllowed):
        await verify(token, session, http, cache)


async def test_an_unknown_kid_refetches_the_jwks_and_finds_the_rotated_key(
    session, http, cache, registered, server, clock
):
    await verify(registered.sign(), session, http, cache)
    rotated = Signer.es384(kid="ec-2")
    server.documents[JWKS_URL] = {"keys": [registered.public_jwk(), rotated.public_jwk()]}
    clock.now += 61

    caller = await verify(rotated.sign(jti="after-rotation"), session, http, cache)

    assert caller.jti == "after-rotation"
    assert server.requests == [JWKS_URL, JWKS_URL]


async def test_unknown_kids_refetch_at_most_once_a_minute(
    session, http, cache, registered, server, clock
):
    await verify(registered.sign(), session, http, cache)
    clock.now += 30

    for attempt in range(3):
        with pytest.raises(UnknownCdsSigningKey):
            await verify(Signer.es384(kid=f"made-up-{attempt}").sign(), session, http, cache)

    assert server.requests == [JWKS_URL]


async def test_the_cached_jwks_is_used_until_its_ttl(
    session, http, cache, registered, server, clock
):
    await verify(registered.sign(), session, http, cache)
    clock.now += 299
    await verify(registered.sign(), session, http, cache)
    clock.now += 2
    await verify(registered.sign(), session, http, cache)

    assert server.requests == [JWKS_URL, JWKS_URL]


async def test_a_jku_other_than_the_registered_jwks_url_is_refused(
    session, http, cache, registered, server
):
    token = registered.sign(header={"jku": "https://attacker.example.org/jwks.json"})

    with pytest.raises(CdsJkuNotAllowed):
        await verify(token, session, http, cache)

    assert server.requests == []


async def test_the_registered_jwks_url_as_jku_is_accepted(session, http, cache, registered):
    caller = await verify(registered.sign(header={"jku": JWKS_URL}), session, http, cache)

    assert caller.iss == ISS


async def test_a_token_for_another_service_url_is_refused(session, http, cache, registered):
    token = registered.sign(aud="https://valueloop.example.org/cds-services/other")

    with pytest.raises(WrongCdsAudience, match="cds-services/flag-low-value"):
        await verify(token, session, http, cache)


async def test_aud_may_be_an_array_holding_the_service_url(session, http, cache, registered):
    caller = await verify(registered.sign(aud=[AUDIENCE + "/"]), session, http, cache)

    assert caller.iss == ISS


async def test_an_expired_token_is_refused_beyond_the_leeway(session, http, cache, registered):
    now = int(NOW.timestamp())
    late = registered.sign(iat=now - 200, exp=now - 61)
    just_in_leeway = registered.sign(iat=now - 200, exp=now - 59)

    with pytest.raises(CdsTokenExpired):
        await verify(late, session, http, cache)
    assert (await verify(just_in_leeway, session, http, cache)).iss == ISS


async def test_a_token_living_longer_than_five_minutes_is_refused(session, http, cache, registered):
    now = int(NOW.timestamp())

    with pytest.raises(CdsTokenTooLongLived):
        await verify(registered.sign(iat=now, exp=now + 301), session, http, cache)


async def test_a_token_issued_in_the_future_is_refused(session, http, cache, registered):
    now = int(NOW.timestamp())

    with pytest.raises(CdsTokenNotYetValid):
        await verify(registered.sign(iat=now + 120, exp=now + 240), session, http, cache)


@pytest.mark.parametrize("missing", ["jti", "exp", "iat", "aud"])
async def test_a_token_without_a_required_claim_is_refused(
    session, http, cache, registered, missing
):
    with pytest.raises(MissingCdsClaim, match=missing):
        await verify(registered.sign(**{missing: None}), session, http, cache)


async def test_a_replayed_jti_is_refused_but_another_issuer_may_use_the_same_jti(
    session, http, cache, registered, server
):
    other = Signer.es384(kid="other-1")
    server.documents[OTHER_JWKS_URL] = other.jwks()
    await clients.register(session, iss=OTHER_ISS, jwks_url=OTHER_JWKS_URL, mode=Mode.PRODUCTION)
    await session.commit()
    await verify(registered.sign(jti="shared"), session, http, cache)

    with pytest.raises(ReplayedCdsToken):
        await verify(registered.sign(jti="shared"), session, http, cache)
    caller = await verify(other.sign(iss=OTHER_ISS, jti="shared"), session, http, cache)

    assert caller.iss == OTHER_ISS


async def test_a_jti_is_forgotten_once_its_token_has_expired(session, http, cache, registered):
    await verify(registered.sign(jti="reused-later"), session, http, cache)
    later = NOW + timedelta(minutes=10)
    now = int(later.timestamp())

    caller = await verify(
        registered.sign(jti="reused-later", iat=now, exp=now + 60), session, http, cache, now=later
    )

    assert caller.jti == "reused-later"


@pytest.mark.parametrize("failure", ["down", "500", "not a jwks"])
async def test_an_unreachable_jwks_url_is_a_503_to_try_again(
    session, http, cache, registered, server, failure
):
    if failure == "down":
        server.down = True
    elif failure == "500":
        server.status = 500
    else:
        server.documents[JWKS_URL] = {"keys": "none"}

    with pytest.raises(CdsClientKeysUnavailable) as unavailable:
        await verify(registered.sign(), session, http, cache)

    assert unavailable.value.status == 503
    assert unavailable.value.headers["Retry-After"]


@pytest.mark.parametrize(
    "token", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJFUzM4NCJ9.bm90IGpzb24.c2ln"]
)
async def test_a_token_that_is_not_a_jwt_is_refused(session, http, cache, registered, token):
    with pytest.raises(MalformedCdsToken):
        await verify(token, session, http, cache)


async def test_a_token_without_kid_is_refused(session, http, cache, registered):
    now = int(NOW.timestamp())
    claims = {"iss": ISS, "aud": AUDIENCE, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    token = jwt.encode({"alg": "ES384"}, claims, registered.key, algorithms=["ES384"])

    with pytest.raises(MalformedCdsToken, match="kid"):
        await verify(token, session, http, cache)


async def test_no_refusal_echoes_the_token(session, http, cache, registered):
    tokens = [
        registered.sign(aud="https://elsewhere.example.org"),
        registered.sign(header={"jku": "https://attacker.example.org/k"}),
        Signer.es384(kid=registered.kid).sign(),
    ]
    for token in tokens:
        with pytest.raises(CdsUnauthorized) as refused:
            await verify(token, session, http, cache)
        assert token not in refused.value.detail
        assert token.split(".")[2] not in refused.value.detail
