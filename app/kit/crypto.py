"""Encryption at rest for secrets the app must read back (EHR access and refresh tokens), and
the one digest for secrets it only compares.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) with a key derived from
``VALUELOOP_SECRET_KEY`` by HKDF, so the operator manages one secret and a database dump alone
reveals no token.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DecryptionError(Exception):
    """The ciphertext was not made with this secret key (or was changed)."""


class SecretBox:
    """Encrypts and decrypts short strings with a key derived for one purpose.

    >>> box = SecretBox("a-secret-key-of-at-least-32-characters!!", purpose="tokens")
    >>> box.decrypt(box.encrypt("hello"))
    'hello'
    """

    def __init__(self, secret_key: str, *, purpose: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"valueloop:{purpose}".encode()
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError("stored secret cannot be decrypted with this key") from exc


@lru_cache(maxsize=16)
def secret_box(secret_key: str, purpose: str) -> SecretBox:
    """The box for one purpose, made once: callers ask for it on every request."""
    return SecretBox(secret_key, purpose=purpose)


def digest(value: str) -> str:
    """How secrets that are only ever compared are stored (API tokens, session cookies, OAuth
    state, browser bindings): SHA-256, hex. They carry 256 random bits, so a fast hash is
    enough and a lookup stays one indexed read."""
    return hashlib.sha256(value.encode()).hexdigest()
