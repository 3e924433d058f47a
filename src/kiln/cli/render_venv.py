"""`kiln venv` output."""

from __future__ import annotations

import argparse
import os
import time

from kiln.cli.console import Console, elapsed
from kiln.commands.context import CommandContext
from kiln.commands.venv import make_venv


def venv(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    started = time.perf_counter()
    result = make_venv(
        ctx,
        args.path,
        python=args.python,
        seed=args.seed,
        prompt=args.prompt,
        clear=args.clear,
        allow_existing=args.allow_existing,
    )
    console.info(f"Using {result.base.description}")
    console.info(f"Creating virtual environment at: {result.path}")
    if result.venv is not None and args.seed:
        console.info(" + pip (seeded)")
    console.debug(f"Created in {elapsed(time.perf_counter() - started)}")
    activate = (
        f"{result.path}\\Scripts\\activate"
        if os.name == "nt"
        else f"source {result.path}/bin/activate"
    )
    console.info(f"Activate with: {activate}")
    return 0
