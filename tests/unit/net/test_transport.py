"""Proxies, TLS trust, and the import cost of the HTTP stack."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from kiln.net.transport import Transport, bypasses_proxy
from kiln.net.trust import ssl_context


@pytest.mark.parametrize(
    ("url", "no_proxy", "bypass"),
    [
        ("http://127.0.0.1:8080/simple/", None, True),
        ("http://localhost/simple/", None, True),
        ("http://[::1]:9/simple/", None, True),
        ("https://pypi.org/simple/", None, False),
        ("https://pypi.org/simple/", "*", True),
        ("https://pypi.org/simple/", "example.com, pypi.org", True),
        ("https://files.pypi.org/simple/", ".pypi.org", True),
        ("https://files.pypi.org/simple/", "pypi.org", True),
        ("https://notpypi.org/simple/", "pypi.org", False),
        ("https://pypi.org:8443/simple/", "pypi.org:443", False),
        ("https://pypi.org/simple/", "pypi.org:443", True),
        ("http://10.1.2.3/simple/", "10.0.0.0/8", True),
        ("http://11.1.2.3/simple/", "10.0.0.0/8", False),
    ],
)
def test_no_proxy_matching(url: str, no_proxy: str | None, bypass: bool) -> None:
    assert bypasses_proxy(url, no_proxy) is bypass


def test_proxy_is_chosen_per_scheme_and_skipped_for_no_proxy_hosts() -> None:
    transport = Transport(
        {
            "HTTPS_PROXY": "http://proxy.corp:3128",
            "http_proxy": "http://plain-proxy.corp:3128",
            "NO_PROXY": "internal.corp",
        }
    )
    assert transport.proxy_for("https://pypi.org/simple/") == "http://proxy.corp:3128"
    assert transport.proxy_for("http://mirror.example/simple/") == "http://plain-proxy.corp:3128"
    assert transport.proxy_for("https://internal.corp/simple/") is None
    assert transport.proxy_for("http://127.0.0.1:1234/simple/") is None


def test_ssl_cert_file_is_trusted(tmp_path: Path) -> None:
    bundle = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    if not bundle.is_file():
        pytest.skip("no system CA bundle to point SSL_CERT_FILE at")
    context = ssl_context({"SSL_CERT_FILE": str(bundle)})
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509_ca"] > 0


def test_missing_ssl_cert_file_falls_back_to_the_system_store(tmp_path: Path) -> None:
    context = ssl_context({"SSL_CERT_FILE": str(tmp_path / "missing.pem")})
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_index_layer_imports_without_urllib3_or_ssl() -> None:
    # The CLI's start-up path may reach the index layer's modules; urllib3 and ssl come
    # only with `kiln.net.client`, which is imported when a command first talks HTTP.
    code = (
        "import sys; import kiln.index.finder, kiln.index.flat, kiln.index.metadata, "
        "kiln.net.auth, kiln.net.redact, kiln.net.failures; "
        "print(sorted(m for m in ('urllib3', 'ssl') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_plain_http_never_loads_the_trust_store() -> None:
    transport = Transport({})
    plain = transport.manager("http://127.0.0.1:8080/simple/")
    assert transport._context is None
    secure = transport.manager("https://pypi.org/simple/")
    assert transport._context is not None and secure is not plain
    assert transport.manager("HTTP://mirror.local/simple/") is plain
    assert transport.manager("https://files.pythonhosted.org/x.whl") is secure
    transport.close()
