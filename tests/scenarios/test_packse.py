"""packse's resolver scenarios, each run through the kiln command uv's generator tests it
with (`Scenario.mode`): `kiln pip install --dry-run`, `kiln pip compile`, or `kiln lock`.

Every scenario file below `../shared/packse-scenarios` is one test (id: category/name). Each
gets a fresh local index holding the scenario's releases. Scenarios uv's generator disables are
skipped, as are those needing a Python that is not installed; everything else runs, and where
kiln fails it is a strict xfail with a diagnosis from `known_failures.py`.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.cli.parser import build_parser
from kiln.core.errors import KilnError
from kiln.lock.model import Lock
from kiln.lock.pylock_toml import load_lock
from kiln.lock.select import select
from kiln.python.platforms import DEFAULT_PLATFORMS, matrix_pythons, platform_environment
from tests.conftest import kiln_env
from tests.scenarios.known_failures import (
    GROUPS,
    KNOWN_WRONG,
    MISSING_FLAGS,
    missing_flags,
    outcome,
    planned_xfail,
    render_failures,
)
from tests.scenarios.lock_expectations import LOCK_EXPECTED, Target
from tests.scenarios.packse import (
    MODES,
    SCENARIOS_DIR,
    VERBS,
    Mode,
    Scenario,
    load_scenarios,
)
from tests.support.index_server import IndexServer
from tests.support.pythons import interpreter_for

README = Path(__file__).with_name("README.md")

if not SCENARIOS_DIR.is_dir():
    pytest.skip(f"no packse scenarios at {SCENARIOS_DIR}", allow_module_level=True)

SCENARIOS = load_scenarios(SCENARIOS_DIR)

_ADDED = re.compile(r"^ \+ (?P<name>[^=\s]+)==(?P<version>\S+)$", re.MULTILINE)
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)", re.MULTILINE)
_USAGE_ERROR = re.compile(r"error: (unrecognized arguments|argument \S+: invalid choice)")


@cache
def accepted_flags(mode: Mode) -> frozenset[str]:
    """The long options kiln's parser lists for the verb, read off its `--help`."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        build_parser().parse_args([*VERBS[mode], "--help"])
    return frozenset(re.findall(r"(?<![\w-])--[a-z][a-z-]*", out.getvalue()))


def _params(mode: Mode) -> list[object]:
    params: list[object] = []
    for scenario in SCENARIOS:
        if scenario.mode != mode:
            continue
        kind, reason = outcome(scenario)
        marks: list[pytest.MarkDecorator] = []
        if kind == "skip":
            marks.append(pytest.mark.skip(reason=reason or ""))
        elif kind == "xfail":
            marks.append(pytest.mark.xfail(strict=True, reason=reason or ""))
        params.append(pytest.param(scenario, id=scenario.id, marks=marks))
    return params


def _run_kiln(
    cache_dir: Path, *args: str, path_first: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess[str]:
    extra = {}
    if path_first:
        # uv's generator puts a scenario's `additional_python` where interpreter discovery
        # looks; for kiln that is PATH, searched before pyenv.
        extra["PATH"] = os.pathsep.join([*map(str, path_first), os.environ.get("PATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "kiln", *args],
        env=kiln_env(cache_dir, extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _story(scenario: Scenario, done: subprocess.CompletedProcess[str], *more: str) -> str:
    parts = [scenario.description, *more, f"--- kiln exited {done.returncode} ---"]
    return "\n".join([*parts, done.stdout + done.stderr])


def _check_common(scenario: Scenario, done: subprocess.CompletedProcess[str], story: str) -> None:
    output = done.stdout + done.stderr
    assert not _USAGE_ERROR.search(done.stderr), (
        f"kiln rejects an option the scenario needs\n{story}"
    )
    assert "Traceback" not in output, story
    if not scenario.expected.satisfiable:
        assert done.returncode != 0, story
        assert re.search(r"^error: \S", done.stderr, re.MULTILINE), story
    else:
        assert done.returncode == 0, story


# -- tables that must not go stale ------------------------------------------------------------


def test_every_flag_scenarios_need_is_accepted_unless_listed_missing() -> None:
    used = {(s.mode, f.name) for s in SCENARIOS if not s.disabled for f in s.flags()}
    for mode, name in sorted(used):
        accepted = name in accepted_flags(mode)
        verb = " ".join(VERBS[mode])
        if name in MISSING_FLAGS:
            assert not accepted, (
                f"`kiln {verb}` now accepts {name}: remove it from MISSING_FLAGS in "
                "known_failures.py and from README.md, and let its scenarios run"
            )
        else:
            assert accepted, f"`kiln {verb}` has no {name}: add it to MISSING_FLAGS"
    assert set(MISSING_FLAGS) <= {name for _, name in used}, "MISSING_FLAGS names an unused flag"


def test_every_known_failure_names_a_scenario_that_runs() -> None:
    by_id = {s.id: s for s in SCENARIOS}
    for scenario_id, wrong in KNOWN_WRONG.items():
        assert scenario_id in by_id, scenario_id
        scenario = by_id[scenario_id]
        assert not scenario.disabled, f"{scenario_id} is disabled by uv's generator"
        assert not missing_flags(scenario), f"{scenario_id} already fails on a missing flag"
        assert wrong.group in GROUPS, f"{scenario_id}: unknown group {wrong.group}"


def test_every_lock_expectation_names_a_lock_mode_scenario() -> None:
    lock_mode = {s.id for s in SCENARIOS if s.mode == "lock"}
    assert set(LOCK_EXPECTED) <= lock_mode, set(LOCK_EXPECTED) - lock_mode


def test_readme_lists_every_known_failure() -> None:
    text = README.read_text(encoding="utf-8")
    table = render_failures(SCENARIOS)
    assert table in text, (
        "README.md's failure tables differ from known_failures.py; paste the output of "
        "`python -m tests.scenarios.known_failures`"
    )


def test_readme_counts_have_each_rows_total_and_xfails() -> None:
    # Skips (and so passes) depend on which Pythons this machine has; totals and the xfails
    # planned for scenarios that can run do not, so those must match everywhere.
    want: dict[tuple[str, str], list[int]] = {}
    for scenario in SCENARIOS:
        for key in (
            (scenario.category, scenario.mode),
            (f"**{scenario.mode}**", ""),
            ("**all**", ""),
        ):
            row = want.setdefault(key, [0, 0])
            row[0] += 1
            row[1] += planned_xfail(scenario)
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and (cells[0], cells[1]) in want:
            total, xfail = want.pop((cells[0], cells[1]))
            assert (cells[2], cells[5]) == (str(total), str(xfail)), f"README row {cells}"
    assert not want, f"README.md has no counts row for {sorted(want)}"


# -- install ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def scenario_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """One environment per Python version, shared: neither a dry run nor a compile changes it."""
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


def _check_versions(scenario: Scenario, resolved: Mapping[str, str], story: str) -> None:
    if scenario.expected.packages:
        assert dict(resolved) == scenario.expected_set(), story
    else:
        # packse lists no versions here: at least what was asked for must be there.
        assert scenario.root_names() <= resolved.keys(), story


@pytest.mark.parametrize("scenario", _params("install"))
def test_install_scenario(
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
        *scenario.flag_args(),
    )
    story = _story(scenario, done)
    _check_common(scenario, done, story)
    if scenario.expected.satisfiable:
        _check_versions(scenario, resolved_set(done.stderr), story)


# -- compile ---------------------------------------------------------------------------------


def compiled_pins(stdout: str) -> dict[str, set[str]]:
    """The `name==version` lines of a requirements.txt: normalized name -> versions (more
    than one where a universal compile forks)."""
    pins: dict[str, set[str]] = {}
    for m in _PIN.finditer(stdout):
        pins.setdefault(canonicalize_name(m["name"]), set()).add(str(Version(m["version"])))
    return pins


@pytest.mark.parametrize("scenario", _params("compile"))
def test_compile_scenario(
    scenario: Scenario,
    scenario_venv: Callable[[str], Path],
    index_server: IndexServer,
    tmp_path: Path,
) -> None:
    index_server.add(*scenario.pkgs())
    requirements = tmp_path / "requirements.in"
    requirements.write_text(scenario.requirements_in(), encoding="utf-8")
    others = tuple(
        interpreter.parent
        for version in scenario.additional_python
        if (interpreter := interpreter_for(version)) is not None
    )
    done = _run_kiln(
        tmp_path / "cache",
        "pip",
        "compile",
        str(requirements),
        "--index-url",
        index_server.index_url(),
        "--python",
        str(scenario_venv(scenario.runner_python())),
        "--no-header",
        *scenario.flag_args(),
        path_first=others,
    )
    story = _story(scenario, done, f"--- requirements.in ---\n{scenario.requirements_in()}")
    _check_common(scenario, done, story)
    if not scenario.expected.satisfiable:
        return
    pins = compiled_pins(done.stdout)
    if scenario.options.universal:
        # A universal compile may pin a package twice under disjoint markers; packse names
        # one version each, which must be among them (uv checks `name==version` is printed).
        if scenario.expected.packages:
            expected = scenario.expected_set()
            assert pins.keys() == expected.keys(), story
            for name, version in expected.items():
                assert version in pins[name], story
        else:
            assert scenario.root_names() <= pins.keys(), story
        return
    assert all(len(v) == 1 for v in pins.values()), story
    _check_versions(scenario, {name: min(v) for name, v in pins.items()}, story)


# -- lock ------------------------------------------------------------------------------------


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


def locked_summary(lock: Lock) -> str:
    """Each locked package as `name version ; marker`, the form the diagnoses quote."""
    lines = []
    for package in lock.packages:
        # packaging prints markers with double quotes; pylock.toml, as kiln writes it, and
        # the diagnoses use single ones
        marker = f" ; {package.marker}".replace('"', "'") if package.marker is not None else ""
        lines.append(f"{package.name} {package.version}{marker}")
    return "\n".join(lines)


# Named in `--upgrade-package` to make `kiln lock` resolve again from its own lock: kiln's
# `--locked` only compares input fingerprints, and an unchanged project is not re-resolved.
RELOCK_PROBE = "kiln-relock-probe"


@pytest.mark.parametrize("scenario", _params("lock"))
def test_lock_scenario(scenario: Scenario, index_server: IndexServer, tmp_path: Path) -> None:
    index_server.add(*scenario.pkgs())
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(scenario.pyproject(), encoding="utf-8")
    lock_args = ("lock", "--project", str(project), "--default-index", index_server.index_url())
    done = _run_kiln(tmp_path / "cache", *lock_args, *scenario.flag_args())
    story = _story(scenario, done, scenario.pyproject())
    _check_common(scenario, done, story)
    if not scenario.expected.satisfiable:
        return
    path = project / "pylock.toml"
    lock = load_lock(path.read_text(encoding="utf-8"), path)
    first = locked_summary(lock)
    story += f"\n--- locked ---\n{first}"
    locked: dict[str, set[str]] = {}
    for package in lock.packages:
        locked.setdefault(package.name, set()).add(str(package.version))
    pythons = matrix_pythons(lock.requires_python)
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
    # uv's generated lock tests end by checking that resolving again from the lock changes
    # nothing (`uv lock --locked`); a lock that moves under its own preferences is unstable.
    again = _run_kiln(tmp_path / "cache", *lock_args, "--upgrade-package", RELOCK_PROBE)
    assert again.returncode == 0, _story(scenario, again, "--- relock ---")
    second = locked_summary(load_lock(path.read_text(encoding="utf-8"), path))
    assert second == first, f"relocking from the lock changed it:\n{second}\n{story}"


def test_every_mode_has_scenarios() -> None:
    assert {s.mode for s in SCENARIOS} == set(MODES)
