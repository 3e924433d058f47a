"""`kiln build`: a project folder's sdist and wheel, or a wheel of an sdist, as `uv build` does.

Paths keep the form they were given in (relative to the current folder, if so), so that what
is reported reads as the user wrote it; the frontend is content with either form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from kiln.commands.build_support import frontend
from kiln.commands.context import CommandContext
from kiln.core.build import SDIST_SUFFIXES, BuildError
from kiln.core.errors import NotFoundError, UsageError
from kiln.core.records import field, record

if TYPE_CHECKING:
    from kiln.project.pyproject import Pyproject
    from kiln.python.interpreter import Interpreter

# What is being built next: an sdist of the folder, a wheel of the folder, or a wheel of an
# sdist (the one just built, or the one given).
Step = Literal["sdist", "wheel", "wheel-from-sdist"]

_FAILURE_HINT = (
    "build failures usually indicate a problem with the package or the build environment"
)


@record
class BuildProjectRequest:
    """What `kiln build` was asked to build, and how."""

    source: Path | None = None  # a project folder or an sdist file; None: the current folder
    sdist: bool = False
    wheel: bool = False
    out_dir: Path | None = None  # None: `<folder>/dist`, or the sdist's own folder
    python: str | None = None
    isolation: bool = True
    config_settings: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "config_settings", MappingProxyType(dict(self.config_settings)))


@record
class BuildProjectResult:
    """The distributions `kiln build` wrote."""

    source: Path
    out_dir: Path
    interpreter: Interpreter
    built: tuple[Path, ...]  # in the order built, each under ``out_dir``


def build_project(
    ctx: CommandContext,
    request: BuildProjectRequest,
    index_args: object,
    on_step: Callable[[Step], None] = lambda _step: None,
) -> BuildProjectResult:
    """Build what ``request`` asks; ``on_step`` hears of each build before it starts."""
    from kiln.build.distributions import build_distributions
    from kiln.python.discovery import find_interpreter
    from kiln.settings.index_settings import index_settings, project_indexes

    source = request.source if request.source is not None else Path(".")
    if not source.exists():
        raise NotFoundError(
            f"source `{source}` does not exist",
            hint="pass a project folder, or a source distribution with `--wheel`",
        )
    project: Pyproject | None = None
    if source.is_dir():
        project = _project_in(source)
        steps = _folder_steps(request)
        out_dir = request.out_dir if request.out_dir is not None else source / "dist"
    else:
        steps = _sdist_steps(source, request)
        out_dir = request.out_dir if request.out_dir is not None else source.parent

    interpreter = find_interpreter(request.python or _project_python(project), ctx.cache)
    indexes = project_indexes(index_args, project.uv) if project else index_settings(index_args)
    finder = indexes.finder(ctx.client, ctx.cache)
    out_dir.mkdir(parents=True, exist_ok=True)
    _ignore_in_git(out_dir)
    built: list[Path] = []
    try:
        builds = frontend(ctx, finder)
        for step in steps:
            on_step(step)
            # Absolute, so that a failure names the folder as uv does, not `.`.
            from_ = built[0] if step == "wheel-from-sdist" and built else source
            built += build_distributions(
                from_.resolve(),
                out_dir,
                sdist=step == "sdist",
                wheel=step != "sdist",
                frontend=builds,
                python=interpreter.executable,
                isolation=request.isolation,
                config_settings=request.config_settings,
            )
    except BuildError as exc:
        # The frontend's message already carries the backend's output; uv's advice is added
        # where the frontend had none more specific.
        raise BuildError(exc.message, causes=exc.causes, hint=exc.hint or _FAILURE_HINT) from None
    finally:
        finder.close()
    return BuildProjectResult(source, out_dir, interpreter, tuple(built))


def _folder_steps(request: BuildProjectRequest) -> tuple[Step, ...]:
    if request.sdist and request.wheel:
        # Both named: each from the folder, as uv does; neither named is the stricter path.
        return ("sdist", "wheel")
    if request.sdist:
        return ("sdist",)
    if request.wheel:
        return ("wheel",)
    return ("sdist", "wheel-from-sdist")


def _sdist_steps(source: Path, request: BuildProjectRequest) -> tuple[Step, ...]:
    if not source.name.endswith(SDIST_SUFFIXES):
        raise UsageError(
            f"cannot build `{source}`: it is neither a folder nor a source distribution",
            hint="pass a project folder, or a `.tar.gz` or `.zip` source distribution",
        )
    if request.sdist:
        raise UsageError(
            f"cannot build a source distribution from `{source}`",
            causes=["it is a source distribution already"],
            hint=f"pass only `--wheel` to build a wheel from it: `kiln build --wheel {source}`",
        )
    if not request.wheel:
        # As uv: asking for the wheel is required, so that a folder's default (sdist, then
        # wheel) is never mistaken for what happens to an archive.
        raise UsageError(
            f"cannot build `{source}` without `--wheel`",
            causes=["only a wheel can be built from a source distribution"],
            hint=f"pass `--wheel` explicitly: `kiln build --wheel {source}`",
        )
    return ("wheel-from-sdist",)


def _project_in(folder: Path) -> Pyproject | None:
    from kiln.project.pyproject import load_pyproject

    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        return load_pyproject(pyproject)
    if (folder / "setup.py").is_file():
        return None  # a legacy project: setuptools' defaults, no `[tool.uv]` to read
    raise BuildError(
        f"failed to build `{folder.resolve()}`",
        causes=[
            f"`{folder.resolve()}` does not appear to be a Python project, as neither "
            "`pyproject.toml` nor `setup.py` are present in the directory"
        ],
        hint="pass the folder that holds the project's `pyproject.toml`",
    )


def _project_python(project: Pyproject | None) -> str | None:
    """The project's own choice: `.python-version`, else its `requires-python`."""
    if project is None:
        return None
    pin = project.root / ".python-version"
    if pin.is_file():
        lines = pin.read_text(encoding="utf-8").strip().splitlines()
        if lines and lines[0].strip():
            return lines[0].strip()
    return str(project.requires_python) if project.requires_python else None


def _ignore_in_git(out_dir: Path) -> None:
    # uv keeps build output out of version control with a catch-all `.gitignore`; one the user
    # already has there is theirs to keep.
    ignore = out_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*", encoding="utf-8")
