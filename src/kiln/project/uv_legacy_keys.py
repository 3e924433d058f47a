"""`[tool.uv]` keys beside the tables: pip-style index keys, and settings kiln cannot honour.

A setting that changes what gets installed must never be dropped quietly: a company's
`index-url` that was ignored sends every request to PyPI. So the pip-style index keys are
read (uv reads them as the lowest-priority indexes), and every other key that would change
the result is an error while kiln does not do what it asks. Keys whose value is uv's own
default are accepted: honouring them is doing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# key -> the values kiln already behaves as (uv's defaults); anything else is refused.
_ACCEPTED: dict[str, tuple[object, ...]] = {
    "managed": (True,),
    "python-preference": ("managed", "system", "only-system"),
    "prerelease": ("if-necessary-or-explicit",),
    "resolution": ("highest",),
    "compile-bytecode": (False,),
    "link-mode": ("hardlink",),
    "upgrade-package": ([],),
    # Builds run since kiln builds sdists and projects; these would change how, so they
    # are refused until they are carried out.
    "no-build-isolation": (False,),
    "no-build-isolation-package": ([],),
    "build-constraint-dependencies": ([],),
    "extra-build-dependencies": ({},),
    "config-settings": ({},),
    "no-build": (False,),
    "no-build-package": ([],),
    "no-binary": (False,),
    "no-binary-package": ([],),
}
# Keys not supported at all yet, each with what to do instead.
_UNSUPPORTED = {
    "workspace": "workspaces are not supported yet; lock each member as its own project",
    "cache-dir": "set `KILN_CACHE_DIR` or pass `--cache-dir` instead",
}


@dataclass(frozen=True)
class PipIndexKeys:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False


def refuse_unhonoured(raw: Mapping[str, Any], errors: list[str]) -> None:
    for key, accepted in _ACCEPTED.items():
        if key in raw and raw[key] not in accepted:
            errors.append(
                f"`tool.uv.{key} = {raw[key]!r}` is not supported by kiln yet; remove it "
                f"(kiln behaves as `{accepted[0]!r}`) or use uv for this project"
            )
    for key, instead in _UNSUPPORTED.items():
        if key in raw:
            errors.append(f"`tool.uv.{key}` is not supported by kiln: {instead}")


def _strings(raw: Mapping[str, Any], key: str, errors: list[str]) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    errors.append(f"`tool.uv.{key}` must be a list of strings")
    return ()


def pip_index_keys(raw: Mapping[str, Any], errors: list[str]) -> PipIndexKeys:
    index_url = raw.get("index-url")
    if index_url is not None and not isinstance(index_url, str):
        errors.append("`tool.uv.index-url` must be a URL string")
        index_url = None
    no_index = raw.get("no-index", False)
    if not isinstance(no_index, bool):
        errors.append("`tool.uv.no-index` must be true or false")
        no_index = False
    return PipIndexKeys(
        index_url=index_url,
        extra_index_urls=_strings(raw, "extra-index-url", errors),
        find_links=_strings(raw, "find-links", errors),
        no_index=no_index,
    )
