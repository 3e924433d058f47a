"""`kiln pip install` against an index that drops connections, stalls, answers 429/500/503
with Retry-After, cuts bodies short or serves other bytes than it lists: what can be retried
is, nothing bad is cached, and a failure names the URL (credentials hidden) and the attempts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import kiln_env
from tests.support.exactness import cache_problems
from tests.support.faulty_proxy import CORRUPT, DROP, TRUNCATE, Fault, FaultyProxy, stall, status
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg

PYTHON = "3.12"
SECRET = "s3cr3t-t0ken"
# Fast retries and a short read timeout, so a stall costs a second, not thirty.
NET = {"KILN_HTTP_TIMEOUT": "1", "KILN_HTTP_RETRIES": "2"}
PKG = Pkg("payload", "1.0", files={f"payload/m{i}.py": "X = 1\n" * 200 for i in range(5)})


@pytest.fixture
def proxy(index_server: IndexServer) -> Iterator[FaultyProxy]:
    index_server.add(PKG)
    front = FaultyProxy(index_server.url)
    try:
        yield front
    finally:
        front.stop()


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    path = tmp_path / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "kiln", "venv", str(path), "--python", PYTHON],
        env=kiln_env(tmp_path / "venv-cache"),
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"no Python {PYTHON}")
    return path


def install(proxy: FaultyProxy, venv: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    index = proxy.url.replace("http://", f"http://user:{SECRET}@") + "/simple"
    return subprocess.run(
        [
            sys.executable, "-m", "kiln", "pip", "install", "payload",
            "--python", str(venv / "bin" / "python"), "--index-url", index,
        ],
        env=kiln_env(cache, NET),
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip


def assert_secret_kept(done: subprocess.CompletedProcess[str], cache: Path) -> None:
    assert SECRET not in done.stdout + done.stderr
    for path in cache.rglob("*"):
        assert SECRET not in str(path)
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"credential in {path}"


RETRYABLE: list[tuple[str, str, Fault]] = [
    ("wheel-dropped", ".whl", DROP),
    ("wheel-stalled", ".whl", stall(3)),
    ("wheel-503-retry-after", ".whl", status(503, retry_after="1")),
    ("wheel-429-retry-after", ".whl", status(429, retry_after="1")),
    ("wheel-500", ".whl", status(500)),
    ("wheel-truncated", ".whl", TRUNCATE),
    ("page-dropped", "/simple/payload/", DROP),
    ("page-503", "/simple/payload/", status(503, retry_after="1")),
    ("page-truncated", "/simple/payload/", TRUNCATE),
    ("metadata-500", ".metadata", status(500)),
]


@pytest.mark.parametrize(("case", "match", "fault"), RETRYABLE, ids=[r[0] for r in RETRYABLE])
def test_a_passing_fault_is_retried_and_the_install_succeeds(
    proxy: FaultyProxy, venv: Path, tmp_path: Path, case: str, match: str, fault: Fault
) -> None:
    proxy.inject(match, fault)
    cache = tmp_path / "cache"
    done = install(proxy, venv, cache)
    assert done.returncode == 0, done.stderr
    hits = proxy.hits(match)
    assert hits[0] != "ok" and "ok" in hits, f"the fault was served, then a retry passed: {hits}"
    assert installed_versions(venv)["payload"] == "1.0"
    assert cache_problems(cache) == []
    assert_secret_kept(done, cache)


@pytest.mark.parametrize(
    ("case", "match", "fault"),
    [("wheel-always-503", ".whl", status(503)), ("page-always-dropped", "/simple/payload/", DROP)],
    ids=["wheel-always-503", "page-always-dropped"],
)
def test_a_lasting_fault_ends_with_the_url_and_the_attempts(
    proxy: FaultyProxy, venv: Path, tmp_path: Path, case: str, match: str, fault: Fault
) -> None:
    proxy.persist(match, fault)
    cache = tmp_path / "cache"
    done = install(proxy, venv, cache)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "error: failed to fetch `http://" in done.stderr
    assert "(3 attempts)" in done.stderr, done.stderr
    assert len(proxy.hits(match)) == 3
    assert "payload" not in installed_versions(venv)
    assert not list(cache.glob("wheels-v1/*/")), "nothing cached from a failed download"
    assert_secret_kept(done, cache)


def test_a_body_that_does_not_match_its_hash_is_refused_and_never_cached(
    proxy: FaultyProxy, venv: Path, tmp_path: Path
) -> None:
    proxy.persist(".whl", CORRUPT)
    cache = tmp_path / "cache"
    done = install(proxy, venv, cache)
    assert done.returncode != 0
    assert "error: hash mismatch for `payload-1.0-py3-none-any.whl`" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(cache.glob("wheels-v1/*/")) and not list(cache.glob("archives-v1/*"))
    assert_secret_kept(done, cache)
    # The bad bytes left nothing behind that a healthy index's answer would be checked against.
    proxy.clear()
    healed = install(proxy, venv, cache)
    assert healed.returncode == 0, healed.stderr
    assert installed_versions(venv)["payload"] == "1.0"
