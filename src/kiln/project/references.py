"""`name @ URL` requirements read as the `[tool.uv.sources]` entries they stand for, as uv
reads them: a git URL, a `file://` path or an archive URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.errors import KilnError
from kiln.project.pyproject import Pyproject
from kiln.project.uv_tables import Source


class DirectReferenceError(KilnError):
    """A `name @ URL` requirement kiln cannot serve, or one that contradicts a source."""


def _every_requirement(project: Pyproject) -> list[Requirement]:
    return [
        *project.dependencies,
        *(r for rs in project.optional_dependencies.values() for r in rs),
        *(r for rs in project.dependency_groups.values() for r in rs),
    ]


def reference_source(requirement: Requirement, where: Path) -> Source:
    """The `[tool.uv.sources]` entry a PEP 508 direct reference (`name @ URL`) stands for."""
    url = requirement.url or ""
    split = urlsplit(url)
    fragment = dict(p.split("=", 1) for p in split.fragment.split("&") if "=" in p)
    subdirectory = fragment.get("subdirectory")
    if split.scheme.startswith("git+"):
        return git_source(url)
    if split.scheme == "file":
        return Source(path=unquote(split.path))
    if split.scheme in ("http", "https"):
        return Source(url=url.split("#", 1)[0], subdirectory=subdirectory)
    raise DirectReferenceError(
        f"`{requirement}` points at a URL kiln cannot fetch (`{split.scheme or url}`)",
        causes=(f"`{where}` requires it",),
        hint="use an `https://` URL, a `git+https://` URL or a `file://` path",
    )


def git_source(url: str) -> Source:
    """`git+https://host/repo@rev#subdirectory=sub` as a git source."""
    split = urlsplit(url)
    fragment = dict(p.split("=", 1) for p in split.fragment.split("&") if "=" in p)
    repository, rev = url.split("#", 1)[0], None
    # An `@` in the path (not in `user@host`) starts the revision. Cut as text: rebuilding
    # the URL would turn `git+file:///x` into `git+file:/x`.
    authority = repository.find("://")
    path_start = repository.find("/", authority + 3 if authority >= 0 else 0)
    if path_start >= 0 and "@" in repository[path_start:]:
        repository, _, rev = repository.rpartition("@")
    return Source(git=repository, rev=rev, subdirectory=fragment.get("subdirectory"))


def reference_sources(project: Pyproject) -> dict[NormalizedName, tuple[Source, ...]]:
    """The sources the project's `name @ URL` requirements declare, as uv reads them."""
    out: dict[NormalizedName, tuple[Source, ...]] = {}
    for requirement in _every_requirement(project):
        if requirement.url is None:
            continue
        name = canonicalize_name(requirement.name)
        source = reference_source(requirement, project.path)
        if name in project.uv.sources:
            raise DirectReferenceError(
                f"`{requirement}` points at a URL, and `tool.uv.sources.{name}` gives `{name}` "
                "another source",
                causes=(f"`{project.path}` declares both",),
                hint="keep one of them",
            )
        if name in out and out[name] != (source,):
            raise DirectReferenceError(
                f"`{name}` is required from two different URLs",
                causes=(f"`{project.path}` requires `{requirement}`",),
                hint="require it from one URL everywhere",
            )
        out[name] = (source,)
    return out
