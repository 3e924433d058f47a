"""Both inflaters unpacking can use give zlib's bytes, and a damaged stream raises an error
unpacking knows (`test_wheel_cache.py` shows it reported as a corrupt wheel)."""

from __future__ import annotations

import random
import sys
import zlib
from collections.abc import Iterator

import pytest

from kiln.cache.layout import Cache
from kiln.install import inflate, wheel_cache
from kiln.install.wheel_cache import unpack_wheel

from .conftest import WheelFactory


@pytest.fixture(params=["isal", "zlib"])
def implementation(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    if request.param == "isal":
        pytest.importorskip("isal")
    else:
        monkeypatch.setitem(sys.modules, "isal", None)  # as where no wheel of it exists
    inflate._implementation.cache_clear()
    yield request.param
    inflate._implementation.cache_clear()


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def test_the_implementation_is_the_one_importable(implementation: str) -> None:
    errors = inflate.inflate_errors()
    assert zlib.error in errors
    assert (len(errors) == 2) == (implementation == "isal")


def test_bounded_reads_give_zlibs_bytes_and_crc(implementation: str) -> None:
    rng = random.Random(7)
    data = bytes(rng.choice(b"abcdefgh \n") for _ in range(600_000)) + rng.randbytes(200_000)
    inflater = inflate.raw_inflater()
    out = bytearray()
    pending = _deflate(data)
    while not inflater.eof:
        # Once its input is taken, ISA-L gives the output it held back for empty input.
        piece = inflater.decompress(pending, 65_536)
        pending = inflater.unconsumed_tail
        assert piece or pending, "no progress"
        out += piece
    assert bytes(out) == data
    assert inflate.crc32(data[:1000], inflate.crc32(b"")) == zlib.crc32(data[:1000])
    assert inflate.crc32(data[1000:], inflate.crc32(data[:1000])) == zlib.crc32(data)


def test_a_member_inflating_to_many_reads_unpacks_whole(
    implementation: str,
    wheel_factory: WheelFactory,
    cache: Cache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read at once and inflated in bounded steps: the output ISA-L holds back once it has
    taken all the input is still written. Which sizes show it depends on the bound; this
    one does with a 64 KiB bound."""
    monkeypatch.setattr(wheel_cache, "_INFLATE_CHUNK", 65_536)
    text = "0" * 140_913
    wheel = wheel_factory("demo", files={"demo/zeros.txt": text})
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    assert (folder / "demo" / "zeros.txt").read_text() == text


def test_an_invalid_block_raises_one_of_the_named_errors(implementation: str) -> None:
    # The first block's type bits say 11, which deflate reserves.
    with pytest.raises(inflate.inflate_errors()):
        inflate.raw_inflater().decompress(b"\xff" + _deflate(b"x" * 1000)[1:], 1 << 20)
