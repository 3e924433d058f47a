"""Flat indexes whose listings carry no hashes (a local folder, an HTML page of bare links):
the lock still records each file's sha256, and a later `--locked` run accepts it."""

from __future__ import annotations

import functools
import hashlib
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from kiln.cache.layout import Cache
from kiln.core.protocols import Found
from kiln.core.records import replace
from kiln.index import flat
from kiln.index.finder import IndexFinder, IndexUrl
from kiln.lock.pylock_toml import load_lock
from kiln.net.client import HttpClient
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg, build_wheel

PY312 = "3.12"  # a version request: kiln finds the interpreter
Kiln = Callable[..., "subprocess.CompletedProcess[str]"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wheels(folder: Path) -> dict[str, Path]:
    """app 1.0 needing lib, and two versions of lib: the lock takes lib 2.0 only."""
    built = [
        build_wheel(Pkg("app", "1.0", requires_dist=["lib>=1"]), "py3-none-any", folder),
        build_wheel(Pkg("lib", "1.0"), "py3-none-any", folder),
        build_wheel(Pkg("lib", "2.0"), "py3-none-any", folder),
    ]
    return {path.name: path for path in built}


def locked_hashes(lock_path: Path) -> dict[str, dict[str, str]]:
    lock = load_lock(lock_path.read_text(), lock_path)
    return {w.name: dict(w.hashes) for p in lock.packages for w in p.wheels}


def write_project(root: Path, index_url: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        "[project]\n"
        'name = "proj"\n'
        'version = "0.1"\n'
        'requires-python = ">=3.12"\n'
        'dependencies = ["app"]\n'
        "\n"
        "[[tool.uv.index]]\n"
        'name = "local"\n'
        f'url = "{index_url}"\n'
        'format = "flat"\n'
    )


def lock_then_sync_locked(kiln: Kiln, root: Path, server: IndexServer) -> None:
    index = ("--default-index", server.index_url())
    kiln("lock", "--project", str(root), "--python", PY312, *index, check=True)
    kiln(
        "sync", "--locked", "--project", str(root), "--python", PY312, *index, check=True
    )  # fmt: skip
    assert installed_versions(root / ".venv") == {"app": "1.0", "lib": "2.0"}


def test_lock_from_a_local_flat_index_records_real_hashes(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    files = wheels(tmp_path / "wheels")
    root = tmp_path / "proj"
    write_project(root, str(tmp_path / "wheels"))
    lock_then_sync_locked(kiln, root, index_server)
    assert locked_hashes(root / "pylock.toml") == {
        name: {"sha256": sha256(files[name])}
        for name in ("app-1.0-py3-none-any.whl", "lib-2.0-py3-none-any.whl")
    }


def test_pip_compile_to_pylock_with_find_links_records_real_hashes(
    kiln: Kiln, tmp_path: Path
) -> None:
    files = wheels(tmp_path / "wheels")
    (tmp_path / "requirements.in").write_text("app\n")
    kiln(
        "pip", "compile", "requirements.in", "--format", "pylock.toml", "-o", "pylock.toml",
        "--find-links", str(tmp_path / "wheels"), "--no-index", "--python-version", "3.12",
        cwd=tmp_path, check=True,
    )  # fmt: skip
    assert locked_hashes(tmp_path / "pylock.toml") == {
        name: {"sha256": sha256(files[name])}
        for name in ("app-1.0-py3-none-any.whl", "lib-2.0-py3-none-any.whl")
    }


@pytest.fixture
def bare_links_page(tmp_path: Path) -> Iterator[tuple[str, dict[str, Path]]]:
    """An HTML page over HTTP linking to wheels with no `#sha256=` fragments, served by a
    plain file server (no ranges, no PEP 658)."""
    folder = tmp_path / "site"
    files = wheels(folder)
    links = "".join(f'<a href="{name}">{name}</a><br/>\n' for name in sorted(files))
    (folder / "links.html").write_text(f"<html><body>\n{links}</body></html>\n")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=folder))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/links.html", files
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_lock_from_a_flat_page_without_hashes_records_what_was_downloaded(
    kiln: Kiln,
    index_server: IndexServer,
    tmp_path: Path,
    bare_links_page: tuple[str, dict[str, Path]],
) -> None:
    url, files = bare_links_page
    root = tmp_path / "proj"
    write_project(root, url)
    lock_then_sync_locked(kiln, root, index_server)
    assert locked_hashes(root / "pylock.toml") == {
        name: {"sha256": sha256(files[name])}
        for name in ("app-1.0-py3-none-any.whl", "lib-2.0-py3-none-any.whl")
    }


def test_local_files_are_hashed_only_when_asked_and_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "wheels"
    paths = [build_wheel(Pkg("lib", f"1.{i}"), "py3-none-any", folder) for i in range(20)]
    expected = sha256(paths[-1])
    reads: list[str] = []
    real_open = Path.open

    def counting_open(self: Path, *args: object, **kwargs: object) -> object:
        if self.parent == folder:
            reads.append(self.name)
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", counting_open)
    cache = Cache(tmp_path / "cache")
    client = HttpClient(cache=cache, retries=0, env={})
    finder = IndexFinder([IndexUrl(str(folder), format="flat")], (), client, cache)
    found = finder.find(NormalizedName("lib"))
    assert isinstance(found, Found) and len(found.files) == 20
    assert reads == [], "listing a folder reads none of its archives"

    chosen = next(f for f in found.files if f.filename == paths[-1].name)
    assert chosen.hashes.get("sha256") == expected
    assert dict(chosen.hashes.items) == {"sha256": expected}
    assert chosen.hashes and chosen == replace(chosen)
    assert reads == [paths[-1].name], "one file asked for, one read, however often"
    assert isinstance(chosen.hashes, flat.DigestOnDemand)

    # A file changed in place is read again rather than trusted from before.
    monkeypatch.undo()
    paths[-1].write_bytes(paths[-1].read_bytes() + b"\0")
    assert chosen.hashes.get("sha256") == sha256(paths[-1]) != expected
