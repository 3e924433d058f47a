"""What the fuzz tests feed kiln's parsers: random text, valid documents with random damage,
and documents of the right shape filled with values of the wrong types.

`FUZZ` bounds every test: a few dozen examples by default so CI stays fast, as many as
`KILN_FUZZ_EXAMPLES` asks for in a long run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

T = TypeVar("T")

EXAMPLES = int(os.environ.get("KILN_FUZZ_EXAMPLES", "40") or "40")


def fuzz_settings(f: Callable[..., T]) -> Callable[..., T]:
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )(f)


def damaged(valid: str) -> st.SearchStrategy[str]:
    """``valid`` with a few random cuts, insertions and swaps."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        text = valid
        for _ in range(draw(st.integers(1, 6))):
            if not text:
                break
            at = draw(st.integers(0, len(text) - 1))
            action = draw(st.sampled_from(["cut", "insert", "replace", "duplicate"]))
            piece = "".join(draw(st.lists(_NASTY, min_size=1, max_size=4)))
            if action == "cut":
                end = draw(st.integers(at, min(len(text), at + 40)))
                text = text[:at] + text[end:]
            elif action == "insert":
                text = text[:at] + piece + text[at:]
            elif action == "replace":
                text = text[:at] + piece + text[at + len(piece) :]
            else:
                end = draw(st.integers(at, min(len(text), at + 40)))
                text = text[:end] + text[at:end] + text[end:]
        return text

    return build()


# Characters that mean something to TOML, HTML, PEP 508, email headers, CSV and URLs.
_NASTY = st.sampled_from(
    [
        *"\"'[]{}=,.:;<>!~@#/\\\n\r\t -_+*&%?0123456789aZ\x00é",
        *("'''", '"""', "\n[", "]]", "==", "<=", "~=", "===", " and ", " or ", "extra"),
    ]
)

toml_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["numpy>=2", "torch", ">=3.9", "pytorch", "https://x.invalid/simple", ""]),
)


def toml_values(keys: list[str]) -> st.SearchStrategy[Any]:
    """Nested tables and arrays whose keys are ones kiln reads, values of any type."""
    return st.recursive(
        toml_scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.sampled_from(keys), children, max_size=5),
        ),
        max_leaves=25,
    )
