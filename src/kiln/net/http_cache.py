"""Index pages kept on disk between runs, revalidated with ETag / Last-Modified.

One file per (URL, Accept): a line of JSON (final URL after redirects, the headers that
matter, when it was stored, the body's sha256) followed by the body. Written atomically, so
a reader sees a whole entry or none; an entry that does not parse is treated as missing.
Loading reads the first line only: a page parsed before is found by its body's digest, so
a warm lock does not read its pages' bodies (47 MB for a 30-package ML project) at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path

from kiln.cache.atomic import write_bytes
from kiln.core.records import record

# The headers a cached page is replayed with; the rest describe the old connection.
_KEPT = ("content-type", "etag", "last-modified", "cache-control")
# How long a page served without any caching header (no Cache-Control, ETag or
# Last-Modified: some mirrors send none) is reused without asking again, a heuristic
# freshness as RFC 9111 section 4.2.2 allows. Otherwise every such page is fetched again on
# every run, since nothing could revalidate it; PyPI itself grants `max-age=600`.
HEURISTIC_FRESHNESS_S = 300
# The longest first line an entry is read for: its URL and a few headers.
_MAX_HEAD = 64 * 1024


@record
class CachedPage:
    """An index page kept from an earlier answer, with the headers that decide its reuse."""

    url: str
    headers: Mapping[str, str]
    body: bytes | None  # None: still in the entry's file (`HttpCache.body` reads it)
    stored_at: float
    digest: str = ""  # the body's sha256

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
        """The entry's first line; its body is left in the file."""
        try:
            with self.path(url, accept).open("rb") as entry:
                head = entry.readline(_MAX_HEAD)
                page = _page(head, None)
                if page is not None and not page.digest:
                    # Written before entries kept their body's digest.
                    body = entry.read()
                    page = _page(head, body)
        except OSError:
            return None
        return page

    def body(self, url: str, accept: str, page: CachedPage) -> CachedPage | None:
        """``page`` with its body: read again whole, so that body and digest come from one
        write (another process may have rewritten the entry since; then it is that entry).
        None when the entry is gone or damaged."""
        if page.body is not None:
            return page
        try:
            raw = self.path(url, accept).read_bytes()
        except OSError:
            return None
        end = raw.find(b"\n")
        if end < 0:
            return None
        return _page(raw[: end + 1], raw[end + 1 :])

    def store(
        self, url: str, accept: str, final_url: str, headers: Mapping[str, str], body: bytes
    ) -> CachedPage:
        page = CachedPage(
            url=final_url,
            headers={k: headers[k] for k in _KEPT if k in headers},
            body=body,
            stored_at=time.time(),
            digest=hashlib.sha256(body).hexdigest(),
        )
        self._write(url, accept, page)
        return page

    def revalidated(
        self, url: str, accept: str, page: CachedPage, headers: Mapping[str, str]
    ) -> CachedPage | None:
        """The entry after a 304: same body, freshness and validators from the new answer.
        None when the body the validators were sent for is no longer there (the entry went
        away, or another process rewrote it with another body)."""
        whole = self.body(url, accept, page)
        if whole is None or whole.body is None or whole.digest != page.digest:
            return None
        merged = dict(whole.headers)
        merged.update({k: headers[k] for k in _KEPT if k in headers and k != "content-type"})
        renewed = CachedPage(whole.url, merged, whole.body, time.time(), whole.digest)
        self._write(url, accept, renewed)
        return renewed

    def _write(self, url: str, accept: str, page: CachedPage) -> None:
        assert page.body is not None
        meta = {
            "url": page.url,
            "headers": dict(page.headers),
            "stored_at": page.stored_at,
            "sha256": page.digest,
        }
        data = json.dumps(meta, separators=(",", ":")).encode() + b"\n" + page.body
        # A read-only or full cache slows the next run down; it must not fail this one.
        with contextlib.suppress(OSError):
            write_bytes(self.path(url, accept), data)


def _page(head: bytes, body: bytes | None) -> CachedPage | None:
    """An entry's first line (and its body when read), or None when it does not parse. An
    entry without a digest gets its body's, when the body is given."""
    try:
        meta = json.loads(head)
        digest = meta.get("sha256")
        if not isinstance(digest, str):
            digest = "" if body is None else hashlib.sha256(body).hexdigest()
        return CachedPage(
            url=str(meta["url"]),
            headers={str(k): str(v) for k, v in meta["headers"].items()},
            body=body,
            stored_at=float(meta["stored_at"]),
            digest=digest,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
