"""Calling a PEP 517/660 backend's hooks in a subprocess, with its output captured.

Hooks run through `pyproject_hooks` in the build environment's interpreter, never in kiln's
own process: a backend may import anything, print anything, or crash. What it prints is kept
so that a failure can show the user the end of it, which is where the reason usually is.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal, TypeVar

from pyproject_hooks import (
    BackendUnavailable,
    BuildBackendHookCaller,
    BuildBackendWarning,
    HookMissing,
    UnsupportedOperation,
)

from kiln.build.backend import BuildSystem
from kiln.build.envs import BuildEnv
from kiln.core.build import BuildError

Kind = Literal["wheel", "editable", "sdist"]
TAIL_LINES = 40
_T = TypeVar("_T")


class _HookExited(Exception):
    def __init__(self, returncode: int | None) -> None:
        super().__init__(returncode)
        self.returncode = returncode


class HookSession:
    """One source tree's backend, called in one build environment."""

    def __init__(
        self,
        tree: Path,
        system: BuildSystem,
        env: BuildEnv,
        *,
        what: str,
        config_settings: Mapping[str, str] | None = None,
    ) -> None:
        self.tree = tree
        self.system = system
        self.env = env
        self.what = what
        self.output = ""  # everything the last hook printed, stdout and stderr interleaved
        self.warnings: list[str] = []  # warnings the backend issued, for verbose output
        self._config = dict(config_settings or {}) or None
        self._caller = BuildBackendHookCaller(
            str(tree),
            system.backend,
            backend_path=list(system.backend_path) or None,
            runner=self._run,
            python_executable=str(env.python),
        )

    def get_requires(self, kind: Kind) -> list[str]:
        hooks: dict[Kind, Callable[[], Sequence[str]]] = {
            "wheel": lambda: self._caller.get_requires_for_build_wheel(self._config),
            "editable": lambda: self._caller.get_requires_for_build_editable(self._config),
            "sdist": lambda: self._caller.get_requires_for_build_sdist(self._config),
        }
        requires = self._call(f"get_requires_for_build_{kind}", hooks[kind])
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            raise self._error(f"get_requires_for_build_{kind}", "returned something not a list")
        return requires

    def prepare_metadata(self, directory: Path) -> Path | None:
        """The ``.dist-info`` folder the hook wrote under ``directory``; None if it has none."""
        hook = "prepare_metadata_for_build_wheel"
        prepare = self._caller.prepare_metadata_for_build_wheel
        try:
            # No fallback inside pyproject_hooks: a wheel built to learn the metadata is one
            # the caller wants to keep in its cache, so the caller builds it.
            name = self._call(hook, lambda: prepare(str(directory), self._config, False))
        except HookMissing:
            return None
        return directory / name

    def build(self, kind: Kind, directory: Path, metadata_directory: Path | None = None) -> Path:
        """Run ``build_<kind>`` into ``directory``; the path of the file it made."""
        meta = str(metadata_directory) if metadata_directory is not None else None
        hooks: dict[Kind, Callable[[], str]] = {
            "wheel": lambda: self._caller.build_wheel(str(directory), self._config, meta),
            "editable": lambda: self._caller.build_editable(str(directory), self._config, meta),
            "sdist": lambda: self._caller.build_sdist(str(directory), self._config),
        }
        hook = f"build_{kind}"
        try:
            name = self._call(hook, hooks[kind])
        except HookMissing:
            raise self._error(hook, "is not provided by the backend") from None
        if not isinstance(name, str) or not (directory / name).is_file():
            raise self._error(hook, f"reported `{name}`, which it did not write")
        return directory / name

    def _call(self, hook: str, call: Callable[[], _T]) -> _T:
        try:
            # pyproject_hooks re-raises the backend's warnings in this process, where they
            # would print as Python warnings; they are the backend's output, so keep them so.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", BuildBackendWarning)
                result = call()
            for w in caught:
                if issubclass(w.category, BuildBackendWarning):
                    self.warnings.append(str(w.message))
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            return result
        except _HookExited as exc:
            if exc.returncode is None:
                raise self._error(hook, f"could not be run with `{self.env.python}`") from None
            raise self._error(hook, f"exited with status {exc.returncode}") from None
        except BackendUnavailable as exc:
            self.output = "\n".join(filter(None, [self.output, exc.traceback]))
            raise self._error(hook, "could not import the backend") from None
        except UnsupportedOperation as exc:
            self.output = "\n".join(filter(None, [self.output, exc.traceback]))
            raise self._error(hook, "is not supported for this source tree") from None

    def _run(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        env = self.env.environ(os.environ)
        env.update(extra_environ or {})
        try:
            proc = subprocess.run(
                list(cmd),
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            self.output = str(exc)
            raise _HookExited(None) from None
        self.output = proc.stdout.decode("utf-8", "replace")
        if proc.returncode != 0:
            raise _HookExited(proc.returncode)

    def _error(self, hook: str, what_happened: str) -> BuildError:
        headline = (
            f"failed to build {self.what}: hook `{hook}` of backend "
            f"`{self.system.backend}` {what_happened}"
        )
        lines = self.output.rstrip().splitlines()[-TAIL_LINES:]
        message = headline
        if lines:
            shown = "\n".join(f"  | {line}" for line in lines)
            message = f"{headline}\n  backend output (last {len(lines)} lines):\n{shown}"
        hint = None
        if self.env.root is None and "ModuleNotFoundError" in self.output:
            hint = (
                "build isolation is off, so the backend's requirements "
                f"({', '.join(self.system.requires) or 'none declared'}) must already be "
                "installed in the target environment"
            )
        return BuildError(message, hint=hint)
