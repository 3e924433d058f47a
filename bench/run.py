#!/usr/bin/env python3
"""kiln against uv, pip, pdm and poetry on every workload each can do, in one invocation.

Prints one table: per workload the median seconds of each tool over interleaved
repetitions (the order of the tools alternates between repetitions, so a change in network
speed hits all of them alike), and kiln's ratio to each; then the peak memory of the cold
30-package lock. Standard library only; run it from anywhere:

    python bench/run.py                  # everything
    python bench/run.py --quick          # fewer repetitions, the slowest workloads left out
    python bench/run.py --only noop-run,noop-sync --tools kiln,uv --reps 20

Benchmarks are not tests: nothing here asserts a time. A run that fails (or does not
install what it should, or writes no lock) is counted in `failed` and its error printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools import (
    DEFAULT_PYTHON,
    TOOLS,
    BenchError,
    Commands,
    find_or_install,
    find_uv,
    kiln_command,
    timed,
    version_of,
)
from workloads import (
    ML_DEPENDENCIES,
    S1_DEPENDENCIES,
    InstallWarm,
    Lock,
    Noop,
    SyncCold,
    SyncSwitch,
    Workload,
    mocked_torch_world,
    pyproject,
    with_default_index,
)

ALL_LOCKERS = ("kiln", "uv", "pdm", "poetry")
# name -> (tools that can do it, repetitions, quick repetitions); quick 0: left out.
PLAN: dict[str, tuple[tuple[str, ...], int, int]] = {
    "noop-run": (ALL_LOCKERS, 15, 7),
    "noop-sync": (ALL_LOCKERS, 15, 7),
    "install-warm": (("kiln", "uv", "pip"), 5, 3),
    "install-warm-offline": (("kiln", "uv"), 5, 3),
    "sync-cold": (("kiln", "uv", "pip", "pdm", "poetry"), 3, 1),
    "sync-switch-s4mock": (("kiln", "uv"), 7, 3),
    "lock-ml39-cold": (ALL_LOCKERS, 1, 1),
    "lock-ml39-warm": (ALL_LOCKERS, 3, 1),
    "lock-ml312-cold": (ALL_LOCKERS, 1, 0),
    "lock-ml312-warm": (ALL_LOCKERS, 3, 0),
    "lock-s1-cold": (ALL_LOCKERS, 1, 1),
    "lock-s1-warm": (ALL_LOCKERS, 3, 1),
    "lock-s4mock-cold": (("kiln", "uv"), 3, 1),
    "lock-s4mock-warm": (("kiln", "uv"), 3, 1),
}
MEMORY_WORKLOAD = "lock-ml39-cold"


def build(name: str, tools: tuple[str, ...], cmds: Commands, timeout: float, mock: str | None,
          s4: str | None) -> Workload:  # fmt: skip
    if name.startswith("noop-"):
        return Noop(name, tools, cmds, timeout, verb=name.removeprefix("noop-"))
    if name.startswith("install-warm"):
        return InstallWarm(name, tools, cmds, timeout, offline=name.endswith("offline"))
    if name == "sync-cold":
        return SyncCold(name, tools, cmds, timeout)
    if name == "sync-switch-s4mock":
        assert s4 is not None and mock is not None
        return SyncSwitch(name, tools, cmds, timeout, text=with_default_index(s4, mock))
    project, scenario = name.removeprefix("lock-").rsplit("-", 1)
    cold = scenario == "cold"
    if project == "s4mock":
        assert s4 is not None
        return Lock(name, tools, cmds, timeout, text=s4, cold=cold, index=mock)
    if project == "s1":
        text = pyproject("bench-s1", ">=3.12", S1_DEPENDENCIES)
    else:
        text = pyproject(f"bench-{project}", f">={project[2]}.{project[3:]}", ML_DEPENDENCIES)
    return Lock(name, tools, cmds, timeout, text=text, cold=cold)


def kiln_revision() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return head + (" + uncommitted changes" if dirty else "")


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def table(results: dict[str, dict[str, dict[str, object]]], tools: Sequence[str]) -> str:
    others = [t for t in tools if t != "kiln"]
    head = f"{'workload':22}" + "".join(f"{t + ' s':>10}" for t in tools)
    head += "".join(f"{'kiln/' + t:>13}" for t in others)
    lines = [head]
    for name, per_tool in results.items():
        cells, medians = [], {}
        for tool in tools:
            entry = per_tool.get(tool)
            if entry is None:
                cells.append(f"{'-':>10}")
                continue
            value = median(entry["seconds"])  # type: ignore[arg-type]
            medians[tool] = value
            failed = entry["failed"]
            text = "failed" if value is None else f"{value:.3f}" if value < 1 else f"{value:.2f}"
            cells.append(f"{text + ('*' if failed and value is not None else ''):>10}")
        ratios = []
        for tool in others:
            k, o = medians.get("kiln"), medians.get(tool)
            ratios.append(f"{(f'{k / o:.2f}' if k is not None and o else '-'):>13}")
        lines.append(f"{name:22}" + "".join(cells) + "".join(ratios))
    return "\n".join(lines)


def cpu_table(results: dict[str, dict[str, dict[str, object]]], tools: Sequence[str]) -> str:
    """Per workload and tool, the median user and system CPU seconds: where a wall time
    went (the kernel creating files, or the tool's own code) when the ratios alone do not
    say."""
    lines = [f"{'workload':22}" + "".join(f"{t + ' user+sys':>20}" for t in tools)]
    for name, per_tool in results.items():
        cells = []
        for tool in tools:
            entry = per_tool.get(tool)
            user = median(entry["user_s"]) if entry else None  # type: ignore[arg-type]
            system = median(entry["system_s"]) if entry else None  # type: ignore[arg-type]
            text = "-" if user is None or system is None else f"{user:.2f}+{system:.2f}"
            cells.append(f"{text:>20}")
        lines.append(f"{name:22}" + "".join(cells))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and workloads")
    parser.add_argument("--only", help=f"comma-separated workloads of: {', '.join(PLAN)}")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tools")
    parser.add_argument("--reps", type=int, help="repetitions of every workload")
    parser.add_argument("--python", default=DEFAULT_PYTHON, help="interpreter for environments")
    parser.add_argument("--kiln-python", default=sys.executable, help="the Python kiln runs in")
    parser.add_argument("--uv", help="the uv executable (default: on PATH, else beside python)")
    parser.add_argument("--pdm", help="the pdm executable (default: installed from PyPI)")
    parser.add_argument("--poetry", help="the poetry executable (default: installed from PyPI)")
    parser.add_argument("--work", help="working directory (default: a new temporary one)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per timed run")
    parser.add_argument("--json", help="also write every sample here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    tools = [t for t in args.tools.split(",") if t]
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown:
        raise SystemExit(f"error: unknown tool {unknown[0]}; known: {', '.join(TOOLS)}")
    names = (
        args.only.split(",")
        if args.only
        else [n for n, p in PLAN.items() if p[2] or not args.quick]
    )
    unknown = sorted(set(names) - set(PLAN))
    if unknown:
        raise SystemExit(f"error: unknown workload {unknown[0]}; known: {', '.join(PLAN)}")
    work = Path(args.work or tempfile.mkdtemp(prefix="kiln-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    pdm = find_or_install("pdm", args.pdm, work, args.python) if "pdm" in tools else None
    poetry = (
        find_or_install("poetry", args.poetry, work, args.python) if "poetry" in tools else None
    )
    cmds = Commands(
        python=args.python,
        kiln=kiln_command(args.kiln_python),
        uv=find_uv(args.uv),
        pdm=pdm,
        poetry=poetry,
        work=work,
    )
    server, s4, mock = None, None, None
    if any("s4mock" in n for n in names):
        server, s4, mock = mocked_torch_world(work)
    versions = {t: version_of(cmds.of(t)) for t in tools if t not in ("pip",)}
    print(f"kiln {kiln_revision()} | " + " | ".join(f"{v}" for v in versions.values()))
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {args.python}")
    print(f"work: {work}", flush=True)

    results: dict[str, dict[str, dict[str, object]]] = {}
    errors: list[str] = []
    try:
        for name in names:
            able, reps, quick_reps = PLAN[name]
            reps = args.reps or (quick_reps if args.quick else reps)
            chosen = tuple(t for t in able if t in tools)
            workload = build(name, chosen, cmds, args.timeout, mock, s4)
            per_tool = results.setdefault(name, {})
            for tool in chosen:
                per_tool[tool] = {
                    "seconds": [],
                    "peak_mb": [],
                    "tree_mb": [],
                    "user_s": [],
                    "system_s": [],
                    "failed": 0,
                    "note": "",
                }
                try:
                    workload.prepare(tool)
                except BenchError as exc:
                    per_tool[tool]["failed"] = reps
                    errors.append(f"{name} {tool} (preparing): {exc}")
            for rep in range(reps):
                order = chosen if rep % 2 == 0 else tuple(reversed(chosen))
                for tool in order:
                    entry = per_tool[tool]
                    if entry["failed"] == reps:
                        continue
                    try:
                        workload.before(tool)
                        cmd, cwd = workload.command(tool)
                        done = timed(
                            cmd, workload.env(tool), workload.log(tool, f"run-{rep}"),
                            cwd=cwd, timeout=args.timeout, tree=name == MEMORY_WORKLOAD,
                        )  # fmt: skip
                        entry["note"] = workload.check(tool)
                    except BenchError as exc:
                        entry["failed"] = int(entry["failed"]) + 1  # type: ignore[call-overload]
                        errors.append(f"{name} {tool} (repetition {rep + 1}): {exc}")
                        continue
                    entry["seconds"].append(done.seconds)  # type: ignore[attr-defined]
                    entry["peak_mb"].append(done.peak_rss_mb)  # type: ignore[attr-defined]
                    entry["tree_mb"].append(done.peak_tree_mb)  # type: ignore[attr-defined]
                    entry["user_s"].append(done.user_s)  # type: ignore[attr-defined]
                    entry["system_s"].append(done.system_s)  # type: ignore[attr-defined]
                    print(f"  {name:22} {tool:7} {done.seconds:8.3f} s  {done.peak_rss_mb:7.0f} MB"
                          f"  cpu {done.user_s:6.2f} user {done.system_s:6.2f} sys"
                          f"  {entry['note']}", flush=True)  # fmt: skip
            for tool in chosen:
                workload.finish(tool)
    finally:
        if server is not None:
            server.stop()  # type: ignore[attr-defined]

    print()
    print(table(results, [t for t in TOOLS if t in tools]))
    print("(median seconds; * some repetitions failed; '-' the tool cannot do it)")
    print()
    print(cpu_table(results, [t for t in TOOLS if t in tools]))
    print("(median CPU seconds, user+system, of each tool and the children it waited for)")
    memory = results.get(MEMORY_WORKLOAD, {})
    if memory:
        peaks = {t: max(e["peak_mb"]) for t, e in memory.items() if e["peak_mb"]}  # type: ignore[type-var]
        trees = {t: max(e["tree_mb"]) for t, e in memory.items() if e["tree_mb"]}  # type: ignore[type-var]
        print(
            f"peak memory, {MEMORY_WORKLOAD}: "
            + ", ".join(f"{t} {v:.0f} MB" for t, v in peaks.items())
            + "; all of a tool's processes at once: "
            + ", ".join(f"{t} {v:.0f} MB" for t, v in trees.items())
        )
    notes = {f"{n} {t}": e["note"] for n, r in results.items() for t, e in r.items() if e["note"]}
    locks = {k: v for k, v in notes.items() if k.startswith("lock-")}
    if locks:
        print("locked: " + "; ".join(f"{k}: {v}" for k, v in locks.items()))
    for error in errors:
        print(f"\nerror: {error}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"work": str(work), "results": results}, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
