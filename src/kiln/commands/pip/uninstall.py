"""`kiln pip uninstall`: remove exactly what each distribution's RECORD lists."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from kiln.commands.context import CommandContext
from kiln.commands.pip.target import target_interpreter
from kiln.core.errors import UsageError
from kiln.core.records import record
from kiln.install.installed import InstalledDist, installed_distributions
from kiln.install.uninstall import uninstall
from kiln.project.requirements_txt import parse_requirement_text, read_requirements
from kiln.python.interpreter import Interpreter


@record
class PipUninstallResult:
    """What `kiln pip uninstall` removed, and what was not installed."""

    interpreter: Interpreter
    removed: tuple[InstalledDist, ...]
    missing: tuple[str, ...]


def pip_uninstall(
    ctx: CommandContext,
    packages: Sequence[str],
    requirement_files: Sequence[Path],
    *,
    python: str | None,
    system: bool,
    dry_run: bool,
) -> PipUninstallResult:
    names: list[str] = [parse_requirement_text(p, "the command line").name for p in packages]
    for path in requirement_files:
        names += [r.name for r in read_requirements(path).requirements]
    if not names:
        raise UsageError("nothing to uninstall", hint="name the packages to remove")
    interpreter = target_interpreter(ctx, python, system)
    installed = {d.name: d for d in installed_distributions(interpreter.site_packages())}
    removed: list[InstalledDist] = []
    missing: list[str] = []
    for name in dict.fromkeys(names):
        dist = installed.get(canonicalize_name(name))
        if dist is None:
            missing.append(name)
            continue
        if not dry_run:
            uninstall(dist, interpreter.scheme)
        removed.append(dist)
    return PipUninstallResult(interpreter, tuple(removed), tuple(missing))
