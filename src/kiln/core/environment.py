"""One concrete target environment: the marker values and wheel tags of one interpreter.

The resolver asks an environment two questions: does this marker hold here, and how good a
fit is this wheel. A concrete `Environment` answers both exactly; the universal resolver's
marker regions answer the same questions over a whole region of the marker space.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Protocol

from packaging.markers import Marker
from packaging.tags import Tag

from kiln.core.dist import ranked_wheel
from kiln.core.records import field, record


@record(eq=False)
class Environment:
    """Marker values (PEP 508) and supported tags, best tag first, of one interpreter."""

    markers: Mapping[str, str]
    tags: tuple[Tag, ...]
    _rank: dict[Tag, int] = field(default_factory=dict, repr=False)
    _text_rank: dict[str, int | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Ranking is looked up once per wheel file of every candidate: precompute the index.
        self._rank.update({tag: i for i, tag in enumerate(self.tags)})

    # A concrete interpreter: only wheels that fit it can be installed.
    universal = False

    @property
    def python_version(self) -> str:
        """Major.minor, e.g. ``3.12``."""
        return self.markers["python_version"]

    @property
    def python_full_version(self) -> str:
        return self.markers["python_full_version"]

    @cached_property
    def description(self) -> str:
        """Human words for messages: ``CPython 3.12 on linux x86_64``."""
        impl = {"cpython": "CPython", "pypy": "PyPy"}.get(
            self.markers.get("implementation_name", ""), self.markers.get("implementation_name", "")
        )
        return (
            f"{impl} {self.python_version} on "
            f"{self.markers.get('sys_platform', '?')} {self.markers.get('platform_machine', '?')}"
        )

    def evaluate(self, marker: Marker | None, extras: frozenset[str] = frozenset()) -> bool:
        """Whether ``marker`` holds here, with ``extra`` set to each of ``extras`` in turn."""
        if marker is None:
            return True
        env = dict(self.markers)
        if not extras:
            env["extra"] = ""
            return marker.evaluate(env)
        for extra in extras:
            env["extra"] = extra
            if marker.evaluate(env):
                return True
        return False

    def tag_rank(self, tags: frozenset[Tag]) -> int | None:
        """Rank of the best of ``tags`` here (0 is best), or None when none is supported."""
        best: int | None = None
        for tag in tags:
            rank = self._rank.get(tag)
            if rank is not None and (best is None or rank < best):
                best = rank
        return best

    def wheel_rank(self, filename: str) -> int | None:
        """`tag_rank` of a wheel's tags, from its file name."""
        return ranked_wheel(filename, self._text_rank, self.tag_rank)


class Target(Protocol):
    """What the resolver asks of where it resolves for.

    A concrete `Environment` is the simplest target: one point of the marker space. A marker
    region of the universal resolver answers the same questions for a whole region.
    """

    @property
    def python_full_version(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def universal(self) -> bool:
        """True for a region that an sdist can serve where no wheel fits (a lock)."""
        ...

    def evaluate(self, marker: Marker | None, extras: frozenset[str] = frozenset()) -> bool: ...

    def tag_rank(self, tags: frozenset[Tag]) -> int | None: ...

    def wheel_rank(self, filename: str) -> int | None: ...
