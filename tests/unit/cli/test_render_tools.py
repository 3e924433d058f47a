"""How `kiln pip tree` draws a graph and how cache sizes read, without an environment."""

from __future__ import annotations

from typing import Any

from packaging.utils import NormalizedName

from kiln.cli.render_tools import human_bytes, tree_lines
from kiln.commands.pip.tree import DistGraph, graph_roots


def _graph(edges: dict[str, tuple[str, ...]], roots: tuple[str, ...] | None = None) -> DistGraph:
    typed: dict[NormalizedName, tuple[NormalizedName, ...]] = {
        NormalizedName(k): tuple(NormalizedName(v) for v in vs) for k, vs in edges.items()
    }
    interpreter: Any = None
    return DistGraph(
        interpreter=interpreter,
        labels={name: f"{name} v1" for name in typed},
        edges=typed,
        roots=graph_roots(typed) if roots is None else tuple(NormalizedName(r) for r in roots),
        missing=(),
    )


def test_sizes_read_as_uv_prints_them() -> None:
    assert human_bytes(0) == "0B"
    assert human_bytes(1023) == "1023B"
    assert human_bytes(28 * 1024) == "28.0KiB"
    assert human_bytes(3_000_000) == "2.9MiB"
    assert human_bytes(5 * 1024**4) == "5120.0GiB"


def test_a_ring_nothing_requires_is_drawn_from_its_first_name() -> None:
    graph = _graph({"x": ("y",), "y": ("x",), "z": ()})
    assert graph.roots == ("x", "z")
    assert tree_lines(graph, depth=None, dedupe=True) == [
        "x v1",
        "└── y v1",
        "    └── x v1 (*)",
        "z v1",
        "(*) Package tree already displayed",
    ]
    assert tree_lines(graph, depth=None, dedupe=False)[-1] == (
        "(*) Package tree is a cycle and cannot be shown"
    )


def test_a_shared_subtree_is_marked_once_shown_even_past_the_depth_limit() -> None:
    graph = _graph({"r1": ("m",), "r2": ("m",), "m": ("d",), "d": ()})
    assert tree_lines(graph, depth=1, dedupe=True) == [
        "r1 v1",
        "└── m v1",
        "r2 v1",
        "└── m v1 (*)",
        "(*) Package tree already displayed",
    ]
    assert tree_lines(graph, depth=None, dedupe=False) == [
        "r1 v1",
        "└── m v1",
        "    └── d v1",
        "r2 v1",
        "└── m v1",
        "    └── d v1",
    ]


def test_a_repeated_leaf_carries_no_mark() -> None:
    graph = _graph({"top": ("a", "b"), "a": ("b",), "b": ()})
    assert tree_lines(graph, depth=None, dedupe=True) == [
        "top v1",
        "├── a v1",
        "│   └── b v1",
        "└── b v1",
    ]
