"""Discovery (SMART App Launch 2.x "Conformance"): well-known document, metadata fallback,
cache."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from smart import DiscoveryCache, DiscoveryError, discover
from tests.smart.factories import (
    AUTHORIZE,
    ISS,
    JWKS,
    TOKEN,
    capability_statement,
    mock_http,
    smart_configuration,
    well_known_document,
)

WELL_KNOWN = f"{ISS}/.well-known/smart-configuration"
METADATA = f"{ISS}/metadata"


def serve(routes: dict[str, httpx.Response], calls: list[str]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        calls.append(url)
        return routes.get(url, httpx.Response(404))

    return mock_http(handler)


async def test_discover_reads_the_well_known_document():
    calls: list[str] = []
    async with serve({WELL_KNOWN: httpx.Response(200, json=well_known_document())}, calls) as http:
        config = await discover(http, ISS)

    assert calls == [WELL_KNOWN]
    assert config.issuer == ISS
    assert config.authorization_endpoint == AUTHORIZE
    assert config.token_endpoint == TOKEN
    assert config.jwks_uri == JWKS
    assert config.introspection_endpoint == "https://ehr.example.org/auth/introspect"
    assert config.code_challenge_methods_supported == frozenset({"S256"})
    assert "launch-ehr" in config.capabilities
    assert config.token_endpoint_auth_methods_supported == {
        "private_key_jwt",
        "client_secret_basic",
    }
    assert config.supports_v2_scopes


async def test_discover_asks_for_json_and_ignores_a_trailing_slash_on_iss():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=well_known_document())

    async with mock_http(handler) as http:
        await discover(http, ISS + "/")

    assert str(seen[0].url) == WELL_KNOWN
    assert seen[0].headers["accept"] == "application/json"


async def test_discover_falls_back_to_the_capability_statement_on_404():
    calls: list[str] = []
    routes = {METADATA: httpx.Response(200, json=capability_statement())}
    async with serve(routes, calls) as http:
        config = await discover(http, ISS)

    assert calls == [WELL_KNOWN, METADATA]
    assert config.authorization_endpoint == AUTHORIZE
    assert config.token_endpoint == TOKEN
    # The CapabilityStatement says nothing of these: the safe readings follow.
    assert config.issuer is None
    assert config.jwks_uri is None
    assert config.code_challenge_methods_supported is None
    assert not config.supports_v2_scopes


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json=["a", "list"]),
        httpx.Response(200, json={"issuer": ISS}),  # no endpoints
        httpx.Response(200, json=well_known_document(token_endpoint="/relative/token")),
        httpx.Response(403, json={"error": "forbidden"}),
    ],
    ids=["not-json", "not-an-object", "no-endpoints", "relative-endpoint", "forbidden"],
)
async def test_discover_falls_back_when_the_well_known_answer_is_unusable(answer):
    calls: list[str] = []
    routes = {WELL_KNOWN: answer, METADATA: httpx.Response(200, json=capability_statement())}
    async with serve(routes, calls) as http:
        config = await discover(http, ISS)

    assert calls == [WELL_KNOWN, METADATA]
    assert config.token_endpoint == TOKEN


async def test_discover_fails_when_neither_document_names_the_endpoints():
    calls: list[str] = []
    routes = {METADATA: httpx.Response(200, json={"resourceType": "CapabilityStatement"})}
    async with serve(routes, calls) as http:
        with pytest.raises(DiscoveryError, match="oauth-uris"):
            await discover(http, ISS)


async def test_discover_fails_when_both_documents_are_missing():
    async with serve({}, []) as http:
        with pytest.raises(DiscoveryError, match="HTTP 404"):
            await discover(http, ISS)


async def test_discover_does_not_downgrade_to_metadata_when_the_server_errors():
    calls: list[str] = []
    routes = {
        WELL_KNOWN: httpx.Response(503),
        METADATA: httpx.Response(200, json=capability_statement()),
    }
    async with serve(routes, calls) as http:
        with pytest.raises(DiscoveryError, match="503"):
            await discover(http, ISS)

    assert calls == [WELL_KNOWN]


async def test_discover_reports_an_unreachable_server_as_a_discovery_error():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with mock_http(handler) as http:
        with pytest.raises(DiscoveryError, match="ConnectError") as caught:
            await discover(http, ISS)

    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_discover_refuses_an_iss_that_is_not_an_http_url():
    async with serve({}, []) as http:
        with pytest.raises(DiscoveryError):
            await discover(http, "file:///etc/passwd")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_cache_answers_within_the_ttl_and_refetches_after_it():
    clock = FakeClock()
    cache = DiscoveryCache(ttl_seconds=60, clock=clock)
    calls: list[str] = []
    async with serve({WELL_KNOWN: httpx.Response(200, json=well_known_document())}, calls) as http:
        first = await discover(http, ISS, cache=cache)
        clock.now += 59
        second = await discover(http, ISS + "/", cache=cache)
        clock.now += 1
        third = await discover(http, ISS, cache=cache)

    assert first is second
    assert third == first
    assert calls == [WELL_KNOWN, WELL_KNOWN]


async def test_cache_keeps_each_iss_apart():
    other = "https://other-ehr.example.org/fhir"
    routes = {
        WELL_KNOWN: httpx.Response(200, json=well_known_document()),
        f"{other}/.well-known/smart-configuration": httpx.Response(
            200, json=well_known_document(token_endpoint="https://other-ehr.example.org/token")
        ),
    }
    cache = DiscoveryCache()
    async with serve(routes, []) as http:
        mine = await discover(http, ISS, cache=cache)
        theirs = await discover(http, other, cache=cache)

    assert mine.token_endpoint == TOKEN
    assert theirs.token_endpoint == "https://other-ehr.example.org/token"


async def test_cache_fetches_once_for_concurrent_launches_on_one_iss():
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        return httpx.Response(200, json=well_known_document())

    cache = DiscoveryCache()
    async with mock_http(handler) as http:
        configs = await asyncio.gather(*(discover(http, ISS, cache=cache) for _ in range(10)))

    assert calls == 1
    assert all(config is configs[0] for config in configs)


async def test_cache_does_not_remember_failures():
    answers = iter([httpx.Response(503), httpx.Response(200, json=well_known_document())])
    cache = DiscoveryCache()
    async with mock_http(lambda request: next(answers)) as http:
        with pytest.raises(DiscoveryError):
            await discover(http, ISS, cache=cache)
        config = await discover(http, ISS, cache=cache)

    assert config.token_endpoint == TOKEN


@pytest.mark.parametrize(
    ("capabilities", "scopes", "expected"),
    [
        ({"permission-v2"}, set(), True),
        (set(), {"patient/*.rs"}, True),
        (set(), {"user/Observation.cruds"}, True),
        ({"permission-v1"}, {"patient/*.read", "launch"}, False),
        (set(), set(), False),
    ],
)
def test_supports_v2_scopes_reads_the_capability_or_the_advertised_scopes(
    capabilities, scopes, expected
):
    config = smart_configuration(
        capabilities=frozenset(capabilities), scopes_supported=frozenset(scopes)
    )

    assert config.supports_v2_scopes is expected
