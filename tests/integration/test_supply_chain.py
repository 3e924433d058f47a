"""Where packages come from in a project: an index's name never lets another index's higher
version in (the torchtriton attack), and credentials stay out of output, the cache and the lock."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg

Kiln = Callable[..., "subprocess.CompletedProcess[str]"]
PYTHON = "3.12"


def project(root: Path, deps: list[str], tail: str) -> Path:
    root.mkdir()
    quoted = ", ".join(f'"{d}"' for d in deps)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{quoted}]\n\n{tail}"
    )
    return root


def lock_urls(root: Path) -> str:
    return (root / "pylock.toml").read_text()


def test_a_name_on_the_first_index_never_comes_from_a_later_one_with_a_higher_version(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(Pkg("internal-lib", "1.0", requires_dist=["torchtriton"]), index="private")
    index_server.add(Pkg("torchtriton", "1.0"), index="private")
    # The attack: the same names, far higher versions, on the public index.
    index_server.add(Pkg("internal-lib", "99.0"), Pkg("torchtriton", "99.0"))
    root = project(
        tmp_path / "app",
        ["internal-lib"],
        f'[[tool.uv.index]]\nname = "private"\nurl = "{index_server.index_url("private")}"\n',
    )
    kiln("lock", "--project", str(root), "--default-index", index_server.index_url(), check=True)
    text = lock_urls(root)
    assert 'version = "99.0"' not in text
    assert text.count('\nversion = "1.0"') == 2
    assert "/private/" in text and "99.0" not in text
    kiln(
        "sync", "--project", str(root), "--python", PYTHON, "--no-install-project",
        "--default-index", index_server.index_url(), check=True,
    )  # fmt: skip
    files = [r.path for r in index_server.requests if r.fetched_body]
    assert files and all("/private/" in f for f in files), files


def test_a_package_pinned_to_an_explicit_index_never_comes_from_another(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(Pkg("internal-lib", "1.0"), index="private")
    index_server.add(Pkg("internal-lib", "99.0"))
    root = project(
        tmp_path / "app",
        ["internal-lib"],
        f'[[tool.uv.index]]\nname = "private"\nurl = "{index_server.index_url("private")}"\n'
        'explicit = true\n\n[tool.uv.sources]\ninternal-lib = { index = "private" }\n',
    )
    kiln("lock", "--project", str(root), "--default-index", index_server.index_url(), check=True)
    text = lock_urls(root)
    assert 'version = "1.0"' in text and "99.0" not in text
    # Not even its page is asked of the public index (the lock reads pages ahead of time).
    asked = [r.path for r in index_server.requests if r.kind == "page"]
    assert "/private/internal-lib/" in asked and "/simple/internal-lib/" not in asked, asked


def test_credentials_never_reach_output_cache_or_lock(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(Pkg("internal-lib", "1.0"), index="private")
    index_server.require_auth("private", "alice", "pr1vate-s3cret")
    url = index_server.index_url("private").replace("://", "://alice:pr1vate-s3cret@")
    root = project(
        tmp_path / "app", ["internal-lib"], f'[[tool.uv.index]]\nname = "private"\nurl = "{url}"\n'
    )
    cache = tmp_path / "cache"
    env = {"KILN_CACHE_DIR": str(cache)}
    locked = kiln("lock", "--project", str(root), "-v", env=env, check=True)
    synced = kiln(
        "sync", "--project", str(root), "--python", PYTHON, "--no-install-project", "-v",
        env=env, check=True,
    )  # fmt: skip
    for done in (locked, synced):
        assert "pr1vate-s3cret" not in done.stdout + done.stderr
    assert "pr1vate-s3cret" not in lock_urls(root)
    leaked = [
        p for p in [cache, *cache.rglob("*")]
        if "pr1vate-s3cret" in str(p) or (p.is_file() and b"pr1vate-s3cret" in p.read_bytes())
    ]  # fmt: skip
    assert leaked == []
