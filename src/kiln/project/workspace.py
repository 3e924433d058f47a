"""A uv workspace: the root project and its members (`[tool.uv.workspace] members / exclude`),
locked together in one `pylock.toml` at the root."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.errors import KilnError
from kiln.core.records import field, record, replace
from kiln.project.pyproject import Pyproject, load_pyproject
from kiln.project.uv_tables import Source


class WorkspaceError(KilnError):
    """A member folder of `[tool.uv.workspace]` that is not a project, or two of one name."""


@record
class Members:
    """A workspace: its root project and its members."""

    root: Pyproject
    # name -> that member's project (the root itself excluded)
    projects: Mapping[NormalizedName, Pyproject] = field(default_factory=dict)

    @property
    def folders(self) -> dict[NormalizedName, Path]:
        return {name: p.root for name, p in self.projects.items()}


def workspace_members(root: Pyproject) -> Members:
    """The members of ``root``'s workspace; none when it declares no workspace."""
    workspace = root.uv.workspace
    if workspace is None:
        return Members(root)
    excluded = {p.resolve() for pattern in workspace.exclude for p in root.root.glob(pattern)}
    where = f"`tool.uv.workspace.members` in `{root.path}`"
    projects: dict[NormalizedName, Pyproject] = {}
    for pattern in workspace.members:
        matched = sorted(root.root.glob(pattern))
        if not matched:
            raise WorkspaceError(
                f"workspace member `{pattern}` matches no folder",
                causes=(f"{where} lists it",),
                hint="fix the glob, or remove it",
            )
        for folder in matched:
            folder = folder.resolve()
            if not folder.is_dir() or folder in excluded or folder == root.root.resolve():
                continue
            if not (folder / "pyproject.toml").is_file():
                raise WorkspaceError(
                    f"workspace member `{folder}` has no `pyproject.toml`",
                    causes=(f"{where} matches it with `{pattern}`",),
                    hint="add a pyproject.toml there, or add the folder to "
                    "`tool.uv.workspace.exclude`",
                )
            member = load_pyproject(folder / "pyproject.toml")
            if member.name is None:
                raise WorkspaceError(
                    f"workspace member `{folder}` has no `[project] name`",
                    causes=(f"{where} matches it with `{pattern}`",),
                )
            name = canonicalize_name(member.name)
            if name in projects and projects[name].root != member.root:
                raise WorkspaceError(
                    f"two workspace members are named `{name}`",
                    causes=(str(projects[name].path), str(member.path)),
                    hint="rename one of them, or exclude it",
                )
            projects[name] = member
    return Members(root, projects)


def workspace_root(start: Path) -> Path | None:
    """The folder of the workspace that ``start`` (a project folder) is a member of, if any."""
    start = start.resolve()
    for parent in start.parents:
        candidate = parent / "pyproject.toml"
        if not candidate.is_file():
            continue
        try:
            project = load_pyproject(candidate)
        except KilnError:
            return None
        if project.uv.workspace is None:
            continue
        if start in workspace_members(project).folders.values():
            return parent
    return None


def with_virtual_members(project: Pyproject, members: Members) -> Pyproject:
    """The workspace as one project to lock: its `requires-python` met by every member's, and a
    root with no `[project]` of its own (a virtual root) standing for all its members, as in
    uv: each is a dependency, served from its folder."""
    if not members.projects:
        return project
    # The workspace's Pythons are those every member allows, as uv reads them.
    bounds = [str(p.requires_python) for p in (project, *members.projects.values())]
    joined = ",".join(b for b in bounds if b and b != "None")
    if joined:
        project = replace(project, requires_python=SpecifierSet(joined))
    if project.name is not None:
        return project
    names = sorted(members.projects)
    sources = dict(project.uv.sources)
    for name in names:
        # A source with nothing set is a workspace member.
        sources.setdefault(name, (Source(),))
    uv = replace(project.uv, sources=sources)
    return replace(project, dependencies=tuple(Requirement(n) for n in names), uv=uv)
