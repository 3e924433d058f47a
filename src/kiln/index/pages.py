"""One Simple API page (PEP 691 JSON or PEP 503 HTML) read into files, whatever it holds.

`simple_api` parses each format; this is the one door both the finder and flat indexes use,
so a page whose content no parser expected (an href no URL parser accepts, a stray byte)
is reported as that page's fault, with its address, instead of escaping as a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln.core.dist import DistFile
from kiln.core.errors import KilnError
from kiln.index.simple_api import is_json_page, parse_html_page, parse_json_page
from kiln.net.redact import redact_url

if TYPE_CHECKING:
    from kiln.net.client import Response


class IndexPageError(KilnError):
    """An index answered with a page kiln cannot read."""


def parse_page(response: Response, shown: str) -> list[DistFile]:
    """The files listed on the page ``response`` carries (``shown``: its index, for messages)."""
    try:
        if is_json_page(response.headers.get("content-type", "")):
            return parse_json_page(response.body, response.url, shown)
        return parse_html_page(response.text(), response.url, shown)
    except KilnError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, LookupError) as exc:
        raise IndexPageError(
            f"the index page `{redact_url(response.url)}` cannot be read",
            causes=(f"{type(exc).__name__}: {exc}",),
            hint="the index served a malformed page; report it to the index's maintainers",
        ) from None
