"""Every dataclass in kiln says what it is in a docstring.

Without one, `dataclasses` writes a docstring from `inspect.signature` as the class is made,
about half a millisecond per class at import; a `kiln sync` imports some seventy of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kiln

SOURCE = Path(kiln.__file__).parent


def _is_dataclass(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "dataclass":
            return True
    return False


def test_every_dataclass_has_a_docstring() -> None:
    missing: list[str] = []
    seen = 0
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef) and _is_dataclass(node):
                seen += 1
                if ast.get_docstring(node) is None:
                    missing.append(f"{path.relative_to(SOURCE)}:{node.lineno} {node.name}")
    assert seen > 100  # the walk found kiln's dataclasses at all
    assert missing == []


def test_the_check_sees_each_spelling() -> None:
    tree = ast.parse(
        "import dataclasses\n"
        "from dataclasses import dataclass\n"
        "@dataclass\nclass A: x: int\n"
        "@dataclass(frozen=True)\nclass B: x: int\n"
        "@dataclasses.dataclass(slots=True)\nclass C: x: int\n"
        "class D: x: int\n"
    )
    found = [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and _is_dataclass(n)]
    assert found == ["A", "B", "C"]
