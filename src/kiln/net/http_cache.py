"""Index pages kept on disk between runs, revalidated with ETag / Last-Modified.

One file per (URL, Accept): a line of JSON (final URL after redirects, status, the headers
that matter, when it was stored) followed by the body. Written atomically, so a reader sees
a whole entry or none; an entry that does not parse is treated as missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kiln.cache.atomic import write_bytes

# The headers a cached page is replayed with; the rest describe the old connection.
_KEPT = ("content-type", "etag", "last-modified", "cache-control")
# How long a page served without any caching header (no Cache-Control, ETag or
# Last-Modified: some mirrors send none) is reused without asking again, a heuristic
# freshness as RFC 9111 section 4.2.2 allows. Otherwise every such page is fetched again on
# every run, since nothing could revalidate it; PyPI itself grants `max-age=600`.
HEURISTIC_FRESHNESS_S = 300


@dataclass(frozen=True)
class CachedPage:
    """An index page kept from an earlier answer, with the headers that decide its reuse."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    stored_at: float

    def is_fresh(self, now: float | None = None) -> bool:
        """Usable without asking the server: ``Cache-Control: max-age`` (or, for a page sent
        with no caching header at all, the heuristic freshness) has not run out."""
        directives = cache_control(self.headers.get("cache-control", ""))
        if "no-cache" in directives or "no-store" in directives:
            return False
        max_age = directives.get("max-age")
        if max_age is None and not any(k in self.headers for k in _KEPT[1:]):
            max_age = str(HEURISTIC_FRESHNESS_S)
        if max_age is None or not max_age.isdigit():
            return False
        now = time.time() if now is None else now
        return 0 <= now - self.stored_at < int(max_age)

    def validators(self) -> dict[str, str]:
        """Conditional-request headers that let the server answer 304."""
        headers: dict[str, str] = {}
        if "etag" in self.headers:
            headers["If-None-Match"] = self.headers["etag"]
        if "last-modified" in self.headers:
            headers["If-Modified-Since"] = self.headers["last-modified"]
        return headers


def cache_control(value: str) -> dict[str, str]:
    """``max-age=600, must-revalidate`` -> ``{"max-age": "600", "must-revalidate": ""}``."""
    directives: dict[str, str] = {}
    for part in value.split(","):
        key, _, arg = part.strip().partition("=")
        if key:
            directives[key.lower()] = arg.strip().strip('"')
    return directives


def storable(headers: Mapping[str, str]) -> bool:
    return "no-store" not in cache_control(headers.get("cache-control", ""))


class HttpCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, url: str, accept: str) -> Path:
        key = hashlib.sha256(f"{url}\n{accept}".encode()).hexdigest()
        return self.root / key[:2] / f"{key}.page"

    def load(self, url: str, accept: str) -> CachedPage | None:
        try:
            raw = self.path(url, accept).read_bytes()
        except OSError:
            return None
        head, sep, body = raw.partition(b"\n")
        if not sep:
            return None
        try:
            meta = json.loads(head)
            return CachedPage(
                url=str(meta["url"]),
                headers={str(k): str(v) for k, v in meta["headers"].items()},
                body=body,
                stored_at=float(meta["stored_at"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def store(
        self, url: str, accept: str, final_url: str, headers: Mapping[str, str], body: bytes
    ) -> CachedPage:
        page = CachedPage(
            url=final_url,
            headers={k: headers[k] for k in _KEPT if k in headers},
            body=body,
            stored_at=time.time(),
        )
        self._write(url, accept, page)
        return page

    def revalidated(
        self, url: str, accept: str, page: CachedPage, headers: Mapping[str, str]
    ) -> CachedPage:
        """The entry after a 304: same body, freshness and validators from the new answer."""
        merged = dict(page.headers)
        merged.update({k: headers[k] for k in _KEPT if k in headers and k != "content-type"})
        renewed = CachedPage(page.url, merged, page.body, time.time())
        self._write(url, accept, renewed)
        return renewed

    def _write(self, url: str, accept: str, page: CachedPage) -> None:
        meta = {"url": page.url, "headers": dict(page.headers), "stored_at": page.stored_at}
        data = json.dumps(meta, separators=(",", ":")).encode() + b"\n" + page.body
        # A read-only or full cache slows the next run down; it must not fail this one.
        with contextlib.suppress(OSError):
            write_bytes(self.path(url, accept), data)
