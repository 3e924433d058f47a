"""Where the universal resolution splits its region, as uv's resolver does.

A region is solved as a whole by the solver. While it runs, the `RegionForker` watches each
version the solver considers and each dependency list it reads, and stops the solve with
`ForkNeeded` where one answer cannot serve the whole region:

- the same package required with different specifiers or URLs under different markers
  (``numpy>=2; python_version >= '3.10'`` beside ``numpy<2; python_version < '3.10'``);
- a version whose ``Requires-Python`` admits only the upper part of the region's Pythons
  (fork strategy ``requires-python``, uv's default: the newest version for each Python);
  with ``fewest`` such a version is passed over instead;
- a local build (``2.5.1+cpu``) whose wheels serve only some of the region's platforms: it
  is kept where its wheels are, and the rest of the region solves again without it.

Splits made before solving (conflicting extras, sources with markers) are in `universal`.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Literal

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.dist import DistFile
from kiln.core.markers import (
    NEVER,
    MarkerError,
    complement,
    disjoint,
    implies,
    intersect,
    is_empty,
    requires_python_marker,
    union,
)
from kiln.core.tag_markers import platforms_marker
from kiln.resolve.region import Region, edge_markers

ForkStrategy = Literal["requires-python", "fewest"]

# More sign combinations than this from one dependency list is not a fork uv would make.
_MAX_SPLIT_MARKERS = 4


class ForkNeeded(Exception):
    """Solve each of ``parts`` (markers, to be met with the region) on its own.

    ``local`` marks a split by a local build's platforms: a part it leaves without a version
    is recorded as unsupported rather than failing the lock.
    """

    def __init__(self, parts: Sequence[Marker | None], why: str, *, local: bool = False) -> None:
        super().__init__(why)
        self.parts = tuple(parts)
        self.why = why
        self.local = local


def partition(region: Marker | None, markers: Sequence[Marker | None]) -> list[Marker | None]:
    """The non-empty pieces of ``region`` on which each of ``markers`` is either true or false
    throughout; just ``[region]`` when no marker splits it."""
    splitting: list[Marker] = []
    for m in markers:
        if m is None or str(m) in {str(s) for s in splitting}:
            continue
        if disjoint(region, m) or implies(region, m):
            continue
        splitting.append(m)
    if not splitting:
        return [region]
    splitting = splitting[:_MAX_SPLIT_MARKERS]
    try:
        negated = [complement(m) for m in splitting]
    except MarkerError:
        return [region]
    pieces: list[Marker | None] = []
    for signs in itertools.product((True, False), repeat=len(splitting)):
        piece = region
        for sign, m, n in zip(signs, splitting, negated, strict=True):
            piece = intersect(piece, m if sign else n)
            if is_empty(piece):
                break
        if not is_empty(piece):
            pieces.append(piece)
    return pieces


class RegionForker:
    """The `provider.Forker` of one region."""

    def __init__(self, region: Region, strategy: ForkStrategy) -> None:
        self.region = region
        self.strategy = strategy

    def admit(
        self,
        name: NormalizedName,
        version: Version,
        files: Mapping[Version, Sequence[DistFile]],
    ) -> bool:
        mine = files[version]
        python = self._requires_python(mine)
        if python is not None and not self.region.within(python):
            if self.strategy == "fewest" or not self.region.meets(python):
                return False
            raise ForkNeeded(
                [python, complement(python)],
                f"{name} {version} requires Python {self._spec(mine)}",
            )
        if version.local is not None:
            # uv's rule for PyTorch's indexes: where the plain build has wheels and the
            # local one has none (macOS beside `+cpu`), the plain build is used instead.
            plain = files.get(Version(version.public))
            if plain:
                missing = intersect(self._platforms(plain), complement(self._platforms(mine)))
                if not is_empty(missing) and self.region.meets(missing):
                    if self.region.within(missing):
                        return False
                    raise ForkNeeded(
                        [missing, complement(missing)],
                        f"{name} {version} has no wheels where {version.public} has",
                        local=True,
                    )
        return True

    def dependencies(self, parent: str, requirements: Sequence[Requirement]) -> None:
        """Split where one package is asked for differently under different markers."""
        by_name: dict[NormalizedName, list[Requirement]] = defaultdict(list)
        for r in requirements:
            by_name[canonicalize_name(r.name)].append(r)
        markers: list[Marker | None] = []
        split: list[Requirement] = []
        for reqs in by_name.values():
            if len(reqs) < 2:
                continue
            asks = {(str(r.specifier), r.url) for r in reqs}
            if len(asks) < 2:
                continue
            split += reqs
            for r in reqs:
                for m in edge_markers(r.marker, frozenset()):
                    markers.append(m)
        if not markers:
            return
        pieces = partition(self.region.marker, markers)
        if len(pieces) > 1:
            pieces.sort(key=lambda piece: _bounded_first(piece, split))
            raise ForkNeeded(pieces, f"{parent or 'the project'} asks for one package differently")

    @staticmethod
    def _spec(files: Sequence[DistFile]) -> str:
        return next((f.requires_python for f in files if f.requires_python), "")

    def _requires_python(self, files: Sequence[DistFile]) -> Marker | None:
        spec = self._spec(files)
        return _python_floor(spec) if spec else None

    @staticmethod
    def _platforms(files: Sequence[DistFile]) -> Marker | None:
        covered: Marker | None = NEVER
        for f in files:
            covered = union(covered, platforms_marker(f.wheel_tags) if f.is_wheel else None)
            if covered is None:
                break
        return covered


@cache
def _python_floor(spec: str) -> Marker | None:
    """Where a Requires-Python's lower bound holds, once per text: every candidate the
    solver looks at in every region asks, and a project's releases share a few texts.

    Only the lower bound splits a region, as uv reads it: `!=3.14.1` or `<4` in a
    Requires-Python are not where a different version should be chosen."""
    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    floors = [
        Version(s.version)
        for s in specifiers
        if s.operator in (">=", ">", "~=", "==") and not s.version.endswith(".*")
    ]
    if not floors:
        return None
    return requires_python_marker(SpecifierSet(f">={max(floors)}"))


_UPPER = frozenset({"<", "<=", "==", "~=", "==="})


def _bounded_first(piece: Marker | None, requirements: Sequence[Requirement]) -> int:
    """Solve first the pieces whose requirements cap the version: the versions they choose
    are then preferred by the others, which can usually take them too (`a<2` on macOS and
    `a>=1` on Linux end with one `a`), as uv's lock keeps the fewest versions."""
    applying = [
        r
        for r in requirements
        if any(not disjoint(piece, m) for m in edge_markers(r.marker, frozenset()))
    ]
    if any(s.operator in _UPPER for r in applying for s in r.specifier):
        return 0
    return 1 if applying else 2
