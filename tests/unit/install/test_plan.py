from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.cache.layout import Cache
from kiln.install.installed import InstalledDist
from kiln.install.plan import plan_install
from kiln.install.wheel_cache import unpack_wheel

from .conftest import WheelFactory
from .fakes import candidate


def installed(name: str, version: str, url: str | None = None) -> InstalledDist:
    return InstalledDist(
        name=canonicalize_name(name),
        display_name=name,
        version=Version(version),
        dist_info=Path(f"/site/{name}-{version}.dist-info"),
        installer="kiln",
        requested=True,
        direct_url={"url": url, "archive_info": {}} if url else None,
    )


def test_plan_sorts_wanted_into_cached_remote_reinstall_and_unchanged(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    in_cache = wheel_factory("incache", "1.0")
    unpack_wheel(in_cache.path, in_cache.sha256, cache)
    fresh = wheel_factory("fresh", "1.0")
    upgrade = wheel_factory("upgrade", "2.0")
    same = wheel_factory("same", "1.0")
    no_hash = wheel_factory("nohash", "1.0")
    unpack_wheel(no_hash.path, no_hash.sha256, cache)  # cached, but the index gave no sha256

    plan = plan_install(
        [
            candidate(in_cache),
            candidate(fresh),
            candidate(upgrade),
            candidate(same),
            candidate(no_hash, with_hash=False),
        ],
        [installed("upgrade", "1.0"), installed("same", "1.0"), installed("leftover", "3.0")],
        cache,
    )
    assert [p.candidate.name for p in plan.cached] == ["incache"]
    assert plan.cached[0].cached == cache.wheels / in_cache.sha256
    assert [p.candidate.name for p in plan.remote] == ["fresh", "upgrade", "nohash"]
    assert all(p.cached is None for p in plan.remote)
    assert [(d.name, str(d.version)) for d in plan.reinstalls] == [("upgrade", "1.0")]
    assert [d.name for d in plan.unchanged] == ["same"]
    assert plan.extraneous == ()  # not exact: leftovers stay


def test_exact_plan_removes_unwanted_but_keeps_the_tooling(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wanted = wheel_factory("wanted", "1.0")
    plan = plan_install(
        [candidate(wanted)],
        [
            installed("wanted", "1.0"),
            installed("stray", "1.0"),
            installed("pip", "24.0"),
            installed("setuptools", "70.0"),
        ],
        cache,
        exact=True,
    )
    assert [d.name for d in plan.extraneous] == ["stray"]
    assert [d.name for d in plan.unchanged] == ["wanted"]
    assert plan.is_empty is False
    kept_nothing = plan_install([], [installed("pip", "24.0")], cache, exact=True, keep=frozenset())
    assert [d.name for d in kept_nothing.extraneous] == ["pip"]


def test_reinstall_forces_even_matching_versions(wheel_factory: WheelFactory, cache: Cache) -> None:
    same = wheel_factory("same", "1.0")
    plan = plan_install([candidate(same)], [installed("same", "1.0")], cache, reinstall=True)
    assert [d.name for d in plan.reinstalls] == ["same"]
    assert [p.candidate.name for p in plan.remote] == ["same"]
    assert plan.unchanged == ()


def test_url_install_is_unchanged_only_for_the_same_url(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheel = wheel_factory("direct", "1.0")
    url = "https://files.test/direct-1.0-py3-none-any.whl"
    same_url = plan_install(
        [candidate(wheel, url=url + "#sha256=x")], [installed("direct", "1.0", url)], cache
    )
    assert [d.name for d in same_url.unchanged] == ["direct"]
    assert same_url.is_empty
    other = plan_install(
        [candidate(wheel, url="https://elsewhere.test/direct-1.0-py3-none-any.whl")],
        [installed("direct", "1.0", url)],
        cache,
    )
    assert [d.name for d in other.reinstalls] == ["direct"]


def test_same_project_with_other_extras_is_planned_once(
    wheel_factory: WheelFactory, cache: Cache
) -> None:
    wheel = wheel_factory("extra", "1.0")
    base = candidate(wheel)
    from kiln.core.records import replace

    plan = plan_install([base, replace(base, extras=frozenset({"cli"}))], [], cache)
    assert [p.candidate.name for p in plan.remote] == ["extra"]
