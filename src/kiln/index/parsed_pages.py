"""Index pages kept parsed: the files a page lists, stored beside the cache keyed by the
page's exact bytes, so a page seen before is read back instead of parsed again.

Parsing a PyPI page builds one `DistFile` per listed file, tens of thousands for a set of
scientific packages, and costs more than fetching it. The same bytes always parse to the
same files, so the result is stored in `marshal` form (plain tuples of strings and numbers,
nothing that runs code when loaded) under the sha256 of the page URL, the index label and
the body. A stored entry that cannot be read is parsed again and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from kiln.cache.atomic import write_bytes
from kiln.core.dist import DistFile
from kiln.core.hashes import Hashes
from kiln.index.simple_api import make_dist_file, share_names

# Bumped whenever the stored shape or `DistFile`'s fields change.
_FORMAT = f"2:{','.join(DistFile.__dataclass_fields__)}"
_Row = tuple[object, ...]


def remembered_page(
    folder: Path, body: bytes, page_url: str, index: str, parse: Callable[[], list[DistFile]]
) -> list[DistFile]:
    """``parse()`` of this page, or what it gave the last time these bytes were parsed."""
    digest = hashlib.sha256(f"{_FORMAT}\n{page_url}\n{index}\n".encode())
    digest.update(body)
    key = digest.hexdigest()
    entry = folder / key[:2] / f"{key}.marshal"
    with contextlib.suppress(OSError):
        files = _load(entry.read_bytes(), index)
        if files is not None:
            return files
    files = parse()
    with contextlib.suppress(OSError, ValueError):
        write_bytes(entry, marshal.dumps((_FORMAT, [_row(f) for f in files])))
    return files


def _row(file: DistFile) -> _Row:
    uploaded = file.upload_time
    when = None if uploaded is None else uploaded.astimezone(timezone.utc).isoformat()
    metadata = None if file.metadata_file is None else file.metadata_file.items
    return (
        file.filename, file.url, file.hashes.items, file.requires_python, file.yanked, when,
        file.size, metadata,
    )  # fmt: skip


def _load(data: bytes, index: str) -> list[DistFile] | None:
    try:
        stored = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == _FORMAT):
        return None
    files: list[DistFile] = []
    try:
        for filename, url, hashes, requires, yanked, when, size, metadata in stored[1]:
            files.append(
                make_dist_file(
                    filename=filename,
                    url=url,
                    hashes=Hashes(hashes),
                    requires_python=requires,
                    yanked=yanked,
                    upload_time=None if when is None else datetime.fromisoformat(when),
                    size=size,
                    metadata_file=None if metadata is None else Hashes(metadata),
                    index=index,
                )
            )
    except (TypeError, ValueError):
        return None
    share_names(files)
    return files
