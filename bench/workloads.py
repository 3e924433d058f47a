"""What is timed: each workload's projects, its untimed preparation and its timed command.

Every tool gets a folder of its own per workload (its project, its cache), so no tool reads
what another wrote. Each workload says which tools can do it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools import BenchError, Commands, clean_env, quiet

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-medium.txt"
EXCLUDE_NEWER = "2026-10-01T00:00:00Z"
# The 42 pins are newer than that: their project locks with this cut-off instead.
SET_EXCLUDE_NEWER = "2026-11-20T00:00:00Z"
LOCK_FILES = {"kiln": "pylock.toml", "uv": "uv.lock", "pdm": "pdm.lock", "poetry": "poetry.lock"}

# Thirty dependencies an ML project typically starts with (torch from PyPI: its CUDA builds
# and their nvidia-* dependencies behind markers are part of what a lock must get right).
ML_DEPENDENCIES = (
    "numpy", "scipy", "pandas", "scikit-learn", "matplotlib", "seaborn", "torch",
    "torchvision", "transformers", "datasets", "accelerate", "safetensors", "tokenizers",
    "huggingface-hub", "tqdm", "pyyaml", "requests", "rich", "pydantic", "fastapi", "uvicorn",
    "jinja2", "sympy", "networkx", "pillow", "opencv-python-headless", "xgboost", "lightgbm",
    "pyarrow", "einops",
)  # fmt: skip
S1_DEPENDENCIES = ("torch", "torchvision")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonical(name.split("[")[0])] = version.strip()
    return pins


def pyproject(
    name: str, requires_python: str, dependencies: Sequence[str], cutoff: str = EXCLUDE_NEWER
) -> str:
    listed = ", ".join(f'"{d}"' for d in dependencies)
    # No build system: an application, which no tool builds or installs itself.
    return (
        "[project]\n"
        f'name = "{name}"\n'
        'version = "0.1.0"\n'
        f'requires-python = "{requires_python}"\n'
        f"dependencies = [{listed}]\n"
        "\n[tool.uv]\n"
        f'exclude-newer = "{cutoff}"\n'
        "\n[tool.pdm]\ndistribution = false\n"
        "\n[tool.poetry]\npackage-mode = false\n"
    )


def installed(venv: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for meta in venv.glob("lib/python*/site-packages/*.dist-info/METADATA"):
        fields = dict(
            line.split(": ", 1) for line in meta.read_text(errors="replace").splitlines()[:20]
            if ": " in line
        )  # fmt: skip
        if "Name" in fields and "Version" in fields:
            found[canonical(fields["Name"])] = fields["Version"]
    return found


def require_installed(venv: Path, pins: dict[str, str], label: str) -> None:
    """A fast broken install is not a result: every pin must be there at its version."""
    got = installed(venv)
    wrong = sorted(f"{n}=={v} (got {got.get(n)})" for n, v in pins.items() if got.get(n) != v)
    if wrong:
        raise BenchError(f"{label}: not installed as pinned: {', '.join(wrong[:5])}")


def lock_packages(path: Path) -> int:
    """How many packages a lock file lists (uv's entry for the project itself left out)."""
    text = path.read_text()
    if path.name == "pylock.toml":
        return text.count("\n[[packages]]")
    count = text.count("\n[[package]]") + (1 if text.startswith("[[package]]") else 0)
    return count - (1 if path.name == "uv.lock" and "source = { virtual = " in text else 0)


def lock_command(
    cmds: Commands, tool: str, index: str | None, cutoff: str | None = EXCLUDE_NEWER
) -> list[str]:
    """``index``: a --default-index for kiln and uv (the mocked torch world); ``cutoff``
    None: no exclude-newer (that world has no upload times)."""
    extra = ["--default-index", index] if index else []
    if cutoff is not None and tool != "poetry":
        # poetry has no upload-time cut-off: it locks the newest versions.
        extra += ["--exclude-newer", cutoff]
    if tool == "uv":
        extra += ["--python", cmds.python]
    return [*cmds.of(tool), "lock", *extra]


@dataclass
class Workload:
    name: str
    tools: tuple[str, ...]
    cmds: Commands
    timeout: float

    def folder(self, tool: str) -> Path:
        return self.cmds.work / self.name / tool

    def env(self, tool: str) -> dict[str, str]:
        return clean_env(self.cmds, self.folder(tool) / "cache")

    def log(self, tool: str, what: str) -> Path:
        return self.folder(tool) / "logs" / f"{what}.log"

    def prepare(self, tool: str) -> None:
        """Untimed, once per tool before the first repetition."""

    def before(self, tool: str) -> None:
        """Untimed, before each repetition."""

    def finish(self, tool: str) -> None:
        """Untimed, once per tool after the last repetition."""

    def command(self, tool: str) -> tuple[list[str], Path | None]:
        raise NotImplementedError

    def check(self, tool: str) -> str:
        """Raise BenchError when the run did not do the work; else a short note."""
        return ""


class Lock(Workload):
    """`lock` of one project; cold: no cache and no lock; warm: the cache of an untimed
    lock, the lock file deleted before each run."""

    def __init__(
        self,
        name: str,
        tools: tuple[str, ...],
        cmds: Commands,
        timeout: float,
        *,
        text: str,
        cold: bool,
        index: str | None = None,
    ) -> None:
        super().__init__(name, tools, cmds, timeout)
        self.text = text
        self.cold = cold
        self.index = index  # a --default-index for kiln and uv (the mocked torch world)

    def project(self, tool: str) -> Path:
        return self.folder(tool) / "project"

    def _fresh(self, tool: str) -> None:
        shutil.rmtree(self.project(tool), ignore_errors=True)
        self.project(tool).mkdir(parents=True)
        (self.project(tool) / "pyproject.toml").write_text(self.text)

    def prepare(self, tool: str) -> None:
        if not self.cold:
            shutil.rmtree(self.folder(tool) / "cache", ignore_errors=True)
            self._fresh(tool)
            cmd, cwd = self.command(tool)
            quiet(cmd, self.env(tool), self.log(tool, "warm-up"), cwd=cwd, timeout=self.timeout)

    def before(self, tool: str) -> None:
        if self.cold:
            shutil.rmtree(self.folder(tool) / "cache", ignore_errors=True)
            self._fresh(tool)
        else:
            (self.project(tool) / LOCK_FILES[tool]).unlink(missing_ok=True)

    def command(self, tool: str) -> tuple[list[str], Path | None]:
        # The mocked world publishes no upload times: no cut-off there.
        cutoff = None if self.index else EXCLUDE_NEWER
        return lock_command(self.cmds, tool, self.index, cutoff), self.project(tool)

    def check(self, tool: str) -> str:
        path = self.project(tool) / LOCK_FILES[tool]
        if not path.is_file():
            raise BenchError(f"{tool} wrote no {path.name}")
        count = lock_packages(path)
        if count == 0:
            raise BenchError(f"{tool} wrote an empty {path.name}")
        return f"{count} packages"


class InstallWarm(Workload):
    """The pinned 42-package set into a fresh environment, from a cache an earlier install
    of the same set filled; `--offline` for kiln and uv when ``offline``."""

    def __init__(
        self, name: str, tools: tuple[str, ...], cmds: Commands, timeout: float, *, offline: bool
    ) -> None:
        super().__init__(name, tools, cmds, timeout)
        self.offline = offline
        self.pins = read_pins()

    def venv(self, tool: str) -> Path:
        return self.folder(tool) / "venv"

    def _new_venv(self, tool: str) -> None:
        venv = self.venv(tool)
        shutil.rmtree(venv, ignore_errors=True)
        if tool == "kiln":
            cmd = [*self.cmds.kiln, "venv", str(venv), "--python", self.cmds.python, "-q"]
        elif tool == "uv":
            cmd = [*self.cmds.uv, "venv", str(venv), "--python", self.cmds.python, "-q"]
        else:
            cmd = [self.cmds.python, "-m", "venv", str(venv)]
        quiet(cmd, self.env(tool), self.log(tool, "venv"))

    def prepare(self, tool: str) -> None:
        shutil.rmtree(self.folder(tool) / "cache", ignore_errors=True)
        self._new_venv(tool)
        cmd, _ = self._install(tool, offline=False)
        quiet(cmd, self.env(tool), self.log(tool, "fill-cache"))

    def before(self, tool: str) -> None:
        self._new_venv(tool)

    def _install(self, tool: str, *, offline: bool) -> tuple[list[str], Path | None]:
        req, venv = str(REQUIREMENTS), self.venv(tool)
        flag = ["--offline"] if offline else []
        if tool == "kiln":
            return [
                *self.cmds.kiln,
                "pip",
                "install",
                "-r",
                req,
                "--python",
                str(venv),
                *flag,
            ], None
        if tool == "uv":
            cmd = [*self.cmds.uv, "pip", "install", "-r", req, "--python", str(venv / "bin/python")]
            return [*cmd, *flag], None
        return [str(venv / "bin/python"), "-m", "pip", "install", "-r", req], None

    def command(self, tool: str) -> tuple[list[str], Path | None]:
        return self._install(tool, offline=self.offline)

    def check(self, tool: str) -> str:
        require_installed(self.venv(tool), self.pins, f"{self.name} {tool}")
        return f"{len(self.pins)} packages"


class ProjectSet(Workload):
    """The 42 pins as a project's dependencies, locked once (untimed) by each tool."""

    def __init__(self, name: str, tools: tuple[str, ...], cmds: Commands, timeout: float) -> None:
        super().__init__(name, tools, cmds, timeout)
        self.pins = read_pins()
        deps = [f"{n}=={v}" for n, v in sorted(self.pins.items())]
        self.text = pyproject("bench-set", ">=3.12", deps, SET_EXCLUDE_NEWER)

    def project(self, tool: str) -> Path:
        return self.folder(tool) / "project"

    def lock_once(self, tool: str) -> None:
        project = self.project(tool)
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir(parents=True)
        (project / "pyproject.toml").write_text(self.text)
        if tool == "pip":
            return
        cmd = lock_command(self.cmds, tool, None, SET_EXCLUDE_NEWER)
        quiet(cmd, self.env(tool), self.log(tool, "lock"), cwd=project)

    def sync_command(self, tool: str) -> tuple[list[str], Path | None]:
        project = self.project(tool)
        if tool == "kiln":
            return [*self.cmds.kiln, "sync", "--python", self.cmds.python], project
        if tool == "uv":
            return [*self.cmds.uv, "sync", "--python", self.cmds.python], project
        if tool == "pdm":
            return [*self.cmds.of("pdm"), "sync"], project
        if tool == "poetry":
            return [*self.cmds.of("poetry"), "sync"], project
        venv = project / ".venv"
        return [str(venv / "bin/python"), "-m", "pip", "install", "-r", str(REQUIREMENTS)], None

    def check(self, tool: str) -> str:
        require_installed(self.project(tool) / ".venv", self.pins, f"{self.name} {tool}")
        return f"{len(self.pins)}+ packages"


class SyncCold(ProjectSet):
    """`sync` from the tool's own lock into no `.venv`, with an empty cache: downloads,
    unpacking and linking (pip: `pip install -r` of the same pins into a new venv)."""

    def prepare(self, tool: str) -> None:
        self.lock_once(tool)

    def before(self, tool: str) -> None:
        # Moved aside, deleted after the last repetition: this machine's ext4 has no
        # journal, and there new inodes skip those deleted in the last minutes, each
        # allocation scanning past them. Deleting a run's 10,000 files just before the next
        # run doubled the system time of both tools' cold syncs, and by amounts that varied.
        discarded = self.folder(tool) / "discarded"
        for path in (self.folder(tool) / "cache", self.project(tool) / ".venv"):
            if path.exists():
                discarded.mkdir(exist_ok=True)
                path.rename(discarded / f"{path.name}-{time.monotonic_ns()}")
        if tool == "pip":  # pip makes no environment: made untimed, as for installs
            venv = self.project(tool) / ".venv"
            quiet(
                [self.cmds.python, "-m", "venv", str(venv)], self.env(tool), self.log(tool, "venv")
            )

    def command(self, tool: str) -> tuple[list[str], Path | None]:
        return self.sync_command(tool)

    def finish(self, tool: str) -> None:
        shutil.rmtree(self.folder(tool) / "discarded", ignore_errors=True)


class Noop(ProjectSet):
    """In a project already locked and synced: `run python -c pass` or `sync`, which find
    nothing to do. One untimed no-op first, so each tool has whatever it keeps for that."""

    def __init__(
        self, name: str, tools: tuple[str, ...], cmds: Commands, timeout: float, *, verb: str
    ) -> None:
        super().__init__(name, tools, cmds, timeout)
        self.verb = verb

    def prepare(self, tool: str) -> None:
        self.lock_once(tool)
        cmd, cwd = self.sync_command(tool)
        quiet(cmd, self.env(tool), self.log(tool, "sync"), cwd=cwd)
        cmd, cwd = self.command(tool)
        quiet(cmd, self.env(tool), self.log(tool, "first-noop"), cwd=cwd)

    def command(self, tool: str) -> tuple[list[str], Path | None]:
        if self.verb == "sync":
            if tool in ("kiln", "uv"):
                return [*self.cmds.of(tool), "sync"], self.project(tool)
            return self.sync_command(tool)
        return [*self.cmds.of(tool), "run", "python", "-c", "pass"], self.project(tool)


class SyncSwitch(Workload):
    """In the seed's S4 project, locked and synced with `--extra cpu`: `sync --extra cu124`
    and then `sync --extra cpu` again, both timed as one command, from a warm cache (the
    untimed preparation syncs each extra once). Against the mocked PyTorch indexes, whose
    torch wheels are small: what is timed is the switching, not gigabytes of linking."""

    def __init__(
        self, name: str, tools: tuple[str, ...], cmds: Commands, timeout: float, *, text: str
    ) -> None:
        super().__init__(name, tools, cmds, timeout)
        self.text = text

    def project(self, tool: str) -> Path:
        return self.folder(tool) / "project"

    def _sync(self, tool: str, extra: str) -> list[str]:
        return [*self.cmds.of(tool), "sync", "--python", self.cmds.python, "--extra", extra]

    def prepare(self, tool: str) -> None:
        project = self.project(tool)
        shutil.rmtree(self.folder(tool) / "cache", ignore_errors=True)
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir(parents=True)
        (project / "pyproject.toml").write_text(self.text)
        quiet(lock_command(self.cmds, tool, None, None), self.env(tool), self.log(tool, "lock"),
              cwd=project)  # fmt: skip
        for extra in ("cpu", "cu124", "cpu"):
            quiet(self._sync(tool, extra), self.env(tool), self.log(tool, extra), cwd=project)

    def command(self, tool: str) -> tuple[list[str], Path | None]:
        both = f"{shlex.join(self._sync(tool, 'cu124'))} && {shlex.join(self._sync(tool, 'cpu'))}"
        return ["/bin/sh", "-c", both], self.project(tool)

    def check(self, tool: str) -> str:
        torch = installed(self.project(tool) / ".venv").get("torch", "")
        if not torch.endswith("+cpu"):
            raise BenchError(
                f"{self.name} {tool}: torch {torch or 'missing'} after the switch back"
            )
        return f"torch {torch}"


def with_default_index(text: str, url: str) -> str:
    """A project that names its default index itself, so that `sync` (which takes no
    --default-index from the lock) finds the lock up to date."""
    return f'{text}\n[[tool.uv.index]]\nname = "mock-pypi"\nurl = "{url}"\ndefault = true\n'


def mocked_torch_world(work: Path) -> tuple[object, str, str]:
    """The test suite's miniature PyPI and PyTorch indexes on 127.0.0.1, and the seed's S4
    project pointed at it: download.pytorch.org is not reachable from here."""
    sys.path.insert(0, str(HERE.parent))
    from tests.support import seed
    from tests.support.index_server import IndexServer
    from tests.support.torch_world import add_torch_world

    server = IndexServer(work / "mock-index")
    add_torch_world(server)
    text = seed.S4.replace("https://download.pytorch.org", server.url)
    return server, text, server.index_url("pypi")
