"""ValueLoop's own key for ``private_key_jwt`` client authentication, and its public JWKS.

SMART "Client Authentication: Asymmetric": the EHR fetches our public key from
``/.well-known/jwks.json`` (or is given it at registration) and checks the assertions we sign
with RS384. The private key comes from ``VALUELOOP_CLIENT_JWK`` (a private JWK as JSON); in
demo mode one is generated once and kept in the data directory.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from joserfc.jwk import ECKey, RSAKey

from app.config import Mode, Settings

ALGORITHM: Literal["RS384", "ES384"] = "RS384"


@dataclass(frozen=True)
class ClientSigningKey:
    private_key: RSAKey | ECKey
    kid: str
    algorithm: Literal["RS384", "ES384"]

    def public_jwk(self) -> dict[str, Any]:
        public = dict(self.private_key.as_dict(private=False))
        public.update({"kid": self.kid, "alg": self.algorithm, "use": "sig"})
        return public


def _load(data: dict[str, Any]) -> ClientSigningKey:
    key: RSAKey | ECKey
    if data.get("kty") == "EC":
        key = ECKey.import_key(data)
        algorithm: Literal["RS384", "ES384"] = "ES384"
    else:
        key = RSAKey.import_key(data)
        algorithm = ALGORITHM
    kid = str(data.get("kid") or key.thumbprint())
    return ClientSigningKey(private_key=key, kid=kid, algorithm=algorithm)


def _generate_demo_key(path: Path) -> dict[str, Any]:
    key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8)})
    data = dict(key.as_dict(private=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(temporary, path)
    return data


@lru_cache(maxsize=4)
def _cached(jwk_json: str) -> ClientSigningKey:
    return _load(json.loads(jwk_json))


def client_signing_key(settings: Settings) -> ClientSigningKey:
    if settings.client_jwk is not None:
        return _cached(settings.client_jwk.get_secret_value())
    if settings.mode is not Mode.DEMO:
        raise RuntimeError(
            "VALUELOOP_CLIENT_JWK is not set: private_key_jwt needs ValueLoop's private key"
        )
    path = settings.data_dir / "client_jwk.json"
    data = json.loads(path.read_text()) if path.exists() else _generate_demo_key(path)
    return _cached(json.dumps(data, sort_keys=True))
