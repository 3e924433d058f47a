"""Supported wheel tags of an interpreter, from facts gathered inside it.

The target need not have `packaging`; the probe reports the pieces that depend on the running
interpreter (its ABIs and platforms) and the ordering is left to `packaging.tags` here, so the
result is what `packaging.tags.sys_tags()` yields inside the target.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from packaging import tags

from kiln.core.records import record


@record
class TagFacts:
    """What `sys_tags()` reads from the running interpreter."""

    interpreter: str  # short name: "cp", "pp", or the implementation name
    interpreter_version: str  # sysconfig's py_version_nodot, e.g. "312"
    python_version: tuple[int, int]
    abis: tuple[str, ...]
    platforms: tuple[str, ...]


def _ordered(facts: TagFacts) -> Iterator[tags.Tag]:
    platforms = list(facts.platforms)
    if facts.interpreter == "cp":
        yield from tags.cpython_tags(facts.python_version, list(facts.abis), platforms)
        interp: str | None = f"cp{facts.interpreter_version}"
    else:
        name = f"{facts.interpreter}{facts.interpreter_version}"
        yield from tags.generic_tags(name, list(facts.abis), platforms)
        interp = "pp3" if facts.interpreter == "pp" else None
    yield from tags.compatible_tags(facts.python_version, interp, platforms)


def supported_tags(facts: TagFacts) -> tuple[str, ...]:
    """Tags as strings, best first, in the order of `packaging.tags.sys_tags()`."""
    return tuple(str(tag) for tag in _ordered(facts))


def parse_tags(strings: Sequence[str]) -> tuple[tags.Tag, ...]:
    """Tag objects from ``interpreter-abi-platform`` strings (none of the parts holds a dash)."""
    out = []
    for text in strings:
        interpreter, abi, platform = text.split("-")
        out.append(tags.Tag(interpreter, abi, platform))
    return tuple(out)
