"""`kiln run`: make sure the lock and `.venv` are current, then run a command inside it.

When nothing changed this touches no network: the lock's fingerprint is compared with the
inputs, and the environment with the lock's slice, before anything is fetched.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kiln.commands.context import CommandContext
from kiln.commands.project.lock import (
    LOCK_NAME,
    discover,
    existing_lock,
    lock_inputs,
    lock_project,
)
from kiln.commands.project.sync import SyncRequest, sync_project
from kiln.core.errors import UsageError
from kiln.lock.fingerprint import fingerprint
from kiln.settings.index_settings import project_indexes


@dataclass(frozen=True)
class RunPlan:
    argv: tuple[str, ...]
    env: dict[str, str]
    relocked: bool
    installed: int


def prepare_run(
    ctx: CommandContext,
    project_dir: Path | None,
    index_args: object,
    command: Sequence[str],
    *,
    extras: Sequence[str] = (),
    groups: Sequence[str] = (),
    python: str | None = None,
    frozen: bool = False,
) -> RunPlan:
    if not command:
        raise UsageError(
            "nothing to run", hint="give a command, e.g. `kiln run python -c 'import torch'`"
        )
    project = discover(project_dir)
    relocked = False
    if not frozen:
        lock = existing_lock(project.root / LOCK_NAME)
        current = fingerprint(lock_inputs(project, project_indexes(index_args, project.uv)))
        if lock is None or lock.fingerprint != current:
            lock_project(ctx, project.root, index_args)
            relocked = True
    synced = sync_project(
        ctx,
        project.root,
        index_args,
        SyncRequest(extras=extras, groups=groups, frozen=True, python=python),
    )
    venv = project.root / ".venv"
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env.pop("PYTHONHOME", None)
    argv = list(command)
    if argv[0].endswith(".py") and Path(argv[0]).is_file():
        argv = [str(synced.interpreter.executable), *argv]
    installed = len(synced.plan.cached) + len(synced.plan.remote)
    return RunPlan(tuple(argv), env, relocked, installed)
