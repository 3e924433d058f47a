"""One listed file as plain values (a row), and the `DistFile` made from it when needed.

Rows are what a page is read into and kept as: tuples of strings and numbers, cheap to
make, and safe to store with `marshal` (nothing in them runs code when loaded).
"""

from __future__ import annotations

from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.dist import DistFile
from kiln.core.hashes import Hashes
from kiln.core.records import fields as record_fields

# (filename, url, hashes, requires-python, yanked, upload time as the index wrote it,
#  size, metadata-file hashes or None): hashes as `Hashes.items` pairs.
Row = tuple[
    str,
    str,
    tuple[tuple[str, str], ...],
    "str | None",
    "str | None",
    "str | None",
    "int | None",
    "tuple[tuple[str, str], ...] | None",
]

_NO_HASHES = Hashes()
_FIELDS = (
    "filename", "url", "hashes", "requires_python", "yanked", "uploaded", "size",
    "metadata_file", "index",
)  # fmt: skip


def _filled(**fields: Any) -> DistFile:
    """A `DistFile` with every field given, without the frozen record's `__init__` (a
    quarter of the cost of a file on a page of thousands)."""
    dist: DistFile = object.__new__(DistFile)
    vars(dist).update(fields)
    return dist


# Only while the fields are exactly these; a field added to `DistFile` gets the constructor.
make_dist_file = (
    _filled
    if tuple(f.name for f in record_fields(DistFile)) == _FIELDS
    and not hasattr(DistFile, "__post_init__")
    else DistFile
)


def file_of(
    row: Row, index: str, name_version: tuple[NormalizedName, Version] | None = None
) -> DistFile:
    """The file a row describes; ``name_version``, when the caller parsed it already, is
    kept on the file instead of being parsed from its name again."""
    filename, url, hashes, requires, yanked, uploaded, size, metadata = row
    dist = make_dist_file(
        filename=filename,
        url=url,
        hashes=Hashes(hashes) if hashes else _NO_HASHES,
        requires_python=requires,
        yanked=yanked,
        uploaded=uploaded,
        size=size,
        metadata_file=None if metadata is None else Hashes(metadata),
        index=index,
    )
    if name_version is not None:
        # Where `DistFile.name_version` (a cached property) keeps its value.
        vars(dist)["name_version"] = name_version
    return dist


def row_of(file: DistFile) -> Row:
    metadata = None if file.metadata_file is None else file.metadata_file.items
    return (
        file.filename, file.url, file.hashes.items, file.requires_python, file.yanked,
        file.uploaded, file.size, metadata,
    )  # fmt: skip
