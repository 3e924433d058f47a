"""When a cached index page may be used without asking the server again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kiln.net.http_cache import HEURISTIC_FRESHNESS_S, CachedPage, HttpCache


def page(headers: dict[str, str], stored_at: float = 1000.0) -> CachedPage:
    return CachedPage("https://example.org/simple/six/", headers, b"{}", stored_at)


def test_max_age_decides_while_it_runs() -> None:
    fresh = page({"cache-control": "max-age=600"})
    assert fresh.is_fresh(now=1599) and not fresh.is_fresh(now=1601)


def test_a_page_with_no_caching_headers_is_reused_for_a_short_while() -> None:
    bare = page({"content-type": "application/vnd.pypi.simple.v1+json"})
    assert bare.is_fresh(now=1000 + HEURISTIC_FRESHNESS_S - 1)
    assert not bare.is_fresh(now=1000 + HEURISTIC_FRESHNESS_S + 1)
    assert not bare.is_fresh(now=999), "a clock that went back proves nothing fresh"


def test_a_page_the_server_can_revalidate_is_revalidated() -> None:
    assert not page({"etag": '"abc"'}).is_fresh(now=1001)
    assert not page({"last-modified": "Tue, 01 Dec 2026 10:00:00 GMT"}).is_fresh(now=1001)
    assert not page({"cache-control": "no-cache"}).is_fresh(now=1001)
    assert not page({"cache-control": "max-age=0, must-revalidate"}).is_fresh(now=1001)


def test_an_entry_is_loaded_without_its_body_and_read_whole_on_demand(tmp_path: Path) -> None:
    store = HttpCache(tmp_path)
    store.store("https://x/simple/a/", "json", "https://x/simple/a/", {}, b"body")
    head = store.load("https://x/simple/a/", "json")
    assert head is not None and head.body is None
    assert head.digest == hashlib.sha256(b"body").hexdigest()
    whole = store.body("https://x/simple/a/", "json", head)
    assert whole is not None and (whole.body, whole.digest) == (b"body", head.digest)


def test_an_entry_rewritten_since_its_first_line_is_read_as_it_is_now(tmp_path: Path) -> None:
    store = HttpCache(tmp_path)
    store.store("https://x/a/", "", "https://x/a/", {}, b"old")
    head = store.load("https://x/a/", "")
    store.store("https://x/a/", "", "https://x/a/", {}, b"new")  # another process, meanwhile
    assert head is not None
    whole = store.body("https://x/a/", "", head)
    assert whole is not None and (whole.body, whole.digest) == (
        b"new",
        hashlib.sha256(b"new").hexdigest(),
    )
    store.path("https://x/a/", "").unlink()
    assert store.body("https://x/a/", "", head) is None


def test_an_entry_written_without_a_digest_gets_its_bodys(tmp_path: Path) -> None:
    store = HttpCache(tmp_path)
    path = store.path("https://x/a/", "")
    path.parent.mkdir(parents=True)
    head = json.dumps({"url": "https://x/a/", "headers": {}, "stored_at": 1.0})
    path.write_bytes(head.encode() + b"\nold body")
    page = store.load("https://x/a/", "")
    assert page is not None
    assert (page.body, page.digest) == (b"old body", hashlib.sha256(b"old body").hexdigest())


def test_a_304_for_a_body_another_process_replaced_keeps_nothing(tmp_path: Path) -> None:
    store = HttpCache(tmp_path)
    store.store("https://x/a/", "", "https://x/a/", {"etag": '"v1"'}, b"one")
    head = store.load("https://x/a/", "")  # its validators go out with the request
    store.store("https://x/a/", "", "https://x/a/", {"etag": '"v2"'}, b"two")  # meanwhile
    assert head is not None
    assert store.revalidated("https://x/a/", "", head, {"etag": '"v1"'}) is None
    kept = store.load("https://x/a/", "")
    assert kept is not None and kept.headers["etag"] == '"v2"'  # the other write stands
