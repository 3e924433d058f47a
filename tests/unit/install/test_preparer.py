from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from kiln.cache.layout import Cache
from kiln.core.dist import DistFile
from kiln.core.errors import InstallError, NetworkError
from kiln.install.plan import plan_install
from kiln.install.preparer import prepare
from kiln.install.wheel_cache import cached_wheel

from .conftest import Venv, WheelFactory, files_under
from .fakes import FakeDownloader, RecordingReporter, candidate


def test_remote_wheels_download_in_parallel_and_land_unpacked_in_the_cache(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheels = [
        wheel_factory(f"pkg{i}", files={f"pkg{i}/__init__.py": f"I = {i}\n"}) for i in range(4)
    ]
    downloader = FakeDownloader(wheels)
    downloader.barrier = threading.Barrier(4)  # passes only when all four are in flight at once
    reporter = RecordingReporter()
    plan = plan_install([candidate(w) for w in wheels], [], cache)

    unpacked = prepare(plan.remote, downloader, cache, reporter, jobs=4)

    assert downloader.max_in_flight == 4
    assert set(unpacked) == {f"pkg{i}" for i in range(4)}
    for wheel in wheels:
        name = wheel.dist_info.split("-")[0]
        assert unpacked[name] == cached_wheel(wheel.sha256, cache)  # type: ignore[index]
    assert sorted(reporter.started) == [f"pkg{i}==1.0" for i in range(4)]
    assert sorted(reporter.finished) == [f"pkg{i}" for i in range(4)]
    assert reporter.bytes == sum(w.path.stat().st_size for w in wheels)
    assert list(cache.tmpdir().iterdir()) == []  # archives deleted after unpacking


def test_cached_wheels_are_not_downloaded_again(wheel_factory: WheelFactory, cache: Cache) -> None:
    wheel = wheel_factory("demo", files={"demo/__init__.py": ""})
    downloader = FakeDownloader([wheel])
    first = prepare(
        plan_install([candidate(wheel)], [], cache).remote, downloader, cache, RecordingReporter()
    )
    plan = plan_install([candidate(wheel)], [], cache)
    assert plan.remote == () and len(plan.cached) == 1
    again = prepare(plan.cached, downloader, cache, RecordingReporter())
    assert again == first
    assert downloader.calls == [wheel.path.name]


def test_failed_download_leaves_the_environment_and_cache_untouched(
    wheel_factory: WheelFactory, cache: Cache, venv: Venv
) -> None:
    good = [wheel_factory(f"ok{i}", files={f"ok{i}/__init__.py": ""}) for i in range(3)]
    bad = wheel_factory("broken", files={"broken/__init__.py": ""})
    downloader = FakeDownloader([*good, bad])
    downloader.failing.add(bad.path.name)
    before = files_under(venv.root)
    plan = plan_install([candidate(w) for w in [*good, bad]], [], cache)

    with pytest.raises(NetworkError, match=re.escape("cannot fetch `broken-1.0")):
        prepare(plan.remote, downloader, cache, RecordingReporter(), jobs=2)

    assert files_under(venv.root) == before
    assert cached_wheel(bad.sha256, cache) is None
    assert list(cache.tmpdir().iterdir()) == []


def test_corrupt_download_is_reported_and_not_cached(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheel = wheel_factory(
        "demo", files={"demo/__init__.py": ""}, extra_members={"../escape.py": ""}
    )
    with pytest.raises(InstallError, match="unsafe path"):
        prepare(
            plan_install([candidate(wheel)], [], cache).remote,
            FakeDownloader([wheel]),
            cache,
            RecordingReporter(),
        )
    assert cached_wheel(wheel.sha256, cache) is None


def test_source_distributions_are_refused_before_any_download(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    from kiln.core.records import replace

    wheel = wheel_factory("demo")
    sdist = candidate(wheel)
    sdist = replace(sdist, file=replace(sdist.file, filename="demo-1.0.tar.gz"))
    downloader = FakeDownloader([wheel])
    with pytest.raises(InstallError, match="not a wheel"):
        prepare(plan_install([sdist], [], cache).remote, downloader, cache, RecordingReporter())
    assert downloader.calls == []


def test_the_largest_wheels_are_fetched_first_and_unpacked_first(
    wheel_factory: WheelFactory, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiln.core.records import replace
    from kiln.install import preparer

    sizes = {"small": 1_000, "large": 9_000, "medium": 5_000, "tiny": 10}
    wheels = [wheel_factory(name, files={f"{name}/__init__.py": ""}) for name in sizes]
    candidates = [
        replace(c, file=replace(c.file, size=sizes[str(c.name)]))
        for c in (candidate(w) for w in wheels)
    ]
    plan = plan_install(candidates, [], cache)

    # One fetch at a time: the order they are asked for is the order they are fetched in.
    downloader = FakeDownloader(wheels)
    prepare(plan.remote, downloader, cache, RecordingReporter(), jobs=1)
    assert [c.split("-")[0] for c in downloader.calls] == ["large", "medium", "small", "tiny"]

    # All fetched at once, the smallest done first; one unpacker, held on its first wheel
    # until every fetch is done: the rest are unpacked largest first, not as they came.
    for wheel in wheels:
        folder = cached_wheel(wheel.sha256, cache)
        assert folder is not None
        shutil.rmtree(folder)
    plan = plan_install(candidates, [], cache)
    fetched: dict[str, threading.Event] = {name: threading.Event() for name in sizes}
    all_fetched = threading.Event()

    class SmallestFirst(FakeDownloader):
        def download(self, file: DistFile, dest: Path, progress: Any = None) -> str:
            name = file.filename.split("-")[0]
            smaller = [n for n, size in sizes.items() if size < sizes[name]]
            assert all(fetched[n].wait(10) for n in smaller)
            digest = super().download(file, dest, progress)
            fetched[name].set()
            return digest

    # The held unpack goes on once every fetched wheel waits to be unpacked.
    pushed: list[str] = []
    push = preparer._Largest.push

    def counted(self: Any, planned: Any, *args: Any) -> None:
        push(self, planned, *args)
        pushed.append(str(planned.candidate.name))
        if len(pushed) == len(sizes):
            all_fetched.set()

    monkeypatch.setattr(preparer._Largest, "push", counted)

    unpacked_order: list[str] = []
    unpack = preparer._unpack

    def held(planned: Any, *args: Any) -> Any:
        assert all_fetched.wait(10)
        unpacked_order.append(str(planned.candidate.name))
        return unpack(planned, *args)

    monkeypatch.setattr(preparer, "_unpack", held)
    monkeypatch.setattr(preparer.os, "cpu_count", lambda: 1)
    prepare(plan.remote, SmallestFirst(wheels), cache, RecordingReporter(), jobs=4)
    # Which wheel the unpacker took first depends on when its thread woke (two fetches may
    # finish before the first push); every one after it was chosen from a full queue.
    rest = unpacked_order[1:]
    assert sorted(unpacked_order) == sorted(sizes)
    assert rest == sorted(rest, key=sizes.__getitem__, reverse=True)
