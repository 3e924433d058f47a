"""`kiln python …`, `kiln cache …`, `kiln pip check` and `kiln pip tree` on the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    _Verbs = argparse._SubParsersAction[argparse.ArgumentParser]
    _AddGlobal = Callable[[argparse.ArgumentParser], None]


def add_python_verbs(verbs: _Verbs, add_global: _AddGlobal) -> None:
    python = verbs.add_parser(
        "python",
        help="list, find and pin Python interpreters (kiln finds them; it does not download them)",
    )
    python_verbs = python.add_subparsers(dest="python_verb", metavar="COMMAND", required=True)

    what = (
        "list the interpreters found on PATH and in pyenv's versions, newest first "
        "(as `uv python list --only-installed`: kiln has no Python downloads to offer)"
    )
    list_ = python_verbs.add_parser("list", help=what, description=what)
    list_.add_argument(
        "--only-installed", action="store_true", help="accepted for uv compatibility: the default"
    )
    add_global(list_)

    find = python_verbs.add_parser(
        "find",
        help="print the interpreter kiln would use: for REQUEST, else the `.python-version` "
        "here or above, else the project's requires-python",
    )
    find.add_argument("request", nargs="?", metavar="REQUEST", help="e.g. 3.12, >=3.11, a path")
    find.add_argument("--system", action="store_true", help="skip virtual environments")
    find.add_argument(
        "--no-project", action="store_true", help="ignore `.python-version` and the project"
    )
    find.add_argument(
        "--show-version", action="store_true", help="print its version instead of its path"
    )
    add_global(find)

    pin = python_verbs.add_parser(
        "pin", help="write REQUEST to `.python-version` here; without it, print the current pin"
    )
    pin.add_argument("request", nargs="?", metavar="REQUEST", help="e.g. 3.12, >=3.11, a path")
    pin.add_argument(
        "--resolved", action="store_true", help="write the matching interpreter's path instead"
    )
    pin.add_argument(
        "--no-project",
        action="store_true",
        help="do not check the pin against the project's requires-python",
    )
    add_global(pin)


def add_cache_verbs(verbs: _Verbs, add_global: _AddGlobal) -> None:
    cache = verbs.add_parser("cache", help="show or clear kiln's cache")
    cache_verbs = cache.add_subparsers(dest="cache_verb", metavar="COMMAND", required=True)
    add_global(cache_verbs.add_parser("dir", help="print the cache folder"))
    clean = cache_verbs.add_parser(
        "clean", help="remove the whole cache, or only the entries of the named packages"
    )
    clean.add_argument("packages", nargs="*", metavar="PACKAGE")
    add_global(clean)
    add_global(
        cache_verbs.add_parser(
            "prune",
            help="remove what nothing can use any more: abandoned scratch folders, partial "
            "downloads, old layouts, archives already unpacked",
        )
    )


def add_pip_tool_verbs(
    pip_verbs: _Verbs,
    add_global: _AddGlobal,
    add_python: Callable[[argparse.ArgumentParser, str], None],
) -> None:
    check = pip_verbs.add_parser(
        "check", help="verify that installed packages have compatible dependencies"
    )
    check.add_argument("--system", action="store_true")
    add_python(check, "to check")
    add_global(check)

    tree = pip_verbs.add_parser("tree", help="show the dependency tree of installed packages")
    tree.add_argument("-d", "--depth", type=int, default=None, metavar="N", help="at most N levels")
    tree.add_argument(
        "--invert", "--reverse", action="store_true", help="show what requires each package"
    )
    tree.add_argument(
        "--package",
        dest="packages",
        action="append",
        default=[],
        metavar="NAME",
        help="only the tree of this package (repeatable)",
    )
    tree.add_argument(
        "--no-dedupe", action="store_true", help="repeat subtrees that were already shown"
    )
    tree.add_argument("--system", action="store_true")
    add_python(tree, "to read")
    add_global(tree)
