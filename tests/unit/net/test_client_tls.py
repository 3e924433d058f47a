"""TLS failures: a refused certificate stops at once with the fix; anything else a
server's TLS does wrong (an alert, a cut-off handshake) is retried as the network is."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiln.core.errors import NetworkError
from kiln.net.client import HttpClient
from kiln.net.failures import UNREACHABLE_HINT, certificate_refused

# A TLS record: alert (21), TLS 1.2, two bytes: fatal (2), decode_error (50).
_DECODE_ERROR_ALERT = bytes([21, 3, 3, 0, 2, 2, 50])


class TlsServer:
    """Answers its first ``alerts`` connections' handshakes with a fatal alert, then serves
    ``200 ok`` over TLS with ``cert`` (when given)."""

    def __init__(self, alerts: int, cert: tuple[Path, Path] | None) -> None:
        self.connections = 0
        self._alerts = alerts
        self._context: ssl.SSLContext | None = None
        if cert is not None:
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.load_cert_chain(*cert)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self._sock.getsockname()[1]}/page"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                if self.connections <= self._alerts or self._context is None:
                    conn.recv(4096)  # the ClientHello
                    conn.sendall(_DECODE_ERROR_ALERT)
                    return
                with self._context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            except OSError:
                pass  # the client gave up on this connection

    def stop(self) -> None:
        self._sock.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl to make a certificate with")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def servers() -> Iterator[list[TlsServer]]:
    made: list[TlsServer] = []
    yield made
    for server in made:
        server.stop()


def _client(env: dict[str, str]) -> HttpClient:
    return HttpClient(retries=2, backoff=0.001, env=env)


def test_an_alert_from_the_server_is_retried_and_the_next_handshake_answers(
    certificate: tuple[Path, Path], servers: list[TlsServer]
) -> None:
    server = TlsServer(alerts=1, cert=certificate)
    servers.append(server)
    response = _client({"SSL_CERT_FILE": str(certificate[0])}).get(server.url)
    assert (response.status, response.body) == (200, b"ok")
    assert server.connections == 2


def test_alerts_on_every_attempt_are_a_network_failure_not_a_certificate_one(
    servers: list[TlsServer],
) -> None:
    server = TlsServer(alerts=99, cert=None)
    servers.append(server)
    with pytest.raises(NetworkError) as caught:
        _client({}).get(server.url)
    (cause,) = caught.value.causes
    assert cause.startswith("tls error:") and cause.endswith("(3 attempts)")
    assert caught.value.hint == UNREACHABLE_HINT
    assert server.connections == 3


def test_an_untrusted_certificate_is_refused_at_once_with_the_fix(
    certificate: tuple[Path, Path], servers: list[TlsServer]
) -> None:
    server = TlsServer(alerts=0, cert=certificate)
    servers.append(server)
    with pytest.raises(NetworkError) as caught:
        _client({}).get(server.url)  # the system's CAs do not sign it
    (cause,) = caught.value.causes
    assert "certificate verify failed" in cause
    assert caught.value.hint is not None and "SSL_CERT_FILE" in caught.value.hint
    assert server.connections == 1


def test_only_a_failed_verification_counts_as_the_certificates_fault() -> None:
    refused = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed")
    wrapped = OSError("wrapped")
    wrapped.__cause__ = refused
    assert certificate_refused(refused)
    assert certificate_refused(wrapped)
    assert not certificate_refused(ssl.SSLError(1, "[SSL: TLSV1_ALERT_DECODE_ERROR] decode error"))
    assert not certificate_refused(ssl.SSLEOFError(8, "EOF occurred in violation of protocol"))
