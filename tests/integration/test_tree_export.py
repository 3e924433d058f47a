"""`kiln tree` and `kiln export` read the same lock that `kiln sync` installs from."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_lock_scenarios import S4, project
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions


def args(root: Path, server: IndexServer) -> tuple[str, ...]:
    return ("--project", str(root), "--default-index", server.index_url("pypi"))


def test_tree_shows_this_platforms_builds(kiln, torch_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    out = kiln(
        "tree", "--extra", "cpu", "--python", "3.12", *args(root, torch_server), check=True
    ).stdout
    lines = out.splitlines()
    assert lines[0] == "project v0.1.0"
    assert "├── torch v2.5.1+cpu" in lines
    assert any(line.strip().endswith("mpmath v1.3.0") for line in lines)
    assert "torch v2.5.1+cpu (*)" in out, "a repeated subtree is shown once"
    shallow = kiln(
        "tree",
        "--extra",
        "cpu",
        "--depth",
        "1",
        "--python",
        "3.12",
        *args(root, torch_server),
        check=True,
    ).stdout
    assert "filelock" not in shallow
    inverted = kiln(
        "tree",
        "--extra",
        "cpu",
        "--invert",
        "--python",
        "3.12",
        *args(root, torch_server),
        check=True,
    ).stdout
    assert "├── mpmath v1.3.0" in inverted or "└── mpmath v1.3.0" in inverted
    universal = kiln(
        "tree", "--universal", "--extra", "cu124", *args(root, torch_server), check=True
    ).stdout
    assert "2.5.1+cu124" in universal


def test_exported_requirements_install_what_sync_installs(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    out = tmp_path / "requirements.txt"
    kiln("export", "--extra", "cu124", "-o", str(out), *args(root, torch_server), check=True)
    text = out.read_text()
    assert "torch==2.5.1+cu124" in text and "--hash=sha256:" in text
    assert "+cpu" not in text and "extras" not in text
    kiln("sync", "--extra", "cu124", "--python", "3.12", *args(root, torch_server), check=True)
    other = tmp_path / "other"
    kiln("venv", str(other), "--python", "3.12", check=True)
    kiln(
        "pip", "install", "-r", str(out), "--python", str(other),
        "--index-url", torch_server.index_url("pypi"),
        "--extra-index-url", torch_server.index_url("whl/cu124"), check=True,
    )  # fmt: skip
    assert installed_versions(other) == installed_versions(root / ".venv")
    pylock = kiln("export", "--format", "pylock.toml", *args(root, torch_server), check=True).stdout
    assert pylock.strip() == (root / "pylock.toml").read_text().strip()
