"""Every source a lock honours, and where each is declared: the project's
`[tool.uv.sources]`, its `name @ URL` requirements, and its workspace members' sources."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import NormalizedName

from kiln.core.records import record
from kiln.project.pyproject import Pyproject
from kiln.project.references import reference_sources
from kiln.project.source_rules import SourceOrigin
from kiln.project.uv_tables import Source
from kiln.project.workspace import Members, workspace_members


@record
class ProjectSources:
    """The `[tool.uv.sources]` of a workspace, each with the member it came from."""

    sources: Mapping[NormalizedName, tuple[Source, ...]]
    origins: Mapping[NormalizedName, SourceOrigin]
    members: Members
    default: SourceOrigin  # the root project's: for packages no member declares

    def origin(self, name: NormalizedName) -> SourceOrigin:
        return self.origins.get(name, self.default)


def project_sources(project: Pyproject) -> ProjectSources:
    """The root's sources win over a member's for the same package, as the root's file is
    the one the user locks from."""
    members = workspace_members(project)
    root = SourceOrigin(project.root, project.path, project.root)
    sources: dict[NormalizedName, tuple[Source, ...]] = {}
    origins: dict[NormalizedName, SourceOrigin] = {}
    declared = [(project, root)] + [
        (member, SourceOrigin(member.root, member.path, project.root))
        for member in members.projects.values()
    ]
    for owner, origin in declared:
        for name, entries in (*owner.uv.sources.items(), *reference_sources(owner).items()):
            if name not in sources:
                sources[name] = entries
                origins[name] = origin
    return ProjectSources(sources, origins, members, root)


def source_inputs(project: Pyproject, found: ProjectSources) -> dict[str, object]:
    """What of the sources' own files changes the lock: each member's and each path
    folder's `pyproject.toml`, by content (a version or dependency edited there)."""
    files = {
        str(path): _digest(path)
        for path in _source_files(found)
        if path.name == "pyproject.toml" and path.is_file()
    }
    return {
        "sources": {
            name: [repr(s) for s in entries] for name, entries in sorted(found.sources.items())
        },
        "source-files": dict(sorted(files.items())),
    }


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def watched_files(project: Pyproject) -> list[str]:
    """The files outside the project's own that a no-op check depends on: each path source
    (its `pyproject.toml` for a folder, the file itself for a wheel or an sdist)."""
    return [str(path) for path in _source_files(project_sources(project))]


def _source_files(found: ProjectSources) -> list[Path]:
    """Each member's `pyproject.toml`, and each path source's (or its file)."""
    out = [m.path for m in found.members.projects.values()]
    for name, entries in sorted(found.sources.items()):
        origin = found.origin(name)
        for source in entries:
            if source.path is None:
                continue
            target = (origin.root / source.path).resolve()
            out.append(target / "pyproject.toml" if target.is_dir() else target)
    return out
