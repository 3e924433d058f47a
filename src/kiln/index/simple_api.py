"""Project pages of the Simple Repository API in JSON (PEP 691), as `DistFile`s; HTML
(PEP 503) is `simple_html`'s.

Both parsers accept what real indexes serve: PyPI's JSON with PEP 700 upload times and sizes,
PEP 714's ``core-metadata`` beside the legacy ``dist-info-metadata``, PEP 592 yanks; and
download.pytorch.org's HTML with absolute hrefs, ``%2B`` in local versions, ``#sha256=``
fragments and ``data-upload-time`` (PEP 700's key, which that index also writes into its
HTML). Unknown keys are ignored, as the PEPs ask.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple
from urllib.parse import urljoin

from kiln.core.dist import DistFile
from kiln.core.errors import KilnError
from kiln.core.hashes import Hashes
from kiln.index.page_rows import Row, file_of

JSON_CONTENT_TYPES = (
    "application/vnd.pypi.simple.v1+json",
    "application/vnd.pypi.simple.latest+json",
)


class InvalidIndexPage(KilnError):
    """An index answered with a page that is not a Simple API project page."""


def is_json_page(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in JSON_CONTENT_TYPES


def parse_json_page(data: bytes, page_url: str, index: str) -> list[DistFile]:
    return [file_of(row, index) for row in json_page_rows(data, page_url, index)]


def json_page_rows(data: bytes, page_url: str, index: str) -> list[Row]:
    """The files a PEP 691 page lists, as rows (`page_rows`): file objects are made later,
    for the versions a resolution looks at."""
    return json_rows(json_page_entries(data, page_url, index), page_url)


def json_rows(entries: list[Any], page_url: str) -> list[Row]:
    """Rows of the entries of a page's ``files`` list; those that name no file are left out."""
    return [row for entry in entries if (row := _json_row(entry, page_url)) is not None]


class JsonEntries(NamedTuple):
    """A PEP 691 page's ``files`` entries as JSON decoded them, made into rows only for the
    versions a resolution asks for (`parsed_pages`)."""

    entries: list[Any]
    page_url: str


def json_entry_filename(entry: Any) -> str | None:
    """The file name of a ``files`` entry `_json_row` makes a row of; None for the entries
    it leaves out."""
    if not isinstance(entry, dict):
        return None
    filename, href = entry.get("filename"), entry.get("url")
    if not isinstance(filename, str) or not isinstance(href, str) or not filename:
        return None
    return filename


def json_page_entries(data: bytes, page_url: str, index: str) -> list[Any]:
    """The ``files`` list of a PEP 691 page, as JSON decoded it."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidIndexPage(
            f"`{index}` answered `{page_url}` with a page that is not valid JSON",
            causes=(str(exc),),
            hint="check that the URL points at a Simple API index (PEP 691)",
        ) from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        raise InvalidIndexPage(
            f"`{index}` answered `{page_url}` with JSON that has no `files` list",
            hint="check that the URL points at a Simple API index (PEP 691)",
        )
    return files


def _json_row(entry: Any, page_url: str) -> Row | None:
    # What is left out here, `json_entry_filename` leaves out too.
    if not isinstance(entry, dict):
        return None
    get = entry.get
    filename, href = get("filename"), get("url")
    if not isinstance(filename, str) or not isinstance(href, str) or not filename:
        return None
    # PyPI's pages hold thousands of absolute URLs: joining each one was a measurable part of
    # a warm resolution, so only relative ones are joined.
    absolute = href.startswith(("https://", "http://"))
    url, _, fragment = (href if absolute else urljoin(page_url, href)).partition("#")
    raw_hashes = get("hashes")
    hashes = _json_hashes(raw_hashes) if isinstance(raw_hashes, dict) else ()
    if not hashes and fragment:
        hashes = Hashes.from_fragment(fragment).items
    requires_python = get("requires-python")
    size = get("size")
    upload_time = get("upload-time")
    # PEP 714: prefer the new key; older indexes send only a legacy one, and PyPI's JSON
    # once spelled the legacy key with the HTML attribute's `data-` prefix.
    metadata = (
        entry["core-metadata"]
        if "core-metadata" in entry
        else get("dist-info-metadata", get("data-dist-info-metadata"))
    )
    yanked = get("yanked")
    return (
        filename,
        url,
        hashes,
        requires_python if type(requires_python) is str else None,
        None if yanked is None or yanked is False else _yanked(yanked),
        # Kept as written, read when the file is made (one that does not parse is none).
        upload_time if type(upload_time) is str else None,
        size if type(size) is int else None,
        None if metadata is None else _json_metadata(metadata),
    )


def _json_hashes(raw: dict[Any, Any]) -> tuple[tuple[str, str], ...]:
    if len(raw) == 1:
        # The usual entry, `{"sha256": "<lowercase hex>"}`, is already what `Hashes.of` makes.
        ((algo, digest),) = raw.items()
        usual = type(algo) is str and type(digest) is str and algo.islower()
        if usual and digest and (digest.islower() or digest.isdigit()):
            return ((algo, digest),)
    return Hashes.of({str(k): str(v) for k, v in raw.items() if isinstance(v, str)}).items


def _yanked(value: object) -> str | None:
    if value is True:
        return ""
    if isinstance(value, str):
        return value
    return None


def _json_metadata(value: object) -> tuple[tuple[str, str], ...] | None:
    if value is True:
        return ()
    if isinstance(value, dict):
        return Hashes.of({str(k): str(v) for k, v in value.items() if isinstance(v, str)}).items
    return None
