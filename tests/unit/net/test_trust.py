"""The trust store loaded ahead: handed to the first transport it fits, and only to it."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import pytest

from kiln.cli.parser import build_parser, verb_of
from kiln.net import trust


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trust, "_preloaded", {})


def test_the_preloaded_context_goes_to_the_first_taker_alone() -> None:
    trust.preload({})
    loaded = trust._preloaded["loaded"]
    first = trust.take({})
    second = trust.take({})
    assert isinstance(loaded, list) and first is loaded[0]
    assert first.verify_mode == ssl.CERT_REQUIRED and first.cert_store_stats()["x509_ca"] > 0
    assert second is not first
    preloaded = trust._preloaded
    trust.preload({})  # once per process: a second call starts nothing
    assert trust._preloaded is preloaded


def test_a_context_preloaded_for_other_certificates_is_not_taken(tmp_path: Path) -> None:
    bundle = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    if not bundle.is_file():
        pytest.skip("no system CA bundle to point SSL_CERT_FILE at")
    trust.preload({})
    own = trust.take({"SSL_CERT_FILE": str(bundle)})
    assert own is not trust.take({})  # the preloaded one is still there for its own env
    assert trust.take({}) is not own


def test_no_thread_to_start_leaves_the_taker_its_own_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    with monkeypatch.context() as patched:
        patched.setattr(threading.Thread, "start", refused)
        trust.preload({})
    context = trust.take({})
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_a_failed_preload_fails_the_taker(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    env = {"SSL_CERT_FILE": str(broken)}
    with pytest.raises(ssl.SSLError):
        trust.ssl_context(env)
    trust.preload(env)
    with pytest.raises(ssl.SSLError):
        trust.take(env)


@pytest.mark.parametrize(
    ("words", "env", "expected"),
    [
        (["lock"], {}, True),
        (["pip", "install", "x"], {}, True),
        (["lock", "--offline"], {}, False),
        (["add", "x"], {"UV_OFFLINE": "1"}, False),
        (["sync"], {}, False),
        (["pip", "list"], {}, False),
        (["venv"], {}, False),
    ],
)
def test_the_store_is_loaded_ahead_only_for_verbs_that_fetch(
    monkeypatch: pytest.MonkeyPatch, words: list[str], env: dict[str, str], expected: bool
) -> None:
    from kiln.cli.main import _will_fetch

    for name in ("KILN_OFFLINE", "UV_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = build_parser(verb_of(words)).parse_args(words)
    assert _will_fetch(args) is expected
