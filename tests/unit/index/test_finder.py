"""IndexFinder: index strategies, explicit indexes, find-links, exclude-newer, caching, downloads."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from kiln.cache.layout import Cache
from kiln.core.errors import HashMismatchError, NetworkError, NotFoundError
from kiln.core.protocols import Found, NotFound
from kiln.index import page_worker
from kiln.index.finder import ACCEPT, IndexFinder, IndexUrl, Strategy
from kiln.index.metadata import archive_path
from kiln.net.client import HttpClient
from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg, build_wheel
from tests.unit.net.conftest import closed_port

FOO = NormalizedName("foo")


def finder(
    server: IndexServer,
    client: HttpClient,
    cache: Cache,
    *extra: IndexUrl,
    find_links: tuple[str, ...] = (),
    strategy: Strategy = "first-index",
    exclude_newer: datetime | None = None,
) -> IndexFinder:
    indexes = [IndexUrl(server.index_url(), default=True), *extra]
    return IndexFinder(
        indexes, find_links, client, cache, strategy=strategy, exclude_newer=exclude_newer
    )


def found(result: object) -> list[str]:
    assert isinstance(result, Found), result
    return [f.filename for f in result.files]


def pages(server: IndexServer) -> list[str]:
    return [r.path for r in server.requests if r.kind == "page"]


# -- strategies ----------------------------------------------------------------------------


def test_first_index_stops_at_the_first_index_with_the_project(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "2.0"))
    index_server.add(Pkg("foo", "1.0"), index="extra")
    search = finder(index_server, client, cache, IndexUrl(index_server.index_url("extra")))
    # The default index is consulted last even though it was given first.
    assert found(search.find(FOO)) == ["foo-1.0-py3-none-any.whl"]
    assert pages(index_server) == ["/extra/foo/"]


def test_first_index_moves_on_when_an_index_lacks_the_project(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "2.0"))
    index_server.add(Pkg("other", "1.0"), index="extra")
    search = finder(index_server, client, cache, IndexUrl(index_server.index_url("extra")))
    assert found(search.find(FOO)) == ["foo-2.0-py3-none-any.whl"]
    assert pages(index_server) == ["/extra/foo/", "/simple/foo/"]


@pytest.mark.parametrize("strategy", ["unsafe-best-match", "unsafe-first-match"])
def test_unsafe_strategies_merge_every_index(
    index_server: IndexServer, client: HttpClient, cache: Cache, strategy: Strategy
) -> None:
    index_server.add(Pkg("foo", "2.0"), Pkg("foo", "1.0"))
    index_server.add(Pkg("foo", "1.0"), Pkg("foo", "1.5"), index="extra")
    search = finder(
        index_server, client, cache, IndexUrl(index_server.index_url("extra")), strategy=strategy
    )
    result = search.find(FOO)
    assert found(result) == [
        "foo-1.0-py3-none-any.whl",
        "foo-1.5-py3-none-any.whl",
        "foo-2.0-py3-none-any.whl",
    ]
    # A file both list comes from the index consulted first.
    assert isinstance(result, Found)
    assert result.files[0].url.startswith(index_server.url + "/files/extra/")


def test_explicit_index_serves_only_sourced_packages(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "2.0"))
    index_server.add(Pkg("foo", "9.0"), index="whl/cpu")
    pinned = IndexUrl(index_server.index_url("whl/cpu"), name="pytorch-cpu", explicit=True)
    search = finder(index_server, client, cache, pinned)
    assert found(search.find(FOO)) == ["foo-2.0-py3-none-any.whl"]
    assert all(r.index != "whl/cpu" for r in index_server.requests)
    assert found(search.find_on(FOO, "pytorch-cpu")) == ["foo-9.0-py3-none-any.whl"]


def test_find_on_an_unknown_index_name_is_an_error(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    with pytest.raises(NotFoundError) as caught:
        finder(index_server, client, cache).find_on(FOO, "nope")
    assert caught.value.message == "no index is named `nope`"


def test_find_links_are_merged_with_the_index(
    index_server: IndexServer, client: HttpClient, cache: Cache, tmp_path: Path
) -> None:
    index_server.add(Pkg("foo", "2.0"))
    build_wheel(Pkg("foo", "0.5"), "py3-none-any", tmp_path / "links")
    build_wheel(Pkg("unrelated", "1.0"), "py3-none-any", tmp_path / "links")
    search = finder(index_server, client, cache, find_links=(str(tmp_path / "links"),))
    assert found(search.find(FOO)) == ["foo-0.5-py3-none-any.whl", "foo-2.0-py3-none-any.whl"]


def test_flat_format_index_is_read_as_a_folder(
    index_server: IndexServer, client: HttpClient, cache: Cache, tmp_path: Path
) -> None:
    build_wheel(Pkg("foo", "3.0"), "py3-none-any", tmp_path / "flat")
    flat = IndexUrl(str(tmp_path / "flat"), format="flat")
    index_server.add(Pkg("foo", "2.0"))
    assert found(finder(index_server, client, cache, flat).find(FOO)) == [
        "foo-3.0-py3-none-any.whl"
    ]


def test_exclude_newer_drops_later_uploads(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(
        Pkg("foo", "1.0", upload_time="2024-01-01T00:00:00Z"),
        Pkg("foo", "2.0", upload_time="2024-07-01T00:00:00Z"),
    )
    cutoff = datetime(2024, 6, 1)  # naive: read as UTC
    search = finder(index_server, client, cache, exclude_newer=cutoff)
    assert found(search.find(FOO)) == ["foo-1.0-py3-none-any.whl"]


def test_exclude_newer_drops_files_without_upload_times_as_uv_does(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("torch", "2.5.1+cpu", tags=["cp312-cp312-linux_x86_64"]), index="whl/cpu")
    search = IndexFinder(
        [IndexUrl(index_server.index_url("whl/cpu"), name="pytorch-cpu")],
        (),
        client,
        cache,
        exclude_newer=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )
    result = search.find(NormalizedName("torch"))
    assert isinstance(result, NotFound)
    assert [f.filename for f in result.excluded] == ["torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl"]
    assert search.notes() == [
        "1 file of `torch` on `pytorch-cpu` has no upload time and was left out by "
        "exclude-newer (2030-01-01T00:00:00Z)"
    ]


def test_exclude_newer_keeps_flat_index_files_which_never_have_upload_times(
    index_server: IndexServer, client: HttpClient, cache: Cache, tmp_path: Path
) -> None:
    build_wheel(Pkg("foo", "3.0"), "py3-none-any", tmp_path / "flat")
    flat = IndexUrl(str(tmp_path / "flat"), format="flat")
    search = finder(
        index_server, client, cache, flat, exclude_newer=datetime(2000, 1, 1, tzinfo=timezone.utc)
    )
    assert found(search.find(FOO)) == ["foo-3.0-py3-none-any.whl"]


def test_first_index_stops_at_an_index_whose_files_exclude_newer_drops(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "2.0", upload_time="2024-07-01T00:00:00Z"), index="internal")
    index_server.add(Pkg("foo", "1.0", upload_time="2024-01-01T00:00:00Z"))
    search = finder(
        index_server,
        client,
        cache,
        IndexUrl(index_server.index_url("internal")),
        exclude_newer=datetime(2024, 6, 1, tzinfo=timezone.utc),
    )
    result = search.find(FOO)
    # Falling through to the default index is what a dependency-confusion attack needs.
    assert isinstance(result, NotFound)
    assert [f.filename for f in result.excluded] == ["foo-2.0-py3-none-any.whl"]
    assert pages(index_server) == ["/internal/foo/"]


def test_missing_project_names_every_index_searched(
    index_server: IndexServer, client: HttpClient, cache: Cache, tmp_path: Path
) -> None:
    extra = IndexUrl(index_server.index_url("extra"))
    search = finder(index_server, client, cache, extra, find_links=(str(tmp_path),))
    assert search.find(FOO) == NotFound(
        FOO, (str(tmp_path), index_server.index_url("extra"), index_server.index_url())
    )


# -- pages -----------------------------------------------------------------------------------


def test_pypi_layout_answers_json_and_pytorch_layout_html(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0", requires_python=">=3.8"))
    index_server.add(Pkg("torch", "2.5.1+cpu", tags=["cp312-cp312-win_amd64"]), index="whl/cpu")
    search = finder(index_server, client, cache, IndexUrl(index_server.index_url("whl/cpu")))
    (foo,) = search.find(FOO).files  # type: ignore[union-attr]
    assert foo.upload_time is not None  # only the JSON page carries upload times
    assert foo.requires_python == ">=3.8"
    (torch,) = search.find(NormalizedName("torch")).files  # type: ignore[union-attr]
    assert torch.url.endswith("/whl/cpu/torch-2.5.1%2Bcpu-cp312-cp312-win_amd64.whl")
    assert torch.filename == "torch-2.5.1+cpu-cp312-cp312-win_amd64.whl"
    assert {r.headers.get("Accept") for r in index_server.requests if r.kind == "page"} == {ACCEPT}


class _Helpers:
    """Stands in for the helper processes: runs their job here, and records the pages it
    was handed."""

    def __init__(self, *, make: bool = True) -> None:
        self.pages: list[tuple[str, int]] = []
        self.make = make

    def stored_form(self, page_url: str, shown: str, body: bytes) -> bytes | None:
        self.pages.append((page_url, len(body)))
        return page_worker.grouped((page_url, shown), body) if self.make else None


def test_only_large_json_pages_are_handed_to_page_helpers(
    index_server: IndexServer, client: HttpClient, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    helpers = _Helpers()
    monkeypatch.setattr(page_worker, "page_helpers", lambda: helpers)
    many = [f"foo-0.{n}.tar.gz" for n in range(1500)]
    for index in ("pypi", "whl/cpu"):
        index_server.add(Pkg("foo", "1.0"), index=index)
        for name in many:
            index_server.add_raw(Pkg("foo", "0.1"), name, b"x", None, index=index)
        index_server.add(Pkg("bar", "1.0"), index=index)
    html = IndexUrl(index_server.index_url("whl/cpu"), name="cpu", explicit=True)
    search = finder(index_server, client, cache, html)
    for result, count in (
        (search.find(FOO), 1501),
        (search.find(NormalizedName("bar")), 1),
        (search.find_on(FOO, "cpu"), 1501),
    ):
        assert isinstance(result, Found) and len(result.files) == count
    # The JSON page of 1,501 files went to a helper; the small one and the HTML one did not.
    ((url, size),) = helpers.pages
    assert url == index_server.index_url() + "foo/" and size >= page_worker.LARGE
    # What the helper made is what the finder read: a finder parsing here agrees.
    none = _Helpers(make=False)
    monkeypatch.setattr(page_worker, "page_helpers", lambda: none)
    fresh = finder(index_server, client, Cache(cache.root.parent / "other"))
    assert found(fresh.find(FOO)) == found(search.find(FOO))
    assert len(none.pages) == 1


def test_each_project_is_looked_up_once_even_from_many_threads(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    search = finder(index_server, client, cache)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(search.find(FOO))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(isinstance(r, Found) for r in results)
    assert pages(index_server) == ["/simple/foo/"]


def test_project_page_is_revalidated_by_a_later_finder(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    finder(index_server, client, cache).find(FOO)
    index_server.clear_requests()
    assert found(finder(index_server, client, cache).find(FOO)) == ["foo-1.0-py3-none-any.whl"]
    assert [r.status for r in index_server.requests] == [304]


def test_unreachable_index_is_a_network_error_with_a_hint(client: HttpClient, cache: Cache) -> None:
    url = f"http://127.0.0.1:{closed_port()}/simple"
    search = IndexFinder([IndexUrl(url)], (), client, cache)
    with pytest.raises(NetworkError) as caught:
        search.find(FOO)
    assert caught.value.message == f"failed to fetch `{url}/foo/`"
    assert caught.value.causes == ("connection refused (3 attempts)",)
    assert caught.value.hint == (
        "check the index URL and your network, or pass --offline to use only the cache"
    )


def test_index_that_needs_credentials_says_so(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"), index="private")
    index_server.require_auth("private", "alice", "s3cret")
    search = IndexFinder([IndexUrl(index_server.index_url("private"))], (), client, cache)
    with pytest.raises(NetworkError) as caught:
        search.find(FOO)
    url = index_server.index_url("private")
    assert caught.value.message == f"index `{url}` refused `{url}foo/`"
    assert caught.value.causes == ("401 Unauthorized", "no credentials were sent")
    assert caught.value.hint is not None and "~/.netrc" in caught.value.hint


def test_credentials_of_a_named_index_reach_its_pages_and_files(
    index_server: IndexServer, cache: Cache, tmp_path: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"), index="private")
    index_server.require_auth("private", "alice", "s3cret")
    index_server.configure("private", advertise_metadata=False)
    env = {"KILN_INDEX_CORP_USERNAME": "alice", "KILN_INDEX_CORP_PASSWORD": "s3cret"}
    client = HttpClient(cache=cache, retries=0, env=env)
    search = IndexFinder(
        [IndexUrl(index_server.index_url("private"), name="corp")], (), client, cache
    )
    (file,) = search.find(FOO).files  # type: ignore[union-attr]
    assert search.metadata(file).name == "foo"
    search.download(file, tmp_path / file.filename)
    assert {r.status for r in index_server.requests} <= {200, 206}


# -- metadata and downloads ----------------------------------------------------------------


def test_prefetch_warms_metadata_once_per_file(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(*(Pkg("foo", f"1.{i}") for i in range(5)))
    search = finder(index_server, client, cache)
    files = search.find(FOO).files  # type: ignore[union-attr]
    search.prefetch(files)
    versions = [str(search.metadata(f).version) for f in files]
    search.close()
    assert versions == [f"1.{i}" for i in range(5)]
    fetched = [str(r.filename) for r in index_server.requests if r.kind == "metadata"]
    assert sorted(fetched) == sorted(f"{f.filename}.metadata" for f in files)


def test_prefetched_pages_are_read_once_and_found_from_then_on(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"), Pkg("bar", "2.0"))
    search = finder(index_server, client, cache)
    search.prefetch_projects([FOO, NormalizedName("bar"), NormalizedName("missing")])
    # Waits for the prefetch of `foo` in flight (each project is read once, shared).
    assert found(search.find(FOO)) == ["foo-1.0-py3-none-any.whl"]
    assert found(search.find(NormalizedName("bar"))) == ["bar-2.0-py3-none-any.whl"]
    # A project no index has stays for the resolver to meet, not an error of the prefetch.
    assert isinstance(search.find(NormalizedName("missing")), NotFound)
    search.close()
    assert sorted(pages(index_server)) == ["/simple/bar/", "/simple/foo/", "/simple/missing/"]


def test_download_reuses_the_wheel_the_metadata_fallback_fetched(
    index_server: IndexServer, client: HttpClient, cache: Cache, tmp_path: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    index_server.configure(advertise_metadata=False, serve_metadata=False, serve_ranges=False)
    search = finder(index_server, client, cache)
    (file,) = search.find(FOO).files  # type: ignore[union-attr]
    search.metadata(file)
    assert archive_path(file, cache).exists()
    index_server.clear_requests()
    seen: list[int] = []

    def advance(advanced_bytes: int) -> None:
        seen.append(advanced_bytes)

    digest = search.download(file, tmp_path / file.filename, advance)
    assert index_server.requests == []
    assert digest == file.hashes.get("sha256")
    assert sum(seen) == (tmp_path / file.filename).stat().st_size
    assert not archive_path(file, cache).exists()


def test_download_of_a_tampered_file_fails(
    index_server: IndexServer, client: HttpClient, cache: Cache, tmp_path: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    index_server.tamper("foo")
    search = finder(index_server, client, cache)
    (file,) = search.find(FOO).files  # type: ignore[union-attr]
    with pytest.raises(HashMismatchError):
        search.download(file, tmp_path / file.filename)
    assert not (tmp_path / file.filename).exists()


def test_a_damaged_kept_archive_is_replaced_by_a_fresh_download(
    index_server: IndexServer, client: HttpClient, cache: Cache, tmp_path: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    search = finder(index_server, client, cache)
    (file,) = search.find(FOO).files  # type: ignore[union-attr]
    archive_path(file, cache).write_bytes(b"truncated")
    digest = search.download(file, tmp_path / file.filename)
    assert digest == file.hashes.get("sha256")
    assert sum(r.fetched_body for r in index_server.requests) == 1
    assert not archive_path(file, cache).exists()


def test_the_cache_answers_for_names_whose_pages_are_fresh_in_it(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.configure(cache_control="max-age=600")
    index_server.add(Pkg("foo", "1.0"))
    index_server.add(Pkg("bar", "1.0"))
    search = finder(index_server, client, cache)
    bar = NormalizedName("bar")
    assert not search.answers_from_cache([FOO])  # never read
    search.find(FOO)
    asked = len(pages(index_server))
    assert search.answers_from_cache([FOO])
    assert not search.answers_from_cache([FOO, bar])
    assert len(pages(index_server)) == asked  # looking sent nothing


def test_a_page_that_must_be_revalidated_is_not_answered_from_the_cache(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"))  # max-age=0, must-revalidate
    search = finder(index_server, client, cache)
    search.find(FOO)
    assert not search.answers_from_cache([FOO])


def test_with_find_links_the_cache_is_not_said_to_answer(
    index_server: IndexServer, client: HttpClient, cache: Cache, tmp_path: Path
) -> None:
    index_server.configure(cache_control="max-age=600")
    index_server.add(Pkg("foo", "1.0"))
    links = tmp_path / "links"
    links.mkdir()
    search = finder(index_server, client, cache, find_links=(str(links),))
    search.find(FOO)
    assert not search.answers_from_cache([FOO])


def test_refresh_asks_the_index_even_for_fresh_pages(
    index_server: IndexServer, cache: Cache
) -> None:
    index_server.configure(cache_control="max-age=600")
    index_server.add(Pkg("foo", "1.0"))
    first = HttpClient(cache=cache, retries=2, backoff=0.001, env={})
    again = HttpClient(cache=cache, retries=2, backoff=0.001, env={}, refresh=True)
    try:
        finder(index_server, first, cache).find(FOO)
        assert finder(index_server, first, cache).answers_from_cache([FOO])
        assert not finder(index_server, again, cache).answers_from_cache([FOO])
    finally:
        first.close()
        again.close()


def test_only_the_index_a_name_is_pinned_to_is_looked_at(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.configure(cache_control="max-age=600")
    index_server.configure("whl/cpu", cache_control="max-age=600")
    index_server.add(Pkg("foo", "1.0"))
    index_server.add(Pkg("foo", "9.0"), index="whl/cpu")
    cpu = IndexUrl(index_server.index_url("whl/cpu"), name="pytorch-cpu", explicit=True)
    search = finder(index_server, client, cache, cpu)
    search.find(FOO)  # the default index's page only: the explicit index serves pins
    assert search.answers_from_cache([FOO])  # the explicit index, uncached, is not asked
    pinned = search.with_pins({FOO: "pytorch-cpu"})
    assert not pinned.answers_from_cache([FOO])
    pinned.find(FOO)
    assert pinned.answers_from_cache([FOO])


def test_prefetching_pages_not_kept_makes_the_transport_on_the_callers_thread(
    index_server: IndexServer, client: HttpClient, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    index_server.configure(cache_control="max-age=600")
    index_server.add(Pkg("foo", "1.0"))
    made_on: list[str] = []
    make = client.make_transport

    def recorded() -> None:
        made_on.append(threading.current_thread().name)
        make()

    monkeypatch.setattr(client, "make_transport", recorded)
    search = finder(index_server, client, cache)
    search.prefetch_projects([FOO])
    assert made_on == [threading.current_thread().name]
    assert found(search.find(FOO)) == ["foo-1.0-py3-none-any.whl"]
    # Every page fresh in the cache: nothing is made, as nothing will be asked.
    made_on.clear()
    again = finder(index_server, client, cache)
    again.prefetch_projects([FOO])
    assert made_on == []
    search.close()
    again.close()
