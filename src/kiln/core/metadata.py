"""Core metadata (METADATA / PKG-INFO) reduced to what resolving and listing need."""

from __future__ import annotations

from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.errors import KilnError
from kiln.core.headers import plain_headers
from kiln.core.records import record

# The fields read here, under the keys `packaging.metadata.parse_email` gives them.
_SINGLE = {
    "name": "name",
    "version": "version",
    "requires-python": "requires_python",
    "summary": "summary",
}
_MULTIPLE = {"requires-dist": "requires_dist", "provides-extra": "provides_extra"}
_WANTED = frozenset(_SINGLE) | frozenset(_MULTIPLE)


class InvalidMetadata(KilnError):
    """A distribution's METADATA could not be understood."""


@record
class CoreMetadata:
    """The fields of a distribution's core metadata that resolving needs."""

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
        plain = _plain_fields(data)
        if plain is None:
            from packaging.metadata import parse_email

            plain = dict(parse_email(data)[0])
        raw: dict[str, Any] = plain
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


def _plain_fields(data: bytes | str) -> dict[str, Any] | None:
    """The fields `parse_email` would give, when those read here are plain ASCII header
    lines (nearly every METADATA); None otherwise, and `parse_email` itself reads the file:
    it decodes non-ASCII values its own way, and a folded line is the email parser's to
    unfold."""
    if isinstance(data, bytes):
        end = data.find(b"\n\n")
        text = (data[:end] if end >= 0 else data).decode("utf-8", "surrogateescape")
    else:
        text = data
    fields = plain_headers(text, _WANTED)
    if fields is None or not all(v.isascii() for values in fields.values() for v in values):
        return None
    raw: dict[str, Any] = {}
    for header, key in _SINGLE.items():
        values = fields.get(header)
        if values is not None and len(values) == 1:  # a repeated one is no value at all
            raw[key] = values[0]
    for header, key in _MULTIPLE.items():
        if header in fields:
            raw[key] = fields[header]
    return raw
