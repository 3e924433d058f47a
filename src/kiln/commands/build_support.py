"""The build frontend wired to kiln's own resolver and installer, for the commands that meet
an sdist: resolution reads its metadata by building it, installation builds its wheel.

Build environments are filled from the same indexes and cache as the command itself; their
requirements must come as wheels (a build backend that needs a build is refused), so one
build never waits on another.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement

from kiln.commands.context import CommandContext
from kiln.core.build import BuildError, BuildRequest
from kiln.core.dist import DistFile
from kiln.core.metadata import CoreMetadata

if TYPE_CHECKING:
    from kiln.build.builder import Frontend
    from kiln.index.finder import IndexFinder
    from kiln.python.interpreter import Interpreter


class EnvironmentFiller:
    """`BuildEnvironmentInstaller` over kiln's resolver and installer."""

    def __init__(self, ctx: CommandContext, finder: IndexFinder) -> None:
        self.ctx = ctx
        self.finder = finder

    def install(self, requirements: Sequence[str], python: Path, target: Path) -> None:
        from kiln.install.executor import execute
        from kiln.install.installed import installed_distributions
        from kiln.install.installer import InstallOptions
        from kiln.install.plan import plan_install
        from kiln.install.preparer import prepare
        from kiln.python.interpreter import inspect_interpreter
        from kiln.resolve.resolver import resolve

        try:
            wanted = [Requirement(r) for r in requirements]
        except InvalidRequirement as exc:
            raise BuildError(
                f"a build requirement is not valid: {exc}",
                hint="fix `[build-system] requires` of the package being built",
            ) from None
        interpreter = inspect_interpreter(python, self.ctx.cache)
        resolution = resolve(wanted, self.finder.without_builds(), interpreter.environment())
        plan = plan_install(
            resolution.candidates,
            installed_distributions(interpreter.site_packages()),
            self.ctx.cache,
        )
        unpacked = prepare(
            (*plan.cached, *plan.remote), self.finder, self.ctx.cache, self.ctx.reporter
        )
        execute(
            plan,
            unpacked,
            interpreter.scheme,
            InstallOptions(python_executable=interpreter.executable),
            requested=frozenset(c.name for c in resolution.candidates),
        )


def frontend(ctx: CommandContext, finder: IndexFinder) -> Frontend:
    from kiln.build.builder import Frontend

    return Frontend(ctx.cache, EnvironmentFiller(ctx, finder))


def _fetched(ctx: CommandContext, finder: IndexFinder, file: DistFile, into: Path) -> Path:
    dest = into / file.filename
    finder.download(file, dest)
    return dest


def sdist_metadata_hook(
    ctx: CommandContext, finder: IndexFinder, python: Callable[[], Interpreter]
) -> Callable[[DistFile], CoreMetadata]:
    """Reads an sdist's metadata for the resolver: from PKG-INFO where it is static (PEP
    643), else by running the backend's metadata hook with ``python`` (found on first use)."""
    built = frontend(ctx, finder)

    def read(file: DistFile) -> CoreMetadata:
        scratch = Path(tempfile.mkdtemp(prefix="sdist-", dir=ctx.cache.tmpdir()))
        try:
            sdist = _fetched(ctx, finder, file, scratch)
            request = BuildRequest(sdist, python().executable, label=file.filename)
            return built.metadata(request)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return read


class SdistWheels:
    """`WheelBuilder` for one target interpreter: the environment being installed into."""

    def __init__(self, ctx: CommandContext, finder: IndexFinder, python: Path) -> None:
        self.frontend = frontend(ctx, finder)
        self.python = python

    def build_wheel(self, sdist: Path, label: str) -> Path:
        return self.frontend.wheel(BuildRequest(sdist, self.python, label=label))
