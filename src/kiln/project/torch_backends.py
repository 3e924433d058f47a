"""A project locked for several PyTorch backends at once, written as tables uv already has.

Each backend becomes an explicit index (`torch-backend-cu126` at `<base>/cu126/`), a
dependency group of the same name that nothing but kiln selects, and, for every package of
the torch family, a source pinned to that index under that group. One conflict set holds
all the groups, so the resolver solves each backend in a region of its own beside the region
where none is selected. That last region is the project as written (PyPI's builds), which is
what another PEP 751 installer installs: the groups are not listed in the lock's
`dependency-groups`, so nothing selects them by default.

A backend's index is used only on the platforms it publishes builds for; elsewhere its
group installs what the project would without it.
"""

from __future__ import annotations

from collections.abc import Sequence

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from kiln.accel.backends import TORCH_FAMILY, Backend
from kiln.core.errors import KilnError
from kiln.core.records import replace
from kiln.lock.model import torch_backend_group
from kiln.project.pyproject import Pyproject
from kiln.project.uv_tables import ConflictItem, IndexEntry, Source

_LINUX_X86 = "(sys_platform == 'linux' and platform_machine == 'x86_64')"
_LINUX_ARM = "(sys_platform == 'linux' and platform_machine == 'aarch64')"
_WINDOWS = "(sys_platform == 'win32' and platform_machine == 'AMD64')"
# Where download.pytorch.org publishes each kind of build; None: everywhere.
_PLATFORMS: dict[str, str | None] = {
    "cpu": None,
    "cuda": f"{_LINUX_X86} or {_LINUX_ARM} or {_WINDOWS}",
    "rocm": _LINUX_X86,
    "xpu": f"{_LINUX_X86} or {_WINDOWS}",
}


def index_name(backend: Backend) -> str:
    return str(torch_backend_group(backend.name))


def family_requirements(project: Pyproject) -> list[Requirement]:
    """The project's own requirements on torch-family packages, in every extra and group."""
    every = [
        *project.dependencies,
        *(r for rs in project.optional_dependencies.values() for r in rs),
        *(r for rs in project.dependency_groups.values() for r in rs),
    ]
    return [r for r in every if canonicalize_name(r.name) in TORCH_FAMILY]


def with_backends(project: Pyproject, backends: Sequence[Backend], base_url: str) -> Pyproject:
    """``project`` with the indexes, sources and conflict set that lock ``backends``."""
    if not backends:
        return project
    taken = sorted(name for name in project.uv.sources if name in TORCH_FAMILY)
    if taken:
        raise KilnError(
            f"a torch backend and `tool.uv.sources.{taken[0]}` both choose where "
            f"`{taken[0]}` comes from",
            causes=(f"`{project.path}` sets both",),
            hint="remove the torch sources (kiln writes them for each backend), or remove "
            "`torch-backend` to keep your own",
        )
    names = {index_name(b) for b in backends}
    clash = sorted(
        {i.name for i in project.uv.indexes if i.name in names}
        | {g for g in project.dependency_groups if g in names}
    )
    if clash:
        raise KilnError(
            f"`{clash[0]}` is a name kiln needs for a torch backend",
            causes=(f"`{project.path}` already defines an index or group `{clash[0]}`",),
            hint="rename that index or group",
        )
    indexes = tuple(
        IndexEntry(url=b.index_url(base_url), name=index_name(b), explicit=True) for b in backends
    )
    per_backend = tuple(
        Source(
            index=index_name(b),
            group=canonicalize_name(index_name(b)),
            marker=Marker(platform) if (platform := _PLATFORMS[b.kind]) else None,
        )
        for b in backends
    )
    sources: dict[NormalizedName, tuple[Source, ...]] = dict(project.uv.sources)
    for name in sorted(TORCH_FAMILY):
        sources[name] = per_backend
    conflict = tuple(ConflictItem(group=canonicalize_name(index_name(b))) for b in backends)
    uv = replace(
        project.uv,
        indexes=(*project.uv.indexes, *indexes),
        sources=sources,
        conflicts=(*project.uv.conflicts, conflict) if len(backends) > 1 else project.uv.conflicts,
    )
    return replace(project, uv=uv)
