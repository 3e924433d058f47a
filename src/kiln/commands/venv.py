"""`kiln venv`: a standard virtual environment, fast."""

from __future__ import annotations

import os
from pathlib import Path

from kiln.commands.context import CommandContext
from kiln.core.records import record
from kiln.python.discovery import find_interpreter
from kiln.python.interpreter import Interpreter
from kiln.python.venv import OnExisting, create_venv
from kiln.python.venv_lock import venv_lock
from kiln.settings.global_settings import env_flag, env_value


@record
class VenvResult:
    """The environment `kiln venv` made, and the interpreter it was made from."""

    base: Interpreter
    venv: Interpreter
    path: Path


def make_venv(
    ctx: CommandContext,
    path: str | None,
    *,
    python: str | None,
    seed: bool,
    prompt: str | None,
    clear: bool = False,
    allow_existing: bool = False,
) -> VenvResult:
    target = Path(path or ".venv")
    base = find_interpreter(python or env_value(os.environ, "KILN_PYTHON"), ctx.cache)
    # As uv where it cannot ask: an environment already there is kept unless told otherwise,
    # and `--allow-existing` wins over `--clear`.
    on_existing: OnExisting = "fail"
    if allow_existing:
        on_existing = "allow"
    elif clear or env_flag(os.environ, "KILN_VENV_CLEAR"):
        on_existing = "clear"
    with venv_lock(target):  # not while a `kiln sync` or `pip install` changes it
        venv = create_venv(
            target, base, seed=seed, prompt=prompt, on_existing=on_existing, cache=ctx.cache
        )
    return VenvResult(base, venv, target)
