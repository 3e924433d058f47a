"""Which packages a target must take from one named index, from `[tool.uv.sources]`.

The project resolver calls `pins_for` once per target (a concrete environment, or a marker
region of the universal resolver) and hands the result to `IndexFinder.with_pins`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from packaging.markers import Marker
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.errors import KilnError
from kiln.project.uv_tables import Source


class MarkerTarget(Protocol):
    """The one question `pins_for` asks of a target (`core.environment.Target` answers it)."""

    def evaluate(self, marker: Marker | None, extras: frozenset[str] = frozenset()) -> bool: ...


class SourceConflictError(KilnError):
    """More than one source of a package applies to the same target."""


def pins_for(
    sources: Mapping[NormalizedName, Sequence[Source]],
    env: MarkerTarget,
    extras: frozenset[str],
    groups: frozenset[str],
) -> dict[NormalizedName, str]:
    """Package -> index name, for every package whose applying source is an index.

    A source applies when its marker holds on ``env`` and its ``extra`` / ``group``, if any,
    is among those requested. A package with no applying source has no pin (the indexes are
    searched as usual); one with two applying sources is an error, as in uv.
    """
    extras = frozenset(canonicalize_name(e) for e in extras)
    groups = frozenset(canonicalize_name(g) for g in groups)
    pins: dict[NormalizedName, str] = {}
    for package, entries in sources.items():
        applying = [s for s in entries if _applies(s, env, extras, groups)]
        if len(applying) > 1:
            raise SourceConflictError(
                f"more than one source of `{package}` applies to the same environment",
                causes=tuple(_describe(s) for s in applying),
                hint="make the sources' `marker`, `extra` or `group` exclude each other",
            )
        if applying and applying[0].index is not None:
            pins[package] = applying[0].index
    return pins


def _applies(
    source: Source, env: MarkerTarget, extras: frozenset[str], groups: frozenset[str]
) -> bool:
    if source.extra is not None and source.extra not in extras:
        return False
    if source.group is not None and source.group not in groups:
        return False
    return env.evaluate(source.marker, extras)


def _describe(source: Source) -> str:
    kind = next(
        (
            f"{key} = `{value}`"
            for key, value in (
                ("index", source.index),
                ("path", source.path),
                ("url", source.url),
                ("git", source.git),
            )
            if value is not None
        ),
        "a workspace member",
    )
    conditions = [
        f"{key} `{value}`"
        for key, value in (
            ("marker", source.marker),
            ("extra", source.extra),
            ("group", source.group),
        )
        if value is not None
    ]
    return f"{kind}" + (f" ({', '.join(conditions)})" if conditions else "")
