"""`kiln build` on the command line, with uv's flags."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_build_verb(
    verbs: argparse._SubParsersAction,  # type: ignore[type-arg]
    add_global: Callable[[argparse.ArgumentParser], None],
    add_index: Callable[[argparse.ArgumentParser], None],
) -> None:
    build = verbs.add_parser(
        "build", help="build a project's source distribution and wheel into dist/"
    )
    build.add_argument(
        "src",
        nargs="?",
        metavar="PATH",
        help="the project folder (default: the current folder), or a source distribution "
        "to build a wheel of",
    )
    build.add_argument(
        "--sdist", action="store_true", help="build a source distribution of the folder"
    )
    build.add_argument("--wheel", action="store_true", help="build a wheel")
    build.add_argument(
        "-o",
        "--out-dir",
        metavar="DIR",
        help="where to write (default: PATH/dist, or the source distribution's folder)",
    )
    build.add_argument(
        "-p", "--python", metavar="PYTHON", help="the interpreter to build for and with"
    )
    build.add_argument(
        "--no-build-isolation",
        action="store_true",
        help="build in the interpreter's own environment, installing no build requirements",
    )
    build.add_argument(
        "-C",
        "--config-setting",
        "--config-settings",
        dest="config_settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting passed to the build backend (PEP 517 `config_settings`)",
    )
    add_index(build)
    add_global(build)


def add_isolation_options(parser: argparse.ArgumentParser) -> None:
    """How the verbs that may build (an sdist, a source tree) build it, as uv spells it."""
    group = parser.add_argument_group("build options")
    group.add_argument(
        "--no-build-isolation",
        action="store_true",
        help="build in the target environment, with the build requirements already "
        "installed there (KILN_NO_BUILD_ISOLATION)",
    )
    group.add_argument(
        "--no-build-isolation-package",
        action="append",
        default=[],
        metavar="PKG",
        help="build this package without isolation (KILN_NO_BUILD_ISOLATION_PACKAGE)",
    )
