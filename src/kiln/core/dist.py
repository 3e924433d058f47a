"""Distribution files as an index lists them, and the candidates the resolver weighs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from kiln.core.hashes import Hashes
from kiln.core.memo import memoized
from kiln.core.names import canonical_name
from kiln.core.records import field, record

if TYPE_CHECKING:
    from datetime import datetime

    from packaging.tags import Tag
    from packaging.utils import NormalizedName

# `packaging.utils` and `packaging.tags` are imported where file names are parsed into tags:
# a sync that installs from its lock builds candidates without ever doing that.


@record
class DistFile:
    """One file of one release on one index (or flat directory)."""

    filename: str
    url: str
    hashes: Hashes = field(default_factory=Hashes)
    requires_python: str | None = None
    # None: not yanked; a string (possibly empty) is the yank reason.
    yanked: str | None = None
    # PEP 700's upload time as the index wrote it: parsed only for the few files a lock or
    # an exclude-newer cut-off reads it of (pages list tens of thousands).
    uploaded: str | None = None
    size: int | None = None
    # PEP 658/714: the index serves ``<url>.metadata``; its hashes when given.
    metadata_file: Hashes | None = None
    # The index (or find-links location) this file was listed by, for messages.
    index: str = ""

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @memoized
    def upload_time(self) -> datetime | None:
        """The upload time as an aware UTC time; none where the index wrote none or an
        unreadable one."""
        if self.uploaded is None:
            return None
        from kiln.core.upload_times import parse_upload_time

        return parse_upload_time(self.uploaded)

    @memoized
    def wheel_tags(self) -> frozenset[Tag]:
        if not self.is_wheel:
            return frozenset()
        from packaging.utils import parse_wheel_filename

        return parse_wheel_filename(self.filename)[3]

    @memoized
    def name_version(self) -> tuple[NormalizedName, Version] | None:
        """Project name and version from the filename, or None for a name we cannot parse."""
        return parse_name_version(self.filename)


def wheel_tag_text(filename: str) -> str | None:
    """The tags part of a wheel's file name as tags compare, in lower case
    (``cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64``); None for a name of any
    other shape. Wheels of one project share a few such texts across hundreds of files: a
    target ranks each text once instead of parsing every file name into tags."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6):
        return None
    return "-".join(parts[-3:]).lower()


def ranked_wheel(
    filename: str, memo: dict[str, int | None], tag_rank: Callable[[frozenset[Tag]], int | None]
) -> int | None:
    """``tag_rank`` of the wheel ``filename``'s tags, remembered in ``memo`` by its tag text."""
    text = wheel_tag_text(filename)
    if text is None:
        from packaging.utils import parse_wheel_filename

        return tag_rank(parse_wheel_filename(filename)[3])  # raises for a name that is no wheel's
    try:
        return memo[text]
    except KeyError:
        from packaging.tags import parse_tag

        rank = memo[text] = tag_rank(parse_tag(text))
        return rank


def parse_name_version(filename: str) -> tuple[NormalizedName, Version] | None:
    """A distribution file's project name and version, or None where the name is not one."""
    if filename.endswith(".whl"):
        # Fast path for the common shape (name-version-py-abi-platform.whl): index pages
        # list tens of thousands of wheels, and parsing each one's tags here was costly.
        parts = filename[:-4].split("-")
        if len(parts) == 5:
            try:
                return canonical_name(parts[0]), version_of(parts[1])
            except InvalidVersion:
                return None
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return name, version
        name, version = parse_sdist_filename(filename)
        return name, version
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


@functools.lru_cache(maxsize=8192)
def version_of(text: str) -> Version:
    """``Version(text)``, remembered: a page's files repeat the same few hundred versions."""
    return Version(text)


def normalize(name: str) -> NormalizedName:
    return canonical_name(name)


@record
class Candidate:
    """One version of one project with the file chosen for the target environment."""

    name: NormalizedName
    version: Version
    file: DistFile
    # Extras requested of this candidate; resolvelib treats name[extra] as its own node.
    extras: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"
