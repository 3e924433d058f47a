"""Output of the project verbs."""

from __future__ import annotations

import argparse
from pathlib import Path

from packaging.utils import canonicalize_name

from kiln.cli.console import Console, elapsed, plural
from kiln.commands.context import CommandContext


def lock(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.project.lock import lock_project

    result = lock_project(
        ctx,
        Path(args.project) if args.project else None,
        args,
        check=args.check,
        upgrade=args.upgrade,
        upgrade_packages=frozenset(canonicalize_name(n) for n in args.upgrade_package),
    )
    for warning in result.warnings:
        console.warn(warning)
    console.info(f"Resolved {plural(result.packages, 'package')} in {elapsed(result.seconds)}")
    if args.check:
        console.info(f"`{result.path.name}` is up to date")
    elif result.changed:
        console.info(f"Wrote {result.path}")
    return 0


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
