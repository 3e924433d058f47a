"""HttpClient: retries, statuses, redirects, the page cache, offline mode, ranges, downloads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kiln.cache.layout import Cache
from kiln.core.errors import HashMismatchError, NetworkError, OfflineError
from kiln.core.hashes import Hashes
from kiln.net.client import HttpClient, Page
from kiln.net.http_cache import HttpCache
from tests.unit.net.conftest import Reply, ScriptedServer, closed_port

ENV: dict[str, str] = {}  # no proxies, no KILN_HTTP_RETRIES from the caller's shell


def client(tmp_path: Path | None = None, **kwargs: object) -> HttpClient:
    cache = Cache(tmp_path / "cache") if tmp_path is not None else None
    options: dict[str, object] = {"retries": 2, "backoff": 0.001, "env": ENV, "cache": cache}
    options.update(kwargs)
    return HttpClient(**options)  # type: ignore[arg-type]


# -- retries -------------------------------------------------------------------------------


def test_server_errors_are_retried_until_an_answer_comes(http_server: ScriptedServer) -> None:
    url = http_server.script("/page", Reply(503), Reply(502), Reply(200, b"hello"))
    response = client().get(url)
    assert response.status == 200
    assert response.body == b"hello"
    assert len(http_server.seen("/page")) == 3


def test_too_many_requests_is_retried(http_server: ScriptedServer) -> None:
    url = http_server.script("/page", Reply(429), Reply(200, b"ok"))
    assert client().get(url).body == b"ok"


def test_persistent_failure_names_url_status_and_attempts(http_server: ScriptedServer) -> None:
    url = http_server.script("/page", Reply(503))
    with pytest.raises(NetworkError) as caught:
        client(retries=2).get(url)
    error = caught.value
    assert error.message == f"failed to fetch `{url}`"
    assert error.causes == ("503 Service Unavailable (3 attempts)",)
    assert error.hint is not None and "--offline" in error.hint
    assert len(http_server.seen("/page")) == 3


def test_retry_count_comes_from_kiln_http_retries(http_server: ScriptedServer) -> None:
    url = http_server.script("/page", Reply(500))
    with pytest.raises(NetworkError):
        HttpClient(backoff=0.001, env={"KILN_HTTP_RETRIES": "4"}).get(url)
    assert len(http_server.seen("/page")) == 5


def test_not_found_is_an_answer_not_an_error(http_server: ScriptedServer) -> None:
    url = http_server.script("/missing", Reply(404, b"nope"))
    response = client().get(url)
    assert response.status == 404
    assert not response.ok
    assert len(http_server.seen("/missing")) == 1


def test_connection_refused_is_retried_then_reported_with_a_hint() -> None:
    url = f"http://127.0.0.1:{closed_port()}/simple/"
    with pytest.raises(NetworkError) as caught:
        client(retries=2).get(url)
    assert caught.value.message == f"failed to fetch `{url}`"
    assert caught.value.causes == ("connection refused (3 attempts)",)
    assert caught.value.hint == (
        "check the index URL and your network, or pass --offline to use only the cache"
    )


def test_failure_messages_never_show_credentials() -> None:
    url = f"http://alice:s3cret@127.0.0.1:{closed_port()}/simple/"
    with pytest.raises(NetworkError) as caught:
        client(retries=0).get(url)
    rendered = caught.value.render()
    assert "s3cret" not in rendered and "alice" not in rendered
    assert "****:****@127.0.0.1" in rendered


# -- redirects -----------------------------------------------------------------------------


def test_redirects_are_followed_and_the_final_url_reported(http_server: ScriptedServer) -> None:
    http_server.script("/old/", Reply(301, headers={"Location": "/new/"}))
    http_server.script("/new/", Reply(200, b"moved"))
    response = client().get(http_server.url + "/old/")
    assert response.body == b"moved"
    assert response.url == http_server.url + "/new/"


# -- page cache ----------------------------------------------------------------------------


def test_cached_page_is_revalidated_with_its_etag(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    etag = '"v1"'
    url = http_server.script(
        "/page",
        Reply(200, b"body-1", {"ETag": etag, "Cache-Control": "max-age=0"}),
        Reply(304, headers={"ETag": etag}),
    )
    http = client(tmp_path)
    assert http.get(url, cache_page=True).body == b"body-1"
    again = http.get(url, cache_page=True)
    assert again.status == 200
    assert again.body == b"body-1"
    second = http_server.seen("/page")[1]
    assert second.headers.get("If-None-Match") == etag


def test_last_modified_is_sent_back_as_if_modified_since(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    stamp = "Wed, 01 May 2024 00:00:00 GMT"
    url = http_server.script("/page", Reply(200, b"x", {"Last-Modified": stamp}), Reply(304))
    http = client(tmp_path)
    http.get(url, cache_page=True)
    assert http.get(url, cache_page=True).body == b"x"
    assert http_server.seen("/page")[1].headers.get("If-Modified-Since") == stamp


def test_fresh_page_is_served_without_a_request(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    url = http_server.script("/page", Reply(200, b"fresh", {"Cache-Control": "max-age=600"}))
    client(tmp_path).get(url, cache_page=True)
    # A new client (a later run) with the same cache.
    assert client(tmp_path).get(url, cache_page=True).body == b"fresh"
    assert len(http_server.seen("/page")) == 1


def test_requests_sent_counts_what_went_out_not_what_the_cache_answered(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    url = http_server.script(
        "/page", Reply(503), Reply(200, b"fresh", {"Cache-Control": "max-age=600"})
    )
    first = client(tmp_path)
    assert first.requests_sent == 0
    first.get(url, cache_page=True)
    assert first.requests_sent == 2  # the retry is a request too
    later = client(tmp_path)
    assert later.get(url, cache_page=True).body == b"fresh"
    assert later.requests_sent == 0


def test_pages_are_cached_per_accept_header(http_server: ScriptedServer, tmp_path: Path) -> None:
    url = http_server.script(
        "/page",
        Reply(200, b"json", {"Cache-Control": "max-age=600"}),
        Reply(200, b"html", {"Cache-Control": "max-age=600"}),
    )
    http = client(tmp_path)
    assert http.get(url, headers={"Accept": "application/json"}, cache_page=True).body == b"json"
    assert http.get(url, headers={"Accept": "text/html"}, cache_page=True).body == b"html"


def test_no_store_pages_are_not_kept(http_server: ScriptedServer, tmp_path: Path) -> None:
    url = http_server.script("/page", Reply(200, b"secret", {"Cache-Control": "no-store"}))
    client(tmp_path).get(url, cache_page=True)
    with pytest.raises(OfflineError):
        client(tmp_path, offline=True).get(url, cache_page=True)


def test_offline_serves_a_cached_page_even_when_stale(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    url = http_server.script("/page", Reply(200, b"kept", {"Cache-Control": "max-age=0"}))
    client(tmp_path).get(url, cache_page=True)
    response = client(tmp_path, offline=True).get(url, cache_page=True)
    assert response.body == b"kept"
    assert len(http_server.seen("/page")) == 1


def test_offline_miss_says_what_is_missing_and_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(OfflineError) as caught:
        client(tmp_path, offline=True).get("https://u:p@example.invalid/simple/x/", cache_page=True)
    assert caught.value.message == (
        "`https://****:****@example.invalid/simple/x/` is not in the cache and the network is off"
    )
    assert caught.value.hint == "run once without --offline"


# -- ranges and lengths --------------------------------------------------------------------


def test_range_request_returns_the_bytes(http_server: ScriptedServer) -> None:
    url = http_server.script("/f.whl", Reply(206, b"tail", {"Content-Range": "bytes 96-99/100"}))
    assert client().get_range(url, -4, None) == b"tail"
    assert http_server.seen("/f.whl")[0].headers["Range"] == "bytes=-4"


def test_range_ignored_by_the_server_yields_none(http_server: ScriptedServer) -> None:
    url = http_server.script("/f.whl", Reply(200, b"x" * 100_000))
    http = client()
    assert http.get_range(url, 10, 19) is None
    assert http_server.seen("/f.whl")[0].headers["Range"] == "bytes=10-19"
    # The connection was dropped, not left with an unread body: the next request works.
    http_server.script("/next", Reply(200, b"next"))
    assert http.get(http_server.url + "/next").body == b"next"


def test_content_length_comes_from_head(http_server: ScriptedServer) -> None:
    url = http_server.script("/f.whl", Reply(200, b"12345"))
    assert client().content_length(url) == 5
    assert http_server.seen("/f.whl")[0].method == "HEAD"


# -- downloads -----------------------------------------------------------------------------


def test_download_verifies_and_returns_sha256(http_server: ScriptedServer, tmp_path: Path) -> None:
    data = b"wheel bytes" * 10_000
    url = http_server.script("/a.whl", Reply(200, data))
    seen: list[int] = []
    dest = tmp_path / "a.whl"
    digest = hashlib.sha256(data).hexdigest()
    assert (
        client().download(url, dest, hashes=Hashes.of({"sha256": digest}), progress=seen.append)
        == digest
    )
    assert dest.read_bytes() == data
    assert sum(seen) == len(data)
    assert [p.name for p in tmp_path.iterdir()] == ["a.whl"]


def test_download_checks_the_strongest_listed_hash(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    data = b"payload"
    url = http_server.script("/a.whl", Reply(200, data))
    hashes = Hashes.of({"sha256": "0" * 64, "sha512": hashlib.sha512(data).hexdigest()})
    # sha512 is stronger and matches: the (wrong) sha256 is not what is checked.
    assert (
        client().download(url, tmp_path / "a.whl", hashes=hashes)
        == hashlib.sha256(data).hexdigest()
    )


def test_hash_mismatch_leaves_nothing_behind(http_server: ScriptedServer, tmp_path: Path) -> None:
    url = http_server.script("/a-1.0-py3-none-any.whl", Reply(200, b"tampered"))
    dest = tmp_path / "a-1.0-py3-none-any.whl"
    expected = hashlib.sha256(b"original").hexdigest()
    with pytest.raises(HashMismatchError) as caught:
        client().download(url, dest, hashes=Hashes.of({"sha256": expected}))
    error = caught.value
    assert "a-1.0-py3-none-any.whl" in error.message
    assert f"expected sha256:{expected}" in error.causes
    assert f"got sha256:{hashlib.sha256(b'tampered').hexdigest()}" in error.causes
    assert error.hint == (
        "the index served a different file than it listed; run with --refresh or report it "
        "to the index"
    )
    assert list(tmp_path.iterdir()) == []


def test_download_retries_server_errors(http_server: ScriptedServer, tmp_path: Path) -> None:
    url = http_server.script("/a.whl", Reply(503), Reply(200, b"data"))
    client().download(url, tmp_path / "a.whl", hashes=Hashes())
    assert (tmp_path / "a.whl").read_bytes() == b"data"


def test_download_of_a_missing_file_is_a_network_error(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    url = http_server.script("/gone.whl", Reply(404))
    with pytest.raises(NetworkError) as caught:
        client().download(url, tmp_path / "gone.whl", hashes=Hashes())
    assert caught.value.causes == ("404 Not Found",)
    assert len(http_server.seen("/gone.whl")) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("as_url", [True, False])
def test_download_copies_local_files_while_hashing(tmp_path: Path, as_url: bool) -> None:
    source = tmp_path / "src" / "b-1.0-py3-none-any.whl"
    source.parent.mkdir()
    source.write_bytes(b"local wheel")
    location = source.as_uri() if as_url else str(source)
    dest = tmp_path / "out" / "b.whl"
    digest = client().download(location, dest, hashes=Hashes())
    assert digest == hashlib.sha256(b"local wheel").hexdigest()
    assert dest.read_bytes() == b"local wheel"


def test_offline_download_of_a_remote_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OfflineError):
        client(offline=True).download(
            "https://example.invalid/a.whl", tmp_path / "a.whl", hashes=Hashes()
        )
    assert list(tmp_path.iterdir()) == []


def test_download_cut_off_midway_starts_over(http_server: ScriptedServer, tmp_path: Path) -> None:
    data = b"0123456789" * 1000
    cut = Reply(200, data[:100], {"Content-Length": str(len(data)), "Connection": "close"})
    url = http_server.script("/a.whl", cut, Reply(200, data))
    digest = hashlib.sha256(data).hexdigest()
    dest = tmp_path / "a.whl"
    assert client().download(url, dest, hashes=Hashes.of({"sha256": digest})) == digest
    assert dest.read_bytes() == data
    assert len(http_server.seen("/a.whl")) == 2


def test_a_damaged_cache_entry_is_fetched_again(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    url = http_server.script("/page", Reply(200, b"good", {"Cache-Control": "max-age=600"}))
    client(tmp_path).get(url, cache_page=True)
    (entry,) = (tmp_path / "cache" / "http-v1").rglob("*.page")
    entry.write_bytes(b"garbage without a header line")
    assert client(tmp_path).get(url, cache_page=True).body == b"good"
    assert len(http_server.seen("/page")) == 2


def test_refresh_revalidates_pages_that_are_still_fresh(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    url = http_server.script(
        "/page", Reply(200, b"v1", {"Cache-Control": "max-age=600", "ETag": '"1"'}), Reply(304)
    )
    client(tmp_path).get(url, cache_page=True)
    assert client(tmp_path, refresh=True).get(url, cache_page=True).body == b"v1"
    assert http_server.seen("/page")[1].headers.get("If-None-Match") == '"1"'


def test_a_fresh_page_is_answered_from_its_first_line(
    http_server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = http_server.script("/page", Reply(200, b"fresh body", {"Cache-Control": "max-age=600"}))
    client(tmp_path).get_page(url)
    reads: list[str] = []
    original = HttpCache.body

    def counted(self: HttpCache, *args: object) -> object:
        reads.append("body")
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(HttpCache, "body", counted)
    page = client(tmp_path).get_page(url)
    assert (page.status, page.digest) == (200, hashlib.sha256(b"fresh body").hexdigest())
    assert reads == []  # the digest came with the entry's first line
    response, digest = page.read()
    assert (response.body, digest, reads) == (b"fresh body", page.digest, ["body"])


def test_a_revalidated_page_keeps_its_body_and_digest(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    url = http_server.script(
        "/page", Reply(200, b"body-1", {"ETag": '"v1"'}), Reply(304, headers={"ETag": '"v1"'})
    )
    first = client(tmp_path).get_page(url)
    again = client(tmp_path).get_page(url)
    assert len(http_server.seen("/page")) == 2
    assert again.digest == first.digest == hashlib.sha256(b"body-1").hexdigest()
    assert again.read()[0].body == b"body-1"


def _answered_then_removed(http_server: ScriptedServer, tmp_path: Path) -> Page:
    """A fresh page answered from its entry's first line, the entry then removed (another
    shell's `kiln cache clean`) before its body is read."""
    url = http_server.script("/page", Reply(200, b"kept", {"Cache-Control": "max-age=600"}))
    client(tmp_path).get_page(url)
    page = client(tmp_path).get_page(url)
    assert page.ok
    for entry in (tmp_path / "cache").rglob("*.page"):
        entry.unlink()
    return page


def test_a_page_whose_entry_went_away_is_asked_for_again(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    page = _answered_then_removed(http_server, tmp_path)
    response, digest = page.read()
    assert (response.body, digest) == (b"kept", page.digest)
    assert len(http_server.seen("/page")) == 2
    assert list((tmp_path / "cache").rglob("*.page")), "the page asked again is kept again"


def test_a_vanished_entry_the_index_no_longer_serves_is_an_error(
    http_server: ScriptedServer, tmp_path: Path
) -> None:
    page = _answered_then_removed(http_server, tmp_path)
    http_server.script("/page", Reply(404, b"gone"))
    with pytest.raises(NetworkError) as caught:
        page.read()
    assert caught.value.causes == ("404 Not Found",)
