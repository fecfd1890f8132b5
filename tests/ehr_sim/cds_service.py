"""A stand-in CDS Hooks service on a real loopback port, for the simulated EHR's client tests:
it lists one order-sign service with ValueLoop's prefetch templates, records every request
(headers and body) and answers with the cards a test gives it."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI, Request

SERVICE_ID = "test-order-sign"
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "encounter": "Encounter/{{context.encounterId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "historyServiceRequests": "ServiceRequest?patient={{context.patientId}}",
    "user": "Practitioner/{{userPractitionerId}}",
    "unfillable": "Observation?patient={{context.noSuchField}}",
}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeCdsService:
    cards: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        app = FastAPI()

        @app.get("/cds-services")
        async def discovery(request: Request) -> dict[str, Any]:
            self._record(request, None)
            return {
                "services": [
                    {"hook": "order-sign", "id": SERVICE_ID, "title": "Test", "prefetch": PREFETCH}
                ]
            }

        @app.post("/cds-services/{service_id}")
        async def call(service_id: str, request: Request) -> dict[str, Any]:
            self._record(request, await request.json())
            return {"cards": self.cards}

        @app.post("/cds-services/{service_id}/feedback")
        async def feedback(service_id: str, request: Request) -> dict[str, Any]:
            self._record(request, await request.json())
            return {"stored": 1}

        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def service_url(self) -> str:
        return f"{self.base_url}/cds-services/{SERVICE_ID}"

    def _record(self, request: Request, body: Any) -> None:
        self.requests.append(
            Recorded(request.method, request.url.path, dict(request.headers), body)
        )

    def hook_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == f"/cds-services/{SERVICE_ID}"]

    def feedback(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/feedback")]

    def __enter__(self) -> FakeCdsService:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake CDS service did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
