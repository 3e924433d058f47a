"""packse's resolver scenarios, each run through `kiln pip install --dry-run`.

Every scenario file below `../shared/packse-scenarios` is one test (id: category/name). Each
gets a fresh local index holding the scenario's releases, and resolves for a virtual
environment of the scenario's Python. Scenarios that need a feature kiln lacks are skipped
with that reason (see `Scenario.unsupported`); scenarios where kiln answers wrongly are
expected failures, each with a diagnosis, in `KNOWN_WRONG` below: the table shrinks as kiln
improves, and `strict=True` says when an entry can go.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import kiln_env
from tests.scenarios.packse import Scenario, interpreter_for, load_scenarios
from tests.support.index_server import IndexServer

SCENARIOS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "packse-scenarios"

if not SCENARIOS_DIR.is_dir():
    pytest.skip(f"no packse scenarios at {SCENARIOS_DIR}", allow_module_level=True)

# Scenarios where kiln resolves differently from what packse (and uv) expect: id -> diagnosis.
# README.md beside this file gives each one in full.
KNOWN_WRONG: dict[str, str] = {}

_ADDED = re.compile(r"^ \+ (?P<name>[^=\s]+)==(?P<version>\S+)$", re.MULTILINE)


def _params() -> list[object]:
    params: list[object] = []
    for scenario in load_scenarios(SCENARIOS_DIR):
        marks: list[pytest.MarkDecorator] = []
        reason = scenario.unsupported()
        if reason is not None:
            marks.append(pytest.mark.skip(reason=reason))
        elif scenario.id in KNOWN_WRONG:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[scenario.id]))
        params.append(pytest.param(scenario, id=scenario.id, marks=marks))
    return params


def test_every_known_failure_names_a_scenario_that_runs() -> None:
    runnable = {s.id for s in load_scenarios(SCENARIOS_DIR) if s.unsupported() is None}
    assert set(KNOWN_WRONG) <= runnable, set(KNOWN_WRONG) - runnable


def _run_kiln(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiln", *args],
        env=kiln_env(cache),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def scenario_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """One environment per Python version, shared: a dry run never changes it."""
    root = tmp_path_factory.mktemp("scenario-venvs")
    made: dict[str, Path] = {}

    def venv_for(python: str) -> Path:
        if python not in made:
            interpreter = interpreter_for(python)
            assert interpreter is not None, f"no CPython {python}"
            path = root / f"py{python}"
            done = _run_kiln(root / "cache", "venv", str(path), "--python", str(interpreter))
            assert done.returncode == 0, done.stderr
            made[python] = path
        return made[python]

    yield venv_for


def resolved_set(stderr: str) -> dict[str, str]:
    """What a dry run says it would install: normalized name -> version."""
    return {
        canonicalize_name(m["name"]): str(Version(m["version"])) for m in _ADDED.finditer(stderr)
    }


@pytest.mark.parametrize("scenario", _params())
def test_scenario(
    scenario: Scenario,
    scenario_venv: Callable[[str], Path],
    index_server: IndexServer,
    tmp_path: Path,
) -> None:
    index_server.add(*scenario.pkgs())
    venv = scenario_venv(scenario.python)
    done = _run_kiln(
        tmp_path / "cache",
        "pip",
        "install",
        *scenario.root_requires,
        "--index-url",
        index_server.index_url(),
        "--python",
        str(venv),
        "--dry-run",
    )
    output = done.stdout + done.stderr
    story = f"{scenario.description}\n--- kiln exited {done.returncode} ---\n{output}"
    assert "Traceback" not in output, story
    if scenario.expected.satisfiable:
        assert done.returncode == 0, story
        resolved = resolved_set(done.stderr)
        if scenario.expected.packages:
            assert resolved == scenario.expected_set(), story
        else:
            # packse lists no versions here: at least what was asked for must be there.
            assert scenario.root_names() <= resolved.keys(), story
    else:
        assert done.returncode != 0, story
        assert re.search(r"^error: \S", done.stderr, re.MULTILINE), story
