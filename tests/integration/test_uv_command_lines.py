"""The uv command lines that scripts and CI jobs copy from uv's docs, typed with `kiln` instead.

Each line runs in a fresh project as a job would: from the project folder, with the index in
the environment rather than on the command line, so the words after `kiln` are exactly what
a uv user writes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.backends import src_backend
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions, python_of
from tests.support.wheels import Pkg

PACKAGES = [
    Pkg("alpha", "1.0", requires_dist=["beta"]),
    Pkg("beta", "1.0"),
    Pkg("gamma", "1.0"),
    Pkg("devtool", "1.0"),
    Pkg("docsgen", "1.0"),
    Pkg("addme", "1.0"),
    Pkg("devadd", "1.0"),
    Pkg("docadd", "1.0"),
    Pkg("optadd", "1.0"),
    Pkg("pipme", "1.0"),
]

PYPROJECT = """[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["alpha"]

[project.optional-dependencies]
fast = ["gamma"]

[dependency-groups]
dev = ["devtool"]
docs = ["docsgen"]

[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""

# A stdlib-only backend, so building the project needs nothing from the index; the project
# being a real package is what lets `--no-install-project` and `--only-group` be told apart.
BACKEND = src_backend("app", "0.1.0")

PROJECT_DEPS = {"alpha", "beta"}

Done = subprocess.CompletedProcess[str]


@dataclass
class Project:
    root: Path
    cache: Path
    index: str
    runner: Callable[..., Done]

    def kiln(self, *args: str, check: bool = True) -> Done:
        # A cache folder of the test's own naming, so `cache dir` has a known answer.
        env = {"KILN_DEFAULT_INDEX": self.index, "KILN_CACHE_DIR": str(self.cache)}
        return self.runner(*args, cwd=self.root, env=env, check=check)

    @property
    def lock(self) -> Path:
        return self.root / "pylock.toml"

    @property
    def pyproject(self) -> str:
        return (self.root / "pyproject.toml").read_text()

    def installed(self) -> set[str]:
        return set(installed_versions(self.root / ".venv"))

    def python_version(self) -> str:
        done = subprocess.run(
            [str(python_of(self.root / ".venv")), "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()


@pytest.fixture
def project(kiln, index_server: IndexServer, tmp_path: Path) -> Project:  # type: ignore[no-untyped-def]
    index_server.add(*PACKAGES)
    root = tmp_path / "app"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "backend.py").write_text(BACKEND)
    (root / "pyproject.toml").write_text(PYPROJECT)
    return Project(root, tmp_path / "cache", index_server.index_url(), kiln)


def _lock(p: Project) -> None:
    p.kiln("lock")


def _sync(p: Project) -> None:
    p.kiln("sync")


def _venv(p: Project) -> None:
    p.kiln("venv")


def _venv_with_pipme(p: Project) -> None:
    p.kiln("venv")
    p.kiln("pip", "install", "pipme")


def _lock_then_edit(p: Project) -> None:
    # A lock that no longer matches pyproject.toml, which only `--frozen` may install as is.
    p.kiln("lock")
    (p.root / "pyproject.toml").write_text(p.pyproject.replace('["alpha"]', '["alpha", "gamma"]'))


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]
    check: Callable[[Project, Done], None]
    before: Callable[[Project], None] | None = None
    lock_unchanged: bool = False
    known_gap: str | None = None

    @property
    def id(self) -> str:
        return " ".join(self.argv)


def _locked(p: Project, done: Done) -> None:
    assert p.lock.is_file()


def _lock_is_current(p: Project, done: Done) -> None:
    assert "up to date" in done.stderr


def _default_sync(p: Project, done: Done) -> None:
    assert p.installed() == PROJECT_DEPS | {"app", "devtool"}, "dev is a default group"


def _no_dev(p: Project, done: Done) -> None:
    assert p.installed() == PROJECT_DEPS | {"app"}


def _with_extra(p: Project, done: Done) -> None:
    assert p.installed() == PROJECT_DEPS | {"app", "devtool", "gamma"}


def _with_docs(p: Project, done: Done) -> None:
    assert p.installed() == PROJECT_DEPS | {"app", "devtool", "docsgen"}


def _only_docs(p: Project, done: Done) -> None:
    assert p.installed() == {"docsgen"}, "neither the project, its dependencies nor dev"


def _no_project(p: Project, done: Done) -> None:
    assert p.installed() == PROJECT_DEPS | {"devtool"}


def _quiet_no_op(p: Project, done: Done) -> None:
    assert done.stderr == "" and done.stdout == ""


def _frozen_sync(p: Project, done: Done) -> None:
    assert "gamma" not in p.installed(), "installed the lock, not the edited pyproject.toml"


def _python_312(p: Project, done: Done) -> None:
    assert p.python_version() == "(3, 12)"


def _ran(p: Project, done: Done) -> None:
    assert done.stdout.strip() == "1.0"


def _added(array: str, name: str) -> Callable[[Project, Done], None]:
    def check(p: Project, done: Done) -> None:
        text = p.pyproject
        assert f'"{name}>=1.0"' in text[text.index(f"{array} = [") :].split("]", 1)[0]
        assert f'name = "{name}"' in p.lock.read_text()

    return check


def _added_and_installed(p: Project, done: Done) -> None:
    _added("dependencies", "addme")(p, done)
    assert "addme" in p.installed()


def _removed(p: Project, done: Done) -> None:
    assert '"alpha"' not in p.pyproject
    assert not {"alpha", "beta"} & p.installed(), "alpha and what only it needed are gone"


def _tree(p: Project, done: Done) -> None:
    assert done.stdout.splitlines()[0] == "app v0.1.0"
    assert "alpha v1.0" in done.stdout and "beta v1.0" in done.stdout


def _shallow_tree(p: Project, done: Done) -> None:
    assert "alpha v1.0" in done.stdout and "beta" not in done.stdout


def _requirements(p: Project, done: Done) -> None:
    assert "alpha==1.0" in done.stdout and "beta==1.0" in done.stdout
    assert "--hash=sha256:" in done.stdout


def _requirements_without_hashes(p: Project, done: Done) -> None:
    assert "alpha==1.0" in done.stdout and "--hash" not in done.stdout


def _venv_made(p: Project, done: Done) -> None:
    assert python_of(p.root / ".venv").is_file()
    assert p.installed() == set(), "a new environment holds nothing"


def _pip_installed(p: Project, done: Done) -> None:
    assert p.installed() == {"pipme"}


def _listed(p: Project, done: Done) -> None:
    assert any(line.split()[:2] == ["pipme", "1.0"] for line in done.stdout.splitlines())


def _frozen_list(p: Project, done: Done) -> None:
    assert done.stdout.splitlines() == ["pipme==1.0"]


def _found_python(p: Project, done: Done) -> None:
    found = Path(done.stdout.strip())
    assert found.is_absolute() and found.exists()


def _found_312(p: Project, done: Done) -> None:
    found = subprocess.run(
        [done.stdout.strip(), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "(3, 12)"


def _cache_dir(p: Project, done: Done) -> None:
    assert Path(done.stdout.strip()) == p.cache


CASES = [
    Case(("lock",), _locked),
    Case(("lock", "--locked"), _lock_is_current, before=_lock, lock_unchanged=True),
    Case(("lock", "--python", "3.12"), _locked),
    Case(("sync",), _default_sync),
    Case(("sync", "--locked"), _default_sync, before=_lock, lock_unchanged=True),
    Case(("sync", "--frozen"), _frozen_sync, before=_lock_then_edit, lock_unchanged=True),
    Case(("sync", "--no-dev"), _no_dev),
    Case(("sync", "--all-extras"), _with_extra),
    Case(("sync", "--extra", "fast"), _with_extra),
    Case(("sync", "--group", "docs"), _with_docs),
    Case(("sync", "--only-group", "docs"), _only_docs),
    Case(("sync", "--no-install-project"), _no_project),
    Case(("sync", "-q"), _quiet_no_op, before=_sync, lock_unchanged=True),
    Case(("sync", "--python", "3.12"), _python_312),
    Case(("run", "python", "-c", "import alpha; print(alpha.__version__)"), _ran),
    Case(
        ("run", "--frozen", "python", "-c", "import alpha; print(alpha.__version__)"),
        _ran,
        before=_lock,
        lock_unchanged=True,
    ),
    Case(
        ("run", "--no-sync", "python", "-c", "import alpha; print(alpha.__version__)"),
        _ran,
        before=_sync,
        lock_unchanged=True,
    ),
    Case(("add", "addme"), _added_and_installed),
    Case(("add", "--dev", "devadd"), _added("dev", "devadd")),
    Case(("add", "--group", "docs", "docadd"), _added("docs", "docadd")),
    Case(("add", "--optional", "fast", "optadd"), _added("fast", "optadd")),
    Case(("remove", "alpha"), _removed, before=_sync),
    Case(("tree",), _tree),
    Case(("tree", "--depth", "1"), _shallow_tree),
    Case(("export", "--format", "requirements.txt"), _requirements),
    Case(("export", "--no-hashes"), _requirements_without_hashes),
    Case(("export", "--python", "3.12"), _requirements),
    Case(("venv",), _venv_made),
    Case(("venv", "--python", "3.12"), _python_312),
    Case(("pip", "install", "pipme"), _pip_installed, before=_venv),
    Case(("pip", "list"), _listed, before=_venv_with_pipme),
    Case(("pip", "freeze"), _frozen_list, before=_venv_with_pipme),
    Case(("python", "find"), _found_python),
    Case(("python", "find", "3.12"), _found_312),
    Case(("cache", "dir"), _cache_dir),
]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(reason=case.known_gap, strict=True)] if case.known_gap else [],
        )
        for case in CASES
    ],
)
def test_uv_command_line(project: Project, case: Case) -> None:
    if case.before is not None:
        case.before(project)
    lock = project.lock.read_bytes() if case.lock_unchanged else None
    done = project.kiln(*case.argv)
    case.check(project, done)
    if lock is not None:
        assert project.lock.read_bytes() == lock, "pylock.toml was rewritten"


def test_export_resolves_with_the_python_it_is_given(project: Project) -> None:
    done = project.kiln("export", "--python", "3.1", check=False)
    assert done.returncode != 0 and "3.1" in done.stderr
    assert not project.lock.exists()
