"""What `kiln add` writes for a package that is not on an index: `../lib`, a wheel or sdist
file, `git+https://…@v1`, or `name @ URL` becomes the bare name in the dependencies and its
source in `[tool.uv.sources]`, as uv writes them."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from packaging.requirements import Requirement

from kiln.commands.source_dists import SourceDists, git_repository
from kiln.core.build import SDIST_SUFFIXES
from kiln.core.errors import UsageError
from kiln.core.records import record
from kiln.project.pyproject import Pyproject
from kiln.project.references import git_source, reference_source
from kiln.project.source_rules import SourceOrigin
from kiln.project.uv_tables import Source

Location = Mapping[str, str | bool]


@record
class Addition:
    """One requirement `kiln add` writes, and its source entry if any."""

    requirement: Requirement  # as written to the dependencies: never with a URL
    location: Location | None  # the `[tool.uv.sources]` entry; None: from the indexes


@record
class AddFlags:
    """How `kiln add` records a source: editable, or at a git revision."""

    editable: bool = False
    git_revision: tuple[str, str] | None = None  # ("rev" | "tag" | "branch", value)


def is_location(text: str) -> bool:
    """Whether an argument of `kiln add` names a place rather than a requirement."""
    if text.startswith(("./", "../", "/", "~", "git+", "file://", "http://", "https://")):
        return True
    if text in (".", ".."):
        return True
    looks_like_file = text.endswith((".whl", *SDIST_SUFFIXES))
    return looks_like_file and Path(text).exists()


def parse_additions(
    texts: list[str],
    project: Pyproject,
    flags: AddFlags,
    dists: Callable[[], SourceDists],
    requirement: Callable[[str], Requirement],
) -> list[Addition]:
    """``dists`` is called only when a source must be fetched to learn the package's name."""
    out = []
    for text in texts:
        if is_location(text):
            source, location = _location(text, project, flags)
            origin = SourceOrigin(project.root, project.path, project.root)
            name = dists().identify(source, origin, text).name
            out.append(Addition(Requirement(name), location))
            continue
        parsed = requirement(text)
        if parsed.url is None:
            flag = "editable" if flags.editable else (flags.git_revision or ("",))[0]
            if flag:
                raise UsageError(
                    f"`{text}` is a requirement from the indexes, so `--{flag}` has nothing "
                    "to apply to",
                    hint="pass a path (`--editable`) or a git URL (`--rev/--tag/--branch`)",
                )
            out.append(Addition(parsed, None))
            continue
        source = reference_source(parsed, project.path)
        bare = Requirement(str(parsed))
        bare.url = None
        out.append(Addition(bare, _entry(source, flags, text)))
    return out


def _location(text: str, project: Pyproject, flags: AddFlags) -> tuple[Source, Location]:
    if text.startswith("git+"):
        source = git_source(text)
        return source, _entry(source, flags, text)
    if text.startswith(("http://", "https://")):
        source = Source(url=text)
        return source, _entry(source, flags, text)
    path = Path(os.path.expanduser(text.removeprefix("file://"))).resolve()
    # As uv writes it: relative to the project when given relative, else as given.
    relative = not Path(os.path.expanduser(text.removeprefix("file://"))).is_absolute()
    written = Path(os.path.relpath(path, project.root)).as_posix() if relative else str(path)
    source = Source(path=written, editable=flags.editable or None)
    return source, _entry(source, flags, text)


def _entry(source: Source, flags: AddFlags, text: str) -> Location:
    entry: dict[str, str | bool] = {}
    if source.git is not None:
        entry["git"] = git_repository(source.git)
        if flags.git_revision is not None:
            key, value = flags.git_revision
            entry[key] = value
        elif source.rev:
            entry["rev"] = source.rev
        if source.subdirectory:
            entry["subdirectory"] = source.subdirectory
    elif source.url is not None:
        entry["url"] = source.url
        if source.subdirectory:
            entry["subdirectory"] = source.subdirectory
    elif source.path is not None:
        entry["path"] = source.path
    if flags.editable:
        if source.path is None:
            raise UsageError(
                f"`--editable` applies to a path, and `{text}` is not one",
                hint="drop `--editable`, or add the project's folder",
            )
        entry["editable"] = True
    if flags.git_revision is not None and source.git is None:
        raise UsageError(
            f"`--{flags.git_revision[0]}` applies to a git URL, and `{text}` is not one",
            hint=f"drop `--{flags.git_revision[0]}`, or add `git+https://…`",
        )
    return entry
