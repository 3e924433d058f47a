"""The environment a `kiln pip` command acts on."""

from __future__ import annotations

from pathlib import Path

from kiln.commands.context import CommandContext
from kiln.python.discovery import find_target_environment
from kiln.python.interpreter import Interpreter
from kiln.settings.global_settings import env_value


def target_interpreter(ctx: CommandContext, python: str | None, system: bool) -> Interpreter:
    import os

    python = python or env_value(os.environ, "KILN_PYTHON")
    system = system or os.environ.get("KILN_SYSTEM_PYTHON", "").lower() in ("1", "true")
    return find_target_environment(python, system=system, cwd=Path.cwd(), cache=ctx.cache)
