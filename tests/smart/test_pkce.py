"""PKCE (RFC 7636): verifier shape and entropy, S256 challenge."""

from __future__ import annotations

import base64
import hashlib
import re

from smart import Pkce, new_pkce


def test_verifier_is_43_to_128_unreserved_characters():
    pkce = new_pkce()

    assert 43 <= len(pkce.verifier) <= 128
    assert re.fullmatch(r"[A-Za-z0-9\-._~]+", pkce.verifier)


def test_verifier_carries_at_least_256_bits():
    # base64url: 6 bits per character.
    assert len(new_pkce().verifier) * 6 >= 256


def test_each_pkce_is_new():
    assert len({new_pkce().verifier for _ in range(50)}) == 50


def test_challenge_is_the_unpadded_base64url_sha256_of_the_verifier():
    pkce = new_pkce()
    digest = hashlib.sha256(pkce.verifier.encode("ascii")).digest()

    assert pkce.challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert pkce.method == "S256"


def test_challenge_matches_the_rfc_7636_appendix_b_example():
    pkce = Pkce.from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")

    assert pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_repr_leaves_the_verifier_out():
    pkce = new_pkce()

    assert pkce.verifier not in repr(pkce)
