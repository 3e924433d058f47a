"""`kiln run`: make sure the lock and `.venv` are current, then run a command inside it.

When nothing changed this touches no network: the lock's fingerprint is compared with the
inputs, and the environment with the lock's slice, before anything is fetched.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from kiln.commands.context import CommandContext
from kiln.commands.project.lock import (
    LOCK_NAME,
    discover,
    existing_lock,
    lock_project,
    project_fingerprint,
)
from kiln.commands.project.noop import ARGS_ATTRIBUTE as NOOP_ATTRIBUTE
from kiln.commands.project.project_sources import watched_files
from kiln.commands.project.sync import SyncRequest, sync_project
from kiln.commands.requirement_args import requirement_or_usage_error
from kiln.core.errors import UsageError
from kiln.core.records import record
from kiln.project.inline_script import read_script_metadata
from kiln.python.discovery import find_interpreter
from kiln.settings.index_settings import project_indexes
from kiln.settings.torch_settings import project_torch


@record
class RunPlan:
    """The command `kiln run` starts, with its environment."""

    argv: tuple[str, ...]
    env: dict[str, str]
    relocked: bool
    installed: int


def _environment_vars(bin_dirs: Sequence[Path], venv: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([*map(str, bin_dirs), env.get("PATH", "")])
    env.pop("PYTHONHOME", None)
    return env


def _script_run(
    ctx: CommandContext,
    index_args: object,
    command: Sequence[str],
    python: str | None,
    with_: Sequence[str],
) -> RunPlan | None:
    """A `.py` file with PEP 723 metadata runs in its own cached environment, as uv does."""
    script = Path(command[0])
    if not (command[0].endswith(".py") and script.is_file()):
        return None
    metadata = read_script_metadata(script)
    if metadata is None:
        return None
    from kiln.commands.project.ephemeral import ephemeral_environment

    request = python or (str(metadata.requires_python) if metadata.requires_python else None)
    base = find_interpreter(request, ctx.cache)
    requirements = [
        *metadata.dependencies,
        *(requirement_or_usage_error(w, option="--with") for w in with_),
    ]
    env = ephemeral_environment(ctx, base, requirements, index_args)
    return RunPlan(
        (str(env.executable), *command),
        _environment_vars([env.executable.parent], env.prefix),
        False,
        0,
    )


def _unsynced(ctx: CommandContext, root: Path, command: Sequence[str]) -> RunPlan:
    """`--no-sync`: the environment as it is, neither locked nor synced (as uv)."""
    venv = root / ".venv"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        raise UsageError(
            f"`{venv}` does not exist, and `--no-sync` does not create it",
            hint="run `kiln sync` first, or drop `--no-sync`",
        )
    bin_dirs = [venv / ("Scripts" if os.name == "nt" else "bin")]
    argv = list(command)
    if argv[0].endswith(".py") and Path(argv[0]).is_file():
        argv = [str(python), *argv]
    return RunPlan(tuple(argv), _environment_vars(bin_dirs, venv), False, 0)


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
    with_: Sequence[str] = (),
    torch_backend: str | None = None,
    no_sync: bool = False,
) -> RunPlan:
    if not command:
        raise UsageError(
            "nothing to run", hint="give a command, e.g. `kiln run python -c 'import torch'`"
        )
    for text in with_:
        requirement_or_usage_error(text, option="--with")  # before anything is synced
    scripted = _script_run(ctx, index_args, command, python, with_)
    if scripted is not None:
        return scripted
    project = discover(project_dir)
    if no_sync:
        return _unsynced(ctx, project.root, command)
    relocked = False
    if not frozen:
        lock = existing_lock(project.root / LOCK_NAME, ctx.cache)
        torch = project_torch(project.kiln, torch_backend, verb="install")
        current = project_fingerprint(project, project_indexes(index_args, project.uv), torch)
        # A backend asked for may be one the lock does not carry yet: let the lock decide.
        if lock is None or lock.fingerprint != current or torch.asked is not None:
            lock_project(
                ctx, project.root, index_args, torch_backend=torch_backend, torch_verb="install"
            )
            relocked = True
    synced = sync_project(
        ctx,
        project.root,
        index_args,
        SyncRequest(
            extras=extras,
            groups=groups,
            frozen=True,
            python=python,
            torch_backend=torch_backend,
        ),
    )
    check = getattr(index_args, NOOP_ATTRIBUTE, None)
    torch_said = synced.torch is not None and (synced.torch.backend or synced.torch.why)
    quiet = not (relocked or with_ or torch_said or synced.created_venv)
    if check is not None and check.verb == "run" and quiet and synced.plan.is_empty:
        check.record(project.root, watch=watched_files(project))
    venv = project.root / ".venv"
    bin_dirs = [venv / ("Scripts" if os.name == "nt" else "bin")]
    interpreter = synced.interpreter
    if with_:
        # Extra packages for this run only: a cached environment that sees the project's
        # packages through a .pth file, so `.venv` keeps exactly the lock's slice.
        from kiln.commands.project.ephemeral import ephemeral_environment

        overlay = ephemeral_environment(
            ctx,
            interpreter,
            [requirement_or_usage_error(w, option="--with") for w in with_],
            index_args,
            overlay=interpreter.site_packages(),
        )
        bin_dirs.insert(0, overlay.executable.parent)
        interpreter = overlay
    env = _environment_vars(bin_dirs, venv)
    argv = list(command)
    if argv[0].endswith(".py") and Path(argv[0]).is_file():
        argv = [str(interpreter.executable), *argv]
    elif with_ and argv[0] in ("python", "python3"):
        argv[0] = str(interpreter.executable)
    installed = len(synced.plan.cached) + len(synced.plan.remote)
    return RunPlan(tuple(argv), env, relocked, installed)
