from __future__ import annotations

from packaging.utils import canonicalize_name

from kiln.cache.layout import Cache
from kiln.core.dist import Candidate
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
