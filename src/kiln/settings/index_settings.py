"""Which indexes a `pip` command consults, from flags, then KILN_* variables, as uv orders them."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kiln.core.errors import UsageError

PYPI = "https://pypi.org/simple"

Strategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]
_STRATEGIES: tuple[Strategy, ...] = ("first-index", "unsafe-first-match", "unsafe-best-match")


@dataclass(frozen=True)
class IndexSettings:
    default_index: str | None  # None with --no-index
    extra_indexes: tuple[str, ...]  # consulted before the default, in the order given
    find_links: tuple[str, ...]
    strategy: Strategy

    @classmethod
    def resolve(
        cls,
        args: Any,
        env: Mapping[str, str] | None = None,
        *,
        file_index_url: str | None = None,
        file_extra_index_urls: Sequence[str] = (),
        file_find_links: Sequence[str] = (),
    ) -> IndexSettings:
        """Flags win over environment variables, which win over requirements-file options."""
        env = os.environ if env is None else env
        default = (
            getattr(args, "index_url", None)
            or env.get("KILN_INDEX_URL")
            or env.get("KILN_DEFAULT_INDEX")
            or file_index_url
            or PYPI
        )
        extras = list(getattr(args, "extra_index_url", None) or [])
        extras += env.get("KILN_EXTRA_INDEX_URL", "").split()
        extras += list(file_extra_index_urls)
        links = list(getattr(args, "find_links", None) or [])
        links += env.get("KILN_FIND_LINKS", "").split()
        links += list(file_find_links)
        strategy = (
            getattr(args, "index_strategy", None) or env.get("KILN_INDEX_STRATEGY") or "first-index"
        )
        if strategy not in _STRATEGIES:
            raise UsageError(
                f"unknown index strategy `{strategy}`",
                hint=f"use one of {', '.join(_STRATEGIES)}",
            )
        no_index = bool(getattr(args, "no_index", False))
        return cls(
            default_index=None if no_index else default.rstrip("/"),
            extra_indexes=() if no_index else tuple(dict.fromkeys(u.rstrip("/") for u in extras)),
            find_links=tuple(dict.fromkeys(links)),
            strategy=strategy,
        )

    def ordered(self) -> tuple[str, ...]:
        """Indexes in priority order: extra indexes first, the default index last (as uv)."""
        return (*self.extra_indexes, *((self.default_index,) if self.default_index else ()))
