"""`kiln venv`: a standard virtual environment, fast."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kiln.commands.context import CommandContext
from kiln.python.discovery import find_interpreter
from kiln.python.interpreter import Interpreter
from kiln.python.venv import create_venv


@dataclass(frozen=True)
class VenvResult:
    base: Interpreter
    venv: Interpreter
    path: Path


def make_venv(
    ctx: CommandContext, path: str | None, *, python: str | None, seed: bool, prompt: str | None
) -> VenvResult:
    target = Path(path or ".venv")
    base = find_interpreter(python or os.environ.get("KILN_PYTHON") or None, ctx.cache)
    venv = create_venv(target, base, seed=seed, prompt=prompt, cache=ctx.cache)
    return VenvResult(base, venv, target)
