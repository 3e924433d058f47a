"""The shared fixtures isolate each test from the machine's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import kiln_env
from tests.support.index_server import IndexServer
from tests.unit.support.client import fetch


def test_kiln_env_drops_inherited_tool_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", "/somewhere")
    monkeypatch.setenv("UV_INDEX_URL", "http://elsewhere")
    monkeypatch.setenv("KILN_INDEX_URL", "http://elsewhere")
    monkeypatch.setenv("VIRTUAL_ENV", "/some/venv")
    env = kiln_env(tmp_path, {"KILN_HTTP_RETRIES": "0"})
    assert "PIP_FIND_LINKS" not in env and "UV_INDEX_URL" not in env
    assert "VIRTUAL_ENV" not in env and "KILN_INDEX_URL" not in env
    assert env["KILN_CACHE_DIR"] == str(tmp_path)
    assert env["PIP_CONFIG_FILE"] == "/dev/null" and env["NO_COLOR"] == "1"
    assert env["KILN_HTTP_RETRIES"] == "0"


def test_kiln_runner_raises_with_output_when_checked(kiln) -> None:  # type: ignore[no-untyped-def]
    done = kiln("--no-such-flag-anywhere")
    assert done.returncode != 0
    with pytest.raises(AssertionError, match="stderr"):
        kiln("--no-such-flag-anywhere", check=True)


def test_stopped_server_refuses_connections(tmp_path: Path) -> None:
    server = IndexServer(tmp_path)
    url = server.index_url()
    assert fetch(url).status == 200
    server.stop()
    with pytest.raises(OSError):
        fetch(url)
