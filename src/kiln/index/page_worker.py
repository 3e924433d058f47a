"""Large JSON index pages decoded and grouped in helper processes (`core/helper_processes`).

A cold lock of a 30-package ML project reads 48 MB of JSON pages: decoding them and grouping
their hundred thousand entries took 1.2-1.5 s of CPU, all of it holding the GIL that the
resolver, the network threads and the METADATA parser wait for, while the machine's other
cores sat idle. A page of `LARGE` bytes or more is handed to a helper, which answers with the
page's releases in the form `parsed_pages` stores them (`stored_form`): reading that back
costs little, and what it holds is what a parse here would have made. A page a helper cannot
parse is parsed here, which reports the page's fault as any parse does.
"""

from __future__ import annotations

import threading

from kiln.core.helper_processes import Arg, HelperPool, spare_cores

# Smaller pages parse in less time than the round trip to a helper costs.
LARGE = 256 * 1024


def grouped(args: tuple[Arg, ...], body: bytes) -> bytes:
    """The job a helper runs: the `stored_form` of the JSON page ``body`` (``args``: its URL
    and index label)."""
    from kiln.index.parsed_pages import group_entries, stored_form
    from kiln.index.simple_api import JsonEntries, json_page_entries

    page_url, shown = args
    assert isinstance(page_url, str) and isinstance(shown, str)
    entries = json_page_entries(body, page_url, shown)
    return stored_form(group_entries(JsonEntries(entries, page_url), shown), page_url)


class PageHelpers:
    """The helpers pages are handed to: one per spare core."""

    def __init__(self, size: int | None = None) -> None:
        self.pool = HelperPool(
            size if size is not None else spare_cores(),
            preload=("kiln.index.parsed_pages", "kiln.index.simple_api"),
        )

    def stored_form(self, page_url: str, shown: str, body: bytes) -> bytes | None:
        """What `grouped` makes of this JSON page, made by a helper; None when no helper
        could (the caller parses the page itself)."""
        return self.pool.ask(f"{__name__}:grouped", (page_url, shown), body)


_shared: PageHelpers | None = None
_shared_lock = threading.Lock()


def page_helpers() -> PageHelpers:
    """The process's page helpers, shared by every finder."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PageHelpers()
        return _shared
