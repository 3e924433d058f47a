"""`-v` shows every request kiln sends, credentials masked; without it, none is shown."""

from __future__ import annotations

from pathlib import Path

from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg


def test_verbose_lists_requests_without_credentials(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("alpha", "1.0"))
    index_server.require_auth("pypi", "user", "s3cret-token")
    venv = tmp_path / "venv"
    kiln("venv", str(venv), "--python", "3.12", check=True)
    authed = index_server.index_url().replace("http://", "http://user:s3cret-token@")
    done = kiln(
        "-v", "pip", "install", "alpha", "--python", str(venv), "--index-url", authed, check=True
    )
    requests = [line for line in done.stderr.splitlines() if line.startswith("GET ")]
    assert any("/simple/alpha/" in line and line.endswith("-> 200") for line in requests), (
        done.stderr
    )
    assert "s3cret-token" not in done.stderr

    quiet = kiln(
        "pip", "install", "alpha", "--python", str(venv), "--index-url", authed, "--reinstall"
    )
    assert not any(line.startswith("GET ") for line in quiet.stderr.splitlines())
