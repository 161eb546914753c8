"""The Stability stand-in, holding one request unanswered on demand: a worker can then be killed
while its request is in flight (tests/worker/test_neural_recovery.py, benchmarks/recovery.py)."""

from __future__ import annotations

import sys
import threading
from http.server import ThreadingHTTPServer

from tests.stability_server import Reply, StabilityStandIn


class HoldingStandIn(StabilityStandIn):
    """`arm()`: the next request that arrives is held until `release()`; `arrivals` counts them all."""

    def __init__(self, api_key: str) -> None:
        super().__init__(api_key)
        self.arrivals = 0
        self.held = threading.Event()  # set when an armed request has arrived
        self._armed = False
        self._release = threading.Event()
        self._server.handle_error = self._handle_error

    def _handle_error(self, request: object, address: object) -> None:
        # The held answer goes to a worker that was killed meanwhile: that broken pipe is the point.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        ThreadingHTTPServer.handle_error(self._server, request, address)

    def arm(self) -> None:
        with self._lock:
            self._armed = True
            self.held.clear()
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    def next_reply(self) -> Reply | None:
        with self._lock:
            self.arrivals += 1
            hold, self._armed = self._armed, False
        if hold:
            self.held.set()
            self._release.wait(300)
        return super().next_reply()
