"""When a cached index page may be used without asking the server again."""

from __future__ import annotations

from kiln.net.http_cache import HEURISTIC_FRESHNESS_S, CachedPage


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
