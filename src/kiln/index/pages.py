"""One Simple API page (PEP 691 JSON or PEP 503 HTML) read into files, whatever it holds.

`simple_api` parses each format; this is the one door both the finder and flat indexes use,
so a page whose content no parser expected (an href no URL parser accepts, a stray byte)
is reported as that page's fault, with its address, instead of escaping as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from kiln.core.dist import DistFile
from kiln.core.errors import KilnError
from kiln.index.page_rows import Row, file_of, row_of
from kiln.index.simple_api import (
    JsonEntries,
    is_json_page,
    json_page_entries,
    json_page_rows,
)
from kiln.net.redact import redact_url

if TYPE_CHECKING:
    from kiln.net.client import Response


T = TypeVar("T")


class IndexPageError(KilnError):
    """An index answered with a page kiln cannot read."""


def parse_page(response: Response, shown: str) -> list[DistFile]:
    """The files listed on the page ``response`` carries (``shown``: its index, for messages)."""

    def read() -> list[DistFile]:
        if is_json_page(response.headers.get("content-type", "")):
            return [file_of(row, shown) for row in _rows(response, shown)]
        from kiln.index.simple_html import parse_html_page

        return parse_html_page(response.text(), response.url, shown)

    return _read(response.url, shown, read)


def page_rows(response: Response, shown: str) -> list[Row]:
    """The same files as rows (`page_rows`), for pages kept parsed."""
    return _read(response.url, shown, lambda: _rows(response, shown))


def page_listing(response: Response, shown: str) -> list[Row] | JsonEntries:
    """What a page kept parsed is made from: a JSON page's entries as decoded (rows are made
    per release when asked for, `read_entries`), an HTML page's rows."""
    if is_json_page(response.headers.get("content-type", "")):
        return _read(
            response.url,
            shown,
            lambda: JsonEntries(
                json_page_entries(response.body, response.url, shown), response.url
            ),
        )
    return page_rows(response, shown)


def read_entries(page_url: str, shown: str, read: Callable[[], T]) -> T:
    """``read()`` of a JSON page's entries made into rows later, failing as the page's fault."""
    return _read(page_url, shown, read)


def _rows(response: Response, shown: str) -> list[Row]:
    if is_json_page(response.headers.get("content-type", "")):
        return json_page_rows(response.body, response.url, shown)
    from kiln.index.simple_html import parse_html_page

    return [row_of(f) for f in parse_html_page(response.text(), response.url, shown)]


def _read(page_url: str, shown: str, read: Callable[[], T]) -> T:
    try:
        return read()
    except KilnError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, LookupError) as exc:
        raise IndexPageError(
            f"the index page `{redact_url(page_url)}` cannot be read",
            causes=(f"{type(exc).__name__}: {exc}",),
            hint="the index served a malformed page; report it to the index's maintainers",
        ) from None
