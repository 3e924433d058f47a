"""Which packages a target takes from one named index, or from a path, URL, git or workspace
source, from `[tool.uv.sources]`.

The universal resolver asks once per marker region: `pins_for` gives what
`IndexFinder.with_pins` takes, `direct_sources_for` what is fetched from its own source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from packaging.markers import Marker
from packaging.utils import NormalizedName

from kiln.core.errors import KilnError
from kiln.project.source_rules import source_condition
from kiln.project.uv_tables import Source


class RegionTarget(Protocol):
    """The one question `pins_for` asks of a resolver region (`resolve.region.Region`)."""

    def meets(self, marker: Marker | None) -> bool: ...


class SourceConflictError(KilnError):
    """More than one source of a package applies to the same target."""


def applying_sources(
    sources: Mapping[NormalizedName, Sequence[Source]], region: RegionTarget
) -> dict[NormalizedName, Source]:
    """Package -> the one source that applies in ``region``, for each package that has one.

    A source applies where its marker, ``extra`` and ``group`` hold together; the resolver
    splits its regions on those conditions first, so each applies to all of a region or to
    none of it. A package with two applying sources is an error, as in uv.
    """
    out: dict[NormalizedName, Source] = {}
    for package, entries in sources.items():
        applying = [s for s in entries if region.meets(source_condition(s))]
        if len(applying) > 1:
            raise SourceConflictError(
                f"more than one source of `{package}` applies to the same environment",
                causes=tuple(_describe(s) for s in applying),
                hint="make the sources' `marker`, `extra` or `group` exclude each other",
            )
        if applying:
            out[package] = applying[0]
    return out


def pins_for(
    sources: Mapping[NormalizedName, Sequence[Source]], region: RegionTarget
) -> dict[NormalizedName, str]:
    """Package -> index name, for every package whose applying source is an index."""
    return {
        name: source.index
        for name, source in applying_sources(sources, region).items()
        if source.index is not None
    }


def direct_sources_for(
    sources: Mapping[NormalizedName, Sequence[Source]], region: RegionTarget
) -> dict[NormalizedName, Source]:
    """Package -> its path, URL, git or workspace source, where one applies in ``region``."""
    return {
        name: source
        for name, source in applying_sources(sources, region).items()
        if source.index is None
    }


def describe_source(source: Source) -> str:
    return _describe(source)


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
