"""The project itself in its own environment: built by its backend and installed editable
(as uv does), so an edit to its source shows without a sync, and its console scripts exist.

An editable install of this very folder is kept as it is: its code is the folder, so only a
change of version asks for a new build (uv rebuilds when pyproject.toml changes; the lock's
fingerprint covers that, and a relock with a new version rebuilds here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, parse_wheel_filename
from packaging.version import Version

from kiln.commands.build_support import frontend
from kiln.commands.context import CommandContext
from kiln.core.build import BuildRequest
from kiln.core.dist import Candidate, DistFile
from kiln.core.hashes import Hashes, file_sha256
from kiln.install.installed import InstalledDist
from kiln.lock.model import Lock
from kiln.net.locations import path_to_url
from kiln.project.pyproject import Pyproject

if TYPE_CHECKING:
    from kiln.index.finder import IndexFinder


@dataclass(frozen=True)
class OwnProject:
    candidate: Candidate | None = None  # a fresh build to install; None: nothing to do
    keep: frozenset[NormalizedName] = frozenset()  # an install that stays as it is
    direct_urls: Mapping[NormalizedName, Mapping[str, object]] = field(default_factory=dict)


def _current(
    installed: Sequence[InstalledDist], name: NormalizedName, root: Path, editable: bool
) -> InstalledDist | None:
    url = path_to_url(root)
    for dist in installed:
        if dist.name == name and dist.url == url and dist.editable == editable:
            return dist
    return None


def own_project(
    ctx: CommandContext,
    project: Pyproject,
    lock: Lock,
    python: Path,
    installed: Sequence[InstalledDist],
    finder: IndexFinder | None,
    *,
    editable: bool = True,
) -> OwnProject:
    """What to do about the project's own distribution; ``finder`` None means the caller
    only wants to know whether a build is needed (a dry run or the no-op check)."""
    own = next(iter(lock.directories), None)
    if own is None:
        return OwnProject()
    editable = editable and own.editable
    current = _current(installed, own.name, project.root, editable)
    version = project.version
    if current is not None and (version is None or str(current.version) == str(version)):
        return OwnProject(keep=frozenset({own.name}))
    record = {"url": path_to_url(project.root), "dir_info": {"editable": editable}}
    if finder is None:
        # Not built yet: a candidate that says what would be installed. Its URL is the
        # project file, which no install records, so the plan never counts it as present.
        planned = Candidate(
            own.name,
            Version(str(version)) if version else Version("0"),
            DistFile(filename=f"{own.name}.whl", url=path_to_url(project.path)),
        )
        return OwnProject(planned, direct_urls={own.name: record})
    label = f"{project.name} (the project)"
    wheel = frontend(ctx, finder).wheel(
        BuildRequest(project.root, python, label=label), editable=editable
    )
    _, built_version, _, _ = parse_wheel_filename(wheel.name)
    candidate = Candidate(
        own.name,
        built_version,
        DistFile(
            filename=wheel.name,
            url=path_to_url(wheel),
            hashes=Hashes.of({"sha256": file_sha256(wheel)}),
            index=path_to_url(project.root),
        ),
    )
    return OwnProject(candidate, direct_urls={own.name: record})
