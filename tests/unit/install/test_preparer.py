from __future__ import annotations

import re
import threading

import pytest

from kiln.cache.layout import Cache
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
