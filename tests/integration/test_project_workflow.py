"""What a user types all day: init, add, run, remove — on one pyproject.toml and one lock."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_lock_scenarios import S2
from tests.support import seed
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions


def pypi(server: IndexServer) -> tuple[str, str]:
    return ("--default-index", server.index_url("pypi"))


def installed(root: Path) -> dict[str, str]:
    return installed_versions(root / ".venv")


def test_s1_init_add_run(kiln, torch_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    kiln("init", str(root), "--python", "3.12", "--vcs", "none", check=True)
    kiln("add", "torch", "torchvision", "--project", str(root), *pypi(torch_server), check=True)
    text = (root / "pyproject.toml").read_text()
    assert '"torch>=2.5.1"' in text and '"torchvision>=0.20.1"' in text
    assert installed(root)["torch"] == "2.5.1"
    done = kiln(
        "run", "--project", str(root), *pypi(torch_server),
        "python", "-c", "import torch; print(torch.__version__)", check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "2.5.1"


def test_s2_add_with_index_matches_the_seed_after_the_marker(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    kiln("init", str(root), "--python", "3.12", "--vcs", "none", check=True)
    cpu = torch_server.index_url("whl/cpu")
    kiln(
        "add", "torch", "torchvision", "jinja2", "--index", f"pytorch-cpu={cpu}",
        "--project", str(root), *pypi(torch_server), check=True,
    )  # fmt: skip
    assert installed(root)["torch"] == "2.5.1+cpu"
    # jinja2 now comes from pytorch-cpu too (it was added with the index); the seed's S2 keeps
    # it on PyPI, which `kiln remove` + `kiln add` without `--index` restores
    kiln("remove", "jinja2", "--project", str(root), *pypi(torch_server), check=True)
    kiln("add", "jinja2", "--project", str(root), *pypi(torch_server), check=True)
    assert installed(root)["jinja2"] == "3.1.4"


def test_run_when_nothing_changed_makes_no_request(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        S2.replace("https://download.pytorch.org", torch_server.url)
    )
    kiln("sync", "--project", str(root), *pypi(torch_server), "--python", "3.12", check=True)
    before = len(torch_server.requests)
    done = kiln(
        "run",
        "--project",
        str(root),
        *pypi(torch_server),
        "python",
        "-c",
        "import sys; sys.exit(7)",
    )
    assert done.returncode == 7, "the command's exit code passes through"
    assert len(torch_server.requests) == before, "no network when the lock and env are current"


def test_failed_add_leaves_pyproject_and_lock_byte_identical(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    kiln("init", str(root), "--python", "3.12", "--vcs", "none", check=True)
    kiln("add", "filelock", "--project", str(root), *pypi(torch_server), check=True)
    pyproject, lock = (root / "pyproject.toml").read_bytes(), (root / "pylock.toml").read_bytes()
    done = kiln("add", "no-such-package-anywhere", "--project", str(root), *pypi(torch_server))
    assert done.returncode != 0
    assert "no-such-package-anywhere" in done.stderr and "Traceback" not in done.stderr
    assert (root / "pyproject.toml").read_bytes() == pyproject
    assert (root / "pylock.toml").read_bytes() == lock


def test_remove_of_an_unknown_dependency_is_a_clear_error(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    kiln("init", str(root), "--python", "3.12", "--vcs", "none", check=True)
    before = (root / "pyproject.toml").read_bytes()
    done = kiln("remove", "nothing-here", "--project", str(root), *pypi(torch_server))
    assert done.returncode != 0 and "`nothing-here` is not among" in done.stderr
    assert (root / "pyproject.toml").read_bytes() == before


def test_run_with_adds_a_package_for_one_run_only(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    kiln("init", str(root), "--python", "3.12", "--vcs", "none", check=True)
    kiln("add", "filelock", "--project", str(root), *pypi(torch_server), check=True)
    code = "import filelock, fsspec; print(fsspec.__version__)"
    done = kiln(
        "run", "--with", "fsspec", "--project", str(root), *pypi(torch_server),
        "python", "-c", code, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "2024.10.0"
    assert "fsspec" not in installed(root), "the project environment keeps only the lock's slice"


def test_a_pep723_script_runs_in_its_own_cached_environment(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "hello.py"
    script.write_text(
        "# /// script\n"
        '# requires-python = ">=3.11"\n'
        '# dependencies = ["sympy"]\n'
        "# ///\n"
        "import sympy, sys\n"
        "print(sympy.__version__, sys.version_info[:2] >= (3, 11))\n"
    )
    cache = tmp_path / "cache"
    first = kiln("run", "--default-index", torch_server.index_url("pypi"), str(script),
                 env={"KILN_CACHE_DIR": str(cache)}, check=True)  # fmt: skip
    assert first.stdout.strip() == "1.13.1 True"
    torch_server.clear_requests()
    again = kiln("run", "--default-index", torch_server.index_url("pypi"), str(script),
                 env={"KILN_CACHE_DIR": str(cache)}, check=True)  # fmt: skip
    assert again.stdout.strip() == "1.13.1 True"
    assert not torch_server.requests, "the second run reuses the cached environment"


def test_s2_by_add_and_a_hand_written_marker_locks_like_the_seed(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from kiln.lock.pylock_toml import load_lock

    made = tmp_path / "made"
    kiln("init", str(made), "--python", "3.12", "--vcs", "none", "--name", "project", check=True)
    (made / "pyproject.toml").write_text(
        (made / "pyproject.toml")
        .read_text()
        .replace('requires-python = ">=3.12"', 'requires-python = ">=3.12.0"')
    )
    cpu = torch_server.index_url("whl/cpu")
    kiln("add", "torch", "torchvision", "--index", f"pytorch-cpu={cpu}", "--no-sync",
         "--project", str(made), *pypi(torch_server), check=True)  # fmt: skip
    text = (made / "pyproject.toml").read_text()
    assert text.count('index = "pytorch-cpu"') == 2
    # the one step the seed does by hand: keep macOS on PyPI
    text = text.replace(
        'index = "pytorch-cpu"', 'index = "pytorch-cpu", marker = "platform_system != \'Darwin\'"'
    )
    (made / "pyproject.toml").write_text(text)
    kiln("lock", "--project", str(made), *pypi(torch_server), check=True)

    by_hand = tmp_path / "seed"
    by_hand.mkdir()
    (by_hand / "pyproject.toml").write_text(
        seed.S2.replace("https://download.pytorch.org/whl/cpu", cpu)
    )
    kiln("lock", "--project", str(by_hand), *pypi(torch_server), check=True)

    def entries(root: Path) -> set[tuple[str, str, str]]:
        lock = load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")
        return {(p.name, str(p.version), str(p.marker)) for p in lock.packages}

    assert entries(made) == entries(by_hand)
    assert ("torch", "2.5.1+cpu") in {(n, v) for n, v, _ in entries(by_hand)}
