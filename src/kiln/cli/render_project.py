"""Output of the project verbs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from kiln.cli.console import Console, elapsed, plural, print_changes, report_sync
from kiln.commands.context import CommandContext

if TYPE_CHECKING:
    from kiln.commands.project.add_remove import EditRequest
    from kiln.commands.project.sync import SyncResult


def lock(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.project.lock import lock_project

    result = lock_project(
        ctx,
        Path(args.project) if args.project else None,
        args,
        check=args.check,
        upgrade=args.upgrade,
        upgrade_packages=frozenset(canonicalize_name(n) for n in args.upgrade_package),
        fork_strategy=args.fork_strategy,
        python=args.python,
        torch_backend=args.torch_backend,
    )
    for warning in result.warnings:
        console.warn(warning)
    console.info(f"Resolved {plural(result.packages, 'package')} in {elapsed(result.seconds)}")
    if args.check:
        console.info(f"`{result.path.name}` is up to date")
    elif result.changed:
        console.info(f"Wrote {result.path}")
    return 0


def sync(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.project.sync import SyncRequest, sync_project

    request = SyncRequest(
        extras=args.extra,
        all_extras=args.all_extras,
        groups=args.group,
        only_groups=args.only_group,
        no_dev=args.no_dev,
        no_default_groups=args.no_default_groups,
        inexact=args.inexact,
        locked=args.locked,
        frozen=args.frozen,
        dry_run=args.dry_run,
        python=args.python,
        torch_backend=args.torch_backend,
        no_install_project=args.no_install_project,
        no_editable=args.no_editable,
    )
    result = sync_project(ctx, Path(args.project) if args.project else None, args, request)
    if result.created_venv:
        made = "Would create" if args.dry_run else "Created"
        console.info(f"{made} virtual environment at: {result.project.root / '.venv'}")
    for note in result.notes:
        console.warn(note)
    _report_torch(result, console)
    plan = result.plan
    to_install = [p.candidate for p in plan.to_install]
    report_sync(console, list(plan.to_remove), to_install, result.audited, dry_run=args.dry_run)
    return 0


def _report_torch(result: SyncResult, console: Console) -> None:
    torch = result.torch
    if torch is None or (torch.backend is None and not torch.why):
        return
    if torch.backend is None:
        console.warn(f"{torch.why}; installing the lock's default PyTorch builds")
    else:
        console.info(f"Using PyTorch backend `{torch.backend}` ({torch.why})")


def init(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.project.init import InitRequest, init_project

    request = InitRequest(
        path=Path(args.path) if args.path else None,
        python=args.python,
        kind=args.kind,
        name=args.name,
        readme=not args.no_readme,
        vcs=args.vcs,
    )
    result = init_project(ctx, request)
    console.debug(f"Using {result.interpreter}")
    console.info(f"Initialized project `{result.name}` at `{result.root}`")
    return 0


def _edit_request(args: argparse.Namespace) -> EditRequest:
    from kiln.commands.project.add_remove import EditRequest
    from kiln.core.errors import UsageError

    # As uv: a requirement goes to one place, so `--dev`, `--group` and `--optional` exclude
    # each other rather than one of them being dropped.
    given = [
        flag
        for flag, value in (
            ("--dev", args.dev),
            ("--optional", args.extra),
            ("--group", args.group),
        )
        if value
    ]
    if len(given) > 1:
        raise UsageError(
            f"`{given[0]}` cannot be used with `{given[1]}`",
            hint="`--dev` is short for `--group dev`; pass one of them"
            if given[0] == "--dev" and given[1] == "--group"
            else "a requirement goes into one extra or one group; pass one of them",
        )
    return EditRequest(
        packages=args.packages,
        extra=args.extra,
        group="dev" if args.dev else args.group,
        indexes=[i for i in (getattr(args, "index", None) or []) if "=" in i]
        if args.verb == "add"
        else (),
        marker=getattr(args, "marker", None),
        raw=getattr(args, "raw", False),
        frozen=args.frozen,
        no_sync=args.no_sync,
        python=args.python,
        torch_backend=getattr(args, "torch_backend", None),
        editable=getattr(args, "editable", False),
        git_revision=_git_revision(args),
    )


def _git_revision(args: argparse.Namespace) -> tuple[str, str] | None:
    for key in ("rev", "tag", "branch"):
        value = getattr(args, key, None)
        if value:
            return key, value
    return None


def add(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.project.add_remove import add_packages

    result = add_packages(
        ctx, Path(args.project) if args.project else None, args, _edit_request(args)
    )
    _report_edit(result, console)
    return 0


def remove(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.project.add_remove import remove_packages

    result = remove_packages(
        ctx, Path(args.project) if args.project else None, args, _edit_request(args)
    )
    _report_edit(result, console)
    return 0


def _report_edit(result: object, console: Console) -> None:
    locked = getattr(result, "lock", None)
    synced = getattr(result, "sync", None)
    if locked is not None:
        console.info(f"Resolved {plural(locked.packages, 'package')} in {elapsed(locked.seconds)}")
    if synced is not None:
        plan = synced.plan
        print_changes(
            console,
            (*plan.reinstalls, *plan.extraneous),
            [p.candidate for p in (*plan.cached, *plan.remote)],
        )


def run(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    import os
    import subprocess

    from kiln.commands.project.run import prepare_run

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    plan = prepare_run(
        ctx,
        Path(args.project) if args.project else None,
        args,
        command,
        extras=args.extra,
        groups=args.group,
        python=args.python,
        frozen=args.frozen,
        with_=args.with_,
        torch_backend=args.torch_backend,
        no_sync=args.no_sync,
    )
    if plan.installed:
        console.info(f"Installed {plural(plan.installed, 'package')}")
    if os.name != "nt":
        try:
            os.execvpe(plan.argv[0], list(plan.argv), plan.env)
        except FileNotFoundError:
            console.error(
                f"error: `{plan.argv[0]}` was not found in the project environment or on PATH"
            )
            return 2
    try:
        return subprocess.call(list(plan.argv), env=plan.env)
    except FileNotFoundError:
        console.error(
            f"error: `{plan.argv[0]}` was not found in the project environment or on PATH"
        )
        return 2


def tree(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.project.inspect import TreeRequest, project_tree

    request = TreeRequest(
        universal=args.universal,
        depth=args.depth,
        invert=args.invert,
        package=args.package,
        extras=args.extra,
        groups=args.group,
        frozen=args.frozen,
        python=args.python,
    )
    for line in project_tree(ctx, Path(args.project) if args.project else None, args, request):
        console.out(line)
    return 0


def export(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.project.inspect import project_export

    frozen = args.frozen
    if args.python is not None and not frozen:
        from kiln.commands.project.lock import lock_project

        # The interpreter only matters to locking, so lock with it here and export that lock.
        lock_project(ctx, Path(args.project) if args.project else None, args, python=args.python)
        frozen = True
    text = project_export(
        ctx,
        Path(args.project) if args.project else None,
        args,
        fmt=args.format,
        extras=args.extra,
        groups=args.group,
        all_extras=args.all_extras,
        output=Path(args.output) if args.output else None,
        frozen=frozen,
        hashes=not args.no_hashes,
    )
    if args.output is None:
        console.out(text.rstrip("\n"))
    else:
        console.info(f"Wrote {args.output}")
    return 0
