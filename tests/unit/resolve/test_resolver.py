from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.dist import DistFile
from kiln.core.environment import Environment
from kiln.core.errors import NotFoundError, ResolutionError
from kiln.core.metadata import CoreMetadata
from kiln.resolve.provider import KilnProvider, Req
from kiln.resolve.resolver import resolve

from .fake_finder import FakeFinder


def linux_env(python: str = "3.12.1") -> Environment:
    markers = dict(default_environment())
    markers.update(
        python_version=".".join(python.split(".")[:2]),
        python_full_version=python,
        sys_platform="linux",
        platform_system="Linux",
        platform_machine="x86_64",
        implementation_name="cpython",
    )
    cp = "cp" + "".join(python.split(".")[:2])
    tags: list[Tag] = []
    for spec in (
        f"{cp}-{cp}-manylinux_2_28_x86_64",
        f"{cp}-{cp}-linux_x86_64",
        f"{cp}-abi3-manylinux_2_28_x86_64",
        f"{cp}-none-any",
        "py3-none-any",
    ):
        tags.extend(parse_tag(spec))
    return Environment(markers, tuple(tags))


def pins(resolution) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.name: str(c.version) for c in resolution.candidates}


def test_picks_newest_versions_and_follows_dependencies() -> None:
    f = FakeFinder()
    f.add("a", "1.0", ["b>=1"])
    f.add("a", "2.0", ["b>=2"])
    f.add("b", "1.5")
    f.add("b", "2.1")
    assert pins(resolve([Requirement("a")], f, linux_env())) == {"a": "2.0", "b": "2.1"}


def test_backtracks_when_newest_conflicts() -> None:
    f = FakeFinder()
    f.add("a", "1.0", ["c<2"])
    f.add("a", "2.0", ["c>=3"])
    f.add("c", "1.0")
    f.add("c", "3.0")
    assert pins(resolve([Requirement("a"), Requirement("c<2")], f, linux_env())) == {
        "a": "1.0",
        "c": "1.0",
    }


def test_plain_specifiers_admit_local_version_builds() -> None:
    f = FakeFinder()
    f.add("torch", "2.5.1+cpu", tags=["cp312-cp312-linux_x86_64"])
    assert pins(resolve([Requirement("torch==2.5.1")], f, linux_env())) == {"torch": "2.5.1+cpu"}
    assert pins(resolve([Requirement("torch>=2.5.1")], f, linux_env())) == {"torch": "2.5.1+cpu"}
    with pytest.raises(ResolutionError):
        resolve([Requirement("torch==2.5.1+cu124")], f, linux_env())


def test_markers_of_dependencies_are_evaluated_for_the_target() -> None:
    f = FakeFinder()
    f.add("a", "1.0", ["win-only; sys_platform == 'win32'", "lin-only; sys_platform == 'linux'"])
    f.add("lin-only", "1.0")
    assert pins(resolve([Requirement("a")], f, linux_env())) == {"a": "1.0", "lin-only": "1.0"}


def test_extras_pull_their_dependencies_at_the_same_version() -> None:
    f = FakeFinder()
    f.add("a", "1.0", extras={"fast": ["speedups"]})
    f.add("a", "2.0", extras={"fast": ["speedups"]})
    f.add("speedups", "0.1")
    assert pins(resolve([Requirement("a[fast]"), Requirement("a<2")], f, linux_env())) == {
        "a": "1.0",
        "speedups": "0.1",
    }


def test_yanked_versions_are_skipped_unless_pinned() -> None:
    f = FakeFinder()
    f.add("a", "1.0")
    f.add("a", "1.1", yanked="broken")
    assert pins(resolve([Requirement("a")], f, linux_env())) == {"a": "1.0"}
    result = resolve([Requirement("a==1.1")], f, linux_env())
    assert pins(result) == {"a": "1.1"}
    assert [str(c) for c in result.yanked] == ["a==1.1"]


def test_unknown_package_names_it_and_the_index() -> None:
    with pytest.raises(NotFoundError) as info:
        resolve([Requirement("nope")], FakeFinder(), linux_env())
    text = info.value.render()
    assert "`nope` was not found" in text
    assert "example.invalid" in text


def test_no_matching_version_lists_available_ones() -> None:
    f = FakeFinder()
    f.add("a", "1.0")
    f.add("a", "1.1")
    with pytest.raises(ResolutionError) as info:
        resolve([Requirement("a>=5")], f, linux_env())
    text = info.value.render()
    assert "no version of `a` matches `a>=5`" in text
    assert "1.1, 1.0" in text


def test_missing_wheel_for_interpreter_names_python_and_existing_tags() -> None:
    f = FakeFinder()
    for tag in ("cp312-cp312-manylinux_2_28_x86_64", "cp312-cp312-win_amd64"):
        f.add("torch", "2.5.1", tags=[tag])
    with pytest.raises(ResolutionError) as info:
        resolve([Requirement("torch")], f, linux_env("3.13.0"))
    text = info.value.render()
    assert "CPython 3.13 on linux x86_64" in text
    assert "cp312-manylinux_2_28_x86_64" in text and "cp312-win_amd64" in text
    assert text.count("hint:") == 1


def test_requires_python_in_metadata_backtracks_to_an_older_release() -> None:
    f = FakeFinder()
    f.add("a", "1.0")
    f.add("a", "2.0")
    # the index did not publish Requires-Python; only the metadata has it
    f.meta[f.files["a"][1].url] = type(f.meta[f.files["a"][1].url]).parse(
        "Metadata-Version: 2.1\nName: a\nVersion: 2.0\nRequires-Python: >=3.14\n"
    )
    assert pins(resolve([Requirement("a")], f, linux_env())) == {"a": "1.0"}


def test_constraints_narrow_without_adding_requirements() -> None:
    f = FakeFinder()
    f.add("a", "1.0", ["b"])
    f.add("b", "1.0")
    f.add("b", "2.0")
    f.add("unrelated", "1.0")
    result = resolve(
        [Requirement("a")],
        f,
        linux_env(),
        constraints=[Requirement("b<2"), Requirement("unrelated")],
    )
    assert pins(result) == {"a": "1.0", "b": "1.0"}


def test_no_deps_skips_metadata() -> None:
    f = FakeFinder()
    f.add("a", "1.0", ["b"])
    assert pins(resolve([Requirement("a")], f, linux_env(), no_deps=True)) == {"a": "1.0"}
    assert f.metadata_calls == []


def test_best_tag_wins_within_a_version() -> None:
    f = FakeFinder()
    f.add("np", "2.0", tags=["py3-none-any", "cp312-cp312-manylinux_2_28_x86_64"])
    (cand,) = resolve([Requirement("np")], f, linux_env()).candidates
    assert "manylinux" in cand.file.filename


def test_overrides_replace_requirements_wherever_they_come_from() -> None:
    f = FakeFinder()
    f.add("app", "1.0", ["lib<2"])
    f.add("lib", "1.0")
    f.add("lib", "2.0")
    # `lib<2` from app's metadata is replaced: the override wins over a dependency's bound
    result = resolve([Requirement("app")], f, linux_env(), overrides=[Requirement("lib>=2")])
    assert pins(result) == {"app": "1.0", "lib": "2.0"}
    # and over the user's own requirement too
    result = resolve([Requirement("lib==1.0")], f, linux_env(), overrides=[Requirement("lib==2.0")])
    assert pins(result) == {"lib": "2.0"}


def test_reading_ahead_stops_at_the_first_layer_while_the_cache_answers_everything() -> None:
    def chain() -> FakeFinder:
        f = FakeFinder()
        f.add("a", "1.0", ["b"])
        f.add("b", "1.0", ["c"])
        f.add("c", "1.0", ["d"])
        f.add("d", "1.0")
        return f

    cached = chain()
    cached.network = False
    assert pins(resolve([Requirement("a")], cached, linux_env())) == {
        "a": "1.0", "b": "1.0", "c": "1.0", "d": "1.0",
    }  # fmt: skip
    ahead = {name for thread, name in cached.metadata_threads if thread.startswith("kiln-look")}
    # Only the requirement the user named is read ahead; the rest the solver reads itself.
    assert ahead <= {"a-1.0-py3-none-any.whl"}


class _WaitsForLookAhead(FakeFinder):
    """The solver's own request for ``blocks`` waits until a look-ahead thread has asked for
    ``wanted``: a look-ahead that never does makes the test fail, not race."""

    def __init__(self, wanted: str, blocks: str, timeout: float = 5) -> None:
        super().__init__()
        self.wanted = wanted
        self.blocks = blocks
        self.timeout = timeout
        self.read_ahead = threading.Event()

    def metadata(self, file: DistFile) -> CoreMetadata:
        looking_ahead = threading.current_thread().name.startswith("kiln-lookahead")
        if file.filename == self.wanted and looking_ahead:
            self.read_ahead.set()
        if file.filename == self.blocks and not looking_ahead:
            self.read_ahead.wait(timeout=self.timeout)
        return super().metadata(file)


def test_a_project_asked_for_again_within_a_narrower_range_is_read_ahead_again() -> None:
    f = _WaitsForLookAhead("a-1.0-py3-none-any.whl", blocks="a-1.0-py3-none-any.whl")
    f.add("a", "1.0")
    f.add("a", "2.0")
    f.add("b", "1.0", ["a<2"])
    assert pins(resolve([Requirement("a"), Requirement("b")], f, linux_env())) == {
        "a": "1.0", "b": "1.0",
    }  # fmt: skip
    assert f.read_ahead.is_set()


def test_a_project_asked_for_again_with_an_extra_has_the_extras_dependencies_read_ahead() -> None:
    # The solver learns of `x[http]` from y's metadata, so z is read ahead before then only
    # by a look-ahead that followed `x[http]` itself.
    f = _WaitsForLookAhead("z-1.0-py3-none-any.whl", blocks="y-1.0-py3-none-any.whl")
    f.add("x", "1.0", extras={"http": ["z"]})
    f.add("y", "1.0", ["x[http]"])
    f.add("z", "1.0")
    assert pins(resolve([Requirement("x"), Requirement("y")], f, linux_env())) == {
        "x": "1.0", "y": "1.0", "z": "1.0",
    }  # fmt: skip
    assert f.read_ahead.is_set()


def test_reading_ahead_takes_the_version_the_solver_tries_first() -> None:
    f = _WaitsForLookAhead("b-1.0-py3-none-any.whl", blocks="b-1.0-py3-none-any.whl")
    f.add("a", "1.0", ["b"])
    f.add("a", "2.0rc1", ["b"])
    f.add("b", "1.0")
    f.add("b", "2.0")
    f.add("b", "3.0", yanked="broken")
    preferred = {NormalizedName("b"): [Version("1.0")]}
    result = resolve([Requirement("a")], f, linux_env(), preferred=preferred)
    assert pins(result) == {"a": "1.0", "b": "1.0"}
    assert f.read_ahead.is_set()
    # Neither the look-ahead nor the solver read a pre-release a final outranks, a version
    # newer than the preferred one, or a yanked one.
    assert sorted(set(f.metadata_calls)) == ["a-1.0-py3-none-any.whl", "b-1.0-py3-none-any.whl"]


class _Inline(ThreadPoolExecutor):
    """Runs each task as it is submitted: what the look-ahead reads, without a race."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _x_releases() -> tuple[FakeFinder, KilnProvider]:
    f = FakeFinder()
    for major in range(1, 10):
        f.add("x", f"{major}.0")
    return f, KilnProvider(f, linux_env(), lookahead=_Inline(max_workers=1))


def _x(specifier: str) -> Req:
    return Req(NormalizedName("x"), frozenset(), SpecifierSet(specifier), None)


def test_a_project_is_read_ahead_for_a_few_of_its_versions_only() -> None:
    f, provider = _x_releases()
    # As a solver backtracking over nine releases of a parent, each pinning its own x: the
    # pins no longer meet, so each is read alone, up to the limit.
    provider._warm([_x(f"=={n}.0") for n in range(1, 10)])
    assert f.metadata_calls == [f"x-{n}.0-py3-none-any.whl" for n in (1, 2, 3, 4)]
    provider._warm([_x("==1.0")])
    assert len(f.metadata_calls) == 4  # a specifier met before is not read again


def test_a_project_is_read_ahead_within_every_range_met_so_far() -> None:
    f, provider = _x_releases()
    provider._warm([_x(">=3")])
    provider._warm([_x("<6")])
    provider._warm([_x("!=5.0")])  # alone, 9.0 (read already); with the others, 4.0
    assert f.metadata_calls == [f"x-{n}.0-py3-none-any.whl" for n in (9, 5, 4)]


def test_a_shared_look_ahead_pool_outlives_the_solve_and_keeps_none_of_its_queue() -> None:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shared")
    gate = threading.Event()
    busy = pool.submit(gate.wait)  # the only thread, held: look-ahead can only queue
    f = FakeFinder()
    f.add("a", "1.0", ["b"])
    f.add("b", "1.0")
    try:
        assert pins(resolve([Requirement("a")], f, linux_env(), lookahead=pool)) == {
            "a": "1.0",
            "b": "1.0",
        }
        gate.set()
        assert busy.result(timeout=5) is True
        assert pool.submit(lambda: "still open").result(timeout=5) == "still open"
    finally:
        gate.set()
        pool.shutdown(wait=True)
    # What the solve queued was dropped when it ended, not run afterwards.
    assert not [thread for thread, _ in f.metadata_threads if thread.startswith("shared")]


def test_nothing_is_read_ahead_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import kiln.resolve.resolver as resolver_module

    pools: list[str] = []
    monkeypatch.setattr(resolver_module, "started_pool", lambda n, prefix: pools.append(prefix))
    # The solver gives a look-ahead thread time to read `b` before it reads `a` itself.
    f = _WaitsForLookAhead("b-1.0-py3-none-any.whl", "a-1.0-py3-none-any.whl", timeout=0.3)
    f.online = False
    f.add("a", "1.0", ["b"])
    f.add("b", "1.0")
    assert pins(resolve([Requirement("a"), Requirement("b")], f, linux_env())) == {
        "a": "1.0",
        "b": "1.0",
    }
    assert not f.read_ahead.is_set()
    assert {thread for thread, _ in f.metadata_threads} == {threading.current_thread().name}
    assert pools == []  # no threads started for it either


class _HeldOnLookAhead(FakeFinder):
    """A look-ahead thread's read of ``held`` waits for ``release``; the solver's own read
    of it waits until that thread is inside it, so the solve ends with it running."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held = held
        self.entered = threading.Event()
        self.release = threading.Event()

    def metadata(self, file: DistFile) -> CoreMetadata:
        if file.filename == self.held:
            if threading.current_thread().name.startswith("shared"):
                self.entered.set()
                self.release.wait(timeout=5)
            else:
                self.entered.wait(timeout=5)
        return super().metadata(file)


def test_a_read_ahead_still_running_when_its_solve_ends_queues_nothing_more() -> None:
    f = _HeldOnLookAhead("a-1.0-py3-none-any.whl")
    f.add("a", "1.0", ["b"])
    f.add("b", "1.0")
    f.network = False  # the solver's own reads ask for no look-ahead of their own
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shared")
    try:
        assert pins(resolve([Requirement("a")], f, linux_env(), lookahead=pool)) == {
            "a": "1.0",
            "b": "1.0",
        }
        assert f.entered.is_set()
        f.network = True  # what the running read finds next, it would now read ahead
        f.release.set()
        # The first waits out the held read, which queues what it queues before it ends;
        # the second waits out that.
        for _ in range(2):
            pool.submit(lambda: None).result(timeout=5)
    finally:
        f.release.set()
        pool.shutdown(wait=True)
    assert [name for thread, name in f.metadata_threads if thread.startswith("shared")] == [
        "a-1.0-py3-none-any.whl"
    ]


class _Recording(_Inline):
    """Runs each look-ahead task as it is submitted, and keeps the name each was for and
    how many metadata reads the finder had answered before it."""

    def __init__(self, finder: FakeFinder) -> None:
        super().__init__(max_workers=1)
        self.finder = finder
        self.names: list[str] = []
        self.reads_before: list[int] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.names.append(str(args[0].name))
        self.reads_before.append(len(self.finder.metadata_calls))
        return super().submit(fn, *args, **kwargs)


class _NetworkOnFirstMetadata(FakeFinder):
    """A cache with every page fresh but no metadata: the first metadata read is a request."""

    def metadata(self, file: DistFile) -> CoreMetadata:
        self.network = True
        return super().metadata(file)


def _two_roots(f: FakeFinder) -> _Recording:
    f.add("a", "1.0")
    f.add("b", "1.0")
    pool = _Recording(f)
    assert pins(resolve([Requirement("a"), Requirement("b")], f, linux_env(), lookahead=pool)) == {
        "a": "1.0",
        "b": "1.0",
    }
    return pool


def test_roots_the_cache_answers_are_not_read_ahead() -> None:
    f = FakeFinder()
    f.cached, f.network = True, False
    assert _two_roots(f).names == []


def test_roots_are_read_ahead_once_an_answer_needs_the_network() -> None:
    f = _NetworkOnFirstMetadata()
    f.cached, f.network = True, False
    assert sorted(_two_roots(f).names) == ["a", "b"]


def test_roots_are_read_ahead_when_the_network_was_used_before_the_solve() -> None:
    f = FakeFinder()
    f.cached, f.network = True, True  # pages fresh because this run just fetched them
    pool = _two_roots(f)
    assert sorted(pool.names) == ["a", "b"]
    assert pool.reads_before[0] == 0  # before the solver read anything itself


def test_roots_the_cache_lacks_are_read_ahead() -> None:
    f = _WaitsForLookAhead("b-1.0-py3-none-any.whl", "a-1.0-py3-none-any.whl")
    f.add("a", "1.0", ["b"])
    f.add("b", "1.0")
    resolve([Requirement("a"), Requirement("b")], f, linux_env())
    assert f.read_ahead.is_set()
