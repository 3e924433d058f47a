"""The plain-header reader against the email parser it stands in for."""

from __future__ import annotations

from email.parser import HeaderParser

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.metadata import parse_email

from kiln.core.headers import first_header, plain_headers
from kiln.core.metadata import _WANTED, _plain_fields

NAMES = ["Name", "name", "Version", "Requires-Dist", "Provides-Extra", "Requires-Python",
         "Summary", "License", "Author", "Wheel-Version", "Root-Is-Purelib", "Tag", "X"]  # fmt: skip
VALUES = st.lists(
    st.sampled_from([*"abc 019.=<>;'\"[],:\t", "é", "\udcff", "=?utf-8?q?x?="]), max_size=8
).map("".join)
LINES = st.one_of(
    st.builds(lambda n, v: f"{n}: {v}", st.sampled_from(NAMES), VALUES),
    st.builds(lambda n, v: f"{n}:{v}", st.sampled_from(NAMES), VALUES),
    st.builds(lambda v: f"        {v}", VALUES),  # a folded continuation
    st.builds(lambda v: f"\t{v}", VALUES),
    st.sampled_from(["From somebody", "Bad Name: x", ": empty name", "no colon", ""]),
)
BLOCKS = st.builds(
    lambda lines, ending, body: ending.join(lines) + ending + body,
    st.lists(LINES, min_size=1, max_size=8),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "\n", "\nDescription body\nName: not a header\n"]),
)


@settings(max_examples=600, deadline=None)
@given(BLOCKS, st.sampled_from(NAMES))
def test_first_header_is_what_the_email_parser_gives(text: str, name: str) -> None:
    text = text.replace("\udcff", "\N{SNOWMAN}")  # a str input holds no lone surrogates
    assert first_header(text, name) == HeaderParser().parsestr(text).get(name)
    fields = plain_headers(text)
    if fields is not None:
        parsed = HeaderParser().parsestr(text)
        assert {k: v for k, v in fields.items()} == {
            k.lower(): parsed.get_all(k) for k in {key.lower() for key in parsed}
        }


@settings(max_examples=600, deadline=None)
@given(BLOCKS)
def test_plain_metadata_fields_are_what_packaging_reads(text: str) -> None:
    data = text.encode("utf-8", "surrogateescape")
    plain = _plain_fields(data)
    if plain is not None:
        raw = parse_email(data)[0]
        wanted = {"name", "version", "requires_python", "summary", "requires_dist",
                  "provides_extra"}  # fmt: skip
        assert plain == {k: v for k, v in raw.items() if k in wanted}


def test_a_plain_block_is_read_without_the_email_parser() -> None:
    text = "Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1\nLicense: BSD\n   and more\n\nbody"
    assert plain_headers(text, _WANTED) == {"name": ["torch"], "version": ["2.5.1"]}
    assert plain_headers("Name: a\n  folded\n", _WANTED) is None
    assert plain_headers("Name: a\r\n") is None


def test_blanks_are_dropped_before_a_value_and_kept_after_it() -> None:
    for text in ["Name:\t x  \n", "Name:x\n", "Name:   \n", "Name: a: b\n"]:
        expected = HeaderParser().parsestr(text).get("Name")
        assert plain_headers(text) == {"name": [expected]}
