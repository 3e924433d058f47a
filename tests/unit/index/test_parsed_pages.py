"""Pages kept parsed by release: what is read back equals what was parsed, files are made
only for the versions asked for, and exclude-newer splits stored releases exactly."""

from __future__ import annotations

import hashlib
import json
import marshal
import math
import struct
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.cache.atomic import write_bytes
from kiln.core.errors import KilnError
from kiln.core.upload_times import parse_upload_time
from kiln.index.page_rows import Row
from kiln.index.parsed_pages import PageListing, _times, group_entries, remembered_page
from kiln.index.simple_api import (
    JsonEntries,
    json_page_entries,
    json_page_rows,
    parse_json_page,
)
from kiln.net.client import Page, Response

PAGES = Path(__file__).parent / "pages"
SIX_PAGE = "https://pypi.org/simple/six/"
SIX = NormalizedName("six")


def _page(files: list[dict[str, object]]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "a", "files": files}).encode()


def _file(filename: str, uploaded: str | None) -> dict[str, object]:
    entry: dict[str, object] = {
        "filename": filename,
        "url": f"https://files.example/{filename}",
        "hashes": {"sha256": "ab" * 32},
    }
    if uploaded is not None:
        entry["upload-time"] = uploaded
    return entry


@pytest.fixture(params=["entries", "rows"])
def mode(request: pytest.FixtureRequest) -> str:
    """How the page is handed over: a JSON page's entries (rows made per release when
    asked for, as the finder does) or rows made up front (as for HTML pages)."""
    return str(request.param)


def _remember(
    tmp_path: Path, body: bytes, url: str = SIX_PAGE, mode: str = "entries"
) -> tuple[PageListing, list[int]]:
    calls: list[int] = []

    def parse(response: Response) -> list[Row] | JsonEntries:
        calls.append(1)
        if mode == "entries":
            return JsonEntries(json_page_entries(response.body, url, "pypi"), url)
        return json_page_rows(response.body, url, "pypi")

    page = Page.whole(Response(url, 200, {}, body))
    return remembered_page(tmp_path, page, "pypi", parse), calls


def test_a_page_read_back_lists_the_same_files_as_parsing_it(tmp_path: Path, mode: str) -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    expected = {f.filename: f for f in parse_json_page(body, SIX_PAGE, "pypi")}
    first, calls = _remember(tmp_path, body, mode=mode)
    again, calls_again = _remember(tmp_path, body, mode=mode)
    assert calls == [1] and calls_again == []  # parsed once, then read back
    for page in (first, again):
        listed, releases, dropped, untimed = page.releases(SIX, None)
        assert listed and not dropped and untimed == 0
        files = {f.filename: f for f in releases.all_files()}
        assert files == expected
        for version in releases:
            assert all(f.name_version == (SIX, version) for f in releases[version])


def test_files_are_made_only_for_the_versions_asked_for(tmp_path: Path, mode: str) -> None:
    body = _page([_file(f"a-1.{n}-py3-none-any.whl", None) for n in range(50)])
    _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    page, _ = _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    _, releases, _, _ = page.releases(NormalizedName("a"), None)
    assert len(releases) == 50
    (only,) = releases[Version("1.7")]
    assert only.filename == "a-1.7-py3-none-any.whl"
    assert len(releases._made) == 1  # the other 49 versions are still rows


def test_exclude_newer_on_stored_releases_matches_each_files_time(
    tmp_path: Path, mode: str
) -> None:
    cutoff = datetime(2024, 6, 1, tzinfo=timezone.utc)
    body = _page(
        [
            _file("a-1.0-py3-none-any.whl", "2024-01-01T00:00:00.000000Z"),  # all before
            _file("a-2.0-py3-none-any.whl", "2024-05-31T23:59:59.999999Z"),  # straddles:
            _file("a-2.0.tar.gz", "2024-06-01T00:00:00.000000Z"),  # at the cutoff: dropped
            _file("a-3.0-py3-none-any.whl", "2024-07-01T00:00:00Z"),  # all after
            _file("a-4.0-py3-none-any.whl", None),  # no time: dropped and counted
        ]
    )
    _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    page, calls = _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    assert calls == []
    listed, kept, dropped, untimed = page.releases(NormalizedName("a"), cutoff)
    assert listed
    assert sorted(str(v) for v in kept) == ["1.0", "2.0"]
    assert [f.filename for f in kept[Version("2.0")]] == ["a-2.0-py3-none-any.whl"]
    assert sorted(f.filename for f in dropped) == [
        "a-2.0.tar.gz",
        "a-3.0-py3-none-any.whl",
        "a-4.0-py3-none-any.whl",
    ]
    assert untimed == 1


def test_files_of_other_projects_and_unparsable_names_are_left_out(
    tmp_path: Path, mode: str
) -> None:
    body = _page([_file("a-1.0-py3-none-any.whl", None), _file("b-1.0.tar.gz", None)])
    body_odd = _page([_file("not a dist", None), _file("a-2.0.tar.gz", None)])
    for data in (body, body_odd):
        page, _ = _remember(tmp_path, data, "https://i/simple/a/", mode=mode)
        listed, releases, _, _ = page.releases(NormalizedName("a"), None)
        assert listed and len(releases) == 1
    page, _ = _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    listed, releases, _, _ = page.releases(NormalizedName("c"), None)
    assert not listed and not releases


def test_a_damaged_stored_release_is_an_error_and_is_dropped(tmp_path: Path, mode: str) -> None:
    body = _page([_file("a-1.0-py3-none-any.whl", None)])
    _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    (entry,) = tmp_path.rglob("*.marshal")
    # The list of releases stays readable; the release's own rows, after it, do not.
    data = entry.read_bytes()
    (length,) = struct.unpack_from("<Q", data)
    _, _, stored = marshal.loads(data[8 : 8 + length])
    assert [r[5:] for r in stored] == [(0, len(data) - 8 - length)]
    entry.write_bytes(data[: 8 + length] + b"\x00" * (len(data) - 8 - length))
    page, calls = _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    assert calls == []
    _, releases, _, _ = page.releases(NormalizedName("a"), None)
    with pytest.raises(KilnError, match="damaged"):
        releases.all_files()
    assert not entry.exists()
    page, calls = _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    assert calls == [1]


def test_a_stored_page_cut_short_is_parsed_again(tmp_path: Path, mode: str) -> None:
    body = _page([_file("a-1.0-py3-none-any.whl", None), _file("a-2.0-py3-none-any.whl", None)])
    _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    (entry,) = tmp_path.rglob("*.marshal")
    entry.write_bytes(entry.read_bytes()[:-1])  # the last release's blob ends past the file
    page, calls = _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    assert calls == [1]
    _, releases, _, _ = page.releases(NormalizedName("a"), None)
    assert sorted(f.filename for f in releases.all_files()) == [
        "a-1.0-py3-none-any.whl",
        "a-2.0-py3-none-any.whl",
    ]


def test_a_stored_page_replaced_after_it_was_read_serves_what_was_read(
    tmp_path: Path, mode: str
) -> None:
    body = _page([_file("a-1.0-py3-none-any.whl", None)])
    _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    (entry,) = tmp_path.rglob("*.marshal")
    page, calls = _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    assert calls == []
    # Replaced as the cache replaces files (a rename), before any release's rows are read.
    write_bytes(entry, b"\x00garbage")
    _, releases, _, _ = page.releases(NormalizedName("a"), None)
    assert [f.filename for f in releases.all_files()] == ["a-1.0-py3-none-any.whl"]


def test_an_unreadable_stored_page_is_parsed_again(tmp_path: Path, mode: str) -> None:
    body = _page([_file("a-1.0-py3-none-any.whl", None)])
    _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    (entry,) = tmp_path.rglob("*.marshal")
    entry.write_bytes(b"\x00garbage")
    page, calls = _remember(tmp_path, body, "https://i/simple/a/", mode=mode)
    assert calls == [1]
    _, releases, _, _ = page.releases(NormalizedName("a"), None)
    assert [f.filename for f in releases.all_files()] == ["a-1.0-py3-none-any.whl"]


UPLOADS = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%S+01:00")
    ),
    st.sampled_from(
        [
            "2024-02-30T10:00:00.000000Z",
            "2024-13-01T00:00:00.000000Z",
            "yesterday",
            "2024-01-01T24:00:00.000000Z",
            "2024-01-01T10:00:00Z",
            "2024-01-01 10:00",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(UPLOADS, max_size=12))
def test_a_releases_time_range_is_that_of_its_files_times(uploads: list[str | None]) -> None:
    times = [w.timestamp() for u in uploads if u is not None and (w := parse_upload_time(u))]
    earliest, latest, untimed = _times(uploads)
    assert untimed == len(uploads) - len(times)
    if times:
        assert (earliest, latest) == (min(times), max(times))
    else:
        assert math.isnan(earliest) and math.isnan(latest)


def _unread(url: str, digest: str) -> Page:
    def read() -> tuple[Response, str]:
        raise AssertionError("the body was read")

    return Page(url, 200, {}, digest, read)


def test_a_page_parsed_before_is_found_by_its_digest_without_its_body(tmp_path: Path) -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    first, _ = _remember(tmp_path, body)
    digest = hashlib.sha256(body).hexdigest()
    again = remembered_page(tmp_path, _unread(SIX_PAGE, digest), "pypi", lambda r: [])
    assert list(again.releases(SIX, None)[1]) == list(first.releases(SIX, None)[1])
    assert list(first.releases(SIX, None)[1])  # six has releases to compare


def test_a_body_rewritten_meanwhile_is_kept_under_its_own_digest(tmp_path: Path) -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    # The entry's first line named another body; the body read is this one.
    stale = Page(SIX_PAGE, 200, {}, "0" * 64, lambda: (Response(SIX_PAGE, 200, {}, body), digest))
    parse = lambda r: JsonEntries(json_page_entries(r.body, SIX_PAGE, "pypi"), SIX_PAGE)  # noqa: E731
    remembered_page(tmp_path, stale, "pypi", parse)
    found = remembered_page(tmp_path, _unread(SIX_PAGE, digest), "pypi", parse)
    assert found.releases(SIX, None)[0]


def test_an_sdist_joins_its_wheels_release_however_it_is_spelled() -> None:
    names = [
        "foo_bar-1.0-py3-none-any.whl",
        "foo_bar-1.0.tar.gz",  # named as the wheels are: their parse
        "foo-bar-1.0.tar.gz",  # an older spelling: parsed on its own
        "foo_bar-1.0.post1.tar.gz",
        "foo_bar-1.0-junk.tar.gz",  # no version: left out
    ]
    body = _page([_file(n, "2024-01-01T00:00:00.000000Z") for n in names])
    entries = JsonEntries(json_page_entries(body, SIX_PAGE, "pypi"), SIX_PAGE)
    grouped = {(r.name, str(r.version)): r for r in group_entries(entries, "pypi")}
    assert list(grouped) == [("foo-bar", "1.0"), ("foo-bar", "1.0.post1")]
    assert [row[0] for row in grouped[("foo-bar", "1.0")].rows()] == names[:3]
