"""The token endpoint (RFC 6749 4.1.3, 5 and 6; SMART "Obtain access token", "Refresh")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from smart import (
    ClientSecretBasic,
    Pkce,
    PublicClient,
    RefreshUnavailableError,
    TokenRequestError,
    exchange_code,
    refresh,
)
from tests.smart.factories import CLIENT_ID, REDIRECT_URI, TOKEN, mock_http, smart_configuration

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
PKCE = Pkce.from_verifier("verifier-" + "x" * 50)
CODE = "the-authorization-code-1234"


def token_body(**overrides: Any) -> dict[str, Any]:
    return {
        "access_token": "opaque-access-1",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "launch openid fhirUser patient/ServiceRequest.rs",
        "id_token": "header.payload.signature",
        "patient": "pat-1",
        "encounter": "enc-1",
        "fhirContext": [{"reference": "ServiceRequest/sr-1"}],
        "need_patient_banner": False,
        "smart_style_url": "https://ehr.example.org/style.json",
        "tenant": "north",
        "intent": "reconcile",
        "x-vendor-extra": {"any": "thing"},
        **overrides,
    }


class Endpoint:
    """A token endpoint that records requests and answers from a list."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)

    def form(self, index: int = -1) -> dict[str, str]:
        body = parse_qs(self.requests[index].content.decode(), keep_blank_values=True)
        return {key: values[0] for key, values in body.items()}


async def exchange(endpoint: Endpoint, auth=None):
    async with mock_http(endpoint) as http:
        return await exchange_code(
            http,
            smart_configuration(),
            auth or PublicClient(CLIENT_ID),
            code=CODE,
            redirect_uri=REDIRECT_URI,
            pkce=PKCE,
            clock=lambda: NOW,
        )


async def test_exchange_posts_the_rfc_6749_form_with_the_pkce_verifier():
    endpoint = Endpoint(httpx.Response(200, json=token_body()))

    await exchange(endpoint)

    request = endpoint.requests[0]
    assert request.method == "POST"
    assert str(request.url) == TOKEN
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert endpoint.form() == {
        "grant_type": "authorization_code",
        "code": CODE,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": PKCE.verifier,
        "client_id": CLIENT_ID,
    }


async def test_exchange_authenticates_a_confidential_client_with_its_method():
    endpoint = Endpoint(httpx.Response(200, json=token_body()))

    await exchange(endpoint, ClientSecretBasic(CLIENT_ID, "s3cret"))

    assert endpoint.requests[0].headers["authorization"].startswith("Basic ")
    assert "client_id" not in endpoint.form()


async def test_exchange_returns_tokens_and_keeps_the_launch_context():
    token = await exchange(Endpoint(httpx.Response(200, json=token_body())))

    assert token.access_token == "opaque-access-1"
    assert token.token_type == "Bearer"
    assert token.expires_at == NOW + timedelta(hours=1)
    assert token.scope == "launch openid fhirUser patient/ServiceRequest.rs"
    assert token.id_token == "header.payload.signature"
    assert token.refresh_token is None
    assert dict(token.raw_context) == {
        "patient": "pat-1",
        "encounter": "enc-1",
        "fhirContext": [{"reference": "ServiceRequest/sr-1"}],
        "need_patient_banner": False,
        "smart_style_url": "https://ehr.example.org/style.json",
        "tenant": "north",
        "intent": "reconcile",
        "x-vendor-extra": {"any": "thing"},
    }


async def test_token_repr_never_shows_the_tokens():
    token = await exchange(
        Endpoint(httpx.Response(200, json=token_body(refresh_token="refresh-secret")))
    )

    text = repr(token)
    assert "opaque-access-1" not in text
    assert "refresh-secret" not in text
    assert "header.payload.signature" not in text


@pytest.mark.parametrize("token_type", ["bearer", "BEARER", "Bearer"])
async def test_token_type_bearer_is_case_insensitive(token_type):
    token = await exchange(Endpoint(httpx.Response(200, json=token_body(token_type=token_type))))

    assert token.token_type == "Bearer"


@pytest.mark.parametrize(
    ("expires_in", "expected"),
    [("120", NOW + timedelta(seconds=120)), (None, None), ("soon", None), (True, None)],
)
async def test_expiry_tolerates_what_servers_send(expires_in, expected):
    token = await exchange(Endpoint(httpx.Response(200, json=token_body(expires_in=expires_in))))

    assert token.expires_at == expected


@pytest.mark.parametrize(
    "body",
    [
        token_body(token_type="mac"),
        token_body(token_type=None),
        token_body(access_token=""),
        token_body(access_token=None),
        token_body(scope=["a", "list"]),
    ],
    ids=["not-bearer", "no-type", "empty-token", "no-token", "scope-not-string"],
)
async def test_an_unusable_success_response_is_a_token_request_error(body):
    with pytest.raises(TokenRequestError) as caught:
        await exchange(Endpoint(httpx.Response(200, json=body)))

    assert caught.value.error == "invalid_response"
    assert caught.value.status == 200


async def test_an_oauth_error_keeps_error_description_and_status():
    answer = httpx.Response(
        400, json={"error": "invalid_grant", "error_description": "Code already used."}
    )

    with pytest.raises(TokenRequestError) as caught:
        await exchange(Endpoint(answer))

    error = caught.value
    assert (error.error, error.description, error.status) == (
        "invalid_grant",
        "Code already used.",
        400,
    )
    assert CODE not in str(error)
    assert PKCE.verifier not in str(error)


async def test_an_error_description_is_cut_short_and_made_printable():
    answer = httpx.Response(
        401, json={"error": "invalid_client", "error_description": "bad\r\nclient" + "x" * 1000}
    )

    with pytest.raises(TokenRequestError) as caught:
        await exchange(Endpoint(answer))

    assert caught.value.description is not None
    assert "\n" not in caught.value.description
    assert len(caught.value.description) <= 300


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, text="Service Unavailable"),
        httpx.Response(500, json={"message": "no error field"}),
        httpx.Response(200, text="{not json"),
        httpx.Response(200, json=["not", "an", "object"]),
    ],
    ids=["503-text", "500-json", "200-bad-json", "200-array"],
)
async def test_a_non_oauth_answer_is_an_invalid_response(answer):
    with pytest.raises(TokenRequestError) as caught:
        await exchange(Endpoint(answer))

    assert caught.value.error == "invalid_response"
    assert caught.value.status == answer.status_code


async def test_an_unreachable_endpoint_is_a_network_error_without_status():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with mock_http(handler) as http:
        with pytest.raises(TokenRequestError) as caught:
            await exchange_code(
                http,
                smart_configuration(),
                PublicClient(CLIENT_ID),
                code=CODE,
                redirect_uri=REDIRECT_URI,
                pkce=PKCE,
            )

    assert (caught.value.error, caught.value.status) == ("network_error", None)


async def do_refresh(endpoint: Endpoint, refresh_token: str | None, **kwargs):
    async with mock_http(endpoint) as http:
        return await refresh(
            http,
            smart_configuration(),
            kwargs.pop("auth", PublicClient(CLIENT_ID)),
            refresh_token=refresh_token,
            clock=lambda: NOW,
            **kwargs,
        )


async def test_refresh_posts_the_refresh_grant_and_takes_the_rotated_token():
    endpoint = Endpoint(httpx.Response(200, json=token_body(refresh_token="refresh-2")))

    token = await do_refresh(endpoint, "refresh-1", scope="patient/ServiceRequest.rs")

    assert endpoint.form() == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "scope": "patient/ServiceRequest.rs",
        "client_id": CLIENT_ID,
    }
    assert token.refresh_token == "refresh-2"


async def test_refresh_keeps_the_old_refresh_token_when_no_new_one_is_issued():
    endpoint = Endpoint(httpx.Response(200, json=token_body()))

    token = await do_refresh(endpoint, "refresh-1")

    assert "scope" not in endpoint.form()
    assert token.refresh_token == "refresh-1"


async def test_refresh_authenticates_a_confidential_client():
    endpoint = Endpoint(httpx.Response(200, json=token_body()))

    await do_refresh(endpoint, "refresh-1", auth=ClientSecretBasic(CLIENT_ID, "s3cret"))

    assert endpoint.requests[0].headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize("missing", [None, ""])
async def test_refresh_without_a_refresh_token_is_unavailable_before_any_request(missing):
    endpoint = Endpoint()

    with pytest.raises(RefreshUnavailableError):
        await do_refresh(endpoint, missing)

    assert endpoint.requests == []


async def test_refresh_refused_with_invalid_grant_means_launch_again():
    answer = httpx.Response(400, json={"error": "invalid_grant", "error_description": "used"})

    with pytest.raises(RefreshUnavailableError) as caught:
        await do_refresh(Endpoint(answer), "refresh-1")

    assert isinstance(caught.value.__cause__, TokenRequestError)
    assert "refresh-1" not in str(caught.value)


async def test_refresh_failing_otherwise_stays_a_token_request_error():
    answer = httpx.Response(503, text="busy")

    with pytest.raises(TokenRequestError) as caught:
        await do_refresh(Endpoint(answer), "refresh-1")

    assert not isinstance(caught.value, RefreshUnavailableError)
    assert caught.value.status == 503
