#!/usr/bin/env python3
"""Time `kiln lock` against `uv lock` on two projects, side by side in one run.

Standard library only, so it runs under any CPython 3.10+. The script writes each project's
`pyproject.toml` into a temporary folder of its own per tool, then times `<tool> lock` there.
After every run it reads the lock back (kiln writes `pylock.toml`, uv `uv.lock`) and counts
its packages; a run that exits non-zero, writes no lock or writes an empty one is recorded as
failed with its output, and the benchmark goes on with the other tool and the next run.

Projects:
  s1  the seed's S1: requires-python >=3.12, torch and torchvision from PyPI
  ml  eleven common data/ML/CLI libraries (numpy ... jinja2), requires-python >=3.9

Scenarios:
  cold  an empty cache directory and no lock file for every repetition
  warm  the cache an earlier lock of the same project filled; the lock file is deleted
        before every repetition so that a full resolution happens
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools import kiln_command

DEFAULT_PYTHON = "/root/.pyenv/versions/3.12.1/bin/python"
# Both tools get the same cut-off on the command line: with UV_NO_CONFIG=1, uv ignores the
# `[tool.uv]` settings table, including `exclude-newer`, so the pyproject entry alone would
# leave uv resolving against today's PyPI while kiln resolves against October's.
DEFAULT_EXCLUDE_NEWER = "2026-10-01T00:00:00Z"
TOOLS = ("kiln", "uv")
SCENARIOS = ("cold", "warm")
LOCK_FILES = {"kiln": "pylock.toml", "uv": "uv.lock"}
PROBE_PROJECT = "six"

PROJECTS = {
    "s1": (
        ">=3.12",
        ["torch", "torchvision"],
    ),
    "ml": (
        ">=3.9",
        [
            "numpy",
            "scipy",
            "pandas",
            "matplotlib",
            "scikit-learn",
            "requests",
            "rich",
            "pydantic",
            "tqdm",
            "pyyaml",
            "jinja2",
        ],
    ),
}


@dataclass(frozen=True)
class Commands:
    """How to invoke each tool, resolved once at start-up."""

    kiln: tuple[str, ...]
    uv: tuple[str, ...]
    python: str
    exclude_newer: str
    timeout: float


@dataclass
class Outcome:
    """One timed lock: seconds and the lock's contents, or why it failed."""

    project: str
    scenario: str
    tool: str
    rep: int
    seconds: float | None
    packages: int | None = None
    names: int | None = None
    newest_upload: str | None = None
    error: str | None = None
    locked: list[str] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# -- projects and lock files ---------------------------------------------------------------


def pyproject(project: str, exclude_newer: str) -> str:
    requires_python, deps = PROJECTS[project]
    listed = ", ".join(f'"{d}"' for d in deps)
    return (
        "[project]\n"
        f'name = "bench-{project}"\n'
        'version = "0.1.0"\n'
        f'requires-python = "{requires_python}"\n'
        f"dependencies = [{listed}]\n"
        "\n"
        "[tool.uv]\n"
        f'exclude-newer = "{exclude_newer}"\n'
    )


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries(path: Path) -> list[tuple[str, str]]:
    """(name, version) of each `[[package]]` (uv.lock) or `[[packages]]` (pylock.toml) entry.

    Read line by line rather than with tomllib so that 3.10 can run the script. The project
    itself (uv lists it with `source = { virtual = "." }` or `editable`) is left out, because
    pylock.toml does not list it and the counts would not compare.
    """
    entries: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped in ("[[package]]", "[[packages]]"):
            current = {}
            entries.append(current)
            continue
        if stripped.startswith("["):
            # A sub-table ([packages.sdist], [[packages.wheels]], ...) has names of its own.
            current = None
            continue
        if current is None:
            continue
        match = re.match(r"(name|version|source)\s*=\s*(.*)", line)
        if match:
            current.setdefault(match.group(1), match.group(2).strip())
    result = []
    for entry in entries:
        source = entry.get("source", "")
        if re.search(r'(virtual|editable)\s*=\s*"\."', source):
            continue
        name = entry.get("name", "").strip('"')
        version = entry.get("version", "").strip('"')
        if name:
            result.append((canonical(name), version))
    return sorted(result)


def newest_upload(path: Path) -> str | None:
    """The latest `upload-time` of any file in the lock, to see whether the cut-off held."""
    stamps = re.findall(
        r'upload-time\s*=\s*"?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)', path.read_text(encoding="utf-8")
    )
    return max(stamps) if stamps else None


# -- running tools -------------------------------------------------------------------------


def clean_env(cmds: Commands) -> dict[str, str]:
    """The caller's environment without anything that configures pip, uv or kiln."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "KILN_")) and k not in ("VIRTUAL_ENV", "CONDA_PREFIX")
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    # kiln gets these too: it is meant to fall back to UV_X (DESIGN.md section 2).
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    # pyenv's shims answer for every version and make uv's interpreter discovery pick
    # whichever the shim resolves to; only real interpreter folders go on PATH.
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and "shims" not in p]
    env["PATH"] = os.pathsep.join([str(Path(cmds.python).parent), *path])
    return env


def lock_command(
    tool: str, cmds: Commands, project: Path, cache: Path
) -> tuple[list[str], dict[str, str]]:
    env = clean_env(cmds)
    common = ["lock", "--project", str(project), "--exclude-newer", cmds.exclude_newer]
    if tool == "kiln":
        env["KILN_CACHE_DIR"] = str(cache)
        return [*cmds.kiln, *common, "--cache-dir", str(cache)], env
    env["UV_CACHE_DIR"] = str(cache)
    # The interpreter does not change a universal lock; uv only insists on finding one.
    return [*cmds.uv, *common, "--python", cmds.python], env


def tail(log: Path, limit: int = 2000) -> str:
    try:
        return log.read_text(errors="replace")[-limit:].strip()
    except OSError:
        return ""


class Bench:
    def __init__(self, cmds: Commands, work: Path) -> None:
        self.cmds = cmds
        self.work = work
        self.counter = 0
        # (project, tool) -> (project folder, cache) that a successful lock filled.
        self.warm: dict[tuple[str, str], tuple[Path, Path]] = {}

    def fresh(self, what: str) -> Path:
        self.counter += 1
        return self.work / f"{self.counter:03d}-{what}"

    def new_project(self, project: str, tool: str) -> Path:
        folder = self.fresh(f"{project}-{tool}")
        folder.mkdir()
        (folder / "pyproject.toml").write_text(pyproject(project, self.cmds.exclude_newer))
        return folder

    def lock(
        self, project: str, scenario: str, tool: str, rep: int, folder: Path, cache: Path
    ) -> Outcome:
        lock_file = folder / LOCK_FILES[tool]
        lock_file.unlink(missing_ok=True)
        cmd, env = lock_command(tool, self.cmds, folder, cache)
        log = self.fresh(f"{project}-{scenario}-{tool}.log")
        start = time.perf_counter()

        def failed(seconds: float | None, why: str) -> Outcome:
            return Outcome(project, scenario, tool, rep, seconds, error=why)

        try:
            with log.open("wb") as out:
                done = subprocess.run(
                    cmd,
                    cwd=folder,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=self.cmds.timeout,
                )
        except subprocess.TimeoutExpired:
            return failed(None, f"timed out after {self.cmds.timeout:.0f} s\n{tail(log)}")
        except OSError as error:
            return failed(None, f"{cmd[0]}: {error}")
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            return failed(seconds, f"exit {done.returncode}: {' '.join(cmd)}\n{tail(log)}")
        if not lock_file.is_file():
            return failed(seconds, f"exit 0 but no {lock_file.name} written\n{tail(log)}")
        entries = lock_entries(lock_file)
        if not entries:
            return failed(seconds, f"{lock_file.name} lists no packages\n{tail(log)}")
        return Outcome(
            project,
            scenario,
            tool,
            rep,
            seconds,
            packages=len(entries),
            names=len({name for name, _ in entries}),
            newest_upload=newest_upload(lock_file),
            locked=[f"{name}=={version}" for name, version in entries],
        )

    def cold(self, project: str, reps: int) -> list[Outcome]:
        outcomes = []
        for rep in range(reps):
            for tool in order(rep):
                folder = self.new_project(project, tool)
                cache = self.fresh(f"cache-{project}-{tool}")
                outcome = self.lock(project, "cold", tool, rep, folder, cache)
                outcomes.append(report(outcome, self.cmds.exclude_newer))
                if outcome.ok:
                    self.keep_warm(project, tool, folder, cache)
                else:
                    shutil.rmtree(cache, ignore_errors=True)
        return outcomes

    def keep_warm(self, project: str, tool: str, folder: Path, cache: Path) -> None:
        old = self.warm.get((project, tool))
        if old is not None:
            # A torch lock's cache holds many index pages; one per tool and project is enough.
            shutil.rmtree(old[1], ignore_errors=True)
        self.warm[(project, tool)] = (folder, cache)

    def warm_up(self, project: str, tool: str) -> str | None:
        """Fill a cache with an untimed lock; the error text if that failed."""
        folder = self.new_project(project, tool)
        cache = self.fresh(f"cache-{project}-{tool}")
        outcome = self.lock(project, "warm-up", tool, 0, folder, cache)
        print(f"  warm-up {project} {tool}: {'ok' if outcome.ok else 'FAILED'}", file=sys.stderr)
        if not outcome.ok:
            return outcome.error
        self.keep_warm(project, tool, folder, cache)
        return None

    def warm_runs(self, project: str, reps: int) -> list[Outcome]:
        outcomes = []
        failed_warm_up = {}
        for tool in TOOLS:
            if (project, tool) not in self.warm:
                error = self.warm_up(project, tool)
                if error is not None:
                    failed_warm_up[tool] = error
        for rep in range(reps):
            for tool in order(rep):
                if tool in failed_warm_up:
                    # Without a filled cache a "warm" timing would be a cold one mislabelled.
                    why = f"warm-up lock failed, no warm cache:\n{failed_warm_up[tool]}"
                    outcome = Outcome(project, "warm", tool, rep, None, error=why)
                else:
                    folder, cache = self.warm[(project, tool)]
                    outcome = self.lock(project, "warm", tool, rep, folder, cache)
                outcomes.append(report(outcome, self.cmds.exclude_newer))
        return outcomes


def order(rep: int) -> tuple[str, ...]:
    """Alternate which tool goes first, so neither always meets a mirror the other warmed."""
    return TOOLS if rep % 2 == 0 else TOOLS[::-1]


def report(outcome: Outcome, cutoff: str) -> Outcome:
    head = f"  {outcome.scenario:<5} {outcome.project:<3} {outcome.tool:<5} #{outcome.rep + 1}:"
    seconds = f"{outcome.seconds:7.2f} s" if outcome.seconds is not None else "      - s"
    if outcome.ok:
        detail = f"{outcome.packages} packages ({outcome.names} names) in the lock"
        if outcome.newest_upload and outcome.newest_upload >= cutoff[:19]:
            detail += f"; WARNING: newest file {outcome.newest_upload}, after {cutoff}"
    else:
        first = (outcome.error or "").splitlines()[0]
        detail = f"FAILED: {first}"
    print(f"{head} {seconds}  {detail}", file=sys.stderr, flush=True)
    return outcome


# -- set-up and output ---------------------------------------------------------------------


def find_uv(explicit: str | None) -> tuple[str, ...]:
    if explicit:
        return (explicit,)
    on_path = shutil.which("uv")
    if on_path:
        return (on_path,)
    return (sys.executable, "-m", "uv")


def version_of(cmd: Sequence[str], env: dict[str, str]) -> str:
    try:
        done = subprocess.run([*cmd, "--version"], capture_output=True, text=True, env=env)
    except OSError:
        return "not found"
    out = (done.stdout or done.stderr).strip().splitlines()
    return out[0] if done.returncode == 0 and out else "?"


def kiln_source(kiln_python: str) -> Path | None:
    try:
        where = subprocess.run(
            [kiln_python, "-c", "import kiln, os; print(os.path.dirname(kiln.__file__))"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    return Path(where.stdout.strip()) if where.returncode == 0 else None


def kiln_revision(folder: Path) -> str | None:
    """The commit of the kiln source being timed, and whether it has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    # No optional locks: a status that refreshed the index would be a write to the checkout.
    dirty = subprocess.run(
        ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )
    return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def source_stamp(folder: Path | None) -> str | None:
    """A digest of kiln's source files' names, sizes and times.

    kiln is usually installed editable from a checkout someone may be editing; if the stamp
    differs between start and end, kiln's runs timed more than one version of it.
    """
    if folder is None:
        return None
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def probe_index() -> str:
    """What the index tells a resolver besides file lists: caching headers, PEP 658, ranges.

    Both tools pay for what is missing here on every run, and a public benchmark elsewhere
    would not, so the output says what this run's index offered.
    """
    url = f"https://pypi.org/simple/{PROBE_PROJECT}/"
    try:
        request = urllib.request.Request(
            url, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            headers = {k.lower() for k in response.headers}
            page = json.load(response)
        files = page.get("files", [])
        metadata = any(f.get("core-metadata") or f.get("dist-info-metadata") for f in files)
        wheel = next((f["url"] for f in reversed(files) if f["filename"].endswith(".whl")), None)
        ranges = "untested"
        if wheel:
            request = urllib.request.Request(wheel, headers={"Range": "bytes=0-0"})
            with urllib.request.urlopen(request, timeout=30) as response:
                ranges = "served" if response.status == 206 else f"ignored ({response.status})"
    except (OSError, ValueError, KeyError) as error:
        return f"index probe failed ({error})"
    caching = sorted(headers & {"cache-control", "etag", "last-modified", "expires"})
    return (
        f"index pages at {url}: caching headers {', '.join(caching) or 'none'}; "
        f"core-metadata (PEP 658) {'listed' if metadata else 'absent'}, so METADATA is read "
        f"{'separately' if metadata else 'out of the wheels'}; range requests {ranges}"
    )


def ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator == 0:
        return "-"
    return f"{numerator / denominator:.2f}"


def median(outcomes: list[Outcome]) -> float | None:
    seconds = [o.seconds for o in outcomes if o.ok and o.seconds is not None]
    return statistics.median(seconds) if seconds else None


def table(outcomes: list[Outcome]) -> str:
    lines = [
        f"{'project':<8} {'scenario':<9} {'tool':<5} {'median s':>9} {'runs':>5} {'failed':>7} "
        f"{'packages':>9} {'kiln/uv':>8}"
    ]
    keys = sorted(
        {(o.project, o.scenario) for o in outcomes},
        key=lambda k: (list(PROJECTS).index(k[0]), SCENARIOS.index(k[1])),
    )
    for project, scenario in keys:
        group = {
            tool: [
                o for o in outcomes if (o.project, o.scenario, o.tool) == (project, scenario, tool)
            ]
            for tool in TOOLS
        }
        medians = {tool: median(runs) for tool, runs in group.items()}
        shown_ratio = ratio(medians["kiln"], medians["uv"])
        for i, tool in enumerate(TOOLS):
            runs = group[tool]
            ok = [o for o in runs if o.ok]
            counts = "/".join(sorted({str(o.packages) for o in ok})) or "-"
            med = medians[tool]
            lines.append(
                f"{project if i == 0 else '':<8} {scenario if i == 0 else '':<9} {tool:<5} "
                f"{(f'{med:.2f}' if med is not None else 'failed'):>9} {len(ok):>5} "
                f"{len(runs) - len(ok):>7} {counts:>9} {shown_ratio if i == 0 else '':>8}".rstrip()
            )
    return "\n".join(lines)


def compare_locks(outcomes: list[Outcome], cutoff: str) -> list[str]:
    """Per project, how the last good kiln lock differs from the last good uv lock."""
    lines = []
    for project in dict.fromkeys(o.project for o in outcomes):
        last = {}
        for o in outcomes:
            if o.project == project and o.ok:
                last[o.tool] = o
        if len(last) < len(TOOLS):
            missing = ", ".join(t for t in TOOLS if t not in last)
            lines.append(f"{project}: no successful lock from {missing}; nothing to compare")
            continue
        kiln, uv = last["kiln"], last["uv"]
        for o in (kiln, uv):
            if o.newest_upload and o.newest_upload >= cutoff[:19]:
                lines.append(
                    f"{project}: WARNING {o.tool}'s lock has a file uploaded {o.newest_upload}, "
                    f"after --exclude-newer {cutoff}"
                )
        kiln_set, uv_set = set(kiln.locked or []), set(uv.locked or [])
        if kiln_set == uv_set:
            lines.append(f"{project}: kiln and uv locked the same {len(kiln_set)} packages")
            continue
        lines.append(
            f"{project}: kiln {kiln.packages} entries ({kiln.names} names), "
            f"uv {uv.packages} entries ({uv.names} names)"
        )
        only_kiln = sorted(kiln_set - uv_set)
        only_uv = sorted(uv_set - kiln_set)
        if only_kiln:
            lines.append(f"  only kiln: {' '.join(only_kiln)}")
        if only_uv:
            lines.append(f"  only uv:   {' '.join(only_uv)}")
    return lines


def csv_choice(parser: argparse.ArgumentParser, value: str, allowed: Sequence[str]) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    for v in chosen:
        if v not in allowed:
            parser.error(f"unknown choice {v!r}; choose from {', '.join(allowed)}")
    return chosen


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        epilog="Projects:" + __doc__.split("Projects:", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--project", default=",".join(PROJECTS), help="comma-separated subset of s1,ml"
    )
    parser.add_argument(
        "--scenario", default=",".join(SCENARIOS), help="comma-separated subset of cold,warm"
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=None,
        help="repetitions per scenario and project (default: 1 cold, 3 warm)",
    )
    parser.add_argument(
        "--kiln-python",
        default=sys.executable,
        help="interpreter that has kiln installed (default: this one)",
    )
    parser.add_argument(
        "--uv", default=None, help="uv executable (default: uv on PATH, else python -m uv)"
    )
    parser.add_argument(
        "--python",
        default=DEFAULT_PYTHON,
        help=f"interpreter uv is pointed at, and put first on PATH (default {DEFAULT_PYTHON})",
    )
    parser.add_argument(
        "--exclude-newer",
        default=DEFAULT_EXCLUDE_NEWER,
        help=f"cut-off passed to both tools (default {DEFAULT_EXCLUDE_NEWER})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="seconds before one lock counts as failed (default 900)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where projects and caches go (default: a temporary directory)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the working directory (logs, locks, caches)"
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="OUT", help="also write every run as JSON"
    )
    args = parser.parse_args(argv)
    args.project = csv_choice(parser, args.project, tuple(PROJECTS))
    args.scenario = csv_choice(parser, args.scenario, SCENARIOS)
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cmds = Commands(
        kiln=kiln_command(args.kiln_python),
        uv=find_uv(args.uv),
        python=args.python,
        exclude_newer=args.exclude_newer,
        timeout=args.timeout,
    )
    base = args.workdir.resolve() if args.workdir else None
    if base:
        base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kiln-lock-bench-", dir=base))
    env = clean_env(cmds)
    source = kiln_source(args.kiln_python)
    revision = kiln_revision(source) if source else None
    stamp = source_stamp(source)
    versions = {
        "kiln": version_of(cmds.kiln, env) + (f" at {revision}" if revision else ""),
        "uv": version_of(cmds.uv, env),
        "python": version_of((args.python,), env),
    }
    network = probe_index()
    header = [
        "versions: " + ", ".join(f"{k}={v}" for k, v in versions.items()),
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs",
        f"exclude-newer: {args.exclude_newer} (pyproject [tool.uv] and both command lines)",
        f"network: {network}",
    ]
    # The header goes to stdout first, so that a saved output says what its table measured.
    print("\n".join(header), flush=True)
    print(f"working in {work}", file=sys.stderr)
    bench = Bench(cmds, work)
    outcomes: list[Outcome] = []
    try:
        if "cold" in args.scenario:
            for project in args.project:
                outcomes += bench.cold(project, args.reps or 1)
        if "warm" in args.scenario:
            for project in args.project:
                outcomes += bench.warm_runs(project, args.reps or 3)
    except KeyboardInterrupt:
        print("interrupted; results so far:", file=sys.stderr)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(table(outcomes))
    source_changed = source_stamp(source) != stamp
    if source_changed:
        print(f"WARNING: kiln's source under {source} changed during the run", flush=True)
    comparison = compare_locks(outcomes, args.exclude_newer)
    if comparison:
        print("\n".join(["", "locks:", *comparison]))
    failures = [o for o in outcomes if not o.ok]
    for o in failures:
        print(f"\n--- {o.project} {o.scenario} {o.tool} #{o.rep + 1} failed ---\n{o.error}")
    if args.json:
        payload = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "versions": versions,
            "network": network,
            "kiln_source_changed": source_changed,
            "exclude_newer": args.exclude_newer,
            "projects": {
                name: {"requires-python": rp, "dependencies": deps}
                for name, (rp, deps) in PROJECTS.items()
                if name in args.project
            },
            "runs": [asdict(o) for o in outcomes],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    # Failed locks are results here, not errors of the benchmark: exit 0 unless nothing ran.
    return 0 if any(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
