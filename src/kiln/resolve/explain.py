"""Turn a failed resolution into one message a user can act on.

resolvelib reports the requirements that could not be satisfied together; the provider
remembers what it saw of each project (missing, versions, per-version rejection reasons).
Together they say which requirement failed, what was considered, and why each was rejected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.environment import Target
from kiln.core.errors import KilnError, NotFoundError, ResolutionError
from kiln.core.protocols import FindResult, Found, NotFound
from kiln.resolve.provider import PYTHON, KilnProvider, PythonCandidate, Req

_SHOWN_VERSIONS = 5


def _who(parent: Any) -> str:
    if parent is None:
        return "you asked for"
    if isinstance(parent, PythonCandidate):
        return "Python"
    return f"{parent.name} {parent.version} requires"


def _versions_words(versions: Sequence[Any]) -> str:
    words = [str(v) for v in versions[:_SHOWN_VERSIONS]]
    if len(versions) > _SHOWN_VERSIONS:
        words.append(f"and {len(versions) - _SHOWN_VERSIONS} older")
    return ", ".join(words)


def explain_impossible(causes: Sequence[Any], provider: KilnProvider, target: Target) -> Exception:
    by_name: dict[str, list[Any]] = defaultdict(list)
    for info in causes:
        by_name[info.requirement.name].append(info)

    # Python bound first: it is the most specific and the easiest to act on.
    if PYTHON in by_name:
        infos = by_name[PYTHON]
        lines = [
            f"{info.parent.name} {info.parent.version} requires Python {info.requirement.specifier}"
            for info in infos
            if info.parent is not None and not isinstance(info.parent, PythonCandidate)
        ]
        return ResolutionError(
            f"no solution fits the target interpreter ({target.description}, "
            f"Python {target.python_full_version})",
            causes=lines,
            hint="use an interpreter that fits with `--python`, or pin an older release",
        )

    for name, infos in by_name.items():
        norm = NormalizedName(name)
        missing = provider.state.not_found.get(norm)
        if missing is not None:
            wanted = infos[0].requirement
            searched = ", ".join(f"`{s}`" for s in missing.searched) or "no index"
            excluded = _excluded_causes(norm, [info.requirement for info in infos], missing)
            if excluded and missing.exclude_newer is not None:
                return ResolutionError(
                    f"no version of `{wanted.name}` was uploaded before "
                    f"{_moment(missing.exclude_newer)} (exclude-newer)",
                    causes=[f"{_who(info.parent)} `{info.requirement}`" for info in infos]
                    + excluded
                    + [f"searched {searched}"],
                    hint=_exclude_hint(excluded),
                )
            return NotFoundError(
                f"package `{wanted.name}` was not found in the package index",
                causes=[f"{_who(info.parent)} `{info.requirement}`" for info in infos]
                + [f"searched {searched}"],
                hint=f"check the spelling of `{wanted.name}`, or add the index that serves it "
                "with `--index-url` / `--extra-index-url`",
            )

    name, infos = _most_telling(by_name, provider)
    table = provider.table(NormalizedName(name))
    reqs: list[Req] = [info.requirement for info in infos]
    chain = [f"{_who(info.parent)} `{info.requirement}`" for info in infos]
    excluded = _excluded_causes(NormalizedName(name), reqs, _found(provider, name))
    all_versions = [c.version for c in table.choices]
    if not all_versions:
        return NotFoundError(
            f"package `{name}` has no installable files on the index",
            causes=[*chain, *excluded],
            hint=_exclude_hint(excluded)
            if excluded
            else "check the index URL, or whether the project publishes wheels",
        )
    matching = [
        c
        for c in table.choices
        if all(r.specifier.contains(c.version, prereleases=True) for r in reqs)
    ]
    if not matching:
        each_alone = all(
            any(r.specifier.contains(v, prereleases=True) for v in all_versions) for r in reqs
        )
        if len(reqs) > 1 and each_alone:
            return ResolutionError(
                f"the requirements on `{name}` cannot all be met",
                causes=[*chain, f"available versions: {_versions_words(all_versions)}"],
                hint="relax one of the conflicting requirements",
            )
        spec = " and ".join(f"`{r}`" for r in reqs)
        return ResolutionError(
            f"no version of `{name}` matches {spec}",
            causes=[*chain, f"available versions: {_versions_words(all_versions)}", *excluded],
            hint=_exclude_hint(excluded)
            if excluded
            else f"choose a version of `{name}` that exists",
        )
    rejected = [c for c in matching if c.file is None]
    if rejected and len(rejected) == len(matching):
        reasons = [f"{name} {c.version} {c.rejected}" for c in rejected[:3]]
        if len(rejected) > 3:
            reasons.append(f"and {len(rejected) - 3} older versions, for the same kind of reason")
        return ResolutionError(
            f"no version of `{name}` that matches {' and '.join(f'`{r}`' for r in reqs)} "
            f"can be installed on {target.description}",
            causes=[*chain, *reasons, *excluded],
            hint=_hint_for(rejected[0].rejected or ""),
        )
    return ResolutionError(
        f"the requirements on `{name}` cannot be met together with the rest",
        causes=[*chain, *excluded],
        hint="relax one of the requirements named above",
    )


_EXCLUDE_HINT = (
    "move `--exclude-newer` (or `tool.uv.exclude-newer`) later, or relax the requirement"
)
_UNTIMED_HINT = (
    "the index publishes no upload times, and exclude-newer leaves out files without one "
    "(as uv does); exempt the package with `exclude-newer-package = { NAME = false }` in "
    "`[tool.uv]`, or take it from an index that has them"
)


def _exclude_hint(lines: Sequence[str]) -> str:
    if lines and all("has no upload time" in line for line in lines[:_SHOWN_VERSIONS]):
        return _UNTIMED_HINT
    return _EXCLUDE_HINT


def _found(provider: KilnProvider, name: str) -> FindResult | None:
    """What the finder returned for ``name`` (it remembers: this costs no request)."""
    norm = NormalizedName(name)
    if norm in provider.direct:
        return None
    missing = provider.state.not_found.get(norm)
    if missing is not None:
        return missing
    try:
        return provider.finder.find(norm)
    except KilnError:
        return None


def _excluded_causes(
    name: NormalizedName, reqs: Sequence[Req], found: FindResult | None
) -> list[str]:
    """One line per version that exclude-newer left out and that the requirements accept."""
    if not isinstance(found, (Found, NotFound)) or found.exclude_newer is None:
        return []
    cutoff = _moment(found.exclude_newer)
    untimed: dict[Version, bool] = {}
    for file in found.excluded:
        parsed = file.name_version
        if parsed is None:
            continue
        version = parsed[1]
        if not all(r.specifier.contains(version, prereleases=True) for r in reqs):
            continue
        untimed[version] = untimed.get(version, False) or file.upload_time is None
    lines = []
    for version in sorted(untimed, reverse=True)[:_SHOWN_VERSIONS]:
        if untimed[version]:
            lines.append(f"`{name}` {version} has no upload time, so exclude-newer leaves it out")
        else:
            lines.append(f"`{name}` {version} was uploaded after {cutoff} (exclude-newer)")
    if len(untimed) > _SHOWN_VERSIONS:
        lines.append(f"and {len(untimed) - _SHOWN_VERSIONS} more versions, for the same reason")
    return lines


def _moment(moment: datetime) -> str:
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _most_telling(by_name: dict[str, list[Any]], provider: KilnProvider) -> tuple[str, list[Any]]:
    """The project whose failure explains most: prefer one with no usable version at all."""
    for name, infos in by_name.items():
        table = provider.table(NormalizedName(name.split("[")[0]))
        if next(table.usable(), None) is None:
            return name.split("[")[0], infos
    name = next(iter(by_name))
    return name.split("[")[0], by_name[name]


def _hint_for(reason: str) -> str:
    if "requires Python" in reason:
        return "use an interpreter the package supports with `--python`, or pin an older release"
    if "forbids" in reason or "neither from a wheel" in reason:
        return "drop the option named above for this package, or pin a version it allows"
    if "source distribution" in reason:
        return "pick a version that publishes wheels for this platform"
    return (
        "pick a version with wheels for this platform, use another interpreter with "
        "`--python`, or install from an index that has them"
    )
