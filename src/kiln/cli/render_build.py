"""`kiln build` output, in uv's words."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiln.cli.console import Console
from kiln.commands.context import CommandContext

_STEP_LINES = {
    "sdist": "Building source distribution...",
    "wheel": "Building wheel...",
    "wheel-from-sdist": "Building wheel from source distribution...",
}


def build(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.build_project import BuildProjectRequest, build_project

    request = BuildProjectRequest(
        source=Path(args.src) if args.src else None,
        sdist=args.sdist,
        wheel=args.wheel,
        out_dir=Path(args.out_dir) if args.out_dir else None,
        python=args.python,
        isolation=not args.no_build_isolation,
        config_settings=config_settings(args.config_settings),
    )
    result = build_project(ctx, request, args, lambda step: console.info(_STEP_LINES[step]))
    console.debug(f"Built with {result.interpreter.description}")
    for path in result.built:
        console.info(f"Successfully built {_shown(path)}")
    return 0


def config_settings(values: list[str]) -> dict[str, str]:
    from kiln.core.errors import UsageError

    settings: dict[str, str] = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key:
            raise UsageError(
                f"invalid config setting `{value}` (expected `KEY=VALUE`)",
                hint="pass each backend setting as `-C KEY=VALUE`",
            )
        settings[key] = setting
    return settings


def _shown(path: Path) -> str:
    # Relative to the current folder where it lies below it, as uv shows paths.
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return str(path)
