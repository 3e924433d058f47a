from __future__ import annotations

import threading
from typing import Any, Literal

import pytest
from packaging.utils import canonicalize_name

from kiln.cache.layout import Cache
from kiln.core.dist import Candidate
from kiln.core.errors import InstallError
from kiln.install.executor import InstallReport, execute
from kiln.install.installed import find_installed, installed_distributions
from kiln.install.installer import InstallOptions
from kiln.install.plan import InstallPlan, plan_install
from kiln.install.preparer import prepare

from .conftest import Venv, WheelFactory
from .fakes import FakeDownloader, RecordingReporter, candidate


def sync(
    venv: Venv,
    cache: Cache,
    downloader: FakeDownloader,
    wanted: list[Candidate],
    *,
    exact: bool = False,
) -> tuple[InstallPlan, InstallReport]:
    plan = plan_install(wanted, installed_distributions([venv.scheme.purelib]), cache, exact=exact)
    unpacked = prepare(plan.to_install, downloader, cache, RecordingReporter())
    requested = frozenset({wanted[0].name})
    return plan, execute(
        plan,
        unpacked,
        venv.scheme,
        InstallOptions(venv.python),
        requested=requested,
        direct_urls={canonicalize_name("app"): {"url": "file:///src/app.whl", "archive_info": {}}},
    )


def test_upgrade_replaces_the_old_version_and_exact_sync_drops_strays(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    app1 = wheel_factory("app", "1.0", files={"app/__init__.py": "V = 1\n", "app/old_only.py": ""})
    lib = wheel_factory("lib", "1.0", files={"lib/__init__.py": ""})
    stray = wheel_factory("stray", "1.0", files={"stray/__init__.py": ""})
    app2 = wheel_factory("app", "2.0", files={"app/__init__.py": "V = 2\n"})
    downloader = FakeDownloader([app1, lib, stray, app2])

    _, report = sync(venv, cache, downloader, [candidate(app1), candidate(lib), candidate(stray)])
    assert {c.name for c in report.installed} == {"app", "lib", "stray"}
    first_app = find_installed([venv.scheme.purelib], "app")
    assert first_app is not None and first_app.requested and first_app.url == "file:///src/app.whl"
    lib_dist = find_installed([venv.scheme.purelib], "lib")
    assert lib_dist is not None and not lib_dist.requested

    plan, report = sync(venv, cache, downloader, [candidate(app2), candidate(lib)], exact=True)
    assert [d.name for d in plan.unchanged] == ["lib"]
    assert {(d.name, str(d.version)) for d in report.removed} == {("app", "1.0"), ("stray", "1.0")}
    assert [(d.name, str(d.version)) for d in installed_distributions([venv.scheme.purelib])] == [
        ("app", "2.0"),
        ("lib", "1.0"),
    ]
    assert not (venv.scheme.purelib / "app" / "old_only.py").exists()
    assert not (venv.scheme.purelib / "stray").exists()
    assert venv.run("-c", "import app; print(app.V)").stdout.strip() == "2"


def _installing_threads(
    venv: Venv,
    cache: Cache,
    wheel_factory: WheelFactory,
    monkeypatch: pytest.MonkeyPatch,
    link_mode: Literal["hardlink", "copy"],
) -> set[str]:
    """The threads that installed three wheels, with two cores to use."""
    from kiln.install import executor

    wheels = [wheel_factory(f"pkg{i}", files={f"pkg{i}/__init__.py": ""}) for i in range(3)]
    plan = plan_install([candidate(w) for w in wheels], [], cache)
    unpacked = prepare(plan.to_install, FakeDownloader(wheels), cache, RecordingReporter())
    threads: set[str] = set()
    install_wheel = executor.install_wheel

    def recorded(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return install_wheel(*args, **kwargs)

    monkeypatch.setattr(executor, "install_wheel", recorded)
    monkeypatch.setattr(executor.os, "cpu_count", lambda: 2)
    options = InstallOptions(venv.python, link_mode=link_mode)
    report = execute(plan, unpacked, venv.scheme, options, requested=frozenset())
    assert len(report.installed) == 3
    return threads


def test_hard_links_into_the_caches_file_system_are_made_from_one_thread(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _installing_threads(venv, cache, wheel_factory, monkeypatch, "hardlink")
    assert threads == {threading.current_thread().name}


@pytest.mark.parametrize("case", ["copy", "other file system"])
def test_copies_are_made_from_one_thread_per_core(
    venv: Venv,
    cache: Cache,
    wheel_factory: WheelFactory,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    from kiln.install import executor

    if case == "other file system":
        real = executor._device
        monkeypatch.setattr(
            executor, "_device", lambda path: -1 if path == venv.scheme.purelib else real(path)
        )
    mode: Literal["hardlink", "copy"] = "copy" if case == "copy" else "hardlink"
    threads = _installing_threads(venv, cache, wheel_factory, monkeypatch, mode)
    assert threading.current_thread().name not in threads
    assert all(name.startswith("install") for name in threads)


def _paced_install(
    venv: Venv,
    cache: Cache,
    wheel_factory: WheelFactory,
    monkeypatch: pytest.MonkeyPatch,
    *,
    slow: bool,
    failing: str | None = None,
) -> tuple[set[str], list[str]]:
    """Install six hard-linked wheels with two cores; the threads that installed them and the
    wheels installed, with creating files timed as ``slow`` or not."""
    from kiln.install import executor

    wheels = [
        wheel_factory(f"pkg{i}", files={f"pkg{i}/__init__.py": "", f"pkg{i}/sub/m.py": ""})
        for i in range(6)
    ]
    plan = plan_install([candidate(w) for w in wheels], [], cache)
    unpacked = prepare(plan.to_install, FakeDownloader(wheels), cache, RecordingReporter())
    threads: set[str] = set()
    names: list[str] = []
    install_wheel = executor.install_wheel

    def recorded(folder: Any, *args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        if failing is not None and folder == unpacked[canonicalize_name(failing)]:
            raise InstallError(f"{failing} failed")
        dist = install_wheel(folder, *args, **kwargs)
        names.append(str(dist.name))
        return dist

    monkeypatch.setattr(executor, "install_wheel", recorded)
    monkeypatch.setattr(executor.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(executor, "_PACE_AFTER", 1)
    monkeypatch.setattr(executor, "_SLOW_ENTRY_S", 0.0 if slow else 3600.0)
    execute(plan, unpacked, venv.scheme, InstallOptions(venv.python), requested=frozenset())
    return threads, names


def test_hard_links_are_joined_by_a_thread_per_spare_core_once_creating_files_is_slow(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads, names = _paced_install(venv, cache, wheel_factory, monkeypatch, slow=True)
    assert threads == {threading.current_thread().name, "install-0"}
    assert sorted(names) == [f"pkg{i}" for i in range(6)]
    assert all((venv.scheme.purelib / f"pkg{i}" / "sub" / "m.py").is_file() for i in range(6))


def test_hard_links_stay_on_one_thread_while_creating_files_is_quick(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads, names = _paced_install(venv, cache, wheel_factory, monkeypatch, slow=False)
    assert threads == {threading.current_thread().name}
    assert len(names) == 6


@pytest.mark.parametrize("slow", [True, False])
def test_a_failed_wheel_stops_the_paced_install_and_is_raised(
    venv: Venv,
    cache: Cache,
    wheel_factory: WheelFactory,
    monkeypatch: pytest.MonkeyPatch,
    slow: bool,
) -> None:
    with pytest.raises(InstallError, match="pkg3 failed"):
        _paced_install(venv, cache, wheel_factory, monkeypatch, slow=slow, failing="pkg3")
    # Every helper was joined before the error came out: nothing installs behind it.
    assert not [t for t in threading.enumerate() if t.name.startswith("install-")]
    # The wheels installed before the failure are taken out again: the step is undone.
    assert installed_distributions([venv.scheme.purelib]) == []
    assert not [p.name for p in venv.scheme.purelib.iterdir() if p.name.startswith("pkg")]


def test_a_full_disk_while_installing_is_an_install_error_naming_the_wheel(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import kiln.install.executor as executor

    lib = wheel_factory("lib", "1.0", files={"lib/__init__.py": ""})

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/venv/lib/__init__.py")

    monkeypatch.setattr(executor, "install_wheel", full)
    with pytest.raises(InstallError) as caught:
        sync(venv, cache, FakeDownloader([lib]), [candidate(lib)])
    text = caught.value.render()
    assert "cannot install lib" in text and "/venv/lib/__init__.py" in text
    assert "No space left on device" in text and "run the command again" in text


def _tree(folder: Any) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def test_a_disk_filling_up_mid_upgrade_leaves_the_environment_as_it_was(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import kiln.install.destination as destination
    import kiln.install.uninstall as uninstall

    old = [
        wheel_factory("app", "1.0", files={"app/__init__.py": "V = 1\n", "app/sub/old.py": ""}),
        wheel_factory("lib", "1.0", files={"lib/__init__.py": "V = 1\n"}),
    ]
    new = [
        wheel_factory("app", "2.0", files={"app/__init__.py": "V = 2\n", "app/sub/new.py": ""}),
        wheel_factory("lib", "2.0", files={f"lib/m{i}.py": "" for i in range(10)}),
    ]
    downloader = FakeDownloader([*old, *new])
    sync(venv, cache, downloader, [candidate(w) for w in old])
    before = _tree(venv.scheme.purelib)
    plan = plan_install(
        [candidate(w) for w in new], installed_distributions([venv.scheme.purelib]), cache
    )
    unpacked = prepare(plan.to_install, downloader, cache, RecordingReporter())

    made = 0
    real_link = destination.os.link

    def link(source: str, target: str) -> None:
        nonlocal made
        made += 1
        if made > 8:  # app 2.0 in whole, lib 2.0 in part
            raise OSError(errno.ENOSPC, "No space left on device", target)
        real_link(source, target)

    def copy(source: str, target: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", target)

    real_scratch = uninstall.scratch_dir

    def scratch(prefix: str, folder: str) -> str:
        if made > 8:  # the disk is full: no new folder fits
            raise OSError(errno.ENOSPC, "No space left on device", folder)
        return real_scratch(prefix, folder)

    monkeypatch.setattr(destination.os, "link", link)
    monkeypatch.setattr(destination, "_copy", copy)  # a failed link falls back to a copy
    monkeypatch.setattr(uninstall, "scratch_dir", scratch)
    with pytest.raises(InstallError) as caught:
        execute(plan, unpacked, venv.scheme, InstallOptions(venv.python), requested=frozenset())
    assert made > 8, "the failure was not reached"
    text = caught.value.render()
    assert "No space left on device" in text
    assert "the environment was left as it was before this command" in text
    # Both packages are 1.0 again, byte for byte, RECORDs included; nothing of 2.0, no
    # stash and no mark is left.
    assert _tree(venv.scheme.purelib) == before


def test_ctrl_c_mid_upgrade_is_undone_too(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiln.install.executor as executor

    old = wheel_factory("lib", "1.0", files={"lib/__init__.py": "V = 1\n"})
    new = wheel_factory("lib", "2.0", files={"lib/__init__.py": "V = 2\n"})
    downloader = FakeDownloader([old, new])
    sync(venv, cache, downloader, [candidate(old)])
    before = _tree(venv.scheme.purelib)
    real = executor.install_wheel

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(executor, "install_wheel", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sync(venv, cache, downloader, [candidate(new)])
    assert _tree(venv.scheme.purelib) == before


def test_an_upgrade_that_cannot_be_undone_says_the_next_sync_completes_it(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import kiln.install.destination as destination
    import kiln.install.uninstall as uninstall

    old = wheel_factory("lib", "1.0", files={"lib/__init__.py": "V = 1\n"})
    new = wheel_factory("lib", "2.0", files={"lib/__init__.py": "V = 2\n", "lib/m.py": ""})
    downloader = FakeDownloader([old, new])
    sync(venv, cache, downloader, [candidate(old)])

    def full(source: str, target: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", target)

    def stuck(self: Any) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(destination.os, "link", full)
    monkeypatch.setattr(destination, "_copy", full)
    monkeypatch.setattr(uninstall.Stashed, "restore", stuck)
    with pytest.raises(InstallError) as caught:
        sync(venv, cache, downloader, [candidate(new)])
    text = caught.value.render()
    assert "it completes the install" in text and "left as it was" not in text

    monkeypatch.undo()
    sync(venv, cache, downloader, [candidate(new)])
    assert (venv.scheme.purelib / "lib" / "__init__.py").read_text() == "V = 2\n"
    done = find_installed([venv.scheme.purelib], "lib")
    assert done is not None and str(done.version) == "2.0" and not done.incomplete


def test_a_damaged_cached_wheel_is_refused_before_anything_is_removed(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    old = wheel_factory("lib", "1.0", files={"lib/__init__.py": "V = 1\n"})
    new = wheel_factory("lib", "2.0", files={"lib/__init__.py": "V = 2\n"})
    downloader = FakeDownloader([old, new])
    sync(venv, cache, downloader, [candidate(old)])
    wanted = [candidate(new)]
    plan = plan_install(wanted, installed_distributions([venv.scheme.purelib]), cache)
    unpacked = prepare(plan.to_install, downloader, cache, RecordingReporter())
    (unpacked[canonicalize_name("lib")] / "lib-2.0.dist-info" / "RECORD").write_bytes(b"")
    with pytest.raises(InstallError) as caught:
        execute(plan, unpacked, venv.scheme, InstallOptions(venv.python), requested=frozenset())
    text = caught.value.render()
    assert "the cached copy of `lib==2.0` is damaged" in text
    assert "kiln cache clean lib" in text
    kept = find_installed([venv.scheme.purelib], "lib")
    assert kept is not None and str(kept.version) == "1.0"
    assert (venv.scheme.purelib / "lib" / "__init__.py").read_text() == "V = 1\n"
