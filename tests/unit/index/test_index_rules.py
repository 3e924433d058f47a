"""The rules an index carries: pins, explicit, strategies per version, error codes,
authentication, and PEP 658 files an index serves without advertising them."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from kiln.cache.layout import Cache
from kiln.core.errors import KilnError, NetworkError, NotFoundError
from kiln.core.protocols import Found, NotFound
from kiln.index.finder import IndexFinder, IndexUrl
from kiln.index.simple_html import parse_html_page
from kiln.net.client import HttpClient
from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg

FOO = NormalizedName("foo")
TORCH = NormalizedName("torch")


def filenames(result: object) -> list[str]:
    assert isinstance(result, Found), result
    return [f.filename for f in result.files]


def pages(server: IndexServer) -> list[str]:
    return [r.path for r in server.requests if r.kind == "page"]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- pins and explicit indexes ---------------------------------------------------------------


def test_a_pinned_package_is_looked_up_on_its_index_only(
    index_server: IndexServer, client: HttpClient, cache: Cache, tmp_path: Path
) -> None:
    index_server.add(Pkg("torch", "2.6.0"), Pkg("foo", "1.0"))
    index_server.add(Pkg("torch", "2.5.1+cpu"), Pkg("foo", "9.0"), index="whl/cpu")
    cpu = IndexUrl(index_server.index_url("whl/cpu"), name="pytorch-cpu", explicit=True)
    links = tmp_path / "links"
    links.mkdir()
    search = IndexFinder(
        [IndexUrl(index_server.index_url(), default=True), cpu],
        [str(links)],
        client,
        cache,
        pins={TORCH: "pytorch-cpu"},
    )
    assert filenames(search.find(TORCH)) == ["torch-2.5.1+cpu-py3-none-any.whl"]
    assert filenames(search.find(FOO)) == ["foo-1.0-py3-none-any.whl"]
    assert pages(index_server) == ["/whl/cpu/torch/", "/simple/foo/"]


def test_a_pin_to_a_non_explicit_index_skips_the_indexes_before_it(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"), index="first")
    index_server.add(Pkg("foo", "2.0"), index="second")
    search = IndexFinder(
        [
            IndexUrl(index_server.index_url("first"), name="first"),
            IndexUrl(index_server.index_url("second"), name="second"),
        ],
        (),
        client,
        cache,
        pins={FOO: "second"},
    )
    assert filenames(search.find(FOO)) == ["foo-2.0-py3-none-any.whl"]
    assert pages(index_server) == ["/second/foo/"]


def test_a_pin_to_an_unknown_index_is_an_error_naming_it(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    search = IndexFinder(
        [IndexUrl(index_server.index_url(), name="pypi", default=True)],
        (),
        client,
        cache,
        pins={TORCH: "pytorch-cu999"},
    )
    with pytest.raises(NotFoundError) as caught:
        search.find(TORCH)
    assert caught.value.message == "no index is named `pytorch-cu999`"
    assert caught.value.causes == ("indexes with names: `pypi`",)


def test_views_with_other_pins_share_what_was_fetched(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("torch", "2.6.0"), Pkg("foo", "1.0"))
    index_server.add(Pkg("torch", "2.5.1+cpu"), index="whl/cpu")
    cpu = IndexUrl(index_server.index_url("whl/cpu"), name="pytorch-cpu", explicit=True)
    base = IndexFinder([IndexUrl(index_server.index_url(), default=True), cpu], (), client, cache)
    linux = base.with_pins({TORCH: "pytorch-cpu"})
    assert filenames(base.find(TORCH)) == ["torch-2.6.0-py3-none-any.whl"]
    assert filenames(linux.find(TORCH)) == ["torch-2.5.1+cpu-py3-none-any.whl"]
    assert filenames(linux.find(FOO)) == filenames(base.find(FOO))
    assert pages(index_server) == ["/simple/torch/", "/whl/cpu/torch/", "/simple/foo/"]
    assert base.pins == {}


# -- strategies --------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["unsafe-best-match", "unsafe-first-match"])
def test_a_version_on_two_indexes_comes_from_the_first_only(
    index_server: IndexServer, client: HttpClient, cache: Cache, strategy: str
) -> None:
    index_server.add(Pkg("foo", "1.0", tags=["py3-none-any", "cp312-cp312-win_amd64"]))
    index_server.add(Pkg("foo", "1.0"), index="extra")
    search = IndexFinder(
        [
            IndexUrl(index_server.index_url(), default=True),
            IndexUrl(index_server.index_url("extra")),
        ],
        (),
        client,
        cache,
        strategy=strategy,  # type: ignore[arg-type]
    )
    result = search.find(FOO)
    # PyPI's extra Windows wheel of 1.0 is not mixed into the extra index's release.
    assert filenames(result) == ["foo-1.0-py3-none-any.whl"]
    assert isinstance(result, Found)
    assert result.files[0].url.startswith(index_server.url + "/files/extra/")


def test_only_unsafe_first_match_orders_candidates_by_index(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "2.0"))
    index_server.add(Pkg("foo", "1.0"), index="extra")
    indexes = [
        IndexUrl(index_server.index_url(), default=True),
        IndexUrl(index_server.index_url("extra")),
    ]
    first = IndexFinder(indexes, (), client, cache, strategy="unsafe-first-match").find(FOO)
    best = IndexFinder(indexes, (), client, cache, strategy="unsafe-best-match").find(FOO)
    assert isinstance(first, Found) and isinstance(best, Found)
    assert first.priority == (index_server.index_url("extra"), index_server.index_url())
    assert best.priority == ()


# -- error codes -------------------------------------------------------------------------------


def test_a_refusal_stops_the_search_unless_the_index_ignores_its_status(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    index_server.add(Pkg("other", "1.0"), index="mirror")
    index_server.require_auth("mirror", "alice", "pw")
    blocking = IndexUrl(index_server.index_url("mirror"), name="mirror")
    pypi = IndexUrl(index_server.index_url(), default=True)
    with pytest.raises(NetworkError) as caught:
        IndexFinder([blocking, pypi], (), client, cache).find(FOO)
    assert caught.value.message.startswith("index `mirror` refused")
    ignoring = IndexUrl(blocking.url, name="mirror", ignore_error_codes=frozenset({401}))
    assert filenames(IndexFinder([ignoring, pypi], (), client, cache).find(FOO)) == [
        "foo-1.0-py3-none-any.whl"
    ]


def test_pytorch_org_403s_mean_not_found_by_default() -> None:
    assert IndexUrl("https://download.pytorch.org/whl/cpu").ignores(403)
    assert not IndexUrl("https://download.pytorch.org/whl/cpu").ignores(401)
    assert not IndexUrl("https://notpytorch.org/simple").ignores(403)
    assert not IndexUrl("https://corp.example/simple").ignores(403)
    # Configured codes replace the default.
    custom = IndexUrl("https://download.pytorch.org/whl/cpu", ignore_error_codes=frozenset({401}))
    assert custom.ignores(401) and not custom.ignores(403)


# -- authentication ----------------------------------------------------------------------------


def test_authenticate_always_without_credentials_fails_before_any_request(
    index_server: IndexServer, cache: Cache
) -> None:
    client = HttpClient(cache=cache, retries=0, env={"NETRC": "/nonexistent"})
    index = IndexUrl(index_server.index_url("private"), name="corp", authenticate="always")
    with pytest.raises(KilnError) as caught:
        IndexFinder([index], (), client, cache)
    assert caught.value.message == "index `corp` requires credentials, and none were found"
    assert caught.value.hint is not None
    assert "KILN_INDEX_CORP_USERNAME" in caught.value.hint
    assert index_server.requests == []


def test_authenticate_always_is_satisfied_by_environment_credentials(
    index_server: IndexServer, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"), index="private")
    index_server.require_auth("private", "alice", "s3cret")
    env = {"KILN_INDEX_CORP_USERNAME": "alice", "KILN_INDEX_CORP_PASSWORD": "s3cret"}
    client = HttpClient(cache=cache, retries=0, env=env)
    index = IndexUrl(index_server.index_url("private"), name="corp", authenticate="always")
    assert filenames(IndexFinder([index], (), client, cache).find(FOO)) == [
        "foo-1.0-py3-none-any.whl"
    ]


def test_authenticate_never_sends_nothing_even_when_netrc_has_the_host(
    index_server: IndexServer, cache: Cache, tmp_path: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login carol password pw3\n")
    netrc.chmod(0o600)
    client = HttpClient(cache=cache, retries=0, env={"NETRC": str(netrc)})
    index = IndexUrl(index_server.index_url(), authenticate="never")
    search = IndexFinder([index], (), client, cache)
    (file,) = search.find(FOO).files  # type: ignore[union-attr]
    search.metadata(file)
    search.download(file, tmp_path / file.filename)
    assert {r.kind for r in index_server.requests} >= {"page", "metadata", "file"}
    assert all("Authorization" not in r.headers for r in index_server.requests)
    # The same host without the rule does get netrc's credentials.
    client.get(index_server.url + "/elsewhere/")
    assert index_server.requests[-1].headers.get("Authorization") == basic("carol", "pw3")


def test_authenticate_never_with_credentials_in_the_url_is_an_error(
    client: HttpClient, cache: Cache
) -> None:
    index = IndexUrl("https://u:secret@corp.example/simple", name="corp", authenticate="never")
    with pytest.raises(KilnError) as caught:
        IndexFinder([index], (), client, cache)
    assert "secret" not in caught.value.render()
    assert caught.value.message.startswith('index `corp` has `authenticate = "never"`')


def test_a_rejected_password_is_named_as_such_and_never_shown(
    index_server: IndexServer, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"), index="private")
    index_server.require_auth("private", "alice", "s3cret")
    client = HttpClient(cache=cache, retries=0, env={})
    url = index_server.index_url("private").replace("://", "://alice:wrong-pw@")
    with pytest.raises(NetworkError) as caught:
        IndexFinder([IndexUrl(url)], (), client, cache).find(FOO)
    rendered = caught.value.render()
    assert "wrong-pw" not in rendered and "alice" not in rendered
    assert caught.value.causes == ("401 Unauthorized", "the credentials sent were rejected")


# -- metadata an index does not advertise --------------------------------------------------


def test_unadvertised_metadata_files_are_used_when_the_index_serves_them(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"), Pkg("foo", "2.0"))
    index_server.configure(advertise_metadata=False, serve_metadata=True)
    search = IndexFinder([IndexUrl(index_server.index_url())], (), client, cache)
    first, second = search.find(FOO).files  # type: ignore[union-attr]
    assert first.metadata_file is None and second.metadata_file is None
    assert str(search.metadata(first).version) == "1.0"
    assert _first_probe_answered(search) is True
    assert str(search.metadata(second).version) == "2.0"
    # The second file's probe may lose to its zip and still be on its way: waited for.
    deadline = time.monotonic() + 10
    while (
        sum(r.kind == "metadata" for r in index_server.requests) < 2 and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    page, *rest = index_server.requests
    assert page.kind == "page"
    # The zip's tail is asked for beside each probe; whichever answers first is taken.
    asked = sorted((r.kind, r.range, r.status) for r in rest)
    assert asked.count(("metadata", None, 200)) == 2
    assert asked.count(("file", "bytes=-65536", 206)) in (1, 2)
    assert {kind for kind, _, _ in asked} == {"metadata", "file"}


def test_probing_for_unadvertised_metadata_stops_after_the_first_miss(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"), Pkg("foo", "2.0"))
    index_server.configure(advertise_metadata=False, serve_metadata=False)
    search = IndexFinder([IndexUrl(index_server.index_url())], (), client, cache)
    files = search.find(FOO).files  # type: ignore[union-attr]
    assert [str(search.metadata(f).version) for f in files] == ["1.0", "2.0"]
    assert _first_probe_answered(search) is False
    probes = [r for r in index_server.requests if r.kind == "metadata"]
    assert [r.status for r in probes] == [404]
    assert not any(r.fetched_body for r in index_server.requests)


def test_a_miss_is_remembered_by_the_next_run_for_a_week(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(Pkg("foo", "1.0"), Pkg("foo", "2.0"), Pkg("foo", "3.0"))
    index_server.configure(advertise_metadata=False, serve_metadata=False)

    def run() -> IndexFinder:
        return IndexFinder([IndexUrl(index_server.index_url())], (), client, cache)

    one, two, three = run().find(FOO).files  # type: ignore[union-attr]
    first = run()
    first.metadata(one)
    assert _first_probe_answered(first) is False
    first.close()  # as a command does when its resolution is done: what was learned is kept
    assert [r.status for r in index_server.requests if r.kind == "metadata"] == [404]
    index_server.requests.clear()
    assert str(run().metadata(two).version) == "2.0"
    assert not [r for r in index_server.requests if r.kind == "metadata"]
    # A week on, the index is asked again: it may serve them by now.
    (memory,) = cache.bucket("probes").iterdir()
    os.utime(memory, (time.time() - 8 * 24 * 3600,) * 2)
    later = run()
    later.metadata(three)
    assert _first_probe_answered(later) is False
    assert [r.status for r in index_server.requests if r.kind == "metadata"] == [404]


def _first_probe_answered(finder: IndexFinder) -> bool | None:
    """What the index's first metadata probe found, once it has answered: the fetch that
    sent it took the zip's answer if that came first, and did not wait."""
    (probe,) = finder._shared.probes.values()
    deadline = time.monotonic() + 10
    while probe.served() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    return probe.served()


# -- pages -------------------------------------------------------------------------------------


def test_html_pages_carry_upload_times_where_the_index_writes_them() -> None:
    html = (
        '<a href="/whl/torch-2.5.1%2Bcpu-cp312-cp312-linux_x86_64.whl#sha256=aa" '
        'data-upload-time="2024-10-29T17:00:00Z">x</a>'
        '<a href="/whl/torch-2.4.0%2Bcpu-cp312-cp312-linux_x86_64.whl">y</a>'
    )
    new, old = parse_html_page(html, "https://download.pytorch.org/whl/torch/", "cpu")
    assert (
        new.upload_time is not None and new.upload_time.isoformat() == "2024-10-29T17:00:00+00:00"
    )
    assert old.upload_time is None


def test_not_found_everywhere_lists_nothing_excluded(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    result = IndexFinder([IndexUrl(index_server.index_url())], (), client, cache).find(FOO)
    assert result == NotFound(FOO, (index_server.index_url(),))
