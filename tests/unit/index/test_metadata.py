"""Metadata without downloads: PEP 658, range requests, and the full-download fallback."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest

from kiln.cache.layout import Cache
from kiln.core.dist import DistFile
from kiln.core.errors import HashMismatchError, KilnError, NetworkError, OfflineError
from kiln.core.hashes import Hashes
from kiln.core.metadata import InvalidMetadata
from kiln.index import metadata as metadata_module
from kiln.index.metadata import MetadataProbe, archive_path, fetch_metadata
from kiln.net.client import HttpClient, Response
from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg, build_wheel

FOO = Pkg("foo", "1.0", requires_dist=["bar>=2", "baz; extra == 'x'"], requires_python=">=3.9")


def listed(server: IndexServer, pkg: Pkg, *, index: str = "pypi") -> DistFile:
    """The wheel of ``pkg`` as the index lists it (hash, and PEP 658 when advertised)."""
    (stored,) = [f for f in server.files(pkg.name, index) if f.filename.endswith(".whl")]
    advertised = server.options(index).advertise_metadata
    return DistFile(
        filename=stored.filename,
        url=server.file_url(stored.filename, index),
        hashes=Hashes.of({"sha256": stored.sha256}),
        metadata_file=Hashes.of({"sha256": stored.metadata_sha256 or ""}) if advertised else None,
        index=server.index_url(index),
    )


def big_pkg() -> Pkg:
    """A wheel whose central directory alone is larger than the 64 KiB first read."""
    rng = random.Random(7)
    files = {
        f"big/module_{i:04d}.py": "".join(rng.choice("abcdef0123456789") for _ in range(200))
        for i in range(2500)
    }
    return Pkg("big", "3.0", requires_dist=["numpy"], files=files)


def served_big(server: IndexServer) -> tuple[DistFile, bytes]:
    """`big_pkg` on an index that does not advertise metadata: its listed wheel and bytes."""
    pkg = big_pkg()
    server.add(pkg)
    server.configure(advertise_metadata=False)
    return listed(server, pkg), server.files("big")[0].data


def test_advertised_core_metadata_is_fetched_alone(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(FOO)
    metadata = fetch_metadata(listed(index_server, FOO), client, cache)
    assert metadata.name == "foo"
    assert [str(r) for r in metadata.requires_dist] == ["bar>=2", 'baz; extra == "x"']
    assert str(metadata.requires_python) == ">=3.9"
    assert [(r.kind, r.method) for r in index_server.requests] == [("metadata", "GET")]


def test_core_metadata_with_a_wrong_hash_is_refused(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(FOO)
    file = listed(index_server, FOO)
    wrong = DistFile(
        filename=file.filename,
        url=file.url,
        hashes=file.hashes,
        metadata_file=Hashes.of({"sha256": "0" * 64}),
    )
    with pytest.raises(HashMismatchError) as caught:
        fetch_metadata(wrong, client, cache)
    assert caught.value.message == f"hash mismatch for `{file.filename}.metadata`"
    assert f"expected sha256:{'0' * 64}" in caught.value.causes
    assert not list(cache.metadata.iterdir())


def test_without_core_metadata_only_ranges_are_requested(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(FOO)
    index_server.configure(advertise_metadata=False)
    file = listed(index_server, FOO)
    metadata = fetch_metadata(file, client, cache)
    assert metadata.version.public == "1.0"
    assert index_server.requests, "nothing was fetched"
    assert all(r.kind == "file" and r.range is not None for r in index_server.requests)
    assert not any(r.fetched_body for r in index_server.requests)
    # The wheel is smaller than the first range: it came whole and is kept for install.
    assert archive_path(file, cache).read_bytes() == index_server.files("foo")[0].data


def test_large_wheel_is_read_through_several_ranges_never_whole(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    file, data = served_big(index_server)
    assert len(data) > 256 * 1024
    metadata = fetch_metadata(file, client, cache)
    assert [str(r) for r in metadata.requires_dist] == ["numpy"]
    ranges = [r.range for r in index_server.requests]
    assert ranges[0] == "bytes=-65536"
    assert 2 <= len(ranges) <= 3
    assert all(r is not None for r in ranges)
    assert not any(r.fetched_body for r in index_server.requests)
    # Nothing close to the whole file came over the wire.
    assert not archive_path(file, cache).exists()


class _RangesOf:
    """Serves ranges of ``data``; every `.metadata` probe is a 404."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[str] = []

    def get(self, url: str, **_: Any) -> Response:
        self.asked.append("probe")
        return Response(url, 404)

    def fetch_range(self, url: str, start: int, end: int | None) -> Response:
        self.asked.append("tail" if start < 0 else "range")
        first = max(0, len(self.data) + start) if start < 0 else start
        last = len(self.data) - 1 if end is None or start < 0 else end
        headers = {"content-range": f"bytes {first}-{last}/{len(self.data)}"}
        return Response(url, 206, headers, self.data[first : last + 1])

    def get_range(self, url: str, start: int, end: int | None) -> bytes:
        return self.fetch_range(url, start, end).body


class _Watched(MetadataProbe):
    """A probe that says when it has learned something."""

    def __init__(self, remembered: Path | None = None) -> None:
        super().__init__(remembered)
        self.learned = threading.Event()

    def learn(self, served: bool) -> None:
        super().learn(served)
        self.learned.set()


class _SlowMiss(_RangesOf):
    """An index whose `.metadata` miss is slow: it answers only when the test lets it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.release = threading.Event()
        self.missed = threading.Event()

    def get(self, url: str, **_: Any) -> Response:
        self.asked.append("probe")
        self.release.wait(10)
        self.missed.set()
        return Response(url, 404)


def test_the_first_probe_of_an_index_is_not_waited_for_and_is_the_only_one_out(
    index_server: IndexServer, cache: Cache, tmp_path: Path
) -> None:
    file, data = served_big(index_server)
    client = _SlowMiss(data)
    remembered = tmp_path / "probes" / "index"
    probe = _Watched(remembered)
    metadata = fetch_metadata(file, cast(HttpClient, client), cache, probe=probe)
    assert [str(r) for r in metadata.requires_dist] == ["numpy"]
    # The zip answered while the probe's miss was still on its way.
    assert not client.missed.is_set()
    assert client.asked.count("probe") == 1 and "tail" in client.asked
    # While that probe is out, the next file is read from its zip alone.
    fetch_metadata(file, cast(HttpClient, client), Cache(cache.root / "other"), probe=probe)
    assert client.asked.count("probe") == 1
    # The miss, once it comes, turns probing off for the index; the late thread writes
    # nothing (the command may have ended and removed its cache), a thread of its own does.
    client.release.set()
    assert probe.learned.wait(10)
    assert probe.served() is False and probe.claim() is False
    assert not remembered.parent.exists()
    probe.remember()
    assert remembered.read_bytes() == b"not served"


class _FailingProbe(_RangesOf):
    """An index that answers every `.metadata` probe with an error the retries did not fix."""

    def get(self, url: str, **_: Any) -> Response:
        self.asked.append("probe")
        raise NetworkError(f"failed to fetch `{url}`", causes=("503 Service Unavailable",))


def test_a_probe_that_fails_is_not_asked_again_in_the_run_nor_remembered(
    index_server: IndexServer, cache: Cache, tmp_path: Path
) -> None:
    file, data = served_big(index_server)
    client = _FailingProbe(data)
    remembered = tmp_path / "probe"
    probe = MetadataProbe(remembered)
    metadata = fetch_metadata(file, cast(HttpClient, client), cache, probe=probe)
    assert [str(r) for r in metadata.requires_dist] == ["numpy"]
    deadline = time.monotonic() + 10
    while probe.served() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert probe.served() is False
    fetch_metadata(file, cast(HttpClient, client), Cache(cache.root / "other"), probe=probe)
    assert client.asked.count("probe") == 1
    probe.remember()
    assert not remembered.exists()


def test_a_slow_miss_of_a_serving_index_does_not_hold_back_the_zips_answer(
    index_server: IndexServer, cache: Cache, tmp_path: Path
) -> None:
    file, data = served_big(index_server)
    client = _SlowMiss(data)
    remembered = tmp_path / "probe"
    remembered.write_bytes(b"served")
    probe = _Watched(remembered)
    assert probe.served() is True
    metadata = fetch_metadata(file, cast(HttpClient, client), cache, probe=probe)
    answered_before_the_miss = not client.missed.is_set()
    client.release.set()
    assert [str(r) for r in metadata.requires_dist] == ["numpy"]
    assert answered_before_the_miss
    assert "probe" in client.asked and "tail" in client.asked
    # One miss, once learned, does not make a serving index a non-serving one.
    assert probe.learned.wait(10)
    assert probe.served() is True
    assert remembered.read_bytes() == b"served"


class _ServedWhileTheTailIsSlow:
    """Serves `<wheel>.metadata` at once; the zip's tail, the whole small wheel, comes only
    when the test lets it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.release = threading.Event()

    def get(self, url: str, **_: Any) -> Response:
        return Response(url, 200, {}, FOO.metadata().encode())

    def fetch_range(self, url: str, start: int, end: int | None) -> Response:
        self.release.wait(10)
        headers = {"content-range": f"bytes 0-{len(self.data) - 1}/{len(self.data)}"}
        return Response(url, 206, headers, self.data)


def test_a_read_that_lost_the_race_keeps_nothing_in_the_cache(
    index_server: IndexServer, cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_server.add(FOO)
    index_server.configure(advertise_metadata=False)
    file = listed(index_server, FOO)
    client = _ServedWhileTheTailIsSlow(index_server.files("foo")[0].data)
    remembered = tmp_path / "probe"
    remembered.write_bytes(b"served")
    zip_read = threading.Event()
    from_zip = metadata_module._from_zip

    def watched(*args: Any) -> Any:
        try:
            return from_zip(*args)
        finally:
            zip_read.set()

    monkeypatch.setattr(metadata_module, "_from_zip", watched)
    metadata = fetch_metadata(
        file, cast(HttpClient, client), cache, probe=MetadataProbe(remembered)
    )
    assert (metadata.name, str(metadata.version)) == ("foo", "1.0")
    # The command may end now and remove a `--no-cache` folder: the zip's read, still
    # running, must not write into it when it comes.
    client.release.set()
    assert zip_read.wait(10)
    assert not cache.archives.exists() or list(cache.archives.iterdir()) == []


def test_advertised_but_missing_core_metadata_falls_back_to_ranges(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(FOO)
    index_server.configure(serve_metadata=False)
    assert fetch_metadata(listed(index_server, FOO), client, cache).name == "foo"
    kinds = [(r.kind, r.status) for r in index_server.requests]
    assert kinds[0] == ("metadata", 404)
    assert not any(r.fetched_body for r in index_server.requests)


def test_server_without_ranges_gets_one_full_download_kept_for_install(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(FOO)
    index_server.configure(advertise_metadata=False, serve_ranges=False)
    file = listed(index_server, FOO)
    assert fetch_metadata(file, client, cache).name == "foo"
    assert sum(r.fetched_body for r in index_server.requests) == 1
    kept = archive_path(file, cache)
    assert kept.read_bytes() == index_server.files("foo")[0].data


def test_full_download_of_a_tampered_wheel_fails_and_keeps_nothing(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(FOO)
    index_server.configure(advertise_metadata=False, serve_ranges=False)
    index_server.tamper("foo")
    file = listed(index_server, FOO)
    with pytest.raises(HashMismatchError):
        fetch_metadata(file, client, cache)
    assert not archive_path(file, cache).exists()
    assert list(cache.archives.iterdir()) == []


def test_metadata_is_cached_across_runs(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(FOO)
    index_server.configure(advertise_metadata=False)
    file = listed(index_server, FOO)
    fetch_metadata(file, client, cache)
    index_server.clear_requests()
    later = HttpClient(cache=cache, retries=0, env={})
    assert fetch_metadata(file, later, cache).name == "foo"
    assert index_server.requests == []


def test_offline_uses_cached_metadata_and_names_what_is_missing(
    index_server: IndexServer, client: HttpClient, cache: Cache
) -> None:
    index_server.add(FOO, Pkg("other", "1.0"))
    fetch_metadata(listed(index_server, FOO), client, cache)
    offline = HttpClient(cache=cache, offline=True, env={})
    assert fetch_metadata(listed(index_server, FOO), offline, cache).name == "foo"
    with pytest.raises(OfflineError) as caught:
        fetch_metadata(listed(index_server, Pkg("other", "1.0")), offline, cache)
    assert "is not in the cache and the network is off" in caught.value.message


def test_local_wheel_is_read_in_place(tmp_path: Path, client: HttpClient, cache: Cache) -> None:
    path = build_wheel(FOO, "py3-none-any", tmp_path / "wheels")
    file = DistFile(filename=path.name, url=path.as_uri())
    assert fetch_metadata(file, client, cache).name == "foo"
    assert list(cache.metadata.iterdir()) == []


def test_wheel_whose_metadata_names_another_project_is_refused(
    tmp_path: Path, client: HttpClient, cache: Cache
) -> None:
    built = build_wheel(Pkg("bar", "1.0"), "py3-none-any", tmp_path)
    renamed = built.rename(tmp_path / "foo-1.0-py3-none-any.whl")
    with pytest.raises(InvalidMetadata) as caught:
        fetch_metadata(DistFile(filename=renamed.name, url=renamed.as_uri()), client, cache)
    assert "`foo-1.0-py3-none-any.whl` contains metadata for `bar 1.0`" in caught.value.message


def test_sdists_wait_for_the_build_frontend(client: HttpClient, cache: Cache) -> None:
    file = DistFile(filename="foo-1.0.tar.gz", url="https://example.invalid/foo-1.0.tar.gz")
    with pytest.raises(KilnError) as caught:
        fetch_metadata(file, client, cache)
    assert caught.value.message.startswith("`foo-1.0.tar.gz` is a source distribution")
    assert caught.value.hint


class _ServedWhileTheTailFails:
    """Serves `<wheel>.metadata`; every range request fails."""

    def get(self, url: str, **_: Any) -> Response:
        return Response(url, 200, {}, b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n")

    def fetch_range(self, url: str, start: int, end: int | None) -> Response:
        raise NetworkError(f"failed to fetch `{url}`", causes=("503 Service Unavailable",))


def test_a_tail_asked_for_beside_a_served_probe_cannot_fail_the_fetch(cache: Cache) -> None:
    file = DistFile(
        filename="foo-1.0-py3-none-any.whl",
        url="https://files.example/foo-1.0-py3-none-any.whl",
        hashes=Hashes.of({"sha256": "0" * 64}),
        index="https://index.example/simple/",
    )
    client = cast(HttpClient, _ServedWhileTheTailFails())
    metadata = fetch_metadata(file, client, cache, probe=MetadataProbe())
    assert (metadata.name, str(metadata.version)) == ("foo", "1.0")
