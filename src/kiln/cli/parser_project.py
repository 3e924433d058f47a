"""Project verbs on the command line (`lock`, and the rest of uv's project verbs as they come)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_project_verbs(
    verbs: argparse._SubParsersAction,  # type: ignore[type-arg]
    add_global: Callable[[argparse.ArgumentParser], None],
    add_index: Callable[[argparse.ArgumentParser], None],
) -> None:
    lock = verbs.add_parser("lock", help="resolve the project into pylock.toml for every platform")
    lock.add_argument("--project", "--directory", dest="project", metavar="DIR",
                      help="the project (default: found from the current folder upwards)")
    lock.add_argument("--check", "--locked", dest="check", action="store_true",
                      help="fail if the lock is missing or out of date; change nothing")
    lock.add_argument("-U", "--upgrade", action="store_true", help="ignore the versions already locked")
    lock.add_argument("-P", "--upgrade-package", action="append", default=[], metavar="NAME")
    add_index(lock)
    add_global(lock)
