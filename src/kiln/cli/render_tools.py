"""Output of `kiln python …`, `kiln cache …`, `kiln pip check` and `kiln pip tree`, in uv's words."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cli.console import Console, elapsed, plural
from kiln.commands.context import CommandContext

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from kiln.commands.cache_verbs import CacheResult
    from kiln.commands.pip.tree import DistGraph


def run_python(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    verb = {"list": python_list, "find": python_find, "pin": python_pin}[args.python_verb]
    return verb(ctx, args, console)


def python_list(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.python.find import installation_key, python_list

    rows = [(installation_key(i), _shown_path(i.executable)) for i in python_list(ctx)]
    width = max((len(key) for key, _ in rows), default=0) + 4
    for key, path in rows:
        console.out(f"{key:<{width}}{path}")
    return 0


def _shown_path(executable: Path) -> str:
    if executable.is_symlink():
        return f"{executable} -> {os.readlink(executable)}"
    return str(executable)


def python_find(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.python.find import PythonFindRequest, python_find

    found = python_find(
        ctx,
        PythonFindRequest(
            cwd=Path.cwd(), request=args.request, system=args.system, no_project=args.no_project
        ),
    )
    for warning in found.warnings:
        console.warn(warning)
    interpreter = found.interpreter
    console.out(interpreter.version_str if args.show_version else str(interpreter.executable))
    return 0


def python_pin(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.python.pin import PythonPinRequest, python_pin

    result = python_pin(
        ctx,
        PythonPinRequest(
            cwd=Path.cwd(), request=args.request, resolved=args.resolved, no_project=args.no_project
        ),
    )
    for warning in result.warnings:
        console.warn(warning)
    if not result.written:
        console.out(result.new)
    elif result.old is None or result.old == result.new:
        console.out(f"Pinned `{result.path.name}` to `{result.new}`")
    else:
        console.out(f"Updated `{result.path.name}` from `{result.old}` -> `{result.new}`")
    return 0


def run_cache(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands import cache_verbs

    if args.cache_verb == "dir":
        console.out(str(cache_verbs.cache_dir(ctx)))
        return 0
    if args.cache_verb == "prune":
        return _removed(console, cache_verbs.cache_prune(ctx), "Pruning", "No unused entries found")
    request = cache_verbs.CacheCleanRequest(packages=tuple(args.packages))
    result = cache_verbs.cache_clean(ctx, request)
    return _removed(
        console, result, None if args.packages else "Clearing", "No cache entries found"
    )


def _removed(console: Console, result: CacheResult, doing: str | None, nothing: str) -> int:
    if not result.exists:
        console.info(f"No cache found at: {result.root}")
        return 0
    if doing is not None:
        console.info(f"{doing} cache at: {result.root}")
    removal = result.removal
    for path in removal.paths:
        console.debug(f"removed {path}")
    if removal.files == 0 and removal.dirs == 0:
        console.info(nothing)
    elif removal.files == 0:
        noun = "directory" if removal.dirs == 1 else "directories"
        console.info(f"Removed {removal.dirs} {noun} (0B)")
    else:
        console.info(f"Removed {plural(removal.files, 'file')} ({human_bytes(removal.bytes)})")
    return 0


def human_bytes(size: int) -> str:
    """``28.0KiB``, ``2.9MiB``: as uv prints sizes."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size}B" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def run_pip_tool(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    return {"check": pip_check, "tree": pip_tree}[args.pip_verb](ctx, args, console)


def pip_check(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.pip.check import PipCheckRequest, pip_check

    result = pip_check(ctx, PipCheckRequest(python=args.python, system=args.system))
    interpreter = result.interpreter
    console.info(f"Using Python {interpreter.version_str} environment at: {interpreter.prefix}")
    for name in result.unreadable:
        console.warn(f"the metadata of `{name}` cannot be read; it was not checked")
    console.info(f"Checked {plural(result.checked, 'package')} in {elapsed(result.seconds)}")
    if not result.problems:
        console.info("All installed packages are compatible")
        return 0
    count = len(result.problems)
    console.info(f"Found {count} {'incompatibility' if count == 1 else 'incompatibilities'}")
    for p in result.problems:
        if p.python:
            console.info(
                f"The package `{p.package}` requires Python {p.requirement}, "
                f"but `{p.installed}` is installed"
            )
        elif p.installed is None:
            console.info(
                f"The package `{p.package}` requires `{p.requirement}`, but it's not installed"
            )
        else:
            console.info(
                f"The package `{p.package}` requires `{p.requirement}`, "
                f"but `{p.installed}` is installed"
            )
    return 1


def pip_tree(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.pip.tree import PipTreeRequest, pip_tree

    graph = pip_tree(
        ctx,
        PipTreeRequest(
            python=args.python,
            system=args.system,
            invert=args.invert,
            packages=tuple(args.packages),
        ),
    )
    interpreter = graph.interpreter
    console.info(f"Using Python {interpreter.version_str} environment at: {interpreter.prefix}")
    for name in graph.missing:
        console.warn(f"package `{name}` is not installed")
    for line in tree_lines(graph, depth=args.depth, dedupe=not args.no_dedupe):
        console.out(line)
    return 0


def tree_lines(graph: DistGraph, *, depth: int | None, dedupe: bool) -> list[str]:
    """The graph drawn from its roots with uv's `├── ` / `└── ` and `(*)` marks."""
    lines: list[str] = []
    shown: set[NormalizedName] = set()
    marks = {"repeated": False, "cycle": False}

    def draw(
        name: NormalizedName, first: str, rest: str, level: int, path: tuple[NormalizedName, ...]
    ) -> None:
        label = first + graph.labels[name]
        kids = graph.edges[name]
        repeated = dedupe and name in shown and bool(kids)
        cycle = name in path and bool(kids)
        if repeated or cycle:
            marks["repeated" if repeated else "cycle"] = True
            lines.append(f"{label} (*)")
            return
        lines.append(label)
        shown.add(name)
        if depth is not None and level >= depth:
            return
        for i, kid in enumerate(kids):
            last = i == len(kids) - 1
            draw(
                kid,
                rest + ("└── " if last else "├── "),
                rest + ("    " if last else "│   "),
                level + 1,
                (*path, name),
            )

    for root in graph.roots:
        draw(root, "", "", 0, ())
    if marks["repeated"]:
        lines.append("(*) Package tree already displayed")
    elif marks["cycle"]:
        lines.append("(*) Package tree is a cycle and cannot be shown")
    return lines
