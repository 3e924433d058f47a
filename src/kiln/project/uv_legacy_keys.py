"""`[tool.uv]` keys beside the tables: pip-style index keys, and settings kiln cannot honour.

A setting that changes what gets installed must never be dropped quietly: a company's
`index-url` that was ignored sends every request to PyPI. So the pip-style index keys are
read (uv reads them as the lowest-priority indexes), and every other key that would change
the result is an error while kiln does not do what it asks. Keys whose value is uv's own
default are accepted: honouring them is doing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.core.records import record

# key -> the values kiln already behaves as (uv's defaults); anything else is refused.
_ACCEPTED: dict[str, tuple[object, ...]] = {
    "managed": (True,),
    "python-preference": ("managed", "system", "only-system"),
    # Read by `resolver_keys` for a project; refused where no caller honours them.
    "prerelease": ("if-necessary-or-explicit",),
    "resolution": ("highest",),
    "compile-bytecode": (False,),
    "link-mode": ("hardlink",),
    "upgrade-package": ([],),
    # Builds run since kiln builds sdists and projects; these would change how, so they
    # are refused until they are carried out. (`no-build-isolation`, its `-package` form and
    # `extra-build-dependencies` are read by `project.uv_tables`.)
    "build-constraint-dependencies": ([],),
    "config-settings": ({},),
    "no-build": (False,),
    "no-build-package": ([],),
    # `kiln sync` does not yet install from sdists where a wheel fits: refused until then.
    "no-binary": (False,),
    "no-binary-package": ([],),
}
# Keys not supported at all yet, each with what to do instead.
_UNSUPPORTED = {
    "cache-dir": "set `KILN_CACHE_DIR` or pass `--cache-dir` instead",
}


@record
class PipIndexKeys:
    """The pip-style index keys of `[tool.uv]` (`index-url`, `find-links`...)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False


# The keys a project's `[tool.uv]` carries out (`resolver_keys`); a `uv.toml` still refuses them.
RESOLVER_KEYS = frozenset({"prerelease", "resolution", "no-build", "no-build-package"})


@record
class ResolverKeys:
    """`prerelease`, `resolution`, `no-build`, `no-build-package`, checked but not yet
    interpreted (`settings/resolver_settings.py` does that, below flags and variables)."""

    prerelease: str | None = None
    resolution: str | None = None
    no_build: bool = False
    no_build_package: tuple[str, ...] = ()


def resolver_keys(raw: Mapping[str, Any], errors: list[str]) -> ResolverKeys:
    for key in ("prerelease", "resolution"):
        if key in raw and not isinstance(raw[key], str):
            errors.append(f"`tool.uv.{key}` must be a string")
    no_build = raw.get("no-build", False)
    if not isinstance(no_build, bool):
        errors.append("`tool.uv.no-build` must be true or false")
        no_build = False
    prerelease, resolution = raw.get("prerelease"), raw.get("resolution")
    return ResolverKeys(
        prerelease=prerelease if isinstance(prerelease, str) else None,
        resolution=resolution if isinstance(resolution, str) else None,
        no_build=no_build,
        no_build_package=_strings(raw, "no-build-package", errors),
    )


def refuse_unhonoured(
    raw: Mapping[str, Any], errors: list[str], honoured: frozenset[str] = frozenset()
) -> None:
    """Errors for the keys that ask for what kiln does not do; ``honoured`` are carried out
    by the caller."""
    for key, accepted in _ACCEPTED.items():
        if key in raw and key not in honoured and raw[key] not in accepted:
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
