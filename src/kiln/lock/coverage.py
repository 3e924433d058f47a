"""The lock checked against the machines it will meet: where a selection has no usable file.

The resolver does not reject a version because one platform lacks a wheel (uv does not
either). After resolving, each selection (the project alone, each extra, each group) is
evaluated on a matrix of platforms and CPython versions; where some entry it selects has no
wheel that fits and no sdist, the lock records that selection there as unsupported, with
the reason, so that `kiln sync` fails there with it instead of installing half a project.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence

from packaging.markers import Marker
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

from kiln.core.markers import NEVER, evaluate, intersect, is_empty, simplify, union_all
from kiln.core.records import record
from kiln.lock.model import Lock, LockedPackage, torch_backend_group
from kiln.python.platforms import (
    MATRIX_PLATFORMS,
    Platform,
    TagFit,
    matrix_pythons,
    platform_fit,
    platform_markers,
)


@record
class Selection:
    """One choice of extras, groups and PyTorch backend a sync may make."""

    extras: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    torch_backend: str | None = None  # the group is the lock's own for this PyTorch backend

    @property
    def condition(self) -> str | None:
        parts = [f"'{e}' in extras" for e in sorted(self.extras)]
        parts += [f"'{g}' in dependency_groups" for g in sorted(self.groups)]
        return " and ".join(parts) or None

    @property
    def words(self) -> str:
        if self.torch_backend is not None:
            return f" with PyTorch backend `{self.torch_backend}`"
        parts = [f"extra `{e}`" for e in sorted(self.extras)]
        parts += [f"group `{g}`" for g in sorted(self.groups)]
        return " with " + ", ".join(parts) if parts else ""


def selections(lock: Lock) -> list[Selection]:
    out = [Selection()]
    out += [Selection(extras=frozenset({e})) for e in lock.extras]
    out += [Selection(groups=frozenset({g})) for g in lock.dependency_groups]
    out += [
        Selection(groups=frozenset({torch_backend_group(b)}), torch_backend=b)
        for b in lock.torch_backends
    ]
    return out


def _fits(package: LockedPackage, fit: TagFit) -> bool:
    # An sdist counts: building it is the installer's part, and its failure is reported there.
    # So does a source tree from git, or an archive that is not a wheel.
    if package.sdist is not None or package.vcs is not None:
        return True
    if package.archive is not None:
        name = package.archive.filename
        return not name.endswith(".whl") or fit.fits(_tags(name))
    return any(fit.fits(_tags(w.name)) for w in package.wheels)


@functools.lru_cache(maxsize=16384)
def _tags(filename: str) -> frozenset[Tag]:
    return parse_wheel_filename(filename)[3]


def uncovered(lock: Lock) -> tuple[tuple[Marker, str], ...]:
    """Each (selection, platform, package) with no usable file on some of the matrix's
    Pythons, as a marker over those Pythons and the reason, in a stable order."""
    floor = lock.requires_python
    every = matrix_pythons(floor)
    # (selection words, platform key, package, version) -> pythons
    missing: dict[tuple[Selection, Platform, str, str], list[tuple[int, int]]] = defaultdict(list)
    seen_base: set[tuple[Platform, tuple[int, int]]] = set()
    # Packages share markers (a CUDA build's nvidia-* dependencies all have one): each
    # distinct marker is evaluated once per place and selection.
    texts = [None if p.marker is None else str(p.marker) for p in lock.packages]
    for platform in MATRIX_PLATFORMS:
        for python in matrix_pythons(floor):
            markers = platform_markers(platform, python)
            if lock.environments and not any(evaluate(m, markers) for m in lock.environments):
                continue
            fit = platform_fit(platform, python)
            # A marker that names no extra and no group holds alike for every selection, and
            # whether a package has a file that fits does not depend on the selection at all.
            plain: dict[str | None, bool] = {None: True}
            fitting: dict[int, bool] = {}
            for selection in selections(lock):
                holds: dict[str | None, bool] = {}
                for at, (package, text) in enumerate(zip(lock.packages, texts, strict=True)):
                    held = plain.get(text)
                    if held is None:
                        held = holds.get(text)
                    if held is None:
                        held = evaluate(
                            package.marker,
                            markers,
                            extras=selection.extras,
                            groups=selection.groups,
                        )
                        assert text is not None
                        selected = "extra" in text or "dependency_groups" in text
                        (holds if selected else plain)[text] = held
                    if not held:
                        continue
                    fits = fitting.get(at)
                    if fits is None:
                        fits = fitting[at] = _fits(package, fit)
                    if not fits:
                        if selection == Selection():
                            seen_base.add((platform, python))
                        elif (platform, python) in seen_base:
                            continue  # the project alone fails there already
                        key = (selection, platform, package.name, str(package.version))
                        missing[key].append(python)
                        break
    grouped: dict[tuple[Selection, str, str], list[tuple[Platform, list[tuple[int, int]]]]] = (
        defaultdict(list)
    )
    for (selection, platform, name, version), pythons in missing.items():
        grouped[(selection, name, version)].append((platform, pythons))
    out: list[tuple[Marker, str]] = []
    for (selection, name, version), places in grouped.items():
        where = union_all(
            intersect(_pythons(pythons, every), platform.marker) for platform, pythons in places
        )
        marker = intersect(where, _marker(selection.condition))
        if marker is None or is_empty(marker):
            continue
        out.append(
            (marker, f"no wheel of `{name}` {version} fits {_places(places)}{selection.words}")
        )
    return tuple(sorted(out, key=lambda u: (u[1], str(u[0]))))


def _pythons(pythons: Sequence[tuple[int, int]], every: Sequence[tuple[int, int]]) -> Marker | None:
    """Runs of Python minors as bounds; a run from the lock's floor needs no lower bound, and
    one up to the newest checked goes on past it: a locked version that lacks wheels for
    3.15 lacks them for any later Python too (an abi3 or pure wheel would have fit 3.15)."""
    parts: list[str] = []
    run: list[tuple[int, int]] = []
    for python in [*every, None]:
        if python is not None and python in pythons:
            run.append(python)
            continue
        if run:
            bounds = []
            if run[0] != every[0]:
                bounds.append(f"python_full_version >= '{run[0][0]}.{run[0][1]}'")
            if python is not None:
                bounds.append(f"python_full_version < '{python[0]}.{python[1]}'")
            parts.append(" and ".join(bounds) or "python_full_version >= '0'")
            run = []
    if not parts:
        return NEVER
    return simplify(Marker(" or ".join(f"({p})" for p in parts)))


def _places(places: Sequence[tuple[Platform, Sequence[tuple[int, int]]]]) -> str:
    def pythons(versions: Sequence[tuple[int, int]]) -> str:
        return "CPython " + ", ".join(f"{a}.{b}" for a, b in versions)

    if len(places) == len(MATRIX_PLATFORMS) and len({tuple(p) for _, p in places}) == 1:
        return f"any platform ({pythons(places[0][1])})"
    return "; ".join(f"{platform.words} ({pythons(p)})" for platform, p in places)


def _marker(text: str | None) -> Marker | None:
    return Marker(text) if text else None


def fails_everywhere(lock: Lock, unsupported: Sequence[tuple[Marker, str]]) -> bool:
    """Whether the project alone installs nowhere in the matrix."""
    for platform in MATRIX_PLATFORMS:
        for python in matrix_pythons(lock.requires_python):
            markers = platform_markers(platform, python)
            if lock.environments and not any(evaluate(m, markers) for m in lock.environments):
                continue
            if not any(evaluate(m, markers) for m, _ in unsupported):
                return False
    return True
