"""Signed unsubscribe links: who (an email address) stops which kind of email.

The token is ``base64url(kind "\\n" address) "." base64url(HMAC-SHA256)`` with a key derived
from the app's secret key, so the page checks a link without a database lookup and nobody can
unsubscribe someone else by editing one. It names no patient and no flag. It travels in the
query string, which ValueLoop's logs leave out (app/logging.py). Links do not expire: RFC 8058
section 3.2 expects a one-click link to keep working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from app.notifications.email.models import EmailKind, normalize_email

UNSUBSCRIBE_PATH = "/notifications/unsubscribe"
_PURPOSE = b"valueloop:unsubscribe:v1"


class MalformedLink(ValueError):
    """The token is not a token at all (cut short when copied, or made up)."""


class ForgedLink(ValueError):
    """The token is well-formed but its signature is not ours."""


@dataclass(frozen=True)
class Subscription:
    """One person and one kind of email, as a link names them."""

    email: str
    kind: EmailKind


def _key(secret_key: str) -> bytes:
    # A key of its own, so a signature made here means nothing anywhere else.
    return hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedLink("not base64url") from exc


def sign(subscription: Subscription, *, secret_key: str) -> str:
    """The token for one person and one kind."""
    data = f"{subscription.kind.value}\n{normalize_email(subscription.email)}".encode()
    signature = hmac.new(_key(secret_key), data, hashlib.sha256).digest()
    return f"{_b64(data)}.{_b64(signature)}"


def verify(token: str, *, secret_key: str) -> Subscription:
    """The subscription a token names; `MalformedLink` or `ForgedLink` when it names none."""
    encoded, dot, encoded_signature = token.strip().partition(".")
    if not dot or not encoded or not encoded_signature or len(token) > 1000:
        raise MalformedLink("not a token")
    data, signature = _unb64(encoded), _unb64(encoded_signature)
    expected = hmac.new(_key(secret_key), data, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise ForgedLink("signature does not match")
    try:
        kind, email = data.decode("utf-8").split("\n", 1)
        return Subscription(email=email, kind=EmailKind(kind))
    except ValueError as exc:  # signed by us, so only a future format could get here
        raise MalformedLink("unknown token content") from exc


def unsubscribe_url(base_url: str, subscription: Subscription, *, secret_key: str) -> str:
    """The page a person opens (and a mail client one-click POSTs to) to stop this email."""
    token = sign(subscription, secret_key=secret_key)
    return f"{base_url}{UNSUBSCRIBE_PATH}?{urlencode({'token': token})}"
