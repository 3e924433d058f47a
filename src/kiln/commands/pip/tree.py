"""`kiln pip tree`: the dependency graph of an environment's installed distributions."""

from __future__ import annotations

from contextlib import suppress

from packaging.utils import NormalizedName, canonicalize_name

from kiln.commands.context import CommandContext
from kiln.commands.pip.target import target_interpreter
from kiln.core.errors import KilnError
from kiln.core.metadata import CoreMetadata
from kiln.core.records import record
from kiln.install.installed import installed_distributions
from kiln.python.interpreter import Interpreter


@record
class PipTreeRequest:
    """The environment and packages `kiln pip tree` shows."""

    python: str | None = None
    system: bool = False
    invert: bool = False
    packages: tuple[str, ...] = ()


@record
class DistGraph:
    """Installed distributions and which of them each one requires (or, inverted, is required by)."""

    interpreter: Interpreter
    labels: dict[NormalizedName, str]  # `requests v2.32.3`
    edges: dict[NormalizedName, tuple[NormalizedName, ...]]  # children sorted by name
    roots: tuple[NormalizedName, ...]
    missing: tuple[str, ...]  # names given to --package that are not installed


def pip_tree(ctx: CommandContext, request: PipTreeRequest) -> DistGraph:
    interpreter = target_interpreter(ctx, request.python, request.system)
    dists = installed_distributions(interpreter.site_packages())
    by_name = {d.name: d for d in dists}
    metadata: dict[NormalizedName, CoreMetadata] = {}
    for dist in dists:
        with suppress(KilnError, OSError):  # a broken neighbour must not hide the rest
            metadata[dist.name] = dist.metadata()
    env = interpreter.environment()
    children: dict[NormalizedName, set[NormalizedName]] = {d.name: set() for d in dists}
    for name, meta in metadata.items():
        for requirement in meta.requires_dist:
            target = by_name.get(canonicalize_name(requirement.name))
            # As uv draws it: only edges the environment honours, to a version that fits.
            if target is None or not env.evaluate(requirement.marker):
                continue
            if requirement.url is None and not requirement.specifier.contains(
                target.version, prereleases=True
            ):
                continue
            if target.name != name:
                children[name].add(target.name)
    if request.invert:
        inverted: dict[NormalizedName, set[NormalizedName]] = {n: set() for n in children}
        for parent, kids in children.items():
            for kid in kids:
                inverted[kid].add(parent)
        children = inverted
    edges = {name: tuple(sorted(kids)) for name, kids in children.items()}
    missing: list[str] = []
    if request.packages:
        wanted = dict.fromkeys(canonicalize_name(p) for p in request.packages)
        missing = [p for p in request.packages if canonicalize_name(p) not in edges]
        roots = tuple(sorted(n for n in wanted if n in edges))
    else:
        roots = graph_roots(edges)
    labels = {d.name: f"{d.display_name} v{d.version}" for d in dists}
    return DistGraph(interpreter, labels, edges, roots, tuple(missing))


def graph_roots(
    edges: dict[NormalizedName, tuple[NormalizedName, ...]],
) -> tuple[NormalizedName, ...]:
    """Nodes nothing points to, once each cycle has lost the edge that closes it.

    Cycles are broken by a depth-first walk in name order, so a ring of packages that nothing
    else requires is still drawn, from its first name.
    """
    kept: dict[NormalizedName, list[NormalizedName]] = {n: [] for n in edges}
    state: dict[NormalizedName, int] = {}  # 1: on the walk's path, 2: done
    for start in sorted(edges):
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(edges[start]))]
        while stack:
            node, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) != 1:
                kept[node].append(child)
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(edges[child])))
    pointed = {child for kids in kept.values() for child in kids}
    return tuple(sorted(n for n in edges if n not in pointed))
