"""`kiln tree` and `kiln export`: read the lock, for this machine or for every platform."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from kiln.cache.atomic import write_text
from kiln.commands.context import CommandContext
from kiln.commands.project.lock import LOCK_NAME, discover, lock_project
from kiln.commands.project.sync import SyncRequest, project_environment, selection_for
from kiln.core.errors import UsageError
from kiln.core.records import record
from kiln.lock.export import requirements_txt
from kiln.lock.select import select, select_directories
from kiln.lock.tree import draw, graph_of


@record
class TreeRequest:
    """What `kiln tree` shows of the lock."""

    universal: bool = False
    depth: int | None = None
    invert: bool = False
    package: Sequence[str] = ()
    extras: Sequence[str] = ()
    groups: Sequence[str] = ()
    frozen: bool = False
    python: str | None = None


def project_tree(
    ctx: CommandContext, project_dir: Path | None, index_args: object, request: TreeRequest
) -> list[str]:
    project = discover(project_dir)
    lock = lock_project(ctx, project.root, index_args).lock if not request.frozen else None
    if lock is None:
        from kiln.commands.project.lock import existing_lock

        lock = existing_lock(project.root / LOCK_NAME, ctx.cache)
        if lock is None:
            raise UsageError("there is no lock yet", hint="run `kiln lock`, or drop `--frozen`")
    selection = selection_for(project, SyncRequest(extras=request.extras, groups=request.groups))
    if request.universal:
        packages = list(lock.packages)
        directories = list(lock.directories)
    else:
        interpreter, _ = project_environment(ctx, project, request.python)
        env = interpreter.environment()
        packages = [
            s.package for s in select(lock, env, extras=selection.extras, groups=selection.groups)
        ]
        directories = list(
            select_directories(lock, env, extras=selection.extras, groups=selection.groups)
        )
    edges, versions = graph_of(packages, [d for d in directories if not d.is_project])
    roots: list[NormalizedName] = [canonicalize_name(r.name) for r in project.dependencies]
    for extra in sorted(selection.extras):
        roots += [canonicalize_name(r.name) for r in project.optional_dependencies.get(extra, ())]
    for group in sorted(selection.groups):
        roots += [canonicalize_name(r.name) for r in project.dependency_groups.get(group, ())]
    if request.package:
        roots = [canonicalize_name(p) for p in request.package]
    label = f"{project.name or project.root.name} v{project.version or '0'}"
    return draw(
        label,
        list(dict.fromkeys(roots)),
        edges,
        versions,
        depth=request.depth,
        invert=request.invert,
    )


def project_export(
    ctx: CommandContext,
    project_dir: Path | None,
    index_args: object,
    *,
    fmt: str,
    extras: Sequence[str],
    groups: Sequence[str],
    all_extras: bool,
    output: Path | None,
    frozen: bool,
    hashes: bool,
) -> str:
    project = discover(project_dir)
    if frozen:
        from kiln.commands.project.lock import existing_lock

        lock = existing_lock(project.root / LOCK_NAME, ctx.cache)
        if lock is None:
            raise UsageError("there is no lock yet", hint="run `kiln lock`, or drop `--frozen`")
    else:
        lock = lock_project(ctx, project.root, index_args).lock
    if fmt == "pylock.toml":
        text = (project.root / LOCK_NAME).read_text(encoding="utf-8")
    elif fmt == "requirements.txt":
        selection = selection_for(
            project, SyncRequest(extras=extras, groups=groups, all_extras=all_extras)
        )
        text = requirements_txt(
            lock, extras=sorted(selection.extras), groups=sorted(selection.groups), hashes=hashes
        )
    else:
        raise UsageError(
            f"unknown export format `{fmt}`", hint="use `requirements.txt` or `pylock.toml`"
        )
    if output is not None:
        write_text(output, text)
    return text
