"""Isolated build environments, made once per set of build requirements and reused.

An environment is keyed by its requirements (sorted, so their order in ``[build-system]`` does
not matter), the base interpreter and the isolation flag, under ``builds-v1/envs/<key>``.

It is built at its final path, not in a scratch folder renamed into place: a virtual
environment is not relocatable (console scripts the installer writes name the interpreter by
absolute path, which backends such as scikit-build-core then run), so a rename would break it.
Instead it is trusted only once a marker file has been written into it atomically, last; an
environment without the marker was interrupted and is made again. A file lock keeps two kiln
processes from making the same one at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from kiln.cache import atomic
from kiln.cache.layout import Cache
from kiln.cache.locks import file_lock
from kiln.core.build import BuildEnvironmentInstaller
from kiln.core.records import record
from kiln.python.interpreter import inspect_interpreter
from kiln.python.venv import create_venv

_MARKER = "kiln-build-env.json"
# Variables that would let the outer environment leak into an isolated build.
_LEAKY = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PIP_REQUIRE_VIRTUALENV")


@record
class BuildEnv:
    """Where hooks run: a build environment's python, or the target's without isolation."""

    python: Path
    root: Path | None = None  # None: no isolation, the target interpreter as it is
    requires: tuple[str, ...] = ()

    def environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """The hook subprocess's environment, derived from ``base`` (the caller's)."""
        env = dict(base)
        if self.root is None:
            return env
        for name in _LEAKY:
            env.pop(name, None)
        scripts = str(self.python.parent)
        # Backends run tools they required (cmake, ninja, cython) by name from PATH.
        env["PATH"] = os.pathsep.join(p for p in (scripts, env.get("PATH", "")) if p)
        env["VIRTUAL_ENV"] = str(self.root)
        env["PYTHONNOUSERSITE"] = "1"
        return env


class BuildEnvs:
    def __init__(self, cache: Cache, installer: BuildEnvironmentInstaller) -> None:
        self._cache = cache
        self._installer = installer

    @property
    def root(self) -> Path:
        return self._cache.bucket("builds") / "envs"

    def get(self, python: Path, requires: Sequence[str], *, isolation: bool = True) -> BuildEnv:
        """An environment with ``requires`` installed on ``python``'s base interpreter."""
        if not isolation:
            return BuildEnv(python=python)
        base = inspect_interpreter(python, self._cache)
        wanted = tuple(sorted({r.strip() for r in requires if r.strip()}))
        identity = {
            "python": str(base.base_executable),
            "version": base.version_str,
            "implementation": base.implementation,
            "requires": list(wanted),
            "isolation": True,
        }
        key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]
        root = self.root / key
        found = _read_marker(root, wanted)
        if found is not None:
            return found
        with file_lock(self.root / f"{key}.lock"):
            found = _read_marker(root, wanted)
            if found is not None:
                return found
            if root.exists() or root.is_symlink():
                shutil.rmtree(root, ignore_errors=True)  # left by an interrupted build
            try:
                venv = create_venv(root, base, cache=self._cache)
                if wanted:
                    self._installer.install(wanted, venv.executable, root)
            except BaseException:
                shutil.rmtree(root, ignore_errors=True)
                raise
            record = {**identity, "env_python": os.path.relpath(venv.executable, root)}
            atomic.write_text(root / _MARKER, json.dumps(record, indent=2))
        return BuildEnv(python=venv.executable, root=root, requires=wanted)


def _read_marker(root: Path, wanted: tuple[str, ...]) -> BuildEnv | None:
    try:
        record = json.loads((root / _MARKER).read_text(encoding="utf-8"))
        python = root / record["env_python"]
        requires = tuple(record["requires"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if requires != wanted or not python.exists():
        return None
    return BuildEnv(python=python, root=root, requires=requires)
