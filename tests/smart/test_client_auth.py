"""Client authentication at the token endpoint (RFC 6749 2.3; SMART "Client
Authentication": symmetric and asymmetric)."""

from __future__ import annotations

import base64
import time
from urllib.parse import unquote

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from smart import ASSERTION_TYPE, ClientSecretBasic, PrivateKeyJwt, PublicClient
from tests.smart.factories import TOKEN

RSA_KEY = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC_KEY = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})


def applied(auth) -> tuple[dict[str, str], dict[str, str]]:
    form: dict[str, str] = {"grant_type": "authorization_code"}
    headers: dict[str, str] = {}
    auth.apply(TOKEN, form, headers)
    return form, headers


def test_public_client_names_itself_in_the_form():
    form, headers = applied(PublicClient("valueloop"))

    assert form == {"grant_type": "authorization_code", "client_id": "valueloop"}
    assert headers == {}


def test_client_secret_basic_urlencodes_id_and_secret_before_base64():
    auth = ClientSecretBasic("value loop:1", "s3cr+t/with:odd chars%")

    form, headers = applied(auth)

    scheme, _, encoded = headers["Authorization"].partition(" ")
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    assert scheme == "Basic"
    assert (user, password) == ("value%20loop%3A1", "s3cr%2Bt%2Fwith%3Aodd%20chars%25")
    assert (unquote(user), unquote(password)) == ("value loop:1", "s3cr+t/with:odd chars%")
    # RFC 6749 2.3: one authentication method per request.
    assert form == {"grant_type": "authorization_code"}


def test_client_secret_stays_out_of_repr():
    assert "s3cret" not in repr(ClientSecretBasic("valueloop", "s3cret"))


@pytest.mark.parametrize(("key", "algorithm"), [(RSA_KEY, "RS384"), (EC_KEY, "ES384")])
def test_private_key_jwt_signs_the_assertion_smart_describes(key, algorithm):
    auth = PrivateKeyJwt("valueloop", private_key=key, kid=key.kid, algorithm=algorithm)
    before = int(time.time())

    form, headers = applied(auth)

    assert headers == {}
    assert form["client_assertion_type"] == ASSERTION_TYPE
    assert "client_id" not in form
    token = jwt.decode(form["client_assertion"], key, algorithms=[algorithm])
    assert token.header == {"alg": algorithm, "kid": key.kid, "typ": "JWT"}
    claims = token.claims
    assert claims["iss"] == claims["sub"] == "valueloop"
    assert claims["aud"] == TOKEN
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 32
    assert before < claims["exp"] <= int(time.time()) + 300


def test_private_key_jwt_uses_a_new_jti_every_time():
    auth = PrivateKeyJwt("valueloop", private_key=RSA_KEY, kid="rsa-1")

    jtis = {
        jwt.decode(auth.assertion(TOKEN), RSA_KEY, algorithms=["RS384"]).claims["jti"]
        for _ in range(5)
    }

    assert len(jtis) == 5


def test_private_key_jwt_expiry_follows_the_clock_and_lifetime():
    auth = PrivateKeyJwt(
        "valueloop", private_key=RSA_KEY, kid="rsa-1", lifetime_seconds=60, clock=lambda: 1000.0
    )

    claims = jwt.decode(auth.assertion(TOKEN), RSA_KEY, algorithms=["RS384"]).claims

    assert claims["exp"] == 1060


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [
        (EC_KEY, "RS384"),
        (RSA_KEY, "ES384"),
        (ECKey.generate_key("P-256"), "ES384"),
    ],
    ids=["ec-for-rsa", "rsa-for-ec", "wrong-curve"],
)
def test_private_key_jwt_refuses_a_key_that_does_not_fit_the_algorithm(key, algorithm):
    with pytest.raises(ValueError, match=algorithm):
        PrivateKeyJwt("valueloop", private_key=key, kid="k", algorithm=algorithm)


def test_private_key_jwt_refuses_a_public_key():
    public = RSAKey.import_key(RSA_KEY.as_dict(private=False))

    with pytest.raises(ValueError, match="private"):
        PrivateKeyJwt("valueloop", private_key=public, kid="rsa-1")


def test_private_key_jwt_refuses_a_lifetime_over_five_minutes():
    with pytest.raises(ValueError, match="lifetime"):
        PrivateKeyJwt("valueloop", private_key=RSA_KEY, kid="rsa-1", lifetime_seconds=301)


def test_private_key_stays_out_of_repr():
    auth = PrivateKeyJwt("valueloop", private_key=RSA_KEY, kid="rsa-1")

    assert str(RSA_KEY.as_dict(private=True)["d"]) not in repr(auth)
    assert "private_key" not in repr(auth)
