"""Layout of the TOML that kiln writes into a user's file, with tomlkit, as uv lays it out.

Tables are found or made along a dotted path; arrays kiln grows are spread one entry per line
with a trailing comma unless they already spanned lines (then tomlkit keeps their indentation
and comments); new entries go to their sorted place when the list was sorted.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import tomlkit
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.items import Array, InlineTable, Item, Table
from tomlkit.toml_document import TOMLDocument

from kiln.core.errors import KilnError

TABLES = (Table, InlineTable, OutOfOrderTableProxy)


class PyprojectEditError(KilnError):
    """`pyproject.toml` cannot take the edit asked for: a malformed table, a bad name."""


def malformed(where: str, expected: str) -> PyprojectEditError:
    return PyprojectEditError(
        f"`{where}` in `pyproject.toml` is not {expected}",
        hint=f"fix `{where}` by hand; kiln edits only what it can read",
    )


def lookup(doc: TOMLDocument, path: tuple[str, ...]) -> MutableMapping[str, Any] | None:
    """The table at ``path``, or None when a part of it is missing."""
    node: Any = doc
    for n, key in enumerate(path):
        node = node.get(key)
        if node is None:
            return None
        if not isinstance(node, TABLES):
            raise malformed(".".join(path[: n + 1]), "a table")
    return node  # type: ignore[no-any-return]


def table(
    doc: TOMLDocument, path: tuple[str, ...], created: list[Table]
) -> MutableMapping[str, Any]:
    """The table at ``path``, made when missing: `tool` and `tool.uv` as bare headers
    (`[tool.uv.sources]` needs no `[tool]` above it), others as tables of their own, which are
    added to ``created`` so that `render` can part them from the next table."""
    node: Any = doc
    for n, key in enumerate(path):
        child = node.get(key)
        if child is None:
            implicit = path[: n + 1] in (("tool",), ("tool", "uv"))
            node[key] = tomlkit.table(is_super_table=implicit)
            child = node[key]
            if not implicit:
                created.append(child)
        elif not isinstance(child, TABLES):
            raise malformed(".".join(path[: n + 1]), "a table")
        node = child
    return node  # type: ignore[no-any-return]


def split_specifiers(entry: str) -> tuple[str, str]:
    at = next((i for i, c in enumerate(entry) if c in "><=~!@"), len(entry))
    return entry[:at].strip(), entry[at:].strip()


_ORDERS: tuple[Callable[[str], tuple[str, str]], ...] = (
    lambda s: split_specifiers(s.lower()),
    split_specifiers,
    lambda s: (s.lower(), ""),
    lambda s: (s, ""),
)


def insert_position(array: Array, entry: str) -> int:
    """Where uv puts a new entry: its sorted place if the strings were sorted (case-insensitively
    or not, by name then specifiers, or as plain text), else after the last string, so that
    `{ include-group = ... }` items kept at the bottom stay there."""
    strings = [(i, str(v)) for i, v in enumerate(array) if isinstance(v, str)]
    end = strings[-1][0] + 1 if strings else len(array)
    for order in _ORDERS:
        keys = [order(s) for _, s in strings]
        if all(a <= b for a, b in itertools.pairwise(keys)):
            new = order(entry)
            return next((i for i, s in strings if order(s) > new), end)
    return end


def reflow(array: Array, *, multiline: bool) -> None:
    """After an edit: an array that was on one line becomes one entry per line; one already on
    several lines keeps its layout; an emptied one without comments becomes `[]`."""
    if len(array) == 0:
        if "#" not in array.as_string():
            array.clear()
            array.multiline(False)
        return
    if not multiline:
        array.multiline(True)


def inline_text(entry: dict[str, Any]) -> str:
    """`{ key = value, ... }` with uv's spacing (tomlkit would write `{key = value}`)."""
    return "{ " + ", ".join(f"{k} = {tomlkit.item(v).as_string()}" for k, v in entry.items()) + " }"


def inline(entry: dict[str, Any]) -> Item:
    return tomlkit.parse(f"x = {inline_text(entry)}\n")["x"]  # type: ignore[no-any-return]


def inline_list(texts: Sequence[str]) -> Item:
    """An array of inline tables, one per line."""
    body = "".join(f"    {t},\n" for t in texts)
    return tomlkit.parse(f"x = [\n{body}]\n")["x"]  # type: ignore[no-any-return]


def render(doc: TOMLDocument, original: str, created: Sequence[Table] = ()) -> str:
    for made in created:
        made.add(tomlkit.nl())
    text = doc.as_string()
    # A table kiln makes ends with a blank line to part it from the next; at the end of the
    # file that is a line the user did not have.
    if text.endswith("\n\n") and not original.endswith("\n\n"):
        text = text.rstrip("\n") + "\n"
    # tomlkit 0.13 puts a second blank line before a table appended after another.
    if "\n\n\n" not in original:
        text = re.sub(r"\n{3,}", "\n\n", text)
    return text
