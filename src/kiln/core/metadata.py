"""Core metadata (METADATA / PKG-INFO) reduced to what resolving and listing need."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.errors import KilnError


class InvalidMetadata(KilnError):
    """A distribution's METADATA could not be understood."""


@dataclass(frozen=True)
class CoreMetadata:
    name: NormalizedName
    display_name: str
    version: Version
    requires_dist: tuple[Requirement, ...] = ()
    requires_python: SpecifierSet | None = None
    provides_extra: frozenset[NormalizedName] = frozenset()
    summary: str = ""

    @classmethod
    def parse(cls, data: bytes | str, *, origin: str = "METADATA") -> CoreMetadata:
        """Parse leniently: real-world METADATA breaks the spec in harmless ways."""
        raw, _unparsed = parse_email(data)
        name = raw.get("name")
        version = raw.get("version")
        if not name or not version:
            raise InvalidMetadata(f"{origin} has no `Name` or `Version` field")
        try:
            parsed_version = Version(version)
        except InvalidVersion as exc:
            raise InvalidMetadata(f"{origin} has an invalid version `{version}`") from exc
        requires: list[Requirement] = []
        for line in raw.get("requires_dist", []):
            try:
                requires.append(Requirement(line))
            except InvalidRequirement as exc:
                raise InvalidMetadata(
                    f"{origin} of {name} {version} has an invalid requirement `{line}`"
                ) from exc
        requires_python = None
        if raw.get("requires_python"):
            try:
                requires_python = SpecifierSet(raw["requires_python"])
            except InvalidSpecifier:
                requires_python = None  # as pip does: an unparsable bound does not exclude
        return cls(
            name=canonicalize_name(name),
            display_name=name,
            version=parsed_version,
            requires_dist=tuple(requires),
            requires_python=requires_python,
            provides_extra=frozenset(canonicalize_name(e) for e in raw.get("provides_extra", [])),
            summary=raw.get("summary", ""),
        )
