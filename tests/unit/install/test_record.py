"""RECORD lines: written as csv writes them, read back unchanged."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiln.core.errors import InstallError
from kiln.install.record import RecordEntry, format_record, parse_record

_PATHS = st.text(alphabet=st.sampled_from(list('abc/._-, "é\r\n')), min_size=1, max_size=20)


@given(st.lists(st.tuples(_PATHS, st.sampled_from(["", "sha256=AbC-_x", 'x,"y']),
                          st.one_of(st.none(), st.integers(0, 10**9)))))  # fmt: skip
def test_lines_are_what_the_csv_writer_writes(rows: list[tuple[str, str, int | None]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, digest, size in rows:
        writer.writerow((path, digest, "" if size is None else size))
    entries = [RecordEntry(*row) for row in rows]
    assert format_record(entries) == out.getvalue().encode("utf-8")


_TEXT = st.text(alphabet=st.sampled_from(list('ab/.,=0123 "\r\n\x00\x0c\u2028')), max_size=80)


@given(_TEXT)
def test_any_text_reads_as_the_csv_reader_reads_it(text: str) -> None:
    expected: list[RecordEntry] = []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        with pytest.raises(InstallError, match="cannot be read as a RECORD") as raised:
            parse_record(text, "demo.whl/RECORD")
        assert raised.value.causes == (str(exc),)
        assert "demo.whl/RECORD" in raised.value.message
        return
    for row in rows:
        if not row or not row[0]:
            continue
        size = row[2].strip() if len(row) > 2 else ""
        number = int(size) if size.isdigit() else None
        expected.append(RecordEntry(row[0], row[1] if len(row) > 1 else "", number))
    assert parse_record(text) == expected


def test_a_record_reads_back_as_written() -> None:
    entries = [
        RecordEntry("demo/__init__.py", "sha256=abc", 12),
        RecordEntry("demo/odd, name.py", "sha256=def", 3),
        RecordEntry("demo-1.0.dist-info/RECORD"),
    ]
    assert parse_record(format_record(entries).decode()) == entries


def test_digests_are_urlsafe_base64_without_padding_both_ways() -> None:
    import base64
    import hashlib

    from kiln.install.record import RecordEntry, encode_digest

    for n in range(0, 400, 7):
        raw = hashlib.sha512(bytes([n % 256]) * n).digest()[: n % 64 + 1]
        expected = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        assert encode_digest("sha256", raw) == f"sha256={expected}"
        assert RecordEntry("a.py", f"sha256={expected}", 1).digest() == ("sha256", raw)
    # Every character the urlsafe alphabet swaps appears in these.
    assert encode_digest("sha256", b"\xfb\xff\xbf") == "sha256=-_-_"
    assert RecordEntry("a", "sha256=-_-_").digest() == ("sha256", b"\xfb\xff\xbf")
    assert RecordEntry("a", "md4=AAAA").digest() is None
