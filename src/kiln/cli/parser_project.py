"""Project verbs on the command line (`lock`, and the rest of uv's project verbs as they come)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from kiln.cli.parser_build import add_isolation_options
from kiln.cli.parser_resolver import add_resolver_options

_BACKEND_HELP = (
    "the PyTorch build: `auto` (by this machine's GPU), `cpu`, `cu126`, `rocm6.3`, `xpu`, … "
    "(env: KILN_TORCH_BACKEND)"
)


def _add_torch_backend(parser: argparse.ArgumentParser, help_text: str = _BACKEND_HELP) -> None:
    parser.add_argument("--torch-backend", metavar="BACKEND", help=help_text)


def add_project_verbs(
    verbs: argparse._SubParsersAction,  # type: ignore[type-arg]
    add_global: Callable[[argparse.ArgumentParser], None],
    add_index: Callable[[argparse.ArgumentParser], None],
) -> None:
    lock = verbs.add_parser("lock", help="resolve the project into pylock.toml for every platform")
    lock.add_argument(
        "--project",
        "--directory",
        dest="project",
        metavar="DIR",
        help="the project (default: found from the current folder upwards)",
    )
    lock.add_argument(
        "--check",
        "--locked",
        dest="check",
        action="store_true",
        help="fail if the lock is missing or out of date; change nothing",
    )
    lock.add_argument(
        "-U", "--upgrade", action="store_true", help="ignore the versions already locked"
    )
    lock.add_argument("-P", "--upgrade-package", action="append", default=[], metavar="NAME")
    lock.add_argument(
        "-p",
        "--python",
        metavar="PYTHON",
        help="the interpreter for discovery and builds (the lock still serves every Python)",
    )
    lock.add_argument(
        "--fork-strategy",
        choices=["requires-python", "fewest"],
        help="newest versions for each Python (default), or the fewest versions overall",
    )
    _add_torch_backend(
        lock,
        "the PyTorch builds the lock carries: `auto` (every backend a machine could use), "
        "or backends separated by commas (env: KILN_TORCH_BACKEND)",
    )
    add_resolver_options(lock, pip=False)
    add_index(lock)
    add_isolation_options(lock)
    add_global(lock)

    sync = verbs.add_parser("sync", help="make .venv match the lock for this machine")
    sync.add_argument("--project", "--directory", dest="project", metavar="DIR")
    sync.add_argument("--extra", action="append", default=[], metavar="EXTRA")
    sync.add_argument("--all-extras", action="store_true")
    sync.add_argument("--group", action="append", default=[], metavar="GROUP")
    sync.add_argument("--only-group", action="append", default=[], metavar="GROUP")
    sync.add_argument("--no-dev", action="store_true")
    sync.add_argument("--no-default-groups", action="store_true")
    sync.add_argument("--inexact", action="store_true", help="keep packages the lock does not list")
    sync.add_argument("--locked", action="store_true", help="fail if the lock is out of date")
    sync.add_argument("--frozen", action="store_true", help="install the lock as it is")
    sync.add_argument("--dry-run", action="store_true")
    sync.add_argument("-p", "--python", metavar="PYTHON")
    sync.add_argument(
        "--no-install-project", action="store_true", help="install the dependencies only"
    )
    sync.add_argument(
        "--no-editable", action="store_true", help="install the project as a regular wheel"
    )
    _add_torch_backend(sync)
    add_index(sync)
    add_isolation_options(sync)
    add_global(sync)

    init = verbs.add_parser("init", help="create a new project")
    init.add_argument("path", nargs="?", metavar="PATH", help="where (default: the current folder)")
    init.add_argument(
        "-p",
        "--python",
        metavar="PYTHON",
        help="the interpreter whose version the project requires (default: the first found)",
    )
    kind = init.add_mutually_exclusive_group()
    kind.add_argument(
        "--app",
        dest="kind",
        action="store_const",
        const="app",
        help="an application with a main.py (the default)",
    )
    kind.add_argument(
        "--lib", dest="kind", action="store_const", const="lib", help="a library in src/"
    )
    kind.add_argument(
        "--package",
        dest="kind",
        action="store_const",
        const="package",
        help="an application packaged in src/, with a script entry",
    )
    init.set_defaults(kind="app")
    init.add_argument("--name", metavar="NAME", help="the package name (default: the folder's)")
    init.add_argument("--no-readme", action="store_true", help="write no README.md")
    init.add_argument(
        "--vcs",
        choices=["git", "none"],
        default=None,
        help="initialize a git repository (default: git, unless already inside one)",
    )
    add_global(init)

    for verb, what in (
        ("add", "add dependencies to the project"),
        ("remove", "remove dependencies"),
    ):
        edit = verbs.add_parser(verb, help=what)
        edit.add_argument("packages", nargs="*", metavar="PACKAGE")
        edit.add_argument("--project", "--directory", dest="project", metavar="DIR")
        edit.add_argument("--optional", dest="extra", metavar="EXTRA", help="an optional extra")
        edit.add_argument("--group", metavar="GROUP", help="a dependency group (PEP 735)")
        edit.add_argument("--dev", action="store_true", help="the `dev` group")
        edit.add_argument("--frozen", action="store_true", help="edit pyproject.toml only")
        edit.add_argument("--no-sync", action="store_true", help="lock, but leave .venv alone")
        edit.add_argument("-p", "--python", metavar="PYTHON")
        _add_torch_backend(edit)
        if verb == "add":
            edit.add_argument(
                "--marker",
                "-m",
                metavar="MARKER",
                help="where the new requirement (and its source) applies",
            )
            edit.add_argument(
                "--raw",
                "--raw-sources",
                dest="raw",
                action="store_true",
                help="write the requirement as given, without a lower bound",
            )
            edit.add_argument(
                "--editable", action="store_true", help="install a path source editable"
            )
            revision = edit.add_mutually_exclusive_group()
            revision.add_argument("--rev", metavar="REV", help="the git commit or ref to use")
            revision.add_argument("--tag", metavar="TAG", help="the git tag to use")
            revision.add_argument("--branch", metavar="BRANCH", help="the git branch to use")
        add_index(edit)
        add_isolation_options(edit)
        add_global(edit)

    run = verbs.add_parser("run", help="run a command in the project's environment")
    run.add_argument("--project", "--directory", dest="project", metavar="DIR")
    run.add_argument("--extra", action="append", default=[], metavar="EXTRA")
    run.add_argument("--group", action="append", default=[], metavar="GROUP")
    run.add_argument("--frozen", action="store_true", help="use the lock as it is")
    run.add_argument(
        "--no-sync", action="store_true", help="run in `.venv` as it is, without locking or syncing"
    )
    run.add_argument(
        "--with",
        dest="with_",
        action="append",
        default=[],
        metavar="PKG",
        help="also make PKG available for this run only",
    )
    run.add_argument("-p", "--python", metavar="PYTHON")
    _add_torch_backend(run)
    add_index(run)
    add_isolation_options(run)
    add_global(run)
    run.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND")

    tree = verbs.add_parser("tree", help="show the project's dependency tree from the lock")
    tree.add_argument("--project", "--directory", dest="project", metavar="DIR")
    tree.add_argument("--universal", action="store_true", help="every platform, not just this one")
    tree.add_argument("--depth", "-d", type=int, default=None, metavar="N")
    tree.add_argument("--invert", action="store_true", help="show what depends on each package")
    tree.add_argument("--package", action="append", default=[], metavar="NAME")
    tree.add_argument("--extra", action="append", default=[], metavar="EXTRA")
    tree.add_argument("--group", action="append", default=[], metavar="GROUP")
    tree.add_argument("--frozen", action="store_true", help="read the lock as it is")
    tree.add_argument("-p", "--python", metavar="PYTHON")
    add_index(tree)
    add_global(tree)

    export = verbs.add_parser("export", help="write the lock in another format")
    export.add_argument("--project", "--directory", dest="project", metavar="DIR")
    export.add_argument(
        "--format",
        dest="format",
        default="requirements.txt",
        choices=["requirements.txt", "pylock.toml"],
    )
    export.add_argument("-o", "--output-file", dest="output", metavar="FILE")
    export.add_argument("--extra", action="append", default=[], metavar="EXTRA")
    export.add_argument("--all-extras", action="store_true")
    export.add_argument("--group", action="append", default=[], metavar="GROUP")
    export.add_argument("--no-hashes", action="store_true")
    export.add_argument("--frozen", action="store_true", help="read the lock as it is")
    export.add_argument(
        "-p", "--python", metavar="PYTHON", help="the interpreter for discovery and builds"
    )
    add_index(export)
    add_global(export)
