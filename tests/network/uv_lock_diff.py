"""Differential harness: what each platform installs from kiln's universal lock versus uv's.

uv locks once and exports one PEP 751 file per selection (default, each extra, each group);
kiln locks once and its single `pylock.toml` is sliced per selection by `kiln.lock.select`.
Both are then evaluated for every platform x CPython pair, and the installed sets
{(name, version)} must agree. A refusal (nothing can be installed there) only agrees with a
refusal.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.pylock import Pylock, PylockSelectError
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from kiln.core.environment import Environment
from kiln.core.errors import KilnError
from kiln.core.markers import evaluate
from kiln.lock.model import Lock
from kiln.lock.pylock_toml import load_lock
from kiln.lock.select import LockSelectError, select
from kiln.python.platforms import (
    LINUX_AARCH64,
    LINUX_X86_64,
    MACOS_ARM64,
    WINDOWS_AMD64,
    platform_environment,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PROJECTS_DIR = Path(__file__).parent / "lock_projects"
# 3.14 is included although no such interpreter runs here: a lock must already say what a
# newer CPython gets, and that is where "oldest Python's versions everywhere" shows first.
# Named one by one: kiln's DEFAULT_PLATFORMS may grow, and this matrix is the brief's.
PLATFORMS = (LINUX_X86_64, LINUX_AARCH64, MACOS_ARM64, WINDOWS_AMD64)
PYTHONS = ((3, 10), (3, 11), (3, 12), (3, 13), (3, 14))
REPORT_ENV = "KILN_UV_DIFF_REPORT"

Pair = tuple[str, str]


# -- tools and interpreters ---------------------------------------------------------------------


def uv_command() -> list[str] | None:
    """uv from the dev extra (same venv as the tests) first, else the one on PATH."""
    candidates = [[sys.executable, "-m", "uv"]]
    if found := shutil.which("uv"):
        candidates.append([found])
    for command in candidates:
        probe = subprocess.run([*command, "--version"], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.startswith("uv "):
            return command
    return None


def find_interpreters() -> dict[tuple[int, int], tuple[str, Path]]:
    """Real CPython executables by minor version, with their full version.

    pyenv's shims are skipped: they are scripts that pick an interpreter from the shell's
    state, and uv, seeing them on PATH, reports interpreters that then fail to run.
    """
    candidates: list[str] = []
    for root in filter(None, (os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv"))):
        candidates += sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3")))
    for minor in range(8, 15):
        found = shutil.which(f"python3.{minor}")
        if found and "shims" not in found:
            candidates.append(found)
    out: dict[tuple[int, int], tuple[str, Path]] = {}
    for candidate in candidates:
        probe = subprocess.run(
            [
                candidate,
                "-c",
                "import sys, platform; "
                "print(sys.implementation.name, platform.python_version(), sys.executable)",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if probe.returncode != 0:
            continue
        impl, version, executable = probe.stdout.split(maxsplit=2)
        key = tuple(int(p) for p in version.split(".")[:2])
        if impl == "cpython" and len(key) == 2 and key not in out:
            out[(key[0], key[1])] = (version, Path(executable.strip()))
    return out


def clean_env(extra: Mapping[str, str], path_dirs: Sequence[Path]) -> dict[str, str]:
    """The caller's environment without anything that points a tool at other indexes or
    configuration (UV_*, KILN_*, PIP_* such as PIP_FIND_LINKS, an active venv)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("UV_", "KILN_", "PIP_")) and key not in ("VIRTUAL_ENV", "PATH")
    }
    inherited = [d for d in os.environ.get("PATH", "").split(os.pathsep) if "pyenv" not in d]
    env["PATH"] = os.pathsep.join([*(str(d) for d in path_dirs), *inherited])
    env["PIP_CONFIG_FILE"] = os.devnull
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def tail(self, lines: int = 25) -> str:
        return "\n".join((self.stdout + self.stderr).strip().splitlines()[-lines:])


def run(args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float = 900) -> Run:
    start = time.monotonic()
    try:
        done = subprocess.run(
            list(args), cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as expired:
        # A lock that hangs is a result to report with the others, not an error of the run.
        out = expired.stdout or ""
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        return Run(tuple(args), -1, out, f"timed out after {timeout:.0f}s", timeout)
    return Run(tuple(args), done.returncode, done.stdout, done.stderr, time.monotonic() - start)


# -- projects and selections --------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """One way to install the project: the uv export flags and the kiln select arguments."""

    label: str
    uv_args: tuple[str, ...]
    extras: frozenset[str]
    groups: frozenset[str]
    # `--only-group`: the project's own dependencies are left out, which a PEP 751 marker
    # cannot say; kiln's side is then cut down to what the group's requirements reach.
    only_group: str | None = None


def _group_requirements(groups: Mapping[str, list[object]], name: str) -> list[Requirement]:
    out: list[Requirement] = []
    for entry in groups.get(name, []):
        if isinstance(entry, str):
            out.append(Requirement(entry))
        elif isinstance(entry, dict) and "include-group" in entry:
            out += _group_requirements(groups, str(entry["include-group"]))
    return out


@dataclass(frozen=True)
class ProjectInfo:
    name: str
    requires_python: SpecifierSet | None
    extras: tuple[str, ...]
    groups: Mapping[str, list[object]]
    default_groups: frozenset[str]
    conflicts: tuple[frozenset[tuple[str, str]], ...]  # {("extra"|"group", name)}
    environments: tuple[Marker, ...]

    @classmethod
    def read(cls, text: str) -> ProjectInfo:
        data = tomllib.loads(text)
        project = data["project"]
        uv = data.get("tool", {}).get("uv", {})
        groups = {canonicalize_name(k): v for k, v in data.get("dependency-groups", {}).items()}
        # uv's default: the `dev` group when there is one.
        default = uv.get("default-groups", ["dev"])
        defaults = set(groups) if default == "all" else {canonicalize_name(g) for g in default}
        conflicts = tuple(
            frozenset(
                ("extra", canonicalize_name(item["extra"]))
                if "extra" in item
                else ("group", canonicalize_name(item["group"]))
                for item in conflict
            )
            for conflict in uv.get("conflicts", [])
        )
        environments = uv.get("environments", [])
        return cls(
            name=canonicalize_name(project["name"]),
            requires_python=(
                SpecifierSet(project["requires-python"]) if "requires-python" in project else None
            ),
            extras=tuple(
                sorted(canonicalize_name(e) for e in project.get("optional-dependencies", {}))
            ),
            groups=groups,
            default_groups=frozenset(defaults & set(groups)),
            conflicts=conflicts,
            environments=tuple(
                Marker(m)
                for m in ([environments] if isinstance(environments, str) else environments)
            ),
        )

    def allowed(self, extras: frozenset[str], groups: frozenset[str]) -> bool:
        active = {("extra", e) for e in extras} | {("group", g) for g in groups}
        return all(len(conflict & active) < 2 for conflict in self.conflicts)

    def selections(self) -> list[Selection]:
        defaults = self.default_groups
        out = [Selection("default", (), frozenset(), defaults)]
        for extra in self.extras:
            out.append(
                Selection(f"extra-{extra}", ("--extra", extra), frozenset({extra}), defaults)
            )
        for group in sorted(self.groups):
            if group not in defaults:
                out.append(
                    Selection(f"group-{group}", ("--group", group), frozenset(), defaults | {group})
                )
            out.append(
                Selection(
                    f"only-group-{group}",
                    ("--only-group", group),
                    frozenset(),
                    frozenset({group}),
                    only_group=group,
                )
            )
        return [s for s in out if self.allowed(s.extras, s.groups)]


# -- outcomes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one lock installs in one environment: a set of pins, or why it cannot."""

    installed: frozenset[Pair] | None = None
    refusal: str | None = None

    @property
    def refused(self) -> bool:
        return self.installed is None


@dataclass(frozen=True)
class Target:
    key: str  # "linux-x86_64 cp312"
    env: Environment


def targets() -> list[Target]:
    return [
        Target(
            f"{platform.key} cp{major}{minor}",
            # Exactly the tags this interpreter accepts (no `floor`): this is installation.
            platform_environment(platform, (major, minor)),
        )
        for platform in PLATFORMS
        for major, minor in PYTHONS
    ]


def uv_outcome(lock: Pylock, env: Environment, project: str) -> Outcome:
    """uv's export read as PEP 751 says an installer reads it (via `packaging.pylock`); its
    markers already hold the selection, so no extras or groups are passed."""
    try:
        chosen = list(
            lock.select(
                environment=dict(env.markers),  # type: ignore[arg-type]
                tags=list(env.tags),
                extras=None,
                dependency_groups=None,
            )
        )
    except PylockSelectError as error:
        return Outcome(refusal=str(error))
    return Outcome(
        installed=frozenset(
            (str(p.name), str(p.version)) for p, _ in chosen if str(p.name) != project
        )
    )


def _reachable(
    lock: Lock, env: Environment, chosen: Mapping[str, Pair], roots: set[str]
) -> set[str]:
    edges = {
        p.name: p.dependencies
        for p in lock.packages
        if chosen.get(p.name) == (p.name, str(p.version))
    }
    seen: set[str] = set()
    todo = [r for r in roots if r in chosen]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for dep in edges.get(name, ()):
            if dep.name in chosen and dep.name not in seen and _edge_holds(dep.marker, env):
                todo.append(dep.name)
    return seen


def _edge_holds(marker: Marker | None, env: Environment) -> bool:
    # An edge guarded by an extra of the dependent is followed: which extras of a dependency
    # are active is not recorded per edge, and following too far only keeps what is chosen.
    if marker is None or "extra" in str(marker):
        return True
    try:
        return evaluate(marker, env.markers)
    except KilnError:
        return True


def kiln_outcome(
    lock: Lock, env: Environment, selection: Selection, project: ProjectInfo
) -> Outcome:
    try:
        chosen = [
            s.package for s in select(lock, env, extras=selection.extras, groups=selection.groups)
        ]
    except LockSelectError as error:
        if not any("only the sdist" in cause for cause in error.causes):
            cause = f" ({error.causes[0][:160]})" if error.causes else ""
            return Outcome(refusal=error.message + cause)
        # Only an sdist fits somewhere: uv builds it, kiln's installer cannot yet. What the
        # lock selects is still compared, entry by entry, as an installer reads the markers.
        chosen = [
            p
            for p in lock.packages
            if evaluate(p.marker, env.markers, extras=selection.extras, groups=selection.groups)
        ]
    pins = {p.name: (str(p.name), str(p.version)) for p in chosen if p.name != project.name}
    if selection.only_group is not None:
        roots = {
            canonicalize_name(r.name)
            for r in _group_requirements(project.groups, selection.only_group)
            if r.marker is None or r.marker.evaluate({**env.markers, "extra": ""})
        }
        keep = _reachable(lock, env, pins, roots)
        pins = {name: pin for name, pin in pins.items() if name in keep}
    return Outcome(installed=frozenset(pins.values()))


def compare(kiln: Outcome, uv: Outcome) -> tuple[str, ...]:
    """Empty when both install the same set (or both refuse); else one item per difference:
    a package whose versions differ, or the refusal of one side."""
    if kiln.refused and uv.refused:
        return ()
    if kiln.refused:
        return (f"kiln refuses, uv installs: {kiln.refusal}",)
    if uv.refused:
        return (f"uv refuses, kiln installs: {uv.refusal}",)
    assert kiln.installed is not None and uv.installed is not None
    ours: dict[str, set[str]] = {}
    theirs: dict[str, set[str]] = {}
    for name, version in kiln.installed:
        ours.setdefault(name, set()).add(version)
    for name, version in uv.installed:
        theirs.setdefault(name, set()).add(version)
    return tuple(
        f"{name} kiln={','.join(sorted(ours.get(name, ()))) or '-'} "
        f"uv={','.join(sorted(theirs.get(name, ()))) or '-'}"
        for name in sorted(set(ours) | set(theirs))
        if ours.get(name) != theirs.get(name)
    )


def _general(reason: str | None, env: Environment) -> str:
    """A refusal in words that do not name the target, so equal causes group together."""
    text = (reason or "").replace(env.description, "this target")
    text = text.replace(env.python_full_version, "X")
    return re.sub(r"packages\[\d+\]", "packages[..]", text)


# -- one project ---------------------------------------------------------------------------------


@dataclass
class ProjectResult:
    name: str
    selections: list[str] = field(default_factory=list)
    targets: int = 0
    uv_seconds: float = 0.0
    kiln_seconds: float = 0.0
    failure: str | None = None  # a lock that did not finish
    # selection -> difference text -> target keys
    diffs: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    agreed: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failure is None and not any(self.diffs.values())


@dataclass(frozen=True)
class Tools:
    uv: list[str]
    interpreters: dict[tuple[int, int], tuple[str, Path]]
    uv_cache: Path
    kiln_cache: Path

    @property
    def path_dirs(self) -> list[Path]:
        return [exe.parent for _, exe in sorted(self.interpreters.values(), reverse=True)]


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-") or "x"


def lock_and_compare(text: str, work: Path, tools: Tools) -> ProjectResult:
    info = ProjectInfo.read(text)
    result = ProjectResult(info.name)
    selections = info.selections()
    result.selections = [s.label for s in selections]

    uv_root, kiln_root = work / "uv", work / "kiln"
    for root in (uv_root, kiln_root):
        root.mkdir(parents=True)
        (root / "pyproject.toml").write_text(text)

    uv_env = clean_env(
        {
            "UV_CACHE_DIR": str(tools.uv_cache),
            # Not UV_NO_CONFIG: it would also drop the project's own `[tool.uv]` settings
            # (exclude-newer among them). An empty config home keeps user files out instead.
            "XDG_CONFIG_HOME": str(work / "uv-config"),
            "UV_PYTHON_DOWNLOADS": "never",
        },
        tools.path_dirs,
    )
    locked = run([*tools.uv, "lock"], uv_root, uv_env)
    result.uv_seconds += locked.seconds
    if locked.returncode != 0:
        result.failure = f"uv lock failed:\n{locked.tail()}"
        return result
    exports: dict[str, Pylock] = {}
    for selection in selections:
        out = uv_root / "exports" / f"pylock.{_safe(selection.label)}.toml"
        out.parent.mkdir(exist_ok=True)
        done = run(
            [*tools.uv, "export", "--frozen", "--format", "pylock.toml", "-o", str(out),
             *selection.uv_args],
            uv_root,
            uv_env,
        )  # fmt: skip
        result.uv_seconds += done.seconds
        if done.returncode != 0:
            result.failure = f"uv export {' '.join(selection.uv_args)} failed:\n{done.tail()}"
            return result
        exports[selection.label] = Pylock.from_dict(tomllib.loads(out.read_text()))

    # As for uv: no KILN_NO_CONFIG, which would drop `[tool.uv]` as `--no-config` does.
    kiln_env = clean_env(
        {
            "KILN_CACHE_DIR": str(tools.kiln_cache),
            "XDG_CONFIG_HOME": str(work / "kiln-config"),
            "XDG_CONFIG_DIRS": str(work / "kiln-config-system"),
        },
        tools.path_dirs,
    )
    kiln_locked = run(
        [sys.executable, "-m", "kiln", "lock", "--project", str(kiln_root)], kiln_root, kiln_env
    )
    result.kiln_seconds = kiln_locked.seconds
    lock_path = kiln_root / "pylock.toml"
    if kiln_locked.returncode != 0 or not lock_path.exists():
        result.failure = f"kiln lock failed (exit {kiln_locked.returncode}):\n{kiln_locked.tail()}"
        return result
    try:
        lock = load_lock(lock_path.read_text(), lock_path)
    except KilnError as error:
        result.failure = f"kiln's pylock.toml does not load: {error}"
        return result

    all_targets = targets()
    result.targets = len(all_targets)
    for selection in selections:
        per_diff: dict[str, list[str]] = {}
        agreed = 0
        for target in all_targets:
            theirs = uv_outcome(exports[selection.label], target.env, info.name)
            try:
                ours = kiln_outcome(lock, target.env, selection, info)
            except Exception as error:  # select must refuse with a message, never crash
                differences: tuple[str, ...] = (
                    f"kiln select crashed: {type(error).__name__}: {error}",
                )
            else:
                differences = compare(
                    Outcome(ours.installed, _general(ours.refusal, target.env)),
                    Outcome(theirs.installed, _general(theirs.refusal, target.env)),
                )
            agreed += not differences
            for difference in differences:
                per_diff.setdefault(difference, []).append(target.key)
        result.diffs[selection.label] = per_diff
        result.agreed[selection.label] = agreed
    return result


# -- reporting -----------------------------------------------------------------------------------


def summarize_targets(keys: Iterable[str]) -> str:
    """'cp312-cp314: all; cp311: linux-x86_64, macos-arm64' from target keys."""
    platforms = sorted(p.key for p in PLATFORMS)
    by_python: dict[int, list[str]] = {}
    for key in keys:
        platform, python = key.rsplit(" ", 1)
        by_python.setdefault(int(python[3:]), []).append(platform)
    if len(by_python) == len(PYTHONS) and all(sorted(p) == platforms for p in by_python.values()):
        return "every target"
    runs: list[tuple[int, int, list[str]]] = []  # first, last python, platforms
    for python in sorted(by_python):
        found = sorted(by_python[python])
        if runs and runs[-1][1] == python - 1 and runs[-1][2] == found:
            runs[-1] = (runs[-1][0], python, found)
        else:
            runs.append((python, python, found))
    parts = []
    for first, last, found in runs:
        pythons = f"cp3{first}" if first == last else f"cp3{first}-cp3{last}"
        parts.append(f"{pythons}: {'all' if found == platforms else ', '.join(found)}")
    return "; ".join(parts)


def render(result: ProjectResult) -> str:
    lines = [
        f"## {result.name}",
        "",
        f"uv lock+exports {result.uv_seconds:.1f}s, kiln lock {result.kiln_seconds:.1f}s; "
        f"selections: {', '.join(result.selections)}",
    ]
    if result.failure is not None:
        lines += ["", "```", result.failure, "```"]
        return "\n".join(lines) + "\n"
    lines.append("")
    default = result.diffs.get("default", {})
    for label in result.selections:
        diffs = result.diffs.get(label, {})
        agreed = result.agreed.get(label, 0)
        # What an extra or group shares with the default selection is said once, there.
        shared = {d for d, keys in diffs.items() if label != "default" and default.get(d) == keys}
        line = f"- **{label}**: agree in {agreed}/{result.targets} targets"
        if shared:
            line += f"; the {len(shared)} differences of default, plus those below"
        lines.append(line)
        for difference, keys in sorted(diffs.items(), key=lambda kv: kv[0]):
            if difference not in shared:
                lines.append(f"  - {difference} [{summarize_targets(keys)}]")
    return "\n".join(lines) + "\n"


def write_report(result: ProjectResult) -> None:
    """With KILN_UV_DIFF_REPORT=FILE, keep FILE's section for this project up to date.

    Each project writes its own fragment beside FILE and FILE is rebuilt from all of them,
    so parallel workers and reruns of single projects leave the other sections in place.
    """
    target = os.environ.get(REPORT_ENV)
    if not target:
        return
    report = Path(target)
    fragments = report.with_name(report.name + ".d")
    fragments.mkdir(parents=True, exist_ok=True)
    (fragments / f"{result.name}.md").write_text(render(result))
    body = "\n".join(p.read_text() for p in sorted(fragments.glob("*.md")))
    header = (
        "# kiln lock vs uv lock: installed sets per project, selection and target\n\n"
        "Targets: Linux x86_64/aarch64, macOS arm64, Windows AMD64 x CPython 3.10-3.14. "
        "`kiln=A uv=B` gives both versions (`-`: not installed). Written by "
        "tests/network/test_uv_lock_diff.py.\n\n"
    )
    partial = report.with_name(report.name + f".{os.getpid()}.tmp")
    partial.write_text(header + body)
    partial.replace(report)
