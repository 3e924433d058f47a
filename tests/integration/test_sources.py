"""Packages from a path, a URL, git or the workspace: locked in their PEP 751 form, synced
from their source and never from an index, even where the index has the same name newer."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.support.git import needs_git
from tests.support.index_server import IndexServer
from tests.support.source_trees import make_lib, make_repo, value
from tests.support.uv import uv_command, uv_install_lock
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg


def make_project(root: Path, dependencies: list[str], sources: str, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{deps}]\n\n[tool.uv.sources]\n{sources}\n{extra}"
    )
    return root


def sync(kiln, root: Path, server: IndexServer, *args: str, check: bool = True):  # type: ignore[no-untyped-def]
    return kiln(
        "sync", "--project", str(root), "--python", "3.12",
        "--default-index", server.index_url(), *args, check=check,
    )  # fmt: skip


def test_a_path_source_is_locked_as_a_directory_and_installed_from_it(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # The index has a newer `lib` of its own, and what lib needs.
    index_server.add(Pkg("lib", "9.0", files={"lib/__init__.py": "VALUE = 'index'\n"}))
    index_server.add(Pkg("dep", "1.0"))
    make_lib(tmp_path / "lib", "lib", "0.3.0", "path", ["dep"])
    root = make_project(tmp_path / "app", ["lib"], 'lib = { path = "../lib" }')
    sync(kiln, root, index_server)
    lock = (root / "pylock.toml").read_text()
    assert 'directory = { path = "../lib", editable = false }' in lock
    assert installed_versions(root / ".venv") == {"lib": "0.3.0", "dep": "1.0"}
    assert value(root / ".venv", "lib").startswith("path ")
    assert "site-packages" in value(root / ".venv", "lib"), "not editable: a copy"
    again = sync(kiln, root, index_server)
    assert "+ lib" not in again.stderr and "- lib" not in again.stderr


def test_an_editable_path_source_shows_an_edit_without_a_sync(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("lib", "9.0"))
    lib = make_lib(tmp_path / "lib", "lib", "0.3.0", "before")
    root = make_project(tmp_path / "app", ["lib"], 'lib = { path = "../lib", editable = true }')
    sync(kiln, root, index_server)
    assert 'directory = { path = "../lib", editable = true }' in (root / "pylock.toml").read_text()
    assert value(root / ".venv", "lib") == f"before {lib / 'src' / 'lib' / '__init__.py'}"
    (lib / "src" / "lib" / "__init__.py").write_text("VALUE = 'after'\n")
    assert value(root / ".venv", "lib").startswith("after ")


def test_wheel_and_sdist_files_are_locked_as_archives_with_their_hashes(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(
        Pkg("onwheel", "1.0", files={"onwheel/__init__.py": "VALUE = 'file'\n"}),
        Pkg("onsdist", "2.0", wheel=False, sdist=True,
            files={"onsdist/__init__.py": "VALUE = 'sdist'\n"}),
        Pkg("onwheel", "5.0", files={"onwheel/__init__.py": "VALUE = 'index'\n"}),
    )  # fmt: skip
    files = tmp_path / "files"
    files.mkdir()
    for name in ("onwheel-1.0-py3-none-any.whl", "onsdist-2.0.tar.gz"):
        (files / name).write_bytes(
            next(f for f in index_server.files(name.split("-")[0]) if f.filename == name).body
        )
    root = make_project(
        tmp_path / "app",
        ["onwheel", "onsdist"],
        'onwheel = { path = "../files/onwheel-1.0-py3-none-any.whl" }\n'
        'onsdist = { path = "../files/onsdist-2.0.tar.gz" }',
    )
    sync(kiln, root, index_server)
    lock = (root / "pylock.toml").read_text()
    assert 'path = "../files/onwheel-1.0-py3-none-any.whl"' in lock
    assert 'path = "../files/onsdist-2.0.tar.gz"' in lock
    assert lock.count("[packages.archive]") == 2
    assert installed_versions(root / ".venv") == {"onwheel": "1.0", "onsdist": "2.0"}
    assert value(root / ".venv", "onwheel").startswith("file ")
    # The file changed after locking: with nothing cached from before, its hash no longer
    # matches and nothing is installed.
    (files / "onwheel-1.0-py3-none-any.whl").write_bytes(b"not the locked wheel")
    shutil.rmtree(root / ".venv")
    broken = kiln(
        "sync", "--project", str(root), "--python", "3.12", "--frozen",
        "--default-index", index_server.index_url(),
        env={"KILN_CACHE_DIR": str(tmp_path / "fresh-cache")},
    )  # fmt: skip
    assert broken.returncode != 0
    assert "hash" in broken.stderr.lower() and "Traceback" not in broken.stderr


def test_a_url_source_is_locked_with_its_hash_and_installed_from_that_url(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("six", "1.16.0", files={"six.py": "VALUE = 'url'\n"}))
    index_server.add(Pkg("six", "1.17.0", files={"six.py": "VALUE = 'index'\n"}))
    url = index_server.file_url("six-1.16.0-py3-none-any.whl")
    root = make_project(tmp_path / "app", ["six"], f'six = {{ url = "{url}" }}')
    sync(kiln, root, index_server)
    lock = (root / "pylock.toml").read_text()
    assert f'url = "{url}"' in lock and "[packages.archive]" in lock
    assert installed_versions(root / ".venv") == {"six": "1.16.0"}
    assert value(root / ".venv", "six").startswith("url ")


def test_a_direct_reference_in_the_dependencies_is_its_url_source(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("six", "1.16.0"), Pkg("six", "1.17.0"))
    url = index_server.file_url("six-1.16.0-py3-none-any.whl")
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.12"\n'
        f'dependencies = ["six @ {url}"]\n'
    )
    sync(kiln, root, index_server)
    assert installed_versions(root / ".venv") == {"six": "1.16.0"}


@needs_git
def test_a_git_source_pins_the_commit_of_its_tag_and_installs_that_tree(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("gitpkg", "7.0"))
    first, later = make_repo(tmp_path / "repo")
    url = (tmp_path / "repo").as_uri()
    root = make_project(tmp_path / "app", ["gitpkg"], f'gitpkg = {{ git = "{url}", tag = "v1" }}')
    sync(kiln, root, index_server)
    lock = (root / "pylock.toml").read_text()
    assert "[packages.vcs]" in lock and f'commit-id = "{first}"' in lock
    assert 'requested-revision = "v1"' in lock
    assert installed_versions(root / ".venv") == {"gitpkg": "1.0.0"}
    assert value(root / ".venv", "gitpkg").startswith("v1 ")

    # The branch moves on: a source on it locks the later commit.
    make_project(tmp_path / "app", ["gitpkg"], f'gitpkg = {{ git = "{url}", branch = "main" }}')
    sync(kiln, root, index_server)
    assert f'commit-id = "{later}"' in (root / "pylock.toml").read_text()
    assert installed_versions(root / ".venv") == {"gitpkg": "1.1.0"}
    assert value(root / ".venv", "gitpkg").startswith("later ")


@needs_git
def test_a_git_revision_that_does_not_exist_is_an_error_naming_it(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("gitpkg", "7.0"))
    make_repo(tmp_path / "repo")
    url = (tmp_path / "repo").as_uri()
    root = make_project(tmp_path / "app", ["gitpkg"], f'gitpkg = {{ git = "{url}", tag = "v9" }}')
    done = sync(kiln, root, index_server, check=False)
    assert done.returncode != 0
    assert "`v9` is not a branch, tag or commit" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / "pylock.toml").exists()


def test_a_workspace_member_is_locked_at_the_root_and_installed_editable(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("member", "9.0"), Pkg("dep", "1.0"))
    root = make_project(
        tmp_path / "ws",
        ["member"],
        "member = { workspace = true }",
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n',
    )
    member = make_lib(root / "packages" / "member", "member", "0.2.0", "ws", ["dep"])
    # From the member's folder, the workspace's lock is the one made.
    kiln("lock", "--project", str(member), "--default-index", index_server.index_url(), check=True)
    assert not (member / "pylock.toml").exists()
    lock = (root / "pylock.toml").read_text()
    assert 'directory = { path = "packages/member", editable = true }' in lock
    sync(kiln, root, index_server)
    assert installed_versions(root / ".venv") == {"member": "0.2.0", "dep": "1.0"}
    assert value(root / ".venv", "member").endswith(str(member / "src" / "member" / "__init__.py"))


def test_a_failing_build_shows_the_backend_error_and_keeps_the_environment(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("dep", "1.0"))
    lib = make_lib(tmp_path / "lib", "lib", "0.3.0", "good")
    root = make_project(tmp_path / "app", ["lib", "dep"], 'lib = { path = "../lib" }')
    sync(kiln, root, index_server)
    make_lib(lib, "lib", "0.4.0", "bad")
    backend = lib / "backend.py"
    backend.write_text(
        backend.read_text()
        + "\ndef build_wheel(*a, **k):\n    raise RuntimeError('backend exploded here')\n"
    )
    done = sync(kiln, root, index_server, check=False)
    assert done.returncode != 0
    assert "backend exploded here" in done.stderr
    assert "error:" in done.stderr and "lib" in done.stderr
    assert installed_versions(root / ".venv") == {"lib": "0.3.0", "dep": "1.0"}
    assert value(root / ".venv", "lib").startswith("good ")


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ('{ path = "../missing" }', "the path source of `lib` does not exist"),
        ('{ url = "https://example.invalid/lib.html" }', "is not a wheel or an sdist"),
        ("{ workspace = true }", "no member of the workspace is named `lib`"),
        ('{ path = "../lib", package = false }', "package = false` is not supported"),
    ],
)
def test_a_source_that_cannot_be_served_is_an_error_never_the_index_package(
    kiln, index_server: IndexServer, tmp_path: Path, source: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("lib", "1.0"))
    make_lib(tmp_path / "lib", "lib", "0.3.0", "path")
    root = make_project(tmp_path / "app", ["lib"], f"lib = {source}")
    done = kiln("lock", "--project", str(root), "--default-index", index_server.index_url())
    assert done.returncode != 0, done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / "pylock.toml").exists()


def test_a_direct_reference_kiln_cannot_fetch_is_an_error(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("lib", "1.0"))
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.12"\n'
        'dependencies = ["lib @ svn+https://example.invalid/lib"]\n'
    )
    done = kiln("lock", "--project", str(root), "--default-index", index_server.index_url())
    assert done.returncode != 0
    assert "points at a URL kiln cannot fetch (`svn+https`)" in done.stderr
    assert not (root / "pylock.toml").exists()


@needs_git
def test_add_writes_path_git_and_url_sources_as_uv_does(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("six", "1.16.0"), Pkg("six", "1.17.0"), Pkg("lib", "9.0"))
    make_lib(tmp_path / "lib", "lib", "0.3.0", "path")
    first, _ = make_repo(tmp_path / "repo")
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.12"\ndependencies = []\n'
    )
    url = index_server.file_url("six-1.16.0-py3-none-any.whl")
    repo = (tmp_path / "repo").as_uri()
    for args in (["../lib", "--editable"], [f"git+{repo}@v1"], [f"six @ {url}"]):
        kiln(
            "add", *args, "--project", str(root), "--python", "3.12",
            "--default-index", index_server.index_url(), cwd=root, check=True,
        )  # fmt: skip
    text = (root / "pyproject.toml").read_text()
    assert '"lib"' in text and '"gitpkg"' in text and '"six"' in text
    assert 'lib = { path = "../lib", editable = true }' in text
    assert f'gitpkg = {{ git = "{repo}", rev = "v1" }}' in text
    assert f'six = {{ url = "{url}" }}' in text
    assert installed_versions(root / ".venv") == {
        "lib": "0.3.0",
        "gitpkg": "1.0.0",
        "six": "1.16.0",
    }
    assert f'commit-id = "{first}"' in (root / "pylock.toml").read_text()


def test_a_failed_add_of_a_path_leaves_the_project_as_it_was(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "app"
    root.mkdir()
    pyproject = root / "pyproject.toml"
    pyproject.write_text('[project]\nname = "app"\nversion = "0"\ndependencies = []\n')
    before = pyproject.read_bytes()
    done = kiln(
        "add", "../nothing-here", "--project", str(root),
        "--default-index", index_server.index_url(), cwd=root,
    )  # fmt: skip
    assert done.returncode != 0
    assert "does not exist" in done.stderr and "Traceback" not in done.stderr
    assert pyproject.read_bytes() == before
    assert not (root / "pylock.toml").exists()


@needs_git
def test_another_installer_installs_the_same_set_from_the_lock(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not installed")
    index_server.add(Pkg("six", "1.16.0"), Pkg("dep", "1.0"))
    make_lib(tmp_path / "lib", "lib", "0.3.0", "path", ["dep"])
    make_repo(tmp_path / "repo")
    url = index_server.file_url("six-1.16.0-py3-none-any.whl")
    repo = (tmp_path / "repo").as_uri()
    root = make_project(
        tmp_path / "app",
        ["lib", "gitpkg", "six"],
        f'lib = {{ path = "../lib" }}\ngitpkg = {{ git = "{repo}", tag = "v1" }}\n'
        f'six = {{ url = "{url}" }}',
    )
    sync(kiln, root, index_server)
    other = tmp_path / "other"
    kiln("venv", str(other), "--python", "3.12", check=True)
    done = uv_install_lock(uv, root / "pylock.toml", other, tmp_path)
    assert done.returncode == 0, done.stderr
    assert installed_versions(other) == installed_versions(root / ".venv")
    assert installed_versions(other) == {
        "lib": "0.3.0",
        "dep": "1.0",
        "gitpkg": "1.0.0",
        "six": "1.16.0",
    }
    assert value(other, "gitpkg").startswith("v1 ")


def test_a_virtual_workspace_root_installs_every_member(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("dep", "1.0"))
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    for name in ("alpha", "beta"):
        make_lib(root / "packages" / name, name, "0.1.0", name, ["dep"])
        manifest = root / "packages" / name / "pyproject.toml"
        manifest.write_text(
            manifest.read_text().replace("[project]\n", '[project]\nrequires-python = ">=3.11"\n')
        )
    sync(kiln, root, index_server)
    lock = (root / "pylock.toml").read_text()
    assert 'requires-python = ">=3.11"' in lock
    assert 'directory = { path = "packages/alpha", editable = true }' in lock
    assert 'directory = { path = "packages/beta", editable = true }' in lock
    assert installed_versions(root / ".venv") == {"alpha": "0.1.0", "beta": "0.1.0", "dep": "1.0"}


def test_tree_and_export_show_sources_as_such(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("six", "1.16.0"), Pkg("dep", "1.0"))
    make_lib(tmp_path / "lib", "lib", "0.3.0", "path", ["dep"])
    url = index_server.file_url("six-1.16.0-py3-none-any.whl")
    root = make_project(
        tmp_path / "app",
        ["lib", "six"],
        f'lib = {{ path = "../lib", editable = true }}\nsix = {{ url = "{url}" }}',
    )
    sync(kiln, root, index_server)
    tree = kiln("tree", "--project", str(root), "--frozen", check=True).stdout
    assert "├── lib (../lib)" in tree and "│   └── dep v1.0" in tree
    exported = kiln("export", "--project", str(root), "--frozen", check=True).stdout
    assert "-e ../lib" in exported.splitlines()
    assert f"six @ {url}" in exported


def test_an_edit_to_a_path_source_is_seen_by_the_next_sync_and_run(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    lib = make_lib(tmp_path / "lib", "lib", "0.3.0", "first")
    root = make_project(tmp_path / "app", ["lib"], 'lib = { path = "../lib" }')
    for _ in range(2):  # the second one finds nothing to do, and remembers that
        sync(kiln, root, index_server)
    assert (root / ".venv" / ".kiln-noop.json").is_file()
    make_lib(lib, "lib", "0.4.0", "second")
    again = sync(kiln, root, index_server)
    assert "+ lib==0.4.0" in again.stderr
    code = "import lib; print(lib.VALUE)"
    for _ in range(2):
        ran = kiln("run", "--project", str(root), "python", "-c", code, check=True)
    make_lib(lib, "lib", "0.5.0", "third")
    ran = kiln("run", "--project", str(root), "python", "-c", code, check=True)
    assert ran.stdout.strip() == "third", ran.stderr


def test_a_members_source_under_a_marker_applies_where_the_marker_holds(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("six", "1.16.0"), Pkg("six", "1.17.0"))
    url = index_server.file_url("six-1.16.0-py3-none-any.whl")
    root = make_project(
        tmp_path / "ws",
        ["member"],
        "member = { workspace = true }",
        '[tool.uv.workspace]\nmembers = ["member"]\n',
    )
    member = make_lib(root / "member", "member", "0.1.0", "m", ["six"])
    manifest = member / "pyproject.toml"
    manifest.write_text(
        manifest.read_text()
        + f'\n[tool.uv.sources]\nsix = {{ url = "{url}", marker = "sys_platform == \'linux\'" }}\n'
    )
    sync(kiln, root, index_server)
    lock = (root / "pylock.toml").read_text()
    assert f'url = "{url}"' in lock
    if sys.platform == "linux":
        assert installed_versions(root / ".venv")["six"] == "1.16.0"
