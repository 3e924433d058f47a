#!/usr/bin/env python3
"""Time `kiln pip install` against `uv pip install` and `pip install` on one pinned set.

Standard library only, so it runs under any CPython 3.10+. Each tool installs the same fully
pinned requirement set (`requirements-medium.txt`, the transitive closure) into a fresh
virtual environment; only the install command is timed. After every install the environment's
`*.dist-info` folders are read back and must equal the pinned set, otherwise the run stops:
a timing of a broken install means nothing.

Scenarios:
  cold  an empty cache directory per repetition (downloads, unpacking, everything)
  warm  a cache already filled by an earlier install of the same set; fresh environment
  venv  creating the environment itself: `kiln venv`, `uv venv`, `python -m venv`
"""

from __future__ import annotations

import argparse
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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools import kiln_command

HERE = Path(__file__).resolve().parent
DEFAULT_REQUIREMENTS = HERE / "requirements-medium.txt"
DEFAULT_PYTHON = "/root/.pyenv/versions/3.12.1/bin/python"
TOOLS = ("kiln", "uv", "pip")
SCENARIOS = ("cold", "warm", "venv")


class BenchError(Exception):
    """A tool failed or installed the wrong thing; the benchmark cannot go on."""


@dataclass(frozen=True)
class Commands:
    """How to invoke each tool, resolved once at start-up."""

    kiln: tuple[str, ...]
    uv: tuple[str, ...]
    python: str
    index_url: str | None


@dataclass
class Samples:
    scenario: str
    tool: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


# -- requirement set and what a venv holds ---------------------------------------------------


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """name -> version from a `name==version` file (comments, options and markers ignored)."""
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*(\S+)", line)
        if match is None:
            raise BenchError(f"{path}: not an exact pin: {raw!r}")
        pins[canonical(match.group(1))] = match.group(3)
    if not pins:
        raise BenchError(f"{path}: no pins")
    return pins


def site_packages(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Lib" / "site-packages"
    found = sorted((venv / "lib").glob("python3*/site-packages"))
    if len(found) != 1:
        raise BenchError(f"{venv}: expected one lib/python3*/site-packages, found {found}")
    return found[0]


def installed(venv: Path) -> dict[str, str]:
    """name -> version read from each `*.dist-info/METADATA`, the way `pip list` sees them."""
    result: dict[str, str] = {}
    for info in site_packages(venv).glob("*.dist-info"):
        metadata = info / "METADATA"
        if not metadata.is_file():
            raise BenchError(f"{info}: no METADATA")
        headers: dict[str, str] = {}
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line:
                break
            key, _, value = line.partition(":")
            headers.setdefault(key.strip().lower(), value.strip())
        result[canonical(headers["name"])] = headers["version"]
    return result


def check_installed(venv: Path, before: dict[str, str], pins: dict[str, str], label: str) -> None:
    """What the install added (seed packages such as pip left out) must equal the pins."""
    after = installed(venv)
    got = {name: version for name, version in after.items() if name in pins or name not in before}
    if got == pins:
        return
    missing = sorted(f"{n}=={v}" for n, v in pins.items() if n not in got)
    extra = sorted(f"{n}=={v}" for n, v in got.items() if n not in pins)
    wrong = sorted(f"{n}: {got[n]} != {v}" for n, v in pins.items() if n in got and got[n] != v)
    raise BenchError(
        f"{label}: installed set differs from the requirements\n"
        f"  missing: {missing}\n  extra: {extra}\n  wrong version: {wrong}"
    )


# -- running tools -------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """The caller's environment without anything that configures pip, uv or kiln."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "KILN_")) and k not in ("VIRTUAL_ENV", "CONDA_PREFIX")
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def run(cmd: Sequence[str], env: dict[str, str], log: Path) -> float:
    """Run `cmd`, return its wall time; output goes to `log`, and its tail into the error."""
    start = time.perf_counter()
    with log.open("wb") as out:
        done = subprocess.run(list(cmd), env=env, stdout=out, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise BenchError(f"exit {done.returncode}: {' '.join(cmd)}\n--- {log} (tail) ---\n{tail}")
    return elapsed


def venv_python(venv: Path) -> str:
    return str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


def venv_command(tool: str, cmds: Commands, venv: Path) -> list[str]:
    if tool == "kiln":
        return [*cmds.kiln, "venv", str(venv), "--python", cmds.python]
    if tool == "uv":
        return [*cmds.uv, "venv", str(venv), "--python", cmds.python]
    # pip's users get pip in the environment from `python -m venv`; that seeding is the cost.
    return [cmds.python, "-m", "venv", str(venv)]


def install_command(
    tool: str, cmds: Commands, venv: Path, req: Path, cache: Path
) -> tuple[list[str], dict[str, str]]:
    env = clean_env()
    index = ["--index-url", cmds.index_url] if cmds.index_url else []
    if tool == "kiln":
        env["KILN_CACHE_DIR"] = str(cache)
        cmd = [
            *cmds.kiln,
            "pip",
            "install",
            "-r",
            str(req),
            "--python",
            str(venv),
            "--cache-dir",
            str(cache),
        ]
    elif tool == "uv":
        env["UV_CACHE_DIR"] = str(cache)
        cmd = [*cmds.uv, "pip", "install", "-r", str(req), "--python", venv_python(venv)]
    else:
        env["PIP_CACHE_DIR"] = str(cache)
        cmd = [
            venv_python(venv),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-r",
            str(req),
        ]
    return [*cmd, *index], env


class Bench:
    def __init__(self, cmds: Commands, req: Path, work: Path, tools: Sequence[str]) -> None:
        self.cmds = cmds
        self.req = req
        self.work = work
        self.tools = tools
        self.pins = read_pins(req)
        self.counter = 0
        self.warm_caches: dict[str, Path] = {}

    def fresh(self, what: str) -> Path:
        self.counter += 1
        return self.work / f"{self.counter:03d}-{what}"

    def make_venv(self, tool: str) -> tuple[Path, float]:
        venv = self.fresh(f"venv-{tool}")
        seconds = run(venv_command(tool, self.cmds, venv), clean_env(), venv.with_suffix(".log"))
        return venv, seconds

    def install(self, tool: str, cache: Path, label: str) -> float:
        venv, _ = self.make_venv(tool)
        before = installed(venv)
        cmd, env = install_command(tool, self.cmds, venv, self.req, cache)
        seconds = run(cmd, env, self.fresh(f"install-{tool}.log"))
        check_installed(venv, before, self.pins, label)
        # Environments are not reused; removing them keeps the disk and the page cache small.
        shutil.rmtree(venv, ignore_errors=True)
        return seconds

    def cold(self, repeat: int) -> list[Samples]:
        samples = {tool: Samples("cold", tool) for tool in self.tools}
        for rep in range(repeat):
            for tool in self.tools:
                cache = self.fresh(f"cache-{tool}")
                seconds = self.install(tool, cache, f"cold #{rep + 1} {tool}")
                samples[tool].seconds.append(seconds)
                report("cold", tool, rep, seconds)
                old = self.warm_caches.get(tool)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
                self.warm_caches[tool] = cache
        return list(samples.values())

    def warm(self, repeat: int) -> list[Samples]:
        samples = {tool: Samples("warm", tool) for tool in self.tools}
        for tool in self.tools:
            if tool not in self.warm_caches:
                cache = self.fresh(f"cache-{tool}")
                self.install(tool, cache, f"warm-up {tool}")
                self.warm_caches[tool] = cache
        for rep in range(repeat):
            for tool in self.tools:
                seconds = self.install(tool, self.warm_caches[tool], f"warm #{rep + 1} {tool}")
                samples[tool].seconds.append(seconds)
                report("warm", tool, rep, seconds)
        return list(samples.values())

    def venv(self, repeat: int) -> list[Samples]:
        samples = {tool: Samples("venv", tool) for tool in self.tools}
        for rep in range(repeat):
            for tool in self.tools:
                venv, seconds = self.make_venv(tool)
                samples[tool].seconds.append(seconds)
                report("venv", tool, rep, seconds)
                shutil.rmtree(venv, ignore_errors=True)
        return list(samples.values())


def report(scenario: str, tool: str, rep: int, seconds: float) -> None:
    print(f"  {scenario:<5} {tool:<5} #{rep + 1}: {seconds:7.2f} s", file=sys.stderr, flush=True)


# -- set-up and output ---------------------------------------------------------------------


def find_uv(explicit: str | None) -> tuple[str, ...]:
    if explicit:
        return (explicit,)
    on_path = shutil.which("uv")
    if on_path:
        return (on_path,)
    probe = subprocess.run([sys.executable, "-c", "import uv"], capture_output=True)
    if probe.returncode == 0:
        return (sys.executable, "-m", "uv")
    raise BenchError(
        "uv not found on PATH nor as `python -m uv`; pass --uv or drop it from --tools"
    )


def version_of(cmd: Sequence[str]) -> str:
    done = subprocess.run([*cmd, "--version"], capture_output=True, text=True, env=clean_env())
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"


def pip_version(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import ensurepip; print(ensurepip.version())"],
        capture_output=True,
        text=True,
    )
    return f"pip {done.stdout.strip()} (ensurepip)" if done.returncode == 0 else "?"


def ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator == 0:
        return "-"
    return f"{numerator / denominator:.2f}"


def table(results: list[Samples], tools: Sequence[str]) -> str:
    by_key = {(s.scenario, s.tool): s for s in results}
    scenarios = [sc for sc in SCENARIOS if any(s.scenario == sc for s in results)]
    lines = [
        f"{'scenario':<9} {'tool':<5} {'median s':>9} {'runs':>5} {'kiln/uv':>8} {'kiln/pip':>9}"
    ]
    for scenario in scenarios:
        kiln = by_key.get((scenario, "kiln"))
        uv = by_key.get((scenario, "uv"))
        pip = by_key.get((scenario, "pip"))
        kiln_s = kiln.median if kiln else None
        ratios = (
            ratio(kiln_s, uv.median if uv else None),
            ratio(kiln_s, pip.median if pip else None),
        )
        for i, tool in enumerate(t for t in tools if (scenario, t) in by_key):
            s = by_key[(scenario, tool)]
            shown = ratios if i == 0 else ("", "")
            lines.append(
                f"{scenario if i == 0 else '':<9} {tool:<5} {s.median:>9.2f} {len(s.seconds):>5} "
                f"{shown[0]:>8} {shown[1]:>9}"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        epilog=__doc__.split("Scenarios:", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of kiln,uv,pip"
    )
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of cold,warm,venv"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="repetitions per scenario (default: 1 cold, 3 warm, 3 venv)",
    )
    parser.add_argument(
        "--python",
        default=DEFAULT_PYTHON,
        help=f"interpreter for the environments (default {DEFAULT_PYTHON})",
    )
    parser.add_argument(
        "-r",
        "--requirements",
        type=Path,
        default=DEFAULT_REQUIREMENTS,
        help="pinned requirement set",
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
        "--index-url",
        default=None,
        help="index for all three tools (default: each tool's default, PyPI)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where caches and environments go (default: a temporary directory)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the working directory (logs, caches)"
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="OUT", help="also write every sample as JSON"
    )
    args = parser.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for tool in args.tools:
        if tool not in TOOLS:
            parser.error(f"unknown tool {tool!r}; choose from {', '.join(TOOLS)}")
    for scenario in args.scenarios:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cmds = Commands(
            kiln=kiln_command(args.kiln_python),
            uv=find_uv(args.uv) if "uv" in args.tools else (),
            python=args.python,
            index_url=args.index_url,
        )
        req = args.requirements.resolve()
        base = args.workdir.resolve() if args.workdir else None
        if base:
            base.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="kiln-bench-", dir=base))
        versions = {
            "kiln": version_of(cmds.kiln) if "kiln" in args.tools else None,
            "uv": version_of(cmds.uv) if cmds.uv else None,
            "pip": pip_version(args.python) if "pip" in args.tools else None,
            "python": version_of((args.python,)),
        }
        bench = Bench(cmds, req, work, args.tools)
        print(f"{len(bench.pins)} pinned packages from {req}; working in {work}", file=sys.stderr)
        print(
            "versions: " + ", ".join(f"{k}={v}" for k, v in versions.items() if v), file=sys.stderr
        )
        results: list[Samples] = []
        try:
            if "cold" in args.scenarios:
                results += bench.cold(args.repeat or 1)
            if "warm" in args.scenarios:
                results += bench.warm(args.repeat or 3)
            if "venv" in args.scenarios:
                results += bench.venv(args.repeat or 3)
        finally:
            if args.keep:
                print(f"kept {work}", file=sys.stderr)
            else:
                shutil.rmtree(work, ignore_errors=True)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(table(results, args.tools))
    if args.json:
        payload = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "versions": versions,
            "requirements": str(req),
            "packages": len(bench.pins),
            "results": [asdict(s) | {"median": s.median} for s in results],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
