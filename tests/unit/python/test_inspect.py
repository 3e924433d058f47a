"""Inspection: facts equal to what `packaging` computes inside the target, and the cache."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import groupby
from pathlib import Path

import packaging
import pytest
from packaging.tags import Tag

from kiln.cache.layout import Cache
from kiln.core.errors import InterpreterError
from kiln.python.interpreter import inspect_interpreter

from .conftest import pyenv_python, stdlib_venv

# Runs in the target with a `packaging` put on its path; prints sys_tags and markers.
_REFERENCE = """
import json, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "vendored":
    from pip._vendor.packaging import tags, markers
else:
    from packaging import tags, markers
print(json.dumps({
    "tags": [str(t) for t in tags.sys_tags()],
    "markers": markers.default_environment(),
}))
"""


def reference_facts(python: Path, vendored: bool) -> dict[str, object]:
    host_packaging = str(Path(packaging.__file__).parent.parent)
    out = subprocess.run(
        [str(python), "-c", _REFERENCE, host_packaging, "vendored" if vendored else "host"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    facts: dict[str, object] = json.loads(out)
    return facts


def native_linux_first(tags: list[str]) -> list[str]:
    """packaging before 26.3 put `linux_*` after manylinux/musllinux within each run."""
    out: list[str] = []
    for _, run in groupby(tags, key=lambda t: t.rsplit("-", 1)[0]):
        out.extend(sorted(run, key=lambda t: not t.rsplit("-", 1)[1].startswith("linux_")))
    return out


@pytest.mark.parametrize("minor", ["3.10", "3.11", "3.12", "3.13"])
def test_tags_and_markers_equal_packaging_run_inside_the_target(minor: str) -> None:
    python = pyenv_python(minor)
    expected = reference_facts(python, vendored=False)
    found = inspect_interpreter(python)
    assert list(found.tags) == expected["tags"]
    assert dict(found.markers) == expected["markers"]


@pytest.mark.parametrize("minor", ["3.8", "3.9"])
def test_tags_and_markers_equal_pips_packaging_inside_old_targets(minor: str) -> None:
    # The host's packaging needs 3.10. pip's older copy runs there, but it orders `linux_*`
    # after manylinux and lacks the `cp3X-none-any` tag that packaging 22 added.
    python = pyenv_python(minor)
    expected = reference_facts(python, vendored=True)
    found = inspect_interpreter(python)
    own_any = f"cp{minor.replace('.', '')}-none-any"
    assert own_any in found.tags
    ours = [tag for tag in found.tags if tag != own_any]
    assert ours == native_linux_first(expected["tags"])  # type: ignore[arg-type]
    assert dict(found.markers) == expected["markers"]


def test_tags_of_the_running_venv_equal_its_own_sys_tags() -> None:
    if sys.prefix == sys.base_prefix:
        pytest.skip("the test suite is not running in a virtual environment")
    from packaging.markers import default_environment
    from packaging.tags import sys_tags

    found = inspect_interpreter(Path(sys.executable))
    assert found.is_virtualenv
    assert list(found.tags) == [str(t) for t in sys_tags()]
    assert dict(found.markers) == default_environment()


def test_environment_holds_parsed_tags_and_markers() -> None:
    found = inspect_interpreter(pyenv_python("3.12"))
    env = found.environment()
    assert env.tags[0] == Tag("cp312", "cp312", found.tags[0].split("-")[2])
    assert env.python_version == "3.12"
    assert env.wheel_rank("pkg-1.0-py3-none-any.whl") is not None
    assert env.wheel_rank("pkg-1.0-cp311-cp311-win_amd64.whl") is None


def test_second_inspection_reads_the_cache_and_spawns_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path / "cache")
    python = pyenv_python("3.12")
    first = inspect_interpreter(python, cache)

    def no_spawn(*args: object, **kwargs: object) -> None:
        raise AssertionError("inspection spawned the interpreter again")

    monkeypatch.setattr(subprocess, "run", no_spawn)
    second = inspect_interpreter(python, cache)
    assert second == first
    assert second.venv_scheme == first.venv_scheme
    assert len(list(cache.interpreters.glob("*.json"))) == 1


def test_changed_executable_is_probed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path / "cache")
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nexec {pyenv_python("3.11")} "$@"\n')
    wrapper.chmod(0o755)
    assert inspect_interpreter(wrapper, cache).version[:2] == (3, 11)

    wrapper.write_text(f'#!/bin/sh\nexec "{pyenv_python("3.12")}" "$@"\n')
    calls: list[object] = []
    real_run = subprocess.run

    def counting_run(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real_run(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", counting_run)
    assert inspect_interpreter(wrapper, cache).version[:2] == (3, 12)
    assert len(calls) == 1


def test_venv_made_by_python_m_venv_inspects_as_virtualenv(tmp_path: Path) -> None:
    base = pyenv_python("3.12")
    venv = stdlib_venv(base, tmp_path / "env")
    found = inspect_interpreter(venv / "bin" / "python")
    assert found.is_virtualenv
    assert found.executable == venv / "bin" / "python"
    assert found.prefix == venv
    assert found.base_prefix == base.parent.parent
    assert found.base_executable == base.resolve()
    assert found.site_packages() == (venv / "lib" / "python3.12" / "site-packages",)
    assert found.description == f"CPython {found.version_str} at {venv / 'bin' / 'python'}"


def test_old_python_is_refused_with_its_version(tmp_path: Path) -> None:
    python = pyenv_python("3.7")
    with pytest.raises(InterpreterError, match=r"3\.7\.\d+ at .* is too old") as caught:
        inspect_interpreter(python, Cache(tmp_path))
    assert caught.value.hint is not None and "3.8" in caught.value.hint


def test_non_python_executable_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'not python' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(InterpreterError, match="not a working python") as caught:
        inspect_interpreter(fake)
    assert "not python" in caught.value.causes


def test_missing_executable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InterpreterError, match="no python at"):
        inspect_interpreter(tmp_path / "python")
