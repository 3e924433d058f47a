from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from kiln.cache.layout import Cache
from kiln.core.errors import InstallError
from kiln.install.record import read_record
from kiln.install.wheel_cache import cached_wheel, unpack_wheel

from .conftest import WheelFactory, files_under, member_data, record_hash


def test_unpack_places_wheel_files_under_its_sha256(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheel = wheel_factory("demo", files={"demo/__init__.py": "X = 1\n"})
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    assert folder == cache.wheels / wheel.sha256
    assert (folder / "demo" / "__init__.py").read_text() == "X = 1\n"
    assert cached_wheel(wheel.sha256, cache) == folder
    assert cached_wheel(wheel.sha256.upper(), cache) == folder


def test_second_unpack_returns_the_same_folder_without_touching_it(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheel = wheel_factory("demo", files={"demo/__init__.py": "X = 1\n"})
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    before = {p: os.stat(p).st_ino for p in files_under(folder)}
    mtime = folder.stat().st_mtime_ns
    wheel.path.unlink()  # a second unpack must not even need the archive
    assert unpack_wheel(wheel.path, wheel.sha256, cache) == folder
    assert {p: os.stat(p).st_ino for p in files_under(folder)} == before
    assert folder.stat().st_mtime_ns == mtime


def test_concurrent_unpacks_of_one_wheel_agree(wheel_factory: WheelFactory, cache: Cache) -> None:
    files = {f"demo/m{i}.py": f"N = {i}\n" for i in range(50)}
    wheel = wheel_factory("demo", files=files)
    results: list[Path] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(unpack_wheel(wheel.path, wheel.sha256, cache))
        )
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [cache.wheels / wheel.sha256] * 6
    assert len(list((cache.wheels / wheel.sha256 / "demo").iterdir())) == 50
    assert list(cache.tmpdir().iterdir()) == []


@pytest.mark.parametrize(
    "member", ["../evil.py", "demo/../../evil.py", "/etc/evil.py", "C:/evil.py"]
)
def test_member_outside_the_wheel_is_rejected(
    wheel_factory: WheelFactory, cache: Cache, member: str
) -> None:
    wheel = wheel_factory("demo", files={"demo/__init__.py": ""}, extra_members={member: "boom"})
    with pytest.raises(InstallError) as info:
        unpack_wheel(wheel.path, wheel.sha256, cache)
    assert wheel.path.name in info.value.message
    assert member in info.value.message
    assert cached_wheel(wheel.sha256, cache) is None
    assert list(cache.tmpdir().iterdir()) == []
    assert not (cache.root.parent / "evil.py").exists()


def test_wheel_without_dist_info_is_rejected(tmp_path: Path, cache: Cache) -> None:
    import zipfile

    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo/__init__.py", "")
    with pytest.raises(InstallError, match=re.escape("exactly one `.dist-info`")):
        unpack_wheel(path, "a" * 64, cache)


def test_wheel_with_two_dist_infos_is_rejected(wheel_factory: WheelFactory, cache: Cache) -> None:
    wheel = wheel_factory(
        "demo", extra_members={"other-1.0.dist-info/METADATA": "Name: other\nVersion: 1.0\n"}
    )
    with pytest.raises(InstallError) as info:
        unpack_wheel(wheel.path, wheel.sha256, cache)
    assert "`demo-1.0.dist-info`" in info.value.causes[0]
    assert "`other-1.0.dist-info`" in info.value.causes[0]


def test_wheel_without_metadata_is_rejected(tmp_path: Path, cache: Cache) -> None:
    import zipfile

    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        archive.writestr("demo-1.0.dist-info/RECORD", "")
    with pytest.raises(InstallError, match=re.escape("no `demo-1.0.dist-info/METADATA`")):
        unpack_wheel(path, "b" * 64, cache)


def test_file_not_matching_its_record_hash_is_rejected(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheel = wheel_factory(
        "demo",
        files={"demo/__init__.py": "X = 1\n"},
        record_overrides={"demo/__init__.py": record_hash(b"something else")},
    )
    with pytest.raises(
        InstallError, match=re.escape("`demo/__init__.py` in `demo-1.0-py3-none-any.whl`")
    ):
        unpack_wheel(wheel.path, wheel.sha256, cache)
    assert cached_wheel(wheel.sha256, cache) is None


def test_a_record_hash_written_with_base64_padding_still_matches(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    """Older tools wrote RECORD's digests with `=` padding: the same digest, not the text
    this unpack writes, so it is compared by value."""
    import base64
    import hashlib

    content = b"X = 1\n"
    padded = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode()
    assert padded.endswith("=")
    wheel = wheel_factory(
        "demo",
        files={"demo/__init__.py": content.decode()},
        record_overrides={"demo/__init__.py": f"sha256={padded}"},
    )
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    assert (folder / "demo" / "__init__.py").read_bytes() == content


def test_a_record_csv_cannot_read_is_an_error_naming_it(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheel = wheel_factory(
        "demo",
        files={"demo/__init__.py": "X = 1\n"},
        record_overrides={"demo/__init__.py": "sha256=a\rb"},  # a carriage return mid-field
    )
    with pytest.raises(InstallError) as caught:
        unpack_wheel(wheel.path, wheel.sha256, cache)
    assert caught.value.message == (
        "`demo-1.0-py3-none-any.whl/demo-1.0.dist-info/RECORD` cannot be read as a RECORD"
    )
    assert cached_wheel(wheel.sha256, cache) is None


def test_record_checked_with_a_stronger_algorithm(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    import base64
    import hashlib

    digest = base64.urlsafe_b64encode(hashlib.sha512(b"X = 1\n").digest()).rstrip(b"=").decode()
    good = wheel_factory(
        "demo",
        files={"demo/__init__.py": "X = 1\n"},
        record_overrides={"demo/__init__.py": f"sha512={digest}"},
    )
    unpack_wheel(good.path, good.sha256, cache)
    bad = wheel_factory(
        "demo",
        "2.0",
        files={"demo/__init__.py": "X = 2\n"},
        record_overrides={"demo/__init__.py": f"sha512={digest}"},
    )
    with pytest.raises(InstallError, match="does not match"):
        unpack_wheel(bad.path, bad.sha256, cache)


def test_cached_record_lists_every_file_with_sha256(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheel = wheel_factory(
        "demo",
        files={"demo/__init__.py": "X = 1\n", "demo/unlisted.py": "Y = 2\n"},
        omit_from_record=("demo/unlisted.py",),
    )
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    entries = {e.path: e for e in read_record(folder / wheel.dist_info / "RECORD")}
    assert entries["demo/unlisted.py"].hash == record_hash(b"Y = 2\n")
    assert entries["demo/unlisted.py"].size == 6
    assert entries[f"{wheel.dist_info}/RECORD"].hash == ""
    listed = {folder / p for p in entries}
    assert listed == files_under(folder)


def test_scripts_and_executable_members_are_executable_in_the_cache(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheel = wheel_factory(
        "demo",
        files={
            "demo-1.0.data/scripts/tool": "#!/bin/sh\necho hi\n",
            "demo/run.sh": "echo\n",
            "demo/a.py": "",
        },
        modes={"demo/run.sh": 0o755},
    )
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    assert os.access(folder / "demo-1.0.data" / "scripts" / "tool", os.X_OK)
    assert os.access(folder / "demo" / "run.sh", os.X_OK)
    assert not os.access(folder / "demo" / "a.py", os.X_OK)


def test_truncated_wheel_is_a_user_error(tmp_path: Path, cache: Cache) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InstallError, match="not a readable wheel"):
        unpack_wheel(path, "c" * 64, cache)


def test_wheel_holding_another_projects_metadata_is_rejected(
    wheel_factory: WheelFactory, cache: Cache, tmp_path: Path
) -> None:
    wheel = wheel_factory("demo")
    renamed = tmp_path / "other-1.0-py3-none-any.whl"
    renamed.write_bytes(wheel.path.read_bytes())
    with pytest.raises(InstallError, match="metadata of another project"):
        unpack_wheel(renamed, wheel.sha256, cache)


def test_bogus_sha256_is_never_a_path(cache: Cache, wheel_factory: WheelFactory) -> None:
    wheel = wheel_factory("demo")
    assert cached_wheel("../../etc", cache) is None
    with pytest.raises(InstallError, match="not a sha256"):
        unpack_wheel(wheel.path, "../x", cache)


@pytest.mark.parametrize("damage", ["flipped", "reserved-block"])
@pytest.mark.parametrize("member", ["demo/big.py", "demo-1.0.dist-info/METADATA"])
def test_a_damaged_member_is_a_corrupt_wheel_and_leaves_no_entry(
    wheel_factory: WheelFactory, cache: Cache, member: str, damage: str
) -> None:
    text = "".join(f"VALUE_{n} = {n * 7919}\n" for n in range(2000))
    wheel = wheel_factory("demo", files={"demo/big.py": text})
    data = bytearray(wheel.path.read_bytes())
    start, length = member_data(wheel.path, member)
    if damage == "flipped":
        for k in range(8):  # inside the member's deflate stream
            data[start + length // 2 + k] ^= 0x5A
    else:  # a block type deflate reserves: an error of the inflater's own
        data[start] = 0xFF
    wheel.path.write_bytes(bytes(data))
    with pytest.raises(InstallError, match=r"corrupt|inflates past|does not match"):
        unpack_wheel(wheel.path, wheel.sha256, cache)
    assert cached_wheel(wheel.sha256, cache) is None


@pytest.mark.parametrize("method", ["stored", "deflated"])
def test_members_with_long_local_headers_and_large_data_unpack_whole(
    wheel_factory: WheelFactory, cache: Cache, tmp_path: Path, method: str
) -> None:
    """A name and a local extra field longer than the room the header's read leaves, and
    members larger than what is read with their header, come out byte for byte."""
    import hashlib
    import random
    import struct
    import zipfile

    rng = random.Random(3)
    large = "".join(rng.choice("abcdefgh \n") for _ in range(300_000))
    deep = "demo/" + "/".join(c * 200 for c in "abc") + ".py"
    files = {"demo/small.py": "X = 1\n", "demo/large.txt": large, deep: "Y = 2\n"}
    wheel = wheel_factory("demo", files=files)
    rewritten = tmp_path / wheel.path.name
    compression = zipfile.ZIP_STORED if method == "stored" else zipfile.ZIP_DEFLATED
    padding = struct.pack("<HH", 0xCAFE, 2000) + bytes(2000)
    with zipfile.ZipFile(wheel.path) as source, zipfile.ZipFile(rewritten, "w") as out:
        for info in source.infolist():
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.external_attr = info.external_attr
            copy.compress_type = compression
            copy.extra = padding
            out.writestr(copy, source.read(info))
    sha256 = hashlib.sha256(rewritten.read_bytes()).hexdigest()
    folder = unpack_wheel(rewritten, sha256, cache)
    assert (folder / "demo" / "small.py").read_text() == "X = 1\n"
    assert (folder / "demo" / "large.txt").read_text() == large
    assert (folder / deep).read_text() == "Y = 2\n"


def test_short_writes_are_written_on_until_the_member_is_whole(
    wheel_factory: WheelFactory, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`os.write` may write less than it is given (a signal, a full pipe, some file
    systems): every byte still lands."""
    from kiln.install import wheel_cache

    text = "".join(f"LINE_{n} = {n}\n" for n in range(5000))
    wheel = wheel_factory("demo", files={"demo/data.py": text})
    write = os.write
    monkeypatch.setattr(wheel_cache.os, "write", lambda fd, data: write(fd, bytes(data[:700])))
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    assert (folder / "demo" / "data.py").read_text() == text
