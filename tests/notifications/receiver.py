"""A webhook receiver on a free loopback port, for the outbox tests: it verifies every
request's signature with ``standardwebhooks`` and records what it got, and can answer with an
error ("down") or hold a request until the test lets it go."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook

WAIT_SECONDS = 60.0  # how long a condition may take on a busy machine before it is a failure


@dataclass
class Received:
    message_id: str
    body: bytes
    payload: dict[str, Any]
    answered: int


@dataclass
class Receiver:
    secret: str
    status: int = 200  # what to answer
    hold_first: bool = False  # hold the first request until ``release``
    received: list[Received] = field(default_factory=list)
    bad_signatures: int = 0
    url: str = ""
    held_id: str | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _release: threading.Event = field(default_factory=threading.Event)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except Exception:
            with self._changed:
                self.bad_signatures += 1
                self._changed.notify_all()
            return 400
        with self._changed:
            hold = self.hold_first and self.held_id is None
            if hold:
                self.held_id = headers["webhook-id"]
            answered = self.status
            # A held request has no answer yet (and its sender may never read one).
            self.received.append(
                Received(headers["webhook-id"], body, payload, 0 if hold else answered)
            )
            self._changed.notify_all()
        if hold:
            self._release.wait(WAIT_SECONDS)
        return answered

    def release(self) -> None:
        self._release.set()

    def wait_until(self, condition: Callable[[Receiver], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        with self._changed:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}")
                self._changed.wait(left)

    def delivered_ids(self) -> list[str]:
        with self._changed:
            return [item.message_id for item in self.received if 200 <= item.answered < 300]

    def bodies(self) -> list[bytes]:
        with self._changed:
            return [item.body for item in self.received]


@contextmanager
def running_receiver(secret: str, **options: Any) -> Iterator[Receiver]:
    receiver = Receiver(secret=secret, **options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender is gone (killed mid-delivery)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        server.shutdown()
        server.server_close()


def event_types(receiver: Receiver) -> list[str]:
    return [json.loads(body)["type"] for body in receiver.bodies()]
