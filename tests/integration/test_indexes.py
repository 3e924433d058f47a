"""Indexes as uv defines them, against the local index server: explicit and pinned indexes,
strategies, credentials, flat indexes, content negotiation, metadata without downloads,
exclude-newer, yanked files, the page cache and offline mode, retries."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import NormalizedName

from kiln.cache.layout import Cache
from kiln.core.environment import Environment
from kiln.index.finder import ACCEPT, IndexFinder, IndexUrl
from kiln.net.client import HttpClient
from kiln.resolve.candidates import table_for
from kiln.resolve.resolver import resolve
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg

PY312 = "3.12"  # a version request: kiln finds the interpreter, as for a user
Kiln = Callable[..., "subprocess.CompletedProcess[str]"]

LINUX_CP312 = Environment(
    markers={
        "implementation_name": "cpython",
        "implementation_version": "3.12.1",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "6.0",
        "platform_system": "Linux",
        "platform_version": "#1",
        "python_full_version": "3.12.1",
        "python_version": "3.12",
        "sys_platform": "linux",
    },
    tags=(
        *cpython_tags((3, 12), ["cp312"], ["manylinux_2_28_x86_64", "linux_x86_64"]),
        *compatible_tags((3, 12), "cp312", ["manylinux_2_28_x86_64", "linux_x86_64"]),
    ),
)


def installed(venv: Path) -> dict[str, str]:
    return installed_versions(venv)


def would_install(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """`name -> version` from the ` + name==version` lines of a run's story."""
    pins: dict[str, str] = {}
    for line in done.stderr.splitlines():
        if line.startswith(" + "):
            name, _, version = line[3:].partition("==")
            pins[name] = version
    return pins


@pytest.fixture
def venv(kiln: Kiln, tmp_path: Path) -> Path:
    path = tmp_path / "venv"
    kiln("venv", str(path), "--python", PY312, check=True)
    return path


# -- explicit and pinned indexes (the seed's S2) -------------------------------------------


def test_s2_torch_from_the_pinned_explicit_index_and_jinja2_from_the_default(
    torch_server: IndexServer, tmp_path: Path
) -> None:
    cache = Cache(tmp_path / "cache")
    client = HttpClient(cache=cache, retries=0, env={})
    indexes = [
        IndexUrl(torch_server.index_url("whl/cpu"), name="pytorch-cpu", explicit=True),
        IndexUrl(torch_server.index_url("pypi"), default=True),
    ]
    finder = IndexFinder(indexes, (), client, cache, pins={NormalizedName("torch"): "pytorch-cpu"})
    # The server is shared by the session: look only at this test's requests.
    start = len(torch_server.requests)
    try:
        resolution = resolve([Requirement("torch")], finder, LINUX_CP312)
    finally:
        finder.close()
    chosen = {c.name: c for c in resolution.candidates}
    assert str(chosen[NormalizedName("torch")].version) == "2.5.1+cpu"
    assert chosen[NormalizedName("torch")].file.index == torch_server.index_url("whl/cpu")
    # The CPU index lists a newer jinja2 (3.1.99): explicit means it serves torch only.
    assert str(chosen[NormalizedName("jinja2")].version) == "3.1.4"
    assert not any(name.startswith("nvidia") for name in chosen)
    cpu_pages = {
        r.path for r in torch_server.requests[start:] if r.index == "whl/cpu" and r.kind == "page"
    }
    assert cpu_pages == {"/whl/cpu/torch/"}


# -- strategies ------------------------------------------------------------------------------


@pytest.fixture
def two_indexes(index_server: IndexServer) -> list[str]:
    """`first` has foo 1.0, the default index a newer foo 2.0: flags for both."""
    index_server.add(Pkg("foo", "1.0"), index="first")
    index_server.add(Pkg("foo", "2.0"))
    return ["--index", f"first={index_server.index_url('first')}", "--default-index",
            index_server.index_url()]  # fmt: skip


def test_first_index_takes_versions_from_the_first_index_that_has_the_project(
    kiln: Kiln, venv: Path, two_indexes: list[str]
) -> None:
    done = kiln(
        "pip", "install", "foo", *two_indexes, "--dry-run", "--python", str(venv), check=True
    )
    assert would_install(done) == {"foo": "1.0"}
    newer = kiln("pip", "install", "foo>=2", *two_indexes, "--dry-run", "--python", str(venv))
    assert newer.returncode == 1
    assert "no version of `foo` matches `foo>=2`" in newer.stderr
    assert "available versions: 1.0" in newer.stderr


def test_unsafe_best_match_takes_the_newest_version_of_any_index(
    kiln: Kiln, venv: Path, two_indexes: list[str]
) -> None:
    done = kiln(
        "pip", "install", "foo", *two_indexes, "--index-strategy", "unsafe-best-match",
        "--dry-run", "--python", str(venv), check=True,
    )  # fmt: skip
    assert would_install(done) == {"foo": "2.0"}


def test_unsafe_first_match_falls_through_when_the_first_index_has_nothing_that_fits(
    kiln: Kiln, venv: Path, two_indexes: list[str]
) -> None:
    done = kiln(
        "pip", "install", "foo>=2", *two_indexes, "--dry-run", "--python", str(venv),
        env={"KILN_INDEX_STRATEGY": "unsafe-first-match"}, check=True,
    )  # fmt: skip
    assert would_install(done) == {"foo": "2.0"}


def test_unsafe_first_match_orders_candidates_index_by_index(
    index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"), Pkg("foo", "1.1"), index="first")
    index_server.add(Pkg("foo", "2.0"), Pkg("foo", "0.9"))
    cache = Cache(tmp_path / "cache")
    client = HttpClient(cache=cache, retries=0, env={})
    indexes = [
        IndexUrl(index_server.index_url(), default=True),
        IndexUrl(index_server.index_url("first")),
    ]
    orders = {}
    for strategy in ("unsafe-first-match", "unsafe-best-match"):
        finder = IndexFinder(indexes, (), client, cache, strategy=strategy)
        table = table_for(NormalizedName("foo"), finder.find(NormalizedName("foo")), LINUX_CP312)
        orders[strategy] = [str(c.version) for c in table.choices]
    assert orders == {
        "unsafe-first-match": ["1.1", "1.0", "2.0", "0.9"],
        "unsafe-best-match": ["2.0", "1.1", "1.0", "0.9"],
    }


def test_unsafe_first_match_prefers_the_first_index_over_a_newer_version_elsewhere(
    kiln: Kiln, venv: Path, two_indexes: list[str]
) -> None:
    done = kiln(
        "pip", "install", "foo", *two_indexes, "--index-strategy", "unsafe-first-match",
        "--dry-run", "--python", str(venv), check=True,
    )  # fmt: skip
    assert would_install(done) == {"foo": "1.0"}


# -- credentials -----------------------------------------------------------------------------


@pytest.fixture
def private(index_server: IndexServer) -> str:
    index_server.add(
        Pkg("secretpkg", "1.0", requires_dist=["dep"]), Pkg("dep", "1.0"), index="private"
    )
    index_server.require_auth("private", "alice", "s3cret")
    return index_server.index_url("private")


def assert_no_secret(done: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in secrets:
        assert secret not in done.stdout and secret not in done.stderr


def test_an_index_that_needs_credentials_fails_clearly_without_them(
    kiln: Kiln, venv: Path, private: str
) -> None:
    done = kiln("pip", "install", "secretpkg", "--index", f"corp={private}", "--python", str(venv))
    assert done.returncode != 0
    assert f"error: index `corp` refused `{private}secretpkg/`" in done.stderr
    assert "caused by: 401 Unauthorized" in done.stderr
    assert "caused by: no credentials were sent" in done.stderr
    assert "KILN_INDEX_CORP_USERNAME" in done.stderr and "Traceback" not in done.stderr
    assert installed(venv) == {}


def test_named_index_credentials_come_from_the_environment_and_stay_secret(
    kiln: Kiln, venv: Path, private: str, tmp_path: Path
) -> None:
    env = {"KILN_INDEX_CORP_USERNAME": "alice", "KILN_INDEX_CORP_PASSWORD": "s3cret"}
    done = kiln(
        "pip", "install", "secretpkg", "--index", f"corp={private}", "--python", str(venv), "-v",
        env=env, check=True,
    )  # fmt: skip
    assert installed(venv) == {"secretpkg": "1.0", "dep": "1.0"}
    assert_no_secret(done, "s3cret")


def test_credentials_in_the_url_work_and_are_never_shown_or_stored(
    kiln: Kiln, venv: Path, private: str, tmp_path: Path
) -> None:
    url = private.replace("://", "://alice:s3cret@")
    cache = tmp_path / "cache"
    done = kiln(
        "pip", "install", "secretpkg", "--index-url", url, "--python", str(venv),
        env={"KILN_CACHE_DIR": str(cache)}, check=True,
    )  # fmt: skip
    assert installed(venv) == {"secretpkg": "1.0", "dep": "1.0"}
    assert_no_secret(done, "s3cret")
    stored = [p for p in cache.rglob("*") if p.is_file() and b"s3cret" in p.read_bytes()]
    assert stored == []
    wrong = kiln(
        "pip", "install", "secretpkg", "--index-url", private.replace("://", "://alice:wr0ng@"),
        "--python", str(venv), "--reinstall", "--no-cache",
    )  # fmt: skip
    assert wrong.returncode != 0
    assert "the credentials sent were rejected" in wrong.stderr
    assert_no_secret(wrong, "wr0ng", "alice")


# -- flat indexes, negotiation, metadata --------------------------------------------------------


def test_find_links_folder_beside_an_index(
    kiln: Kiln, index_server: IndexServer, venv: Path
) -> None:
    index_server.add(Pkg("app", "1.0", requires_dist=["flatdep"]))
    index_server.add(Pkg("flatdep", "0.3"), index="flat")
    done = kiln(
        "pip", "install", "app", "--index-url", index_server.index_url(),
        "--find-links", str(index_server.flat_dir("flat")), "--python", str(venv), check=True,
    )  # fmt: skip
    assert installed(venv) == {"app": "1.0", "flatdep": "0.3"}
    assert "+ flatdep==0.3" in done.stderr


def test_json_where_the_index_speaks_it_and_html_where_it_does_not(
    kiln: Kiln, index_server: IndexServer, venv: Path, tmp_path: Path
) -> None:
    index_server.add(Pkg("app", "1.0", requires_dist=["torchy"]))
    index_server.add(Pkg("torchy", "1.0+cpu"), index="whl/cpu")
    cache = tmp_path / "cache"
    kiln(
        "pip", "install", "app", "--index", index_server.index_url("whl/cpu"),
        "--index-strategy", "unsafe-best-match", "--default-index", index_server.index_url(),
        "--dry-run", "--python", str(venv), env={"KILN_CACHE_DIR": str(cache)}, check=True,
    )  # fmt: skip
    page_requests = [r for r in index_server.requests if r.kind == "page"]
    assert page_requests and {r.headers.get("Accept") for r in page_requests} == {ACCEPT}
    # What each index answered with, as the page cache kept it.
    kinds: dict[str, str] = {}
    for entry in (cache / "http-v1").rglob("*.page"):
        head = json.loads(entry.read_bytes().split(b"\n", 1)[0])
        kinds[head["url"].removeprefix(index_server.url)] = head["headers"]["content-type"]
    assert kinds["/simple/app/"] == "application/vnd.pypi.simple.v1+json"
    assert kinds["/whl/cpu/torchy/"].startswith("text/html")


@pytest.mark.parametrize(
    ("options", "expect"),
    [
        ({}, "metadata"),
        ({"advertise_metadata": False, "serve_metadata": False}, "ranges"),
        ({"advertise_metadata": False, "serve_metadata": False, "serve_ranges": False}, "download"),
    ],
)
def test_metadata_costs_as_little_as_the_index_allows(
    kiln: Kiln, index_server: IndexServer, venv: Path, options: dict[str, bool], expect: str
) -> None:
    index_server.add(Pkg("app", "1.0", requires_dist=["lib>=2"]), Pkg("lib", "2.0"))
    index_server.configure(**options)  # type: ignore[arg-type]
    done = kiln(
        "pip", "install", "app", "--index-url", index_server.index_url(), "--dry-run",
        "--python", str(venv), check=True,
    )  # fmt: skip
    assert would_install(done) == {"app": "1.0", "lib": "2.0"}
    files = [r for r in index_server.requests if r.kind in ("file", "metadata")]
    bodies = sorted(str(r.filename) for r in files if r.fetched_body)
    ranged = {str(r.filename) for r in files if r.range is not None}
    served_metadata = {str(r.filename) for r in files if r.kind == "metadata" and r.status == 200}
    wheels = ["app-1.0-py3-none-any.whl", "lib-2.0-py3-none-any.whl"]
    if expect == "metadata":
        assert served_metadata == {f"{w}.metadata" for w in wheels}
        assert bodies == [] and ranged == set()
    elif expect == "ranges":
        assert ranged == set(wheels) and bodies == []
    else:
        assert bodies == wheels


# -- exclude-newer and yanked files ---------------------------------------------------------------


@pytest.fixture
def dated(index_server: IndexServer) -> str:
    index_server.add(
        Pkg("foo", "1.0", upload_time="2024-01-01T00:00:00Z"),
        Pkg("foo", "2.0", upload_time="2024-07-01T00:00:00Z"),
        Pkg("foo", "2.1", upload_time="2024-08-01T00:00:00Z"),
    )
    return index_server.index_url()


def test_exclude_newer_picks_what_was_newest_on_that_date(
    kiln: Kiln, venv: Path, dated: str
) -> None:
    done = kiln(
        "pip", "install", "foo", "--index-url", dated, "--exclude-newer", "2024-06-01",
        "--dry-run", "--python", str(venv), check=True,
    )  # fmt: skip
    assert would_install(done) == {"foo": "1.0"}
    later = kiln(
        "pip", "install", "foo", "--index-url", dated, "--dry-run", "--python", str(venv),
        env={"KILN_EXCLUDE_NEWER": "2024-07-15T00:00:00Z"}, check=True,
    )  # fmt: skip
    assert would_install(later) == {"foo": "2.0"}


def test_exclude_newer_says_which_versions_it_left_out(kiln: Kiln, venv: Path, dated: str) -> None:
    done = kiln(
        "pip", "install", "foo>=2", "--index-url", dated, "--exclude-newer", "2024-06-01",
        "--dry-run", "--python", str(venv),
    )  # fmt: skip
    assert done.returncode == 1
    assert "error: no version of `foo` matches `foo>=2`" in done.stderr
    assert "caused by: `foo` 2.1 was uploaded after 2024-06-01T23:59:59Z (exclude-newer)" in (
        done.stderr
    )
    assert "caused by: `foo` 2.0 was uploaded after 2024-06-01T23:59:59Z (exclude-newer)" in (
        done.stderr
    )
    assert "hint: move `--exclude-newer`" in done.stderr


def test_exclude_newer_that_leaves_nothing_says_so(kiln: Kiln, venv: Path, dated: str) -> None:
    done = kiln(
        "pip", "install", "foo", "--index-url", dated, "--exclude-newer", "2023-01-01",
        "--dry-run", "--python", str(venv),
    )  # fmt: skip
    assert done.returncode == 1
    assert "error: no version of `foo` was uploaded before 2023-01-01T23:59:59Z" in done.stderr
    assert "caused by: `foo` 1.0 was uploaded after 2023-01-01T23:59:59Z (exclude-newer)" in (
        done.stderr
    )


def test_exclude_newer_leaves_out_files_without_upload_times_and_says_why(
    kiln: Kiln, index_server: IndexServer, venv: Path
) -> None:
    # The PyTorch layout (HTML, like download.pytorch.org) carries no upload times.
    index_server.add(Pkg("torchy", "1.0+cpu"), index="whl/cpu")
    done = kiln(
        "pip", "install", "torchy", "--index-url", index_server.index_url("whl/cpu"),
        "--exclude-newer", "2030-01-01", "--dry-run", "--python", str(venv),
    )  # fmt: skip
    assert done.returncode == 1
    assert "caused by: `torchy` 1.0+cpu has no upload time, so exclude-newer leaves it out" in (
        done.stderr
    )
    assert "hint: the index publishes no upload times" in done.stderr


def test_yanked_versions_only_when_pinned_exactly_and_with_a_warning(
    kiln: Kiln, index_server: IndexServer, venv: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"), Pkg("foo", "2.0", yanked="broken build"))
    url = index_server.index_url()
    plain = kiln("pip", "install", "foo", "--index-url", url, "--dry-run", "--python", str(venv))
    assert would_install(plain) == {"foo": "1.0"}
    assert "warning" not in plain.stderr
    pinned = kiln(
        "pip", "install", "foo==2.0", "--index-url", url, "--python", str(venv), check=True
    )
    assert installed(venv) == {"foo": "2.0"}
    assert "warning: `foo==2.0` is yanked (reason: broken build)" in pinned.stderr


# -- the page cache, --refresh, --offline ------------------------------------------------------------


def test_refresh_revalidates_pages_the_cache_still_calls_fresh(
    kiln: Kiln, index_server: IndexServer, venv: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    index_server.configure(cache_control="max-age=600")
    args = ("pip", "install", "foo", "--index-url", index_server.index_url(), "--dry-run",
            "--python", str(venv))  # fmt: skip
    kiln(*args, check=True)
    index_server.clear_requests()
    kiln(*args, check=True)
    assert [r for r in index_server.requests if r.kind == "page"] == []
    kiln(*args, "--refresh", check=True)
    assert [r.status for r in index_server.requests if r.kind == "page"] == [304]


def test_offline_installs_from_a_warm_cache_and_fails_clearly_on_a_cold_one(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(Pkg("app", "1.0", requires_dist=["lib"]), Pkg("lib", "1.0"))
    url = index_server.index_url()
    first, second = tmp_path / "first", tmp_path / "second"
    for path in (first, second):
        kiln("venv", str(path), "--python", PY312, check=True)
    kiln("pip", "install", "app", "--index-url", url, "--python", str(first), check=True)
    index_server.clear_requests()
    kiln("pip", "install", "app", "--index-url", url, "--python", str(second), "--offline",
         check=True)  # fmt: skip
    assert installed(second) == {"app": "1.0", "lib": "1.0"}
    assert index_server.requests == []
    cold = kiln(
        "pip", "install", "app", "--index-url", url, "--python", str(second), "--offline",
        "--reinstall", env={"KILN_CACHE_DIR": str(tmp_path / "cold")},
    )  # fmt: skip
    assert cold.returncode != 0
    assert "error: `app` is not in the cache for index" in cold.stderr
    assert "the network is off" in cold.stderr and "without --offline" in cold.stderr
    assert index_server.requests == []


# -- retries ----------------------------------------------------------------------------------------


def test_failures_are_retried_until_the_index_answers(
    kiln: Kiln, index_server: IndexServer, venv: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    index_server.fail_next(2)
    kiln("pip", "install", "foo", "--index-url", index_server.index_url(), "--python", str(venv),
         check=True)  # fmt: skip
    assert installed(venv) == {"foo": "1.0"}
    assert [r.status for r in index_server.requests[:3]] == [503, 503, 200]


def test_retries_run_out_with_a_message_that_says_what_was_tried(
    kiln: Kiln, index_server: IndexServer, venv: Path
) -> None:
    index_server.add(Pkg("foo", "1.0"))
    index_server.fail_next(10)
    done = kiln(
        "pip", "install", "foo", "--index-url", index_server.index_url(), "--python", str(venv),
        env={"KILN_HTTP_RETRIES": "1"},
    )  # fmt: skip
    assert done.returncode != 0
    assert f"error: failed to fetch `{index_server.index_url()}foo/`" in done.stderr
    assert "caused by: 503 Service Unavailable (2 attempts)" in done.stderr
    assert len(index_server.requests) == 2
