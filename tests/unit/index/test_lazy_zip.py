"""Reading one member of a remote zip: the direct walk of the central directory against
`zipfile`, on plain zips and on the ones it leaves to `zipfile`."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.index.lazy_zip import LazyRemoteFile, _read_member_directly, read_member, reads_ahead

METADATA = "demo-1.0.dist-info/METADATA"


def _zip(
    members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED, comment: bytes = b""
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.comment = comment
    return buf.getvalue()


def _remote(data: bytes, tail: int = 65536) -> tuple[LazyRemoteFile, list[tuple[int, int]]]:
    fetched: list[tuple[int, int]] = []

    def fetch(first: int, last: int) -> bytes:
        fetched.append((first, last))
        return data[first : last + 1]

    start = max(0, len(data) - tail)
    return LazyRemoteFile(len(data), fetch, {start: data[start:]}), fetched


def _pick(names: list[str]) -> str:
    return next(n for n in names if n.endswith("/METADATA"))


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text("abcdefgh/é_.", min_size=1, max_size=20).filter(lambda n: not n.endswith("/")),
        st.binary(max_size=3000),
        max_size=30,
    ),
    st.binary(min_size=1, max_size=5000),
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
)
def test_a_plain_zip_is_read_directly_as_zipfile_reads_it(
    others: dict[str, bytes], metadata: bytes, method: int
) -> None:
    data = _zip({**others, METADATA: metadata}, method=method)
    remote, _ = _remote(data, tail=512)
    assert _read_member_directly(remote, _pick) == metadata
    assert read_member(_remote(data)[0], _pick) == zipfile.ZipFile(io.BytesIO(data)).read(METADATA)
    # Naming the end of the wanted name gives the same member.
    assert _read_member_directly(_remote(data, tail=512)[0], _pick, b"/METADATA") == metadata
    assert read_member(_remote(data)[0], _pick, "/METADATA") == metadata


@pytest.mark.parametrize("comment", [b"", b"c" * 6000])  # read directly / left to zipfile
def test_the_filter_sees_only_the_names_that_end_as_asked(comment: bytes) -> None:
    members = {"pkg/a.py": b"a", "pkg/METADATA.txt": b"b", METADATA: b"Name: a", "x/METADATA": b"c"}
    data = _zip(members, comment=comment)
    seen: list[list[str]] = []

    def pick(names: list[str]) -> str:
        seen.append(names)
        return names[0]

    assert read_member(_remote(data)[0], pick, "/METADATA") == b"Name: a"
    assert seen == [[METADATA, "x/METADATA"]]


def test_a_large_directory_costs_one_request_and_the_member_one_more() -> None:
    data = _zip({**{f"pkg/m{i:05d}.py": b"x = 1\n" for i in range(18000)}, METADATA: b"Name: a"})
    remote, fetched = _remote(data)
    assert read_member(remote, _pick) == b"Name: a"
    assert len(fetched) <= 2


def _wheel_like(files: int, metadata: bytes = b"Name: a") -> bytes:
    """As wheels are written: the `.dist-info` files last, RECORD after METADATA."""
    others = {f"pkg/m{i:05d}.py": b"x = 1\n" * 50 for i in range(files)}
    return _zip({**others, METADATA: metadata, "demo-1.0.dist-info/RECORD": b"r" * 5000})


def test_reading_ahead_asks_for_the_directory_and_the_member_at_once() -> None:
    data = _wheel_like(18000)
    remote, fetched = _remote(data)
    spans = reads_ahead(data[-65536:], len(data) - 65536, b".dist-info/METADATA")
    remote.ensure_all(spans)
    assert len(fetched) == 2  # the rest of the directory, the member
    assert read_member(remote, _pick, "/METADATA") == b"Name: a"
    assert len(fetched) == 2  # nothing more was needed


def test_a_dist_info_written_first_is_read_with_the_directory() -> None:
    # As meson-python writes numpy's wheels: the `.dist-info` files first, so the tail's
    # directory entries name none of them.
    others = {f"pkg/m{i:05d}.py": b"x = 1\n" * 50 for i in range(18000)}
    data = _zip({METADATA: b"Name: a", "demo-1.0.dist-info/LICENSE": b"l" * 40000, **others})
    remote, fetched = _remote(data)
    remote.ensure_all(reads_ahead(data[-65536:], len(data) - 65536, b".dist-info/METADATA"))
    assert len(fetched) == 2  # the rest of the directory, the zip's start
    assert read_member(remote, _pick, "/METADATA") == b"Name: a"
    assert len(fetched) == 2  # the member was in the start


def test_reading_ahead_is_nothing_when_the_tail_holds_the_directory() -> None:
    data = _wheel_like(10)
    assert reads_ahead(data[-65536:], max(0, len(data) - 65536), b".dist-info/METADATA") == []


def test_reading_ahead_leaves_out_nested_metadata_and_plain_zips_it_cannot_read() -> None:
    others = {f"pkg/m{i:05d}.py": b"x" for i in range(3000)}
    data = _zip({**others, "pkg/vendored-1.0.dist-info/METADATA": b"Name: b"})
    tail_start = len(data) - 65536
    directory, head = reads_ahead(data[tail_start:], tail_start, b".dist-info/METADATA")
    assert directory[1] == tail_start  # the directory's rest; no member guessed from the tail
    assert head == (0, 65536)
    commented = _zip({**others, METADATA: b"Name: a"}, comment=b"c" * 6000)
    assert reads_ahead(commented[-65536:], len(commented) - 65536, b"/METADATA") == []


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=0, max_value=4000),
    st.binary(max_size=4000),
    st.integers(min_value=1024, max_value=70000),
)
def test_a_member_read_after_reading_ahead_is_the_member(
    files: int, metadata: bytes, tail: int
) -> None:
    data = _wheel_like(files, metadata)
    remote, _ = _remote(data, tail=tail)
    start = max(0, len(data) - tail)
    remote.ensure_all(reads_ahead(data[start:], start, b".dist-info/METADATA"))
    assert read_member(remote, _pick, "/METADATA") == metadata


def test_a_zip_with_a_long_comment_is_left_to_zipfile() -> None:
    data = _zip({METADATA: b"Name: a"}, comment=b"c" * 6000)
    assert _read_member_directly(_remote(data)[0], _pick) is None
    assert read_member(_remote(data)[0], _pick) == b"Name: a"


@pytest.mark.parametrize("comment", [b"", b"c" * 6000], ids=["direct", "zipfile"])
def test_a_damaged_member_is_a_bad_zip(comment: bytes) -> None:
    data = bytearray(_zip({METADATA: b"Name: demo\nVersion: 1.0\n" * 20}, comment=comment))
    data[40] ^= 0xFF  # inside the member's deflated bytes
    with pytest.raises(zipfile.BadZipFile):
        read_member(_remote(bytes(data))[0], _pick)


def test_a_local_header_naming_another_file_is_a_bad_zip() -> None:
    data = _zip({METADATA: b"Name: a"})
    forged = data.replace(METADATA.encode(), b"demo-1.0.dist-info/METADATX", 1)
    with pytest.raises(zipfile.BadZipFile, match="differ"):
        read_member(_remote(forged)[0], _pick)


def test_a_zip_naming_many_metadata_members_is_not_guessed_at() -> None:
    others = {f"pkg/m{i:05d}.py": b"x" for i in range(3000)}
    many = {f"p{i}-1.0.dist-info/METADATA": b"Name: p" for i in range(5)}
    data = _zip({**others, **many})
    tail_start = len(data) - 65536
    spans = reads_ahead(data[tail_start:], tail_start, b".dist-info/METADATA")
    assert [end for _, end in spans] == [tail_start]  # the directory's rest, no member
