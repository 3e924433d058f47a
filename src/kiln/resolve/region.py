"""A region of the marker space as a resolver target.

The solver asks a target whether a marker holds and whether a wheel fits. A region answers
for all the environments it holds at once: a dependency applies when its marker meets the
region anywhere, a wheel fits when it serves some environment of the region, and
``Requires-Python`` is judged at the region's lowest Python (a version must serve the whole
region; where it serves only its upper part, the fork strategy decides whether to split).
"""

from __future__ import annotations

from packaging.markers import Marker
from packaging.tags import Tag

from kiln.core.dist import ranked_wheel
from kiln.core.markers import assume_extra, disjoint, implies, python_floor
from kiln.core.memo import memoized
from kiln.core.records import field, record
from kiln.core.tag_markers import tag_marker


@record(eq=False)
class Region:
    """A part of the marker space solved as one, with the answers it remembers."""

    marker: Marker | None
    # Words for messages ("CPython >= 3.12 on linux"), written by whoever made the region.
    words: str = ""
    _fits: dict[frozenset[Tag], bool] = field(default_factory=dict, repr=False)
    _text_fits: dict[str, int | None] = field(default_factory=dict, repr=False)
    _serves: dict[Tag, bool] = field(default_factory=dict, repr=False)
    _holds: dict[tuple[str, frozenset[str]], bool] = field(default_factory=dict, repr=False)

    @property
    def universal(self) -> bool:
        return True

    @memoized
    def python_full_version(self) -> str:
        floor = python_floor(self.marker)
        return str(floor) if floor is not None else "0"

    @memoized
    def description(self) -> str:
        if self.words:
            return self.words
        return "every environment" if self.marker is None else f"`{self.marker}`"

    def meets(self, marker: Marker | None) -> bool:
        return not disjoint(self.marker, marker)

    def within(self, marker: Marker | None) -> bool:
        return implies(self.marker, marker)

    def evaluate(self, marker: Marker | None, extras: frozenset[str] = frozenset()) -> bool:
        """Whether ``marker`` (of a dependency of a package with ``extras``) holds anywhere
        in the region."""
        if marker is None:
            return True
        key = (str(marker), extras)
        known = self._holds.get(key)
        if known is None:
            known = any(self.meets(m) for m in edge_markers(marker, extras))
            self._holds[key] = known
        return known

    def tag_rank(self, tags: frozenset[Tag]) -> int | None:
        fits = self._fits.get(tags)
        if fits is None:
            # A wheel serves the region where one of its tags does. Asked tag by tag: a
            # project's wheels share a few dozen tags across hundreds of distinct tag sets,
            # and the union of a set's markers cost more than the questions it answers.
            fits = any(self._tag_serves(tag) for tag in tags)
            self._fits[tags] = fits
        return 0 if fits else None

    def wheel_rank(self, filename: str) -> int | None:
        """`tag_rank` of a wheel's tags, from its file name."""
        return ranked_wheel(filename, self._text_fits, self.tag_rank)

    def _tag_serves(self, tag: Tag) -> bool:
        serves = self._serves.get(tag)
        if serves is None:
            serves = self.meets(tag_marker(tag))
            self._serves[tag] = serves
        return serves


def edge_markers(marker: Marker | None, extras: frozenset[str]) -> list[Marker | None]:
    """``marker`` with its ``extra`` atoms decided for each extra a package is installed
    with, or for the package alone when it has none."""
    if not extras:
        return [assume_extra(marker, None)]
    return [assume_extra(marker, e) for e in sorted(extras)]
