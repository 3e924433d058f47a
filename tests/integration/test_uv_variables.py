"""uv's variables reach kiln: `UV_INDEX_URL` alone sends `kiln pip install` to that index."""

from __future__ import annotations

from pathlib import Path

from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg


def test_uv_index_url_alone_is_the_index(kiln, index_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("only-here", "1.0"))
    venv = tmp_path / "venv"
    kiln("venv", str(venv), "--python", "3.12", check=True)
    index_server.clear_requests()
    done = kiln(
        "pip", "install", "only-here", "--python", str(venv),
        env={"UV_INDEX_URL": index_server.index_url()},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert installed_versions(venv) == {"only-here": "1.0"}
    assert any("only-here" in r.path for r in index_server.requests)
