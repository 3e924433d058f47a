"""The lock's dependency graph drawn as a tree, as `uv tree` draws it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from packaging.utils import NormalizedName

from kiln.lock.model import LockedDirectory, LockedPackage


def graph_of(
    packages: Iterable[LockedPackage],
    directories: Iterable[LockedDirectory] = (),
) -> tuple[dict[NormalizedName, set[NormalizedName]], dict[NormalizedName, str]]:
    """name -> names it depends on (within ``packages``), and name -> version text (for a
    source tree, which has no version in the lock, its path)."""
    chosen: list[LockedPackage | LockedDirectory] = [*packages, *directories]
    present = {p.name for p in chosen}
    edges: dict[NormalizedName, set[NormalizedName]] = defaultdict(set)
    versions: dict[NormalizedName, list[str]] = defaultdict(list)
    for p in chosen:
        shown = f"v{p.version}" if isinstance(p, LockedPackage) else f"({p.path})"
        versions[p.name].append(shown)
        edges[p.name].update(d.name for d in p.dependencies if d.name in present)
    return dict(edges), {n: " | ".join(sorted(set(v))) for n, v in versions.items()}


def draw(
    root_label: str,
    roots: Sequence[NormalizedName],
    edges: Mapping[NormalizedName, set[NormalizedName]],
    versions: Mapping[NormalizedName, str],
    *,
    depth: int | None = None,
    invert: bool = False,
) -> list[str]:
    if invert:
        # Each package that depends on nothing, with what depends on it beneath.
        reverse: dict[NormalizedName, set[NormalizedName]] = defaultdict(set)
        for parent, children in edges.items():
            for child in children:
                reverse[child].add(parent)
        roots = [n for n in sorted(versions) if not edges.get(n)]
        edges = reverse
    lines = [root_label]
    seen: set[NormalizedName] = set()

    def walk(name: NormalizedName, prefix: str, last: bool, level: int) -> None:
        branch = "└── " if last else "├── "
        again = name in seen and bool(edges.get(name))
        lines.append(f"{prefix}{branch}{name} {versions.get(name, 'v?')}{' (*)' if again else ''}")
        if again or (depth is not None and level >= depth):
            return
        seen.add(name)
        children = sorted(edges.get(name, ()))
        for i, child in enumerate(children):
            walk(child, prefix + ("    " if last else "│   "), i == len(children) - 1, level + 1)

    present = [r for r in roots if r in versions]
    for i, name in enumerate(present):
        walk(name, "", i == len(present) - 1, 1)
    return lines
