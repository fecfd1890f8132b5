"""id_token validation (OpenID Connect Core 1.0, 3.1.3.7) against the EHR's JWKS."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from smart import IdTokenError, JwksCache, validate_id_token
from tests.smart.factories import (
    CLIENT_ID,
    ISS,
    JWKS,
    id_token_claims,
    mock_http,
    sign_id_token,
    smart_configuration,
)

EHR_KEY = RSAKey.generate_key(2048, parameters={"kid": "ehr-1"})
NEXT_KEY = RSAKey.generate_key(2048, parameters={"kid": "ehr-2"})
IMPOSTOR_KEY = RSAKey.generate_key(2048, parameters={"kid": "ehr-1"})  # same kid, other key


class JwksEndpoint:
    """Serves key sets in turn (the last one forever) and counts fetches."""

    def __init__(self, *key_sets: list[RSAKey | ECKey]) -> None:
        self.key_sets = list(key_sets)
        self.fetches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS
        keys = self.key_sets[min(self.fetches, len(self.key_sets) - 1)]
        self.fetches += 1
        return httpx.Response(200, json={"keys": [key.as_dict(private=False) for key in keys]})


async def validate(token: str, endpoint=None, **kwargs):
    endpoint = endpoint or JwksEndpoint([EHR_KEY])
    kwargs.setdefault("client_id", CLIENT_ID)
    kwargs.setdefault("nonce", "nonce-1")
    config = kwargs.pop("config", smart_configuration())
    async with mock_http(endpoint) as http:
        return await validate_id_token(http, config, token, **kwargs)


async def test_a_valid_id_token_gives_its_claims():
    claims = await validate(sign_id_token(EHR_KEY))

    assert claims["fhirUser"] == f"{ISS}/Practitioner/prac-1"
    assert claims["sub"] == "prac-1"


async def test_es384_signatures_verify_too():
    key = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})

    claims = await validate(sign_id_token(key, algorithm="ES384"), JwksEndpoint([key]))

    assert claims["aud"] == CLIENT_ID


async def test_a_bad_signature_is_refused():
    with pytest.raises(IdTokenError, match="signature"):
        await validate(sign_id_token(IMPOSTOR_KEY))


async def test_a_tampered_payload_is_refused():
    header, _, signature = sign_id_token(EHR_KEY).split(".")
    _, payload, _ = sign_id_token(EHR_KEY, sub="someone-else").split(".")

    with pytest.raises(IdTokenError, match="signature"):
        await validate(f"{header}.{payload}.{signature}")


@pytest.mark.parametrize("audience", ["another-app", ["another-app", "third-app"]])
async def test_an_id_token_for_another_client_is_refused(audience):
    with pytest.raises(IdTokenError, match="aud"):
        await validate(sign_id_token(EHR_KEY, aud=audience))


async def test_an_audience_list_containing_this_client_is_accepted():
    claims = await validate(sign_id_token(EHR_KEY, aud=["other", CLIENT_ID], azp=CLIENT_ID))

    assert CLIENT_ID in claims["aud"]


async def test_an_azp_naming_another_client_is_refused():
    with pytest.raises(IdTokenError, match="azp"):
        await validate(sign_id_token(EHR_KEY, aud=[CLIENT_ID, "other"], azp="other"))


async def test_an_id_token_from_another_issuer_is_refused():
    with pytest.raises(IdTokenError, match="iss"):
        await validate(sign_id_token(EHR_KEY, iss="https://evil.example.org/fhir"))


async def test_issuer_is_not_compared_when_the_ehr_publishes_none():
    config = smart_configuration(issuer=None)

    claims = await validate(sign_id_token(EHR_KEY, iss="https://idp.example.org"), config=config)

    assert claims["iss"] == "https://idp.example.org"


async def test_an_expired_id_token_is_refused():
    now = int(time.time())

    with pytest.raises(IdTokenError, match="expired"):
        await validate(sign_id_token(EHR_KEY, iat=now - 600, exp=now - 120))


async def test_expiry_allows_the_leeway_for_clock_skew():
    now = int(time.time())

    claims = await validate(sign_id_token(EHR_KEY, iat=now - 600, exp=now - 30), leeway=60)

    assert claims["exp"] == now - 30


async def test_an_id_token_issued_in_the_future_is_refused():
    now = int(time.time())

    with pytest.raises(IdTokenError, match="iat"):
        await validate(sign_id_token(EHR_KEY, iat=now + 600, exp=now + 900))


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss", "aud"])
async def test_a_missing_required_claim_is_refused(claim):
    token = jwt.encode(
        {"alg": "RS256", "kid": "ehr-1"},
        {
            key: value
            for key, value in {
                "iss": ISS,
                "sub": "prac-1",
                "aud": CLIENT_ID,
                "iat": int(time.time()),
                "exp": int(time.time()) + 300,
                "nonce": "nonce-1",
            }.items()
            if key != claim
        },
        EHR_KEY,
        algorithms=["RS256"],
    )

    with pytest.raises(IdTokenError):
        await validate(token)


async def test_a_nonce_mismatch_is_refused():
    with pytest.raises(IdTokenError, match="nonce"):
        await validate(sign_id_token(EHR_KEY, nonce="someone-elses"))


async def test_a_missing_nonce_is_refused_when_one_was_sent():
    with pytest.raises(IdTokenError, match="nonce"):
        await validate(sign_id_token(EHR_KEY, nonce=None))


async def test_nonce_is_not_required_when_none_was_sent():
    claims = await validate(sign_id_token(EHR_KEY, nonce=None), nonce=None)

    assert "nonce" not in claims


async def test_an_unknown_kid_refetches_the_jwks_once_for_a_rotated_key():
    endpoint = JwksEndpoint([EHR_KEY], [EHR_KEY, NEXT_KEY])
    cache = JwksCache()

    await validate(sign_id_token(EHR_KEY), endpoint, jwks_cache=cache)
    claims = await validate(sign_id_token(NEXT_KEY), endpoint, jwks_cache=cache)

    assert claims["sub"] == "prac-1"
    assert endpoint.fetches == 2


async def test_a_kid_still_unknown_after_the_refetch_is_refused():
    endpoint = JwksEndpoint([EHR_KEY])

    with pytest.raises(IdTokenError, match="kid"):
        await validate(sign_id_token(NEXT_KEY), endpoint, jwks_cache=JwksCache())

    assert endpoint.fetches == 2


async def test_the_jwks_cache_serves_later_validations_until_its_ttl():
    clock_now = [0.0]
    cache = JwksCache(ttl_seconds=60, clock=lambda: clock_now[0])
    endpoint = JwksEndpoint([EHR_KEY])

    await validate(sign_id_token(EHR_KEY), endpoint, jwks_cache=cache)
    await validate(sign_id_token(EHR_KEY), endpoint, jwks_cache=cache)
    clock_now[0] = 61
    await validate(sign_id_token(EHR_KEY), endpoint, jwks_cache=cache)

    assert endpoint.fetches == 2


async def test_without_kid_a_single_key_is_used_and_several_are_ambiguous():
    token = jwt.encode(
        {"alg": "RS256"},
        {
            "iss": ISS,
            "sub": "p",
            "aud": CLIENT_ID,
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        EHR_KEY,
        algorithms=["RS256"],
    )

    assert (await validate(token, JwksEndpoint([EHR_KEY]), nonce=None))["sub"] == "p"
    with pytest.raises(IdTokenError, match="kid"):
        await validate(token, JwksEndpoint([EHR_KEY, NEXT_KEY]), nonce=None)


async def test_alg_none_is_refused():
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    unsigned = f"{part({'alg': 'none'})}.{part(id_token_claims())}."

    with pytest.raises(IdTokenError, match="algorithm"):
        await validate(unsigned)


async def test_symmetric_algorithms_are_refused():
    secret = OctKey.import_key("a-shared-secret-that-is-long-enough-for-hs256")
    token = jwt.encode({"alg": "HS256", "kid": "ehr-1"}, {"iss": ISS}, secret, ["HS256"])

    with pytest.raises(IdTokenError, match="algorithm"):
        await validate(token)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b", "!!!.e30.sig"])
async def test_a_malformed_id_token_is_refused(token):
    with pytest.raises(IdTokenError):
        await validate(token)


async def test_an_ehr_without_jwks_uri_cannot_have_its_id_token_verified():
    with pytest.raises(IdTokenError, match="jwks_uri"):
        await validate(sign_id_token(EHR_KEY), config=smart_configuration(jwks_uri=None))


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(500), httpx.Response(200, text="nope"), httpx.Response(200, json={"keys": []})],
    ids=["500", "not-json", "empty"],
)
async def test_an_unusable_jwks_is_an_id_token_error(answer):
    with pytest.raises(IdTokenError, match="JWKS"):
        await validate(sign_id_token(EHR_KEY), lambda request: answer)
