"""Pages parsed in helper processes: a helper's answer is what a parse here stores, a page a
helper cannot parse is parsed here, and a helper that cannot start or dies costs nothing but
the parse here."""

from __future__ import annotations

import io
import marshal
import sys
import time
from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from kiln.index import page_worker
from kiln.index.page_rows import Row
from kiln.index.page_worker import PageHelpers, serve
from kiln.index.parsed_pages import group_entries, remembered_page, stored_form
from kiln.index.simple_api import JsonEntries, json_page_entries
from kiln.net.client import Page, Response

PAGES = Path(__file__).parent / "pages"
SIX_PAGE = "https://pypi.org/simple/six/"


def _here(body: bytes, url: str = SIX_PAGE) -> bytes:
    entries = json_page_entries(body, url, "pypi")
    return stored_form(group_entries(JsonEntries(entries, url), "pypi"), url)


def _frames(*data: bytes) -> io.BytesIO:
    out = io.BytesIO()
    for item in data:
        page_worker._write_frame(out, item)
    out.seek(0)
    return out


def _answers(out: io.BytesIO) -> list[bytes]:
    out.seek(0)
    frames = []
    while (frame := page_worker._read_frame(out)) is not None:
        frames.append(frame)
    return frames


def test_a_helper_answers_what_a_parse_here_stores() -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    about = marshal.dumps((SIX_PAGE, "pypi"))
    requests = _frames(
        about, body,
        about, b"<html>not json</html>",
        about, b'{"files": "not a list"}',
        b"not marshal at all", body,
    )  # fmt: skip
    out = io.BytesIO()
    serve(requests, out)
    ready, six, html, no_list, garbage = _answers(out)
    assert ready == b"ready"
    assert six == _here(body)
    # Each page it cannot parse is answered as failed (empty), and it goes on to the next.
    assert html == no_list == garbage == b""


def test_a_request_cut_short_ends_the_helper_quietly() -> None:
    whole = _frames(marshal.dumps((SIX_PAGE, "pypi")), b"{}").getvalue()
    for cut in (3, 8 + 2, len(whole) - 8):  # in the body, its length, the first frame
        out = io.BytesIO()
        serve(io.BytesIO(whole[:-cut]), out)
        assert _answers(out) == [b"ready"]


@pytest.fixture(autouse=True)
def _closed(monkeypatch: pytest.MonkeyPatch) -> object:
    """Every helper a test starts is closed when it ends."""
    made: list[PageHelpers] = []
    real = PageHelpers.__init__

    def track(self: PageHelpers, size: int | None = None) -> None:
        real(self, size)
        made.append(self)

    monkeypatch.setattr(PageHelpers, "__init__", track)
    yield
    for helpers in made:
        for helper in helpers._idle:
            helper.close()
            helper.process.wait(timeout=30)


def _eventually(helpers: PageHelpers, body: bytes) -> bytes:
    # The first pages are parsed here while a helper starts (about 0.15 s).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        made = helpers.stored_form(SIX_PAGE, "pypi", body)
        if made is not None:
            return made
        time.sleep(0.02)
    raise AssertionError("no helper answered within 30 s")


def test_helpers_start_when_asked_and_answer_as_a_parse_here() -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    helpers = PageHelpers(size=1)
    assert helpers.stored_form(SIX_PAGE, "pypi", body) is None  # none has started yet
    assert _eventually(helpers, body) == _here(body)
    assert helpers.stored_form(SIX_PAGE, "pypi", b"not json") is None  # parsed here
    assert helpers.stored_form(SIX_PAGE, "pypi", body) == _here(body)  # still there
    assert helpers._started == 1


def test_a_helper_that_died_is_not_asked_again() -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    helpers = PageHelpers(size=1)
    _eventually(helpers, body)
    (helper,) = helpers._idle
    helper.process.kill()
    helper.process.wait()
    assert helpers.stored_form(SIX_PAGE, "pypi", body) is None
    assert helpers.stored_form(SIX_PAGE, "pypi", body) is None
    assert helpers._started == 1 and helpers._broken


def test_a_helper_that_cannot_start_leaves_the_parse_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    body = (PAGES / "pypi_six.json").read_bytes()
    not_a_program = tmp_path / "not-a-program"
    not_a_program.write_text("just text\n")
    for executable in (str(tmp_path / "no-python"), str(not_a_program), ""):
        monkeypatch.setattr(sys, "executable", executable)
        helpers = PageHelpers(size=1)
        assert helpers.stored_form(SIX_PAGE, "pypi", body) is None
        deadline = time.monotonic() + 30
        while not helpers._broken and time.monotonic() < deadline:
            time.sleep(0.02)
        assert helpers._broken
        assert helpers.stored_form(SIX_PAGE, "pypi", body) is None


def test_a_helper_whose_imports_fail_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # A helper that ends before saying it is ready (here: it cannot import kiln).
    monkeypatch.setattr(page_worker, "_BOOT", "import sys; sys.path[:] = []; import kiln")
    body = (PAGES / "pypi_six.json").read_bytes()
    helpers = PageHelpers(size=1)
    deadline = time.monotonic() + 30
    while not helpers._broken and time.monotonic() < deadline:
        assert helpers.stored_form(SIX_PAGE, "pypi", body) is None
        time.sleep(0.02)
    assert helpers._broken and helpers._running == 0


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
    calls, files = _remember(tmp_path / "a", body, _here(body))
    assert calls == ["elsewhere"] and files == expected
    calls, files = _remember(tmp_path / "a", body, None)
    assert calls == [] and files == expected  # read back as kept
    assert sorted(p.read_bytes() for p in (tmp_path / "a").rglob("*.marshal")) == [_here(body)]
    # Nothing made elsewhere, or something unreadable: parsed here.
    for folder, made in (("b", None), ("c", b"not a stored page")):
        calls, files = _remember(tmp_path / folder, body, made)
        assert calls == ["elsewhere", "here"] and files == expected
