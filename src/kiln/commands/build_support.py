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
from packaging.utils import InvalidSdistFilename, parse_sdist_filename
from packaging.version import InvalidVersion

from kiln.commands.context import CommandContext
from kiln.core.build import BuildError, BuildRequest
from kiln.core.dist import DistFile
from kiln.core.metadata import CoreMetadata
from kiln.settings.build_settings import BuildSettings

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


def build_request(
    source: Path, python: Path, *, label: str, name: str | None, build: BuildSettings
) -> BuildRequest:
    """What to build, isolated or not and with which extra requirements as ``build`` says
    for the package ``name`` (None: not known yet)."""
    return BuildRequest(
        source,
        python,
        isolation=build.isolated(name),
        extra_build_requirements=build.extra_for(name),
        label=label,
    )


def _sdist_name(filename: str) -> str | None:
    try:
        return parse_sdist_filename(filename)[0]
    except (InvalidSdistFilename, InvalidVersion):
        return None


def _fetched(ctx: CommandContext, finder: IndexFinder, file: DistFile, into: Path) -> Path:
    dest = into / file.filename
    finder.download(file, dest)
    return dest


def sdist_metadata_hook(
    ctx: CommandContext,
    finder: IndexFinder,
    python: Callable[[], Interpreter],
    build: BuildSettings | None = None,
) -> Callable[[DistFile], CoreMetadata]:
    """Reads an sdist's metadata for the resolver: from PKG-INFO where it is static (PEP
    643), else by running the backend's metadata hook with ``python`` (found on first use)."""
    # Made on the first sdist: the build machinery is a fifth of `pip install`'s imports,
    # and most installs build nothing.
    built: list[Frontend] = []

    def read(file: DistFile) -> CoreMetadata:
        if not built:
            built.append(frontend(ctx, finder))
        scratch = Path(tempfile.mkdtemp(prefix="sdist-", dir=ctx.cache.tmpdir()))
        try:
            sdist = _fetched(ctx, finder, file, scratch)
            request = build_request(
                sdist,
                python().executable,
                label=file.filename,
                name=_sdist_name(file.filename),
                build=build or BuildSettings(),
            )
            return built[0].metadata(request)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return read


class SdistWheels:
    """`WheelBuilder` for one target interpreter: the environment being installed into."""

    def __init__(
        self,
        ctx: CommandContext,
        finder: IndexFinder,
        python: Path,
        build: BuildSettings | None = None,
    ) -> None:
        self.ctx, self.finder = ctx, finder
        self._frontend: Frontend | None = None  # made on the first build, as above
        self.python = python
        self.build = build or BuildSettings()

    def build_wheel(self, sdist: Path, label: str) -> Path:
        request = build_request(
            sdist, self.python, label=label, name=_sdist_name(sdist.name), build=self.build
        )
        if self._frontend is None:
            self._frontend = frontend(self.ctx, self.finder)
        return self._frontend.wheel(request)
