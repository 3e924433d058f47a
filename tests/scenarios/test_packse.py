"""packse's resolver scenarios, each run through `kiln pip install --dry-run`, or through
`kiln lock` for those that ask for one resolution valid everywhere (universal mode).

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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.core.errors import KilnError
from kiln.lock.model import Lock
from kiln.lock.pylock_toml import load_lock
from kiln.lock.select import select
from kiln.python.platforms import DEFAULT_PLATFORMS, lock_pythons, platform_environment
from tests.conftest import kiln_env
from tests.scenarios.lock_expectations import LOCK_EXPECTED, Target
from tests.scenarios.packse import Scenario, interpreter_for, load_scenarios
from tests.support.index_server import IndexServer

SCENARIOS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "packse-scenarios"

if not SCENARIOS_DIR.is_dir():
    pytest.skip(f"no packse scenarios at {SCENARIOS_DIR}", allow_module_level=True)

# Scenarios where kiln resolves differently from what packse (and uv) expect: id -> diagnosis.
# README.md beside this file gives each one in full.
KNOWN_WRONG: dict[str, str] = {
    # uv forks only on markers of one requirement set; kiln resolves each platform alone, so
    # `c<2` (linux) and `c>=2` (darwin) never meet and the lock that packse calls impossible
    # is made.
    "fork/fork-non-local-fork-marker-direct": "`resolve_universal` resolves each platform on "
    "its own, so conflicts between platforms' transitive markers never meet",
    "fork/fork-non-local-fork-marker-transitive": "`resolve_universal` resolves each platform "
    "on its own, so conflicts between platforms' transitive markers never meet",
    "fork/preferences-dependent-forking-conflicting": "`resolve_universal` resolves each "
    "platform on its own, so the `foo`/`bar` conflict across the fork never meets",
    "tag_and_markers/requires-python-wheels": "`platform_environment` accepts no "
    "`cpXY-cpXY-any` tag, so a wheel tagged for an interpreter on any platform fits no target",
}

_ADDED = re.compile(r"^ \+ (?P<name>[^=\s]+)==(?P<version>\S+)$", re.MULTILINE)


def _params(lock_mode: bool) -> list[object]:
    params: list[object] = []
    for scenario in load_scenarios(SCENARIOS_DIR):
        if scenario.lock_mode != lock_mode:
            continue
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


def test_every_lock_expectation_names_a_lock_mode_scenario() -> None:
    lock_mode = {s.id for s in load_scenarios(SCENARIOS_DIR) if s.lock_mode}
    assert set(LOCK_EXPECTED) <= lock_mode, set(LOCK_EXPECTED) - lock_mode


@pytest.mark.parametrize("scenario", _params(lock_mode=False))
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


def _installed(lock: Lock, where: Target) -> dict[str, str] | None:
    """What installing from ``lock`` gives at ``where``, or None when the lock refuses."""
    env = platform_environment(where.platform, where.python)
    try:
        chosen = select(lock, env, extras=frozenset(), groups=frozenset())
    except KilnError:
        return None
    return {s.package.name: str(s.package.version) for s in chosen}


def _root_names_somewhere(scenario: Scenario, envs: list[Mapping[str, str]]) -> set[str]:
    """Root requirements that apply on at least one target the lock is made for."""
    names = set()
    for text in scenario.root_requires:
        req = Requirement(text)
        if req.marker is None or any(req.marker.evaluate({**env, "extra": ""}) for env in envs):
            names.add(canonicalize_name(req.name))
    return names


@pytest.mark.parametrize("scenario", _params(lock_mode=True))
def test_lock_scenario(scenario: Scenario, index_server: IndexServer, tmp_path: Path) -> None:
    index_server.add(*scenario.pkgs())
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(scenario.pyproject(), encoding="utf-8")
    done = _run_kiln(
        tmp_path / "cache",
        "lock",
        "--project",
        str(project),
        "--default-index",
        index_server.index_url(),
    )
    output = done.stdout + done.stderr
    story = (
        f"{scenario.description}\n{scenario.pyproject()}"
        f"--- kiln lock exited {done.returncode} ---\n{output}"
    )
    assert "Traceback" not in output, story
    if not scenario.expected.satisfiable:
        assert done.returncode != 0, story
        assert re.search(r"^error: \S", done.stderr, re.MULTILINE), story
        return
    assert done.returncode == 0, story
    text = (project / "pylock.toml").read_text(encoding="utf-8")
    story += f"\n--- pylock.toml ---\n{text}"
    lock = load_lock(text, project / "pylock.toml")
    locked: dict[str, set[str]] = {}
    for package in lock.packages:
        locked.setdefault(package.name, set()).add(str(package.version))
    pythons = lock_pythons(lock.requires_python)
    if scenario.expected.packages:
        expected = {name: {version} for name, version in scenario.expected_set().items()}
        assert locked == expected, story
    else:
        envs = [platform_environment(p, py).markers for p in DEFAULT_PLATFORMS for py in pythons]
        assert _root_names_somewhere(scenario, envs) <= locked.keys(), story
    for where, packages in LOCK_EXPECTED.get(scenario.id, {}).items():
        for target in where.expand(DEFAULT_PLATFORMS, pythons):
            got = _installed(lock, target)
            assert got == packages, f"{target}: {got} != {packages}\n{story}"
