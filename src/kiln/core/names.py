"""Project names in their normal form (PEP 503) for the paths that must not import
`packaging.utils`: its import brings `packaging.tags` along, and with it `logging`,
`platform` and `subprocess` (7 ms of a 25 ms switching sync on the development machine)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from packaging.utils import NormalizedName


def canonical_name(name: str) -> NormalizedName:
    """`packaging.utils.canonicalize_name(name)`, computed the same way."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return cast("NormalizedName", value)
