"""uv's resolver options end to end: `--prerelease`, `--resolution`, the binary/build choices,
`--python-version` and `--python-platform`, with their `KILN_*`/`UV_*` variables and
`[tool.uv]` keys, against the local test index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.pythons import interpreter_for
from tests.support.wheels import Pkg

_ADDED = re.compile(r"^ \+ (\S+)==(\S+)$", re.MULTILINE)


def _python(version: str) -> Path:
    found = interpreter_for(version)
    if found is None:
        pytest.skip(f"needs CPython {version}")
    return found


@pytest.fixture
def venv(kiln, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "venv"
    kiln("venv", str(path), "--python", str(_python("3.12")), check=True)
    return path


def would_install(stderr: str) -> dict[str, str]:
    return dict(_ADDED.findall(stderr))


def dry_run(kiln, server: IndexServer, venv: Path, *args: str, env=None):  # type: ignore[no-untyped-def]
    return kiln(
        "pip", "install", *args, "--index-url", server.index_url(), "--python", str(venv),
        "--dry-run", env=env,
    )  # fmt: skip


def _mixed(server: IndexServer) -> None:
    server.add(Pkg("a", "1.0"), Pkg("a", "1.1"), Pkg("a", "2.0b1"))


# -- pre-releases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "want"),
    [
        ((), {}, "1.1"),
        (("--prerelease", "allow"), {}, "2.0b1"),
        ((), {"KILN_PRERELEASE": "allow"}, "2.0b1"),
        ((), {"UV_PRERELEASE": "allow"}, "2.0b1"),
        (("--prerelease", "disallow"), {"KILN_PRERELEASE": "allow"}, "1.1"),
    ],
)
def test_prerelease_flag_and_variables(
    kiln,
    index_server: IndexServer,
    venv: Path,
    args: tuple[str, ...],
    env: dict[str, str],
    want: str,
) -> None:  # type: ignore[no-untyped-def]
    _mixed(index_server)
    done = dry_run(kiln, index_server, venv, "a", *args, env=env)
    assert done.returncode == 0, done.stderr
    assert would_install(done.stderr) == {"a": want}


def test_a_final_is_kept_under_a_prerelease_specifier_and_disallow_refuses_the_rest(
    kiln, index_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    _mixed(index_server)
    done = dry_run(kiln, index_server, venv, "a>=1.0b1")
    assert would_install(done.stderr) == {"a": "1.1"}, done.stderr
    done = dry_run(kiln, index_server, venv, "a>=2.0b1")
    assert would_install(done.stderr) == {"a": "2.0b1"}, done.stderr
    done = dry_run(kiln, index_server, venv, "a>=2.0b1", "--prerelease", "disallow")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert re.search(r"^error: .*`a", done.stderr, re.MULTILINE), done.stderr


def test_an_unknown_mode_in_a_variable_is_an_error_naming_it(
    kiln, index_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    _mixed(index_server)
    done = dry_run(kiln, index_server, venv, "a", env={"UV_RESOLUTION": "newest"})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "error: UV_RESOLUTION `newest` is not a known resolution mode" in done.stderr


# -- resolution strategy ----------------------------------------------------------------------


def _layers(server: IndexServer) -> None:
    server.add(
        Pkg("top", "1.0", requires_dist=["leaf>=1"]),
        Pkg("top", "2.0", requires_dist=["leaf>=1"]),
        Pkg("leaf", "1.0"),
        Pkg("leaf", "1.5"),
        Pkg("leaf", "2.0"),
    )


@pytest.mark.parametrize(
    ("args", "env", "want"),
    [
        ((), {}, {"top": "2.0", "leaf": "2.0"}),
        (("--resolution", "lowest"), {}, {"top": "1.0", "leaf": "1.0"}),
        (("--resolution", "lowest-direct"), {}, {"top": "1.0", "leaf": "2.0"}),
        ((), {"KILN_RESOLUTION": "lowest"}, {"top": "1.0", "leaf": "1.0"}),
    ],
)
def test_resolution_strategy_in_pip_install(
    kiln, index_server: IndexServer, venv: Path, args: tuple[str, ...], env: dict[str, str], want
) -> None:  # type: ignore[no-untyped-def]
    _layers(index_server)
    done = dry_run(kiln, index_server, venv, "top", *args, env=env)
    assert done.returncode == 0, done.stderr
    assert would_install(done.stderr) == want


def test_resolution_strategy_in_pip_compile(
    kiln, index_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _layers(index_server)
    src = tmp_path / "requirements.in"
    src.write_text("top\n", encoding="utf-8")
    for extra in ((), ("--universal",)):
        done = kiln(
            "pip", "compile", str(src), "--index-url", index_server.index_url(),
            "--python", str(venv), "--no-header", "--resolution", "lowest-direct", *extra,
            check=True,
        )  # fmt: skip
        assert "leaf==2.0" in done.stdout and "top==1.0" in done.stdout, done.stdout


# -- binary and build choices -----------------------------------------------------------------


def _wheel_generator(venv: Path, name: str) -> str:
    (wheel_file,) = venv.glob(f"lib/python*/site-packages/{name}-*.dist-info/WHEEL")
    return next(
        line for line in wheel_file.read_text().splitlines() if line.startswith("Generator:")
    )


def test_no_binary_installs_from_the_sdist_where_a_wheel_fits(
    kiln, index_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("a", "1.0", sdist=True), Pkg("b", "1.0", sdist=True))
    kiln(
        "pip", "install", "a", "b", "--index-url", index_server.index_url(),
        "--python", str(venv), "--no-binary", "a", check=True,
    )  # fmt: skip
    # Built here by the sdist's own backend for `a`; `b` is the index's wheel.
    assert "kiln-test-backend" in _wheel_generator(venv, "a")
    assert "kiln-tests" in _wheel_generator(venv, "b")


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (("--only-binary", "a"), {}, "`--only-binary a`"),
        (("--only-binary", ":all:"), {}, "`--only-binary :all:`"),
        (("--no-build",), {}, "`--no-build`"),
        (("--no-build-package", "a"), {}, "`--no-build-package a`"),
        ((), {"KILN_NO_BUILD": "1"}, "`KILN_NO_BUILD`"),
        ((), {"UV_NO_BUILD_PACKAGE": "a"}, "`UV_NO_BUILD_PACKAGE=a`"),
    ],
)
def test_forbidding_builds_of_an_sdist_only_package_names_the_option(
    kiln,
    index_server: IndexServer,
    venv: Path,
    args: tuple[str, ...],
    env: dict[str, str],
    named: str,
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("a", "1.0", sdist=True, wheel=False))
    assert dry_run(kiln, index_server, venv, "a").returncode == 0
    done = dry_run(kiln, index_server, venv, "a", *args, env=env)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "error:" in done.stderr
    assert f"has only a source distribution, and {named} forbids building it" in done.stderr
    assert "hint: drop the option named above" in done.stderr


def test_no_binary_without_an_sdist_and_both_options_at_once_are_errors(
    kiln, index_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("a", "1.0"), Pkg("b", "1.0", sdist=True))
    done = dry_run(kiln, index_server, venv, "a", "--no-binary", ":all:")
    assert done.returncode != 0, done.stderr
    assert "has no source distribution, and `--no-binary :all:` forbids its wheels" in done.stderr
    done = dry_run(kiln, index_server, venv, "b", "--no-binary", "b", "--only-binary", "b")
    assert done.returncode != 0, done.stderr
    assert "`--no-binary b`" in done.stderr and "`--only-binary b`" in done.stderr


# -- target Python and platform ---------------------------------------------------------------


def _per_platform(server: IndexServer) -> None:
    server.add(
        Pkg(
            "native", "1.0",
            tags=["cp312-cp312-win_amd64", "cp312-cp312-manylinux_2_17_x86_64"],
            requires_dist=["winonly; sys_platform == 'win32'"],
        ),
        Pkg("native", "2.0", tags=["cp312-cp312-manylinux_2_28_x86_64"]),
        Pkg("winonly", "1.0"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("platform", "want"),
    [
        ("windows", {"native": "1.0", "winonly": "1.0"}),
        ("x86_64-pc-windows-msvc", {"native": "1.0", "winonly": "1.0"}),
        ("x86_64-manylinux2014", {"native": "1.0"}),
        ("x86_64-manylinux_2_28", {"native": "2.0"}),
    ],
)
def test_python_platform_judges_wheels_and_markers_by_the_target(
    kiln, index_server: IndexServer, venv: Path, platform: str, want: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    _per_platform(index_server)
    done = dry_run(kiln, index_server, venv, "native", "--python-platform", platform)
    assert done.returncode == 0, done.stderr
    assert would_install(done.stderr) == want


def test_python_platform_with_no_fitting_wheel_is_an_error_naming_the_platform(
    kiln, index_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _per_platform(index_server)
    done = dry_run(kiln, index_server, venv, "native", "--python-platform", "macos")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "darwin arm64" in done.stderr, done.stderr
    bad = dry_run(kiln, index_server, venv, "native", "--python-platform", "amiga")
    assert bad.returncode == 2 and "`--python-platform amiga` is not a known platform" in bad.stderr
    src = tmp_path / "requirements.in"
    src.write_text("native\n", encoding="utf-8")
    done = kiln(
        "pip", "compile", str(src), "--index-url", index_server.index_url(), "--python",
        str(venv), "--universal", "--python-platform", "windows",
    )  # fmt: skip
    assert done.returncode == 2 and "--universal" in done.stderr, done.stderr


def test_python_version_is_the_target_and_the_interpreter_only_builds(
    kiln, index_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(
        Pkg("new", "1.0", requires_python=">=3.13", tags=["cp313-cp313-manylinux_2_17_x86_64"]),
        Pkg("patchy", "1.0", requires_python=">=3.12.4"),
    )
    src = tmp_path / "requirements.in"
    src.write_text("new\n", encoding="utf-8")

    def compile_for(version: str, source: Path = src):  # type: ignore[no-untyped-def]
        return kiln(
            "pip", "compile", str(source), "--index-url", index_server.index_url(),
            "--python", str(venv), "--no-header", "--python-version", version,
        )  # fmt: skip

    done = compile_for("3.13")
    assert done.returncode == 0, done.stderr
    assert "new==1.0" in done.stdout
    done = compile_for("3.12")
    assert done.returncode != 0 and "requires Python >=3.13" in done.stderr, done.stderr
    patchy = tmp_path / "patchy.in"
    patchy.write_text("patchy\n", encoding="utf-8")
    assert compile_for("3.12.5", patchy).returncode == 0
    # `3.12` is 3.12.0 to Requires-Python, as uv reads it.
    assert compile_for("3.12", patchy).returncode != 0
    done = dry_run(kiln, index_server, venv, "new", "--python-version", "3.13")
    assert would_install(done.stderr) == {"new": "1.0"}, done.stderr


# -- the project's [tool.uv] ------------------------------------------------------------------


def _project(tmp_path: Path, uv: str, dependencies: str = '"a"') -> Path:
    root = tmp_path / "proj"
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'proj'\nversion = '0.1.0'\nrequires-python = '>=3.12'\n"
        f"dependencies = [{dependencies}]\n\n[tool.uv]\n{uv}\n",
        encoding="utf-8",
    )
    return root


def _locked(root: Path) -> dict[str, str]:
    text = (root / "pylock.toml").read_text(encoding="utf-8")
    return dict(re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"', text))


@pytest.mark.parametrize(
    ("uv", "args", "want"),
    [
        ('prerelease = "allow"', (), {"a": "2.0b1"}),
        ('resolution = "lowest"', (), {"a": "1.0"}),
        ('prerelease = "allow"', ("--prerelease", "disallow"), {"a": "1.1"}),
        ("", ("--resolution", "lowest"), {"a": "1.0"}),
    ],
)
def test_lock_honours_tool_uv_and_flags(
    kiln, index_server: IndexServer, tmp_path: Path, uv: str, args: tuple[str, ...], want
) -> None:  # type: ignore[no-untyped-def]
    _mixed(index_server)
    root = _project(tmp_path, uv)
    kiln(
        "lock", "--project", str(root), "--default-index", index_server.index_url(), *args,
        check=True,
    )  # fmt: skip
    assert _locked(root) == want


def test_lock_relocks_when_the_strategy_changes(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _mixed(index_server)
    root = _project(tmp_path, "")
    lock = ("lock", "--project", str(root), "--default-index", index_server.index_url())
    kiln(*lock, check=True)
    assert _locked(root) == {"a": "1.1"}
    kiln(*lock, env={"KILN_RESOLUTION": "lowest"}, check=True)
    assert _locked(root) == {"a": "1.0"}


def test_lock_no_build_package_and_refused_no_binary(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("a", "1.0"), Pkg("a", "2.0", sdist=True, wheel=False))
    root = _project(tmp_path, 'no-build-package = ["a"]')
    kiln("lock", "--project", str(root), "--default-index", index_server.index_url(), check=True)
    assert _locked(root) == {"a": "1.0"}
    other = _project(tmp_path / "two", "no-binary = true")
    done = kiln("lock", "--project", str(other), "--default-index", index_server.index_url())
    assert done.returncode != 0 and "tool.uv.no-binary" in done.stderr, done.stderr


def test_pip_verbs_read_the_nearest_tool_uv_below_flags(
    kiln, index_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _mixed(index_server)
    root = _project(tmp_path, 'prerelease = "allow"\n\n[tool.uv.pip]\nresolution = "lowest"')
    install = (
        "pip", "install", "a>=1.1", "--index-url", index_server.index_url(),
        "--python", str(venv), "--dry-run",
    )  # fmt: skip
    done = kiln(*install, cwd=root, check=True)
    # `prerelease = "allow"` ranks 2.0b1 with the finals; `lowest` from `[tool.uv.pip]`
    # then takes the lowest in range.
    assert would_install(done.stderr) == {"a": "1.1"}
    done = kiln(*install, "--resolution", "highest", cwd=root, check=True)
    assert would_install(done.stderr) == {"a": "2.0b1"}
    done = kiln(*install, "--resolution", "highest", "--no-config", cwd=root, check=True)
    assert would_install(done.stderr) == {"a": "1.1"}


def test_installing_for_a_foreign_platform_installs_what_it_resolved_and_warns(
    kiln, index_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("a", "1.0", requires_dist=["w; sys_platform == 'win32'"]), Pkg("w", "1.0"))
    done = kiln(
        "pip", "install", "a", "--index-url", index_server.index_url(), "--python", str(venv),
        "--python-platform", "windows", check=True,
    )  # fmt: skip
    assert would_install(done.stderr) == {"a": "1.0", "w": "1.0"}
    assert "warning: resolved for CPython 3.12 on win32 AMD64" in done.stderr


def test_sync_refuses_to_build_what_no_build_forbids_where_the_lock_has_only_an_sdist(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Wheels for Windows only, and an sdist: the lock serves Linux from the sdist.
    index_server.add(
        Pkg("winonly", "1.0", tags=["py3-none-win_amd64"], sdist=True,
            files={"winonly/__init__.py": ""}),
    )  # fmt: skip
    root = tmp_path / "proj"
    root.mkdir()
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.12"\n'
        'dependencies = ["winonly"]\n\n[tool.uv]\nno-build-package = ["winonly"]\n'
    )
    args = ("--project", str(root), "--python", str(_python("3.12")))
    done = kiln("sync", *args, "--default-index", index_server.index_url())
    assert done.returncode != 0
    assert "`no-build` forbids building its source distribution" in done.stderr
    assert not (root / ".venv" / "lib" / "python3.12" / "site-packages" / "winonly").exists()
    # Without the setting, the same lock builds it.
    pyproject.write_text(pyproject.read_text().replace('no-build-package = ["winonly"]', ""))
    kiln("sync", *args, "--default-index", index_server.index_url(), check=True)
