"""Links out of a wheel, zip bombs and lying METADATA, met while unpacking into the cache."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from kiln.cache.layout import Cache
from kiln.core.errors import InstallError, UsageError
from kiln.core.records import replace
from kiln.install.wheel_cache import unpack_wheel
from kiln.settings.global_settings import parse_size_limit
from tests.support.hostile_wheels import Crafted, Member, symlink


def unpack(crafted: Crafted, tmp_path: Path, cache: Cache) -> Path:
    path = tmp_path / crafted.filename
    path.write_bytes(crafted.wheel())
    return unpack_wheel(path, hashlib.sha256(path.read_bytes()).hexdigest(), cache)


@pytest.mark.parametrize(
    "target",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "..\\..\\..\\windows",
        "C:\\Windows\\system.ini",
        "sub/../../..",
    ],
)
def test_a_link_member_pointing_outside_is_refused(
    tmp_path: Path, cache: Cache, target: str
) -> None:
    crafted = Crafted("demo", "1.0", [symlink("demo/evil", target)])
    with pytest.raises(InstallError, match=r"a symbolic link to .* outside the wheel"):
        unpack(crafted, tmp_path, cache)
    assert not list(cache.wheels.glob("*/"))


def test_a_link_member_inside_the_wheel_is_a_plain_file(tmp_path: Path, cache: Cache) -> None:
    crafted = Crafted(
        "demo", "1.0", [Member("demo/a.py", b"A = 1\n"), symlink("demo/sub/b.py", "../a.py")]
    )
    folder = unpack(crafted, tmp_path, cache)
    link = folder / "demo" / "sub" / "b.py"
    assert link.is_file() and not link.is_symlink() and link.read_bytes() == b"../a.py"


def test_a_wheel_over_the_size_limit_is_refused_before_anything_is_written(
    tmp_path: Path, cache: Cache
) -> None:
    crafted = Crafted("demo", "1.0", [Member("demo/zeros", b"\0" * 100_000)])
    small = replace(cache, wheel_size_limit=50_000)
    with pytest.raises(InstallError, match=r"would unpack to 98\.0 KiB") as refused:
        unpack(crafted, tmp_path, small)
    assert "KILN_MAX_WHEEL_UNPACKED_SIZE" in str(refused.value.hint)
    assert not list(small.wheels.glob("*/")) and not list(small.tmpdir().iterdir())
    unlimited = replace(cache, wheel_size_limit=0)
    assert unpack(crafted, tmp_path, unlimited).is_dir()


def test_a_member_that_inflates_past_its_declared_size_is_refused(
    tmp_path: Path, cache: Cache
) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(Crafted("demo", "1.0", [Member("demo/big", b"x" * 50_000)]).wheel())
    # Rewrite the declared size of the member (central directory and local header) to a lie.
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("demo/big")
    small = (100).to_bytes(4, "little")
    local = info.header_offset
    data[local + 22 : local + 26] = small
    start = 0
    while (central := data.find(b"PK\x01\x02", start)) != -1:
        name_len = int.from_bytes(data[central + 28 : central + 30], "little")
        if data[central + 46 : central + 46 + name_len] == b"demo/big":
            data[central + 24 : central + 28] = small
        start = central + 4
    path.write_bytes(bytes(data))
    # zipfile stops at the declared size and then finds the CRC wrong; kiln also counts.
    with pytest.raises(InstallError, match=r"is corrupt|inflates past"):
        unpack_wheel(path, hashlib.sha256(bytes(data)).hexdigest(), cache)
    assert not list(cache.wheels.glob("*/"))


@pytest.mark.parametrize(
    ("crafted", "says"),
    [
        (Crafted("demo", "1.0", [Member("demo/x.py", b"")], metadata_name="other"), "`other 1.0`"),
        (Crafted("demo", "1.0", [Member("demo/x.py", b"")], metadata_version="2.0"), "`demo 2.0`"),
    ],
)
def test_metadata_naming_another_project_or_version_is_refused(
    tmp_path: Path, cache: Cache, crafted: Crafted, says: str
) -> None:
    with pytest.raises(InstallError, match=says):
        unpack(crafted, tmp_path, cache)


@pytest.mark.parametrize(
    ("text", "size"),
    [("1073741824", 1 << 30), ("64G", 64 << 30), ("512m", 512 << 20), ("2GiB", 2 << 30), ("0", 0)],
)
def test_size_limits_read_as_bytes_or_with_a_unit(text: str, size: int) -> None:
    assert parse_size_limit(text) == size


def test_an_unreadable_size_limit_names_the_variable() -> None:
    with pytest.raises(UsageError, match="KILN_MAX_WHEEL_UNPACKED_SIZE=lots"):
        parse_size_limit("lots")
