"""Which packages a target must take from one named index, from `[tool.uv.sources]`.

The universal resolver calls `pins_for` once per marker region and hands the result to
`IndexFinder.with_pins`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from packaging.markers import Marker
from packaging.utils import NormalizedName

from kiln.core.errors import KilnError
from kiln.project.manifest import source_condition
from kiln.project.uv_tables import Source


class RegionTarget(Protocol):
    """The one question `pins_for` asks of a resolver region (`resolve.region.Region`)."""

    def meets(self, marker: Marker | None) -> bool: ...


class SourceConflictError(KilnError):
    """More than one source of a package applies to the same target."""


class UnsupportedSourceError(KilnError):
    """A source kiln cannot serve: never replaced by an index package of the same name."""


def pins_for(
    sources: Mapping[NormalizedName, Sequence[Source]], region: RegionTarget
) -> dict[NormalizedName, str]:
    """Package -> index name, for every package whose applying source is an index.

    A source applies where its marker, ``extra`` and ``group`` hold together; the resolver
    splits its regions on those conditions first, so each applies to all of a region or to
    none of it. A package with two applying sources is an error, as in uv.
    """
    pins: dict[NormalizedName, str] = {}
    for package, entries in sources.items():
        applying = [s for s in entries if region.meets(source_condition(s))]
        if len(applying) > 1:
            raise SourceConflictError(
                f"more than one source of `{package}` applies to the same environment",
                causes=tuple(_describe(s) for s in applying),
                hint="make the sources' `marker`, `extra` or `group` exclude each other",
            )
        if applying and applying[0].index is not None:
            pins[package] = applying[0].index
        elif applying:
            # Taking the package from an index instead would install someone else's code
            # under the name the user pointed elsewhere.
            raise UnsupportedSourceError(
                f"`{package}` comes from {_describe(applying[0])}, and kiln does not install "
                "path, URL, git or workspace sources yet",
                causes=(f"`tool.uv.sources.{package}` sets it",),
                hint=f"remove that source to take `{package}` from the indexes, or use uv for "
                "this project",
            )
    return pins


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
