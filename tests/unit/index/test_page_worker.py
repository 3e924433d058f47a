"""Large JSON pages parsed in helper processes: a helper's answer is what a parse here
stores, and a page made elsewhere is read and kept as one parsed here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from kiln.core.errors import KilnError
from kiln.index.page_rows import Row
from kiln.index.page_worker import PageHelpers, grouped
from kiln.index.parsed_pages import remembered_page
from kiln.index.simple_api import JsonEntries, json_page_entries
from kiln.net.client import Page, Response

PAGES = Path(__file__).parent / "pages"
SIX_PAGE = "https://pypi.org/simple/six/"


def _kept_here(tmp_path: Path, body: bytes) -> bytes:
    """What `remembered_page` keeps of the page when it parses the page itself."""
    _remember(tmp_path, body, None)
    (kept,) = tmp_path.rglob("*.marshal")
    return kept.read_bytes()


def test_the_job_makes_what_a_parse_here_keeps(tmp_path: Path) -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    assert grouped((SIX_PAGE, "pypi"), body) == _kept_here(tmp_path, body)
    with pytest.raises(KilnError, match="not valid JSON"):
        grouped((SIX_PAGE, "pypi"), b"<html></html>")


@pytest.fixture
def helpers() -> Iterator[PageHelpers]:
    made = PageHelpers(size=1)
    yield made
    for helper in made.pool._idle:
        helper.close()
        helper.process.wait(timeout=30)


def test_a_helper_groups_a_page_as_it_is_grouped_here(helpers: PageHelpers, tmp_path: Path) -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    deadline = time.monotonic() + 30
    made = None
    while made is None and time.monotonic() < deadline:
        made = helpers.stored_form(SIX_PAGE, "pypi", body)  # None while the helper starts
        time.sleep(0.02)
    assert made == _kept_here(tmp_path, body)
    assert helpers.stored_form(SIX_PAGE, "pypi", b"not json") is None  # parsed here


def _remember(tmp_path: Path, body: bytes, made: bytes | None) -> tuple[list[str], list[str]]:
    calls: list[str] = []

    def parse(response: Response) -> list[Row] | JsonEntries:
        calls.append("here")
        return JsonEntries(json_page_entries(response.body, SIX_PAGE, "pypi"), SIX_PAGE)

    def elsewhere(response: Response) -> bytes | None:
        calls.append("elsewhere")
        return made

    page = Page.whole(Response(SIX_PAGE, 200, {}, body))
    listing = remembered_page(tmp_path, page, "pypi", parse, elsewhere)
    _, releases, _, _ = listing.releases(NormalizedName("six"), None)
    return calls, sorted(f.filename for f in releases.all_files())


def test_a_page_made_elsewhere_is_read_and_kept_as_one_parsed_here(tmp_path: Path) -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    expected = _remember(tmp_path / "reference", body, None)[1]
    assert len(expected) == 4
    made = grouped((SIX_PAGE, "pypi"), body)
    calls, files = _remember(tmp_path / "a", body, made)
    assert calls == ["elsewhere"] and files == expected
    calls, files = _remember(tmp_path / "a", body, None)
    assert calls == [] and files == expected  # read back as kept
    assert [p.read_bytes() for p in (tmp_path / "a").rglob("*.marshal")] == [made]
    # Nothing made elsewhere, or something unreadable: parsed here.
    for folder, other in (("b", None), ("c", b"not a stored page")):
        calls, files = _remember(tmp_path / folder, body, other)
        assert calls == ["elsewhere", "here"] and files == expected
