"""Apps registered with the simulated EHR, from a JSON file or the command line.

[{"client_id": "valueloop", "name": "ValueLoop", "kind": "public",
  "redirect_uris": ["http://127.0.0.1:8000/launch/callback"],
  "launch_url": "http://127.0.0.1:8000/launch"}]
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator


class ClientKind(StrEnum):
    PUBLIC = "public"
    SYMMETRIC = "confidential-symmetric"  # client_secret_basic
    ASYMMETRIC = "confidential-asymmetric"  # private_key_jwt with a registered JWKS


class ClientRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    kind: ClientKind = ClientKind.PUBLIC
    client_secret: str | None = None
    jwks: dict[str, Any] | None = None
    redirect_uris: list[str] = Field(min_length=1)
    launch_url: str | None = Field(
        default=None, description="Where the chart's Launch button sends iss and launch."
    )
    scopes: list[str] | None = Field(
        default=None, description="The most this client may be granted; None means anything."
    )

    @model_validator(mode="after")
    def _credentials_match_kind(self) -> ClientRegistration:
        if self.kind is ClientKind.SYMMETRIC and not self.client_secret:
            raise ValueError("a confidential-symmetric client needs client_secret")
        if self.kind is ClientKind.ASYMMETRIC and not (self.jwks and self.jwks.get("keys")):
            raise ValueError("a confidential-asymmetric client needs jwks with keys")
        if self.kind is ClientKind.PUBLIC and (self.client_secret or self.jwks):
            raise ValueError("a public client has no secret and no keys")
        return self


_REGISTRATIONS = TypeAdapter(list[ClientRegistration])


class ClientRegistry:
    def __init__(self, clients: list[ClientRegistration] | None = None) -> None:
        self._clients: dict[str, ClientRegistration] = {}
        for client in clients or []:
            self.add(client)

    @classmethod
    def from_file(cls, path: Path) -> ClientRegistry:
        return cls(_REGISTRATIONS.validate_json(path.read_bytes()))

    def add(self, client: ClientRegistration) -> None:
        self._clients[client.client_id] = client

    def get(self, client_id: str) -> ClientRegistration | None:
        return self._clients.get(client_id)

    def all(self) -> list[ClientRegistration]:
        return list(self._clients.values())

    def to_json(self) -> str:
        return json.dumps([client.model_dump(exclude_none=True) for client in self.all()])
