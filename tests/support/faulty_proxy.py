"""An HTTP front for the test index that misbehaves on request: drops connections, stalls,
answers 429/500/503 with Retry-After, cuts bodies short, or serves other bytes.

`inject(match, *faults)` queues faults for requests whose path ends with ``match``; each
request takes the next fault, and when the queue is empty requests pass to the index.
`persist(match, fault)` repeats one fault forever. Every request is logged.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Fault:
    kind: str  # "drop", "stall", "status", "truncate", "corrupt"
    status: int = 503
    retry_after: str | None = None
    stall_s: float = 5.0


DROP = Fault("drop")
TRUNCATE = Fault("truncate")
CORRUPT = Fault("corrupt")


def status(code: int, retry_after: str | None = None) -> Fault:
    return Fault("status", status=code, retry_after=retry_after)


def stall(seconds: float) -> Fault:
    return Fault("stall", stall_s=seconds)


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.log: list[tuple[str, str]] = []  # (path, what happened)
        self._queues: list[tuple[str, list[Fault]]] = []
        self._forever: list[tuple[str, Fault]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def inject(self, match: str, *faults: Fault) -> None:
        with self._lock:
            self._queues.append((match, list(faults)))

    def persist(self, match: str, fault: Fault) -> None:
        with self._lock:
            self._forever.append((match, fault))

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
            self._forever.clear()

    def hits(self, match: str) -> list[str]:
        with self._lock:
            return [what for path, what in self.log if path.endswith(match)]

    def _take(self, path: str) -> Fault | None:
        with self._lock:
            for match, fault in self._forever:
                if path.endswith(match):
                    return fault
            for match, queue in self._queues:
                if path.endswith(match) and queue:
                    return queue.pop(0)
        return None

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler(proxy: FaultyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._answer(head=False)

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def _upstream(self) -> tuple[int, dict[str, str], bytes]:
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "range")}
            request = urllib.request.Request(
                proxy.upstream + self.path, headers=headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:
                    return resp.status, dict(resp.headers.items()), resp.read()
            except urllib.error.HTTPError as err:
                return err.code, dict(err.headers.items()), err.read()

        def _send(self, code: int, headers: dict[str, str], body: bytes, *, head: bool) -> None:
            self.send_response(code)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _answer(self, *, head: bool) -> None:
            fault = proxy._take(self.path)
            kind = "ok" if fault is None else fault.kind
            with proxy._lock:
                shown = str(fault.status) if fault is not None and kind == "status" else kind
                proxy.log.append((self.path, shown))
            if fault is None:
                code, headers, body = self._upstream()
                self._send(code, headers, body, head=head)
                return
            self.close_connection = True
            if fault.kind == "drop":
                return
            if fault.kind == "stall":
                proxy._stop.wait(fault.stall_s)
                return
            if fault.kind == "status":
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(fault.status, extra, b"busy\n", head=head)
                return
            code, headers, body = self._upstream()
            if fault.kind == "corrupt":
                self._send(code, headers, bytes(b ^ 0xFF for b in body), head=head)
                return
            # "truncate": promise the whole body, send half, hang up.
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()

    return Handler
