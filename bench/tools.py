"""The tools being compared, the environment each one runs in, and one timed run.

Standard library only. Every tool runs with its own configuration switched off and a cache
directory of the benchmark's own: `PIP_CONFIG_FILE=/dev/null`, `UV_NO_CONFIG=1`, no
`PIP_*`/`UV_*`/`KILN_*`/`PDM_*`/`POETRY_*` from the caller, and `XDG_CONFIG_HOME` pointing
into the working directory, so pdm and poetry read no user settings either.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PYTHON = "/root/.pyenv/versions/3.12.1/bin/python"
TOOLS = ("kiln", "uv", "pip", "pdm", "poetry")


class BenchError(Exception):
    pass


@dataclass(frozen=True)
class Commands:
    python: str  # the interpreter environments are made from
    kiln: tuple[str, ...]
    uv: tuple[str, ...]
    pdm: tuple[str, ...] | None
    poetry: tuple[str, ...] | None
    work: Path

    def of(self, tool: str) -> tuple[str, ...]:
        found = {"kiln": self.kiln, "uv": self.uv, "pdm": self.pdm, "poetry": self.poetry}[tool]
        if found is None:
            raise BenchError(f"{tool} is not available")
        return found


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float  # the largest resident set of the process or a child it waited for
    # With ``tree``: the largest sum of the proportional set sizes (PSS: shared pages split
    # between the processes sharing them) of all its processes at one time, helpers it never
    # waits for included (sampled every 20 ms, about 0.4 ms of CPU each; 0 without /proc).
    peak_tree_mb: float = 0.0
    # CPU time of the process and of the children it waited for (`wait4`): helpers it
    # never waits for are not in it.
    user_s: float = 0.0
    system_s: float = 0.0


def clean_env(cmds: Commands, caches: Path) -> dict[str, str]:
    """The caller's environment without anything that configures a tool, plus each tool's
    cache under ``caches``."""
    drop = ("PIP_", "UV_", "KILN_", "PDM_", "POETRY_")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(drop) and k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH")
    }
    # An installed kiln (like pdm and poetry here) runs from cached bytecode; with this set,
    # every edited module of a source checkout would be compiled again on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # pyenv's shims answer for every version and confuse interpreter discovery.
    path = [p for p in env.get("PATH", "").split(os.pathsep) if "pyenv/shims" not in p]
    env["PATH"] = os.pathsep.join([str(Path(cmds.python).parent), *path])
    config = cmds.work / "config"
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_CACHE_DIR=str(caches / "pip"),
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_CACHE_DIR=str(caches / "uv"),
        KILN_CACHE_DIR=str(caches / "kiln"),
        PDM_CACHE_DIR=str(caches / "pdm"),
        PDM_CHECK_UPDATE="false",
        PDM_NON_INTERACTIVE="1",
        PDM_PYTHON=cmds.python,
        PDM_IGNORE_SAVED_PYTHON="1",
        POETRY_CACHE_DIR=str(caches / "poetry"),
        POETRY_CONFIG_DIR=str(config / "poetry"),
        POETRY_DATA_DIR=str(cmds.work / "data" / "poetry"),
        POETRY_VIRTUALENVS_IN_PROJECT="true",
        POETRY_NO_INTERACTION="1",
        XDG_CONFIG_HOME=str(config),
        NO_COLOR="1",
    )
    return env


def timed(
    cmd: Sequence[str],
    env: dict[str, str],
    log: Path,
    *,
    cwd: Path | None = None,
    timeout: float,
    tree: bool = False,
) -> Run:
    """Run ``cmd``, its output into ``log``; its wall time and peak memory, or BenchError.
    ``tree``: also the peak of all its processes together (it runs in its own session)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    tree_peak = 0
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=tree,
        )  # fmt: skip
        deadline = start + timeout
        sampled = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if tree and time.perf_counter() - sampled >= 0.02:
                tree_peak = max(tree_peak, _session_rss(proc.pid))
                sampled = time.perf_counter()
            if time.perf_counter() > deadline:
                if tree:
                    with contextlib.suppress(OSError):
                        os.killpg(proc.pid, signal.SIGKILL)  # its helpers too
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                raise BenchError(f"timed out after {timeout:.0f} s: {' '.join(cmd)}")
            time.sleep(0.002)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2500:]
        raise BenchError(f"exit {proc.returncode}: {' '.join(cmd)}\n--- {log} (tail) ---\n{tail}")
    # Linux reports ru_maxrss in KiB.
    return Run(elapsed, usage.ru_maxrss / 1024, tree_peak / 2**20, usage.ru_utime, usage.ru_stime)


def _session_rss(session: int) -> int:
    """The summed proportional set size, in bytes, of the processes in ``session``."""
    total = 0
    try:
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return 0
    for pid in pids:
        try:
            if os.getsid(pid) != session:
                continue
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue  # it ended meanwhile
    return total


def quiet(
    cmd: Sequence[str], env: dict[str, str], log: Path, *, cwd: Path | None = None,
    timeout: float = 1800,
) -> None:  # fmt: skip
    """An untimed step (a warm-up, a lock made before syncing); an error names its log."""
    timed(cmd, env, log, cwd=cwd, timeout=timeout)


def kiln_command(kiln_python: str) -> tuple[str, ...]:
    """The `kiln` program installed beside ``kiln_python``, as users run it
    (`~/.kiln/bin/kiln`), when it runs that interpreter; else `python -m kiln`, which also
    imports `runpy` and finds `kiln.__main__` by path search: 5 ms of every command here."""
    script = Path(kiln_python).with_name("kiln")
    try:
        first = script.read_bytes().split(b"\n", 1)[0]
        interpreter = os.fsdecode(first[2:].strip()) if first.startswith(b"#!") else ""
        if interpreter and os.path.samefile(interpreter, kiln_python):
            return (str(script),)
    except OSError:
        pass
    return (kiln_python, "-m", "kiln")


def find_uv(explicit: str | None) -> tuple[str, ...]:
    if explicit:
        return (explicit,)
    for candidate in (shutil.which("uv"), str(Path(sys.executable).with_name("uv"))):
        if candidate and Path(candidate).is_file():
            return (candidate,)
    return (sys.executable, "-m", "uv")


def find_or_install(tool: str, explicit: str | None, work: Path, python: str) -> tuple[str, ...]:
    """``--pdm``/``--poetry``, else the one on PATH, else one installed from PyPI into a
    scratch environment under the working directory (kept there for the next run)."""
    if explicit:
        return (explicit,)
    on_path = shutil.which(tool)
    if on_path:
        return (on_path,)
    venv = work / "tools"
    exe = venv / "bin" / tool
    if exe.is_file():
        return (str(exe),)
    print(f"installing {tool} into {venv} from PyPI ...", file=sys.stderr, flush=True)
    if not (venv / "bin" / "python").is_file():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    # pdm's `locked` extra pins the HTTP cache library it was released with: a newer one
    # breaks it (`module 'hishel' has no attribute 'SyncSqliteStorage'`).
    spec = "pdm[locked]" if tool == "pdm" else tool
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "--index-url", "https://pypi.org/simple", spec],
        check=True, env=env,
    )  # fmt: skip
    return (str(exe),)


def version_of(cmd: Sequence[str]) -> str:
    try:
        done = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"
