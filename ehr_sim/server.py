"""Run the simulated EHR on a free loopback port in a background thread (tests, demo, bench).

with SimServer(clients=registry) as sim:
    httpx.get(f"{sim.fhir_base}/metadata")
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from ehr_sim.app import create_sim_app
from ehr_sim.clients import ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.state import SimState


class SimServer:
    def __init__(
        self,
        settings: SimSettings | None = None,
        clients: ClientRegistry | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        port = self._socket.getsockname()[1]
        self.base_url = f"http://{host}:{port}"
        base = settings or SimSettings()
        self.settings = base.model_copy(update={"base_url": self.base_url})
        self.app = create_sim_app(self.settings, clients)
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def fhir_base(self) -> str:
        return self.settings.fhir_base

    @property
    def state(self) -> SimState:
        state: SimState = self.app.state.sim
        return state

    def start(self) -> SimServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the simulated EHR did not start within 10 seconds")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
