"""One index as the finder consults it: where it is, what it is called, and its rules."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from kiln.core.records import record
from kiln.net.redact import redact_url

Authenticate = Literal["auto", "always", "never"]

# uv's default: download.pytorch.org answers 403 for a project it does not have.
_PYTORCH_IGNORED = frozenset({403})


@record
class IndexUrl:
    """One package index, as configured."""

    url: str
    name: str | None = None
    # Explicit indexes serve only packages pinned to them (`IndexFinder` pins, `find_on`).
    explicit: bool = False
    # The default index is consulted last, after every other index.
    default: bool = False
    format: Literal["simple", "flat"] = "simple"
    # auto: send credentials kiln knows for the host; always: refuse to run without them;
    # never: send none, even those netrc holds for the host.
    authenticate: Authenticate = "auto"
    # Statuses read as "the project is not here" besides 404 and 410; None keeps uv's
    # default (403 on download.pytorch.org, nothing elsewhere).
    ignore_error_codes: frozenset[int] | None = None

    @property
    def shown(self) -> str:
        """The URL as messages show it: credentials masked."""
        return redact_url(self.url)

    @property
    def label(self) -> str:
        """``pytorch-cpu`` for a named index, else its redacted URL."""
        return self.name or self.shown

    def ignores(self, status: int) -> bool:
        """Whether ``status`` on a project page means "not on this index" rather than failure."""
        if self.ignore_error_codes is not None:
            return status in self.ignore_error_codes
        host = (urlsplit(self.url).hostname or "").lower()
        return (host == "pytorch.org" or host.endswith(".pytorch.org")) and (
            status in _PYTORCH_IGNORED
        )
