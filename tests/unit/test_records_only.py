"""kiln's value classes are `kiln.core.records` records, never stdlib dataclasses.

A dataclass compiles five or six methods as its module is imported (0.7 ms a class on the
development machine; a `kiln sync` defines some seventy); a record compiles one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kiln

SOURCE = Path(kiln.__file__).parent


def _uses_dataclasses(tree: ast.AST) -> list[int]:
    lines: list[int] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Import) and any(a.name == "dataclasses" for a in node.names)) or (
            isinstance(node, ast.ImportFrom) and node.module == "dataclasses"
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_imports_dataclasses() -> None:
    found: list[str] = []
    seen = 0
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text("utf-8")
        seen += text.count("@record")
        found += [f"{path.relative_to(SOURCE)}:{n}" for n in _uses_dataclasses(ast.parse(text))]
    assert seen > 100  # the walk found kiln's records at all
    assert found == []


def test_the_check_sees_each_spelling() -> None:
    tree = ast.parse(
        "import dataclasses\n"
        "from dataclasses import dataclass\n"
        "import os, dataclasses as dc\n"
        "def f():\n    from dataclasses import replace\n"
        "from kiln.core.records import record\n"
    )
    assert _uses_dataclasses(tree) == [1, 2, 3, 5]
