"""Cached throwaway environments for `kiln run --with` and PEP 723 scripts.

Each is keyed by the interpreter and the requirements, so running the same script again
reuses it; `--with` environments see the project's packages through a `.pth` file, the
project environment itself stays untouched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from packaging.requirements import Requirement

from kiln.commands.context import CommandContext
from kiln.commands.pip.install import PipInstallRequest, pip_install
from kiln.python.interpreter import Interpreter, inspect_interpreter
from kiln.python.venv import create_venv


def ephemeral_environment(
    ctx: CommandContext,
    base: Interpreter,
    requirements: Sequence[Requirement],
    index_args: object,
    *,
    overlay: Sequence[Path] = (),
) -> Interpreter:
    key = hashlib.sha256(
        "\n".join(
            [str(base.executable), *sorted(map(str, requirements)), *map(str, overlay)]
        ).encode()
    ).hexdigest()[:20]
    root = ctx.cache.bucket("environments") / key
    python = root / "bin" / "python"
    if python.exists():
        return inspect_interpreter(python, ctx.cache)
    venv = create_venv(root, base, cache=ctx.cache)
    if overlay:
        site = venv.site_packages()[0]
        (site / "_kiln_overlay.pth").write_text(
            "".join(f"{p}\n" for p in overlay), encoding="utf-8"
        )
    if requirements:
        try:
            pip_install(
                ctx,
                PipInstallRequest(packages=[str(r) for r in requirements], python=str(root)),
                index_args,
            )
        except BaseException:
            import shutil

            shutil.rmtree(root, ignore_errors=True)  # never leave a half-made entry to reuse
            raise
    return venv
