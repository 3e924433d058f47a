"""`[tool.uv]` as uv documents it, validated into values; `[tool.kiln]` beside it.

Every problem found is collected (not just the first), so one run shows the user all of
them. Unknown keys are warnings, never errors: a newer uv may know keys kiln does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from typing import Any, Literal

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.records import field, record
from kiln.project.uv_legacy_keys import (
    RESOLVER_KEYS,
    PipIndexKeys,
    ResolverKeys,
    pip_index_keys,
    refuse_unhonoured,
    resolver_keys,
)

_KNOWN_UV_KEYS = frozenset(
    {
        "index", "sources", "conflicts", "environments", "required-environments",
        "exclude-newer", "index-strategy", "default-groups", "constraint-dependencies",
        "override-dependencies", "dev-dependencies", "package", "managed", "python-preference",
        "index-url", "extra-index-url", "find-links", "no-index", "cache-dir", "pip",
        "workspace", "build-constraint-dependencies", "no-build-isolation-package", "prerelease",
        "resolution", "upgrade-package", "compile-bytecode", "link-mode", "fork-strategy", "exclude-newer-package",
        "no-build-isolation", "extra-build-dependencies", "config-settings", "no-build",
        "no-build-package", "no-binary", "no-binary-package",
    }
)  # fmt: skip
_INDEX_KEYS = frozenset(
    {
        "name",
        "url",
        "explicit",
        "default",
        "format",
        "authenticate",
        "ignore-error-codes",
        "publish-url",
        "cache-control",
    }
)
_SOURCE_KEYS = frozenset(
    {
        "index",
        "marker",
        "extra",
        "group",
        "path",
        "url",
        "git",
        "editable",
        "branch",
        "tag",
        "rev",
        "subdirectory",
        "package",
        "workspace",
    }
)


@record
class IndexEntry:
    """One `[[tool.uv.index]]` table."""

    url: str
    name: str | None = None
    explicit: bool = False
    default: bool = False
    format: Literal["simple", "flat"] = "simple"
    authenticate: Literal["auto", "always", "never"] = "auto"
    ignore_error_codes: tuple[int, ...] = ()


@record
class Source:
    """One entry of a `[tool.uv.sources]` list. Exactly one of index/path/url/git is set."""

    index: str | None = None
    path: str | None = None
    url: str | None = None
    git: str | None = None
    rev: str | None = None
    subdirectory: str | None = None
    editable: bool | None = None
    marker: Marker | None = None
    extra: NormalizedName | None = None
    group: NormalizedName | None = None


@record
class ConflictItem:
    """One member of a `[tool.uv] conflicts` set: an extra, a group or a package."""

    extra: NormalizedName | None = None
    group: NormalizedName | None = None
    package: NormalizedName | None = None


@record
class UvTables:
    """The `[tool.uv]` tables kiln reads, checked."""

    indexes: tuple[IndexEntry, ...] = ()
    sources: Mapping[NormalizedName, tuple[Source, ...]] = field(default_factory=dict)
    conflicts: tuple[tuple[ConflictItem, ...], ...] = ()
    environments: tuple[Marker, ...] = ()
    required_environments: tuple[Marker, ...] = ()
    exclude_newer: datetime | None = None
    # Per package: its own cutoff, or None (`false`) for no cutoff at all.
    exclude_newer_package: Mapping[NormalizedName, datetime | None] = field(default_factory=dict)
    index_strategy: str | None = None
    default_groups: tuple[str, ...] | Literal["all"] = ("dev",)
    constraint_dependencies: tuple[Requirement, ...] = ()
    override_dependencies: tuple[Requirement, ...] = ()
    dev_dependencies: tuple[Requirement, ...] = ()
    package: bool | None = None
    fork_strategy: Literal["requires-python", "fewest"] | None = None
    # `index-url`, `extra-index-url`, `find-links`, `no-index`: below `[[tool.uv.index]]`.
    pip_indexes: PipIndexKeys = field(default_factory=PipIndexKeys)
    # `prerelease`, `resolution`, `no-build`, `no-build-package`.
    resolver: ResolverKeys = field(default_factory=ResolverKeys)
    # `[tool.uv.workspace]`: member folders (globs, relative to this file), or None.
    workspace: Workspace | None = None
    no_build_isolation: bool = False
    no_build_isolation_package: tuple[NormalizedName, ...] = ()
    extra_build_dependencies: Mapping[NormalizedName, tuple[str, ...]] = field(default_factory=dict)


@record
class Workspace:
    """The `[tool.uv.workspace]` table."""

    members: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


def _workspace(raw: Any, problems: Problems) -> Workspace | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.errors.append("`tool.uv.workspace` must be a table")
        return None
    out: dict[str, tuple[str, ...]] = {}
    for key in raw:
        if key not in ("members", "exclude"):
            problems.warnings.append(f"unknown key `{key}` in `tool.uv.workspace` is ignored")
    for key in ("members", "exclude"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.errors.append(f"`tool.uv.workspace.{key}` must be a list of folder globs")
            value = []
        out[key] = tuple(value)
    return Workspace(members=out["members"], exclude=out["exclude"])


@record
class KilnTables:
    """The `[tool.kiln]` table."""

    # `"auto"`, one backend name, or a list of them: which PyTorch builds the lock carries.
    torch_backend: str | tuple[str, ...] | None = None
    torch_index_url: str | None = None


@record(frozen=False)
class Problems:
    """Errors and warnings collected while reading, each naming the key it is about."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_exclude_newer(value: str) -> datetime:
    """A date (``2024-03-01``: the end of that day, UTC) or an RFC 3339 time, as uv reads it."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max, tzinfo=timezone.utc)
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"`{value}` is neither a date (2024-03-01) nor an RFC 3339 time") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def requirement_list(values: Any, key: str, problems: Problems) -> tuple[Requirement, ...]:
    if not isinstance(values, list):
        problems.errors.append(f"`{key}` must be a list of requirement strings")
        return ()
    out: list[Requirement] = []
    for value in values:
        if not isinstance(value, str):
            problems.errors.append(f"`{key}` has `{value!r}`, which is not a requirement string")
            continue
        try:
            out.append(Requirement(value))
        except InvalidRequirement as exc:
            problems.errors.append(f"`{key}` has an invalid requirement `{value}`: {exc}")
    return tuple(out)


def _markers(values: Any, key: str, problems: Problems) -> tuple[Marker, ...]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        problems.errors.append(f"`{key}` must be a list of marker strings")
        return ()
    out: list[Marker] = []
    for value in values:
        if not isinstance(value, str):
            problems.errors.append(f"`{key}` has `{value!r}`, which is not a marker string")
            continue
        try:
            out.append(Marker(value))
        except InvalidMarker as exc:
            problems.errors.append(f"`{key}` has an invalid marker `{value}`: {exc}")
    return tuple(out)


def _index(raw: Any, n: int, problems: Problems) -> IndexEntry | None:
    where = f"tool.uv.index[{n}]"
    if not isinstance(raw, Mapping) or "url" not in raw:
        problems.errors.append(f"`{where}` needs a `url`")
        return None
    for key in raw:
        if key not in _INDEX_KEYS:
            problems.warnings.append(f"unknown key `{key}` in `{where}` is ignored")
    fmt = raw.get("format", "simple")
    if fmt not in ("simple", "flat"):
        problems.errors.append(f'`{where}.format` must be "simple" or "flat", not `{fmt}`')
        fmt = "simple"
    auth = raw.get("authenticate", "auto")
    if auth not in ("auto", "always", "never"):
        problems.errors.append(f"`{where}.authenticate` must be auto, always or never")
        auth = "auto"
    name = raw.get("name")
    if name is not None and (
        not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name)
    ):
        problems.errors.append(
            f"`{where}.name` `{name}` may hold only letters, digits, `-`, `_` and `.`"
        )
    return IndexEntry(
        url=str(raw["url"]),
        name=name,
        explicit=bool(raw.get("explicit", False)),
        default=bool(raw.get("default", False)),
        format=fmt,
        authenticate=auth,
        ignore_error_codes=tuple(int(c) for c in raw.get("ignore-error-codes", [])),
    )


def _source(raw: Any, where: str, problems: Problems) -> Source | None:
    if not isinstance(raw, Mapping):
        problems.errors.append(f"`{where}` must be a table")
        return None
    for key in raw:
        if key not in _SOURCE_KEYS:
            problems.warnings.append(f"unknown key `{key}` in `{where}` is ignored")
    kinds = [k for k in ("index", "path", "url", "git", "workspace") if k in raw]
    if len(kinds) != 1:
        problems.errors.append(
            f"`{where}` must set exactly one of `index`, `path`, `url`, `git`, `workspace`"
        )
        return None
    marker = None
    if "marker" in raw:
        try:
            marker = Marker(str(raw["marker"]))
        except InvalidMarker as exc:
            problems.errors.append(f"`{where}.marker` is invalid: {exc}")
            return None
    if "extra" in raw and "group" in raw:
        problems.errors.append(f"`{where}` may set `extra` or `group`, not both")
    if raw.get("package") is False:
        # uv then installs only the folder's dependencies; taking it as a package would
        # install something the user said is not one.
        problems.errors.append(
            f"`{where}.package = false` is not supported: kiln installs a path source as a "
            "package; list its dependencies in your own project instead"
        )
    revisions = [k for k in ("rev", "tag", "branch") if k in raw]
    if len(revisions) > 1:
        problems.errors.append(f"`{where}` may set one of `rev`, `tag` or `branch`, not several")
    if revisions and "git" not in raw:
        problems.errors.append(f"`{where}.{revisions[0]}` applies only to a `git` source")
    if "subdirectory" in raw and not ("git" in raw or "url" in raw):
        problems.errors.append(f"`{where}.subdirectory` applies only to a `git` or `url` source")
    if "editable" in raw and not ("path" in raw or "workspace" in raw):
        problems.errors.append(f"`{where}.editable` applies only to a `path` or `workspace` source")
    return Source(
        index=raw.get("index"),
        path=raw.get("path"),
        url=raw.get("url"),
        git=raw.get("git"),
        rev=raw.get("rev") or raw.get("tag") or raw.get("branch"),
        subdirectory=raw.get("subdirectory"),
        editable=raw.get("editable"),
        marker=marker,
        extra=canonicalize_name(raw["extra"]) if "extra" in raw else None,
        group=canonicalize_name(raw["group"]) if "group" in raw else None,
    )


def read_uv_tables(raw: Mapping[str, Any], problems: Problems) -> UvTables:
    for key in raw:
        if key not in _KNOWN_UV_KEYS:
            problems.warnings.append(f"unknown key `tool.uv.{key}` is ignored")
    refuse_unhonoured(raw, problems.errors, RESOLVER_KEYS)
    indexes = tuple(
        entry
        for n, item in enumerate(raw.get("index", []) or [])
        if (entry := _index(item, n, problems))
    )
    names = [i.name for i in indexes if i.name]
    for name in {n for n in names if names.count(n) > 1}:
        problems.errors.append(f"index name `{name}` is defined more than once in `tool.uv.index`")
    sources: dict[NormalizedName, tuple[Source, ...]] = {}
    for package, value in (raw.get("sources") or {}).items():
        entries = value if isinstance(value, list) else [value]
        where = f"tool.uv.sources.{package}"
        parsed = tuple(
            s
            for n, item in enumerate(entries)
            if (s := _source(item, f"{where}[{n}]" if isinstance(value, list) else where, problems))
        )
        for s in parsed:
            if s.index is not None and s.index not in names:
                problems.errors.append(
                    f"`{where}` names index `{s.index}`, which no `[[tool.uv.index]]` entry defines"
                )
        sources[canonicalize_name(package)] = parsed
    conflicts: list[tuple[ConflictItem, ...]] = []
    for n, group in enumerate(raw.get("conflicts", []) or []):
        items: list[ConflictItem] = []
        for item in group if isinstance(group, list) else []:
            if not isinstance(item, Mapping) or not ({"extra", "group"} & set(item)):
                problems.errors.append(f"`tool.uv.conflicts[{n}]` items need `extra` or `group`")
                continue
            wrong = [
                k
                for k in ("extra", "group", "package")
                if k in item and not isinstance(item[k], str)
            ]
            if wrong:
                problems.errors.append(f"`tool.uv.conflicts[{n}]`: `{wrong[0]}` must be a string")
                continue
            items.append(
                ConflictItem(
                    extra=canonicalize_name(item["extra"]) if "extra" in item else None,
                    group=canonicalize_name(item["group"]) if "group" in item else None,
                    package=canonicalize_name(item["package"]) if "package" in item else None,
                )
            )
        if len(items) < 2:
            problems.errors.append(f"`tool.uv.conflicts[{n}]` must list at least two items")
        conflicts.append(tuple(items))
    exclude_newer = None
    if raw.get("exclude-newer"):
        try:
            exclude_newer = parse_exclude_newer(str(raw["exclude-newer"]))
        except ValueError as exc:
            problems.errors.append(f"`tool.uv.exclude-newer`: {exc}")
    exclude_newer_package: dict[NormalizedName, datetime | None] = {}
    per_package = raw.get("exclude-newer-package", {}) or {}
    if not isinstance(per_package, Mapping):
        problems.errors.append("`tool.uv.exclude-newer-package` must be a table of package = date")
        per_package = {}
    for package, value in per_package.items():
        if value is False:
            exclude_newer_package[canonicalize_name(package)] = None
            continue
        try:
            exclude_newer_package[canonicalize_name(package)] = parse_exclude_newer(str(value))
        except ValueError as exc:
            problems.errors.append(f"`tool.uv.exclude-newer-package.{package}`: {exc}")
    default_groups_raw = raw.get("default-groups", ["dev"])
    default_groups: tuple[str, ...] | Literal["all"] = (
        "all"
        if default_groups_raw == "all"
        else tuple(canonicalize_name(g) for g in default_groups_raw)
    )
    strategy = raw.get("index-strategy")
    if strategy is not None and strategy not in (
        "first-index",
        "unsafe-first-match",
        "unsafe-best-match",
    ):
        problems.errors.append(f"`tool.uv.index-strategy` `{strategy}` is not a known strategy")
    fork_strategy = raw.get("fork-strategy")
    if fork_strategy is not None and fork_strategy not in ("requires-python", "fewest"):
        problems.errors.append(
            f"`tool.uv.fork-strategy` `{fork_strategy}` is not a fork strategy "
            "(use `requires-python` or `fewest`)"
        )
        fork_strategy = None
    return UvTables(
        fork_strategy=fork_strategy,
        indexes=indexes,
        sources=sources,
        conflicts=tuple(conflicts),
        environments=_markers(raw.get("environments", []), "tool.uv.environments", problems),
        required_environments=_markers(
            raw.get("required-environments", []), "tool.uv.required-environments", problems
        ),
        exclude_newer=exclude_newer,
        exclude_newer_package=exclude_newer_package,
        index_strategy=strategy,
        default_groups=default_groups,
        constraint_dependencies=requirement_list(
            raw.get("constraint-dependencies", []), "tool.uv.constraint-dependencies", problems
        ),
        override_dependencies=requirement_list(
            raw.get("override-dependencies", []), "tool.uv.override-dependencies", problems
        ),
        dev_dependencies=requirement_list(
            raw.get("dev-dependencies", []), "tool.uv.dev-dependencies", problems
        ),
        package=raw.get("package"),
        pip_indexes=pip_index_keys(raw, problems.errors),
        resolver=resolver_keys(raw, problems.errors),
        workspace=_workspace(raw.get("workspace"), problems),
        **_build_keys(raw, problems),
    )


def _build_keys(raw: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    """`no-build-isolation`, `no-build-isolation-package`, `extra-build-dependencies`."""
    out: dict[str, Any] = {}
    flag = raw.get("no-build-isolation", False)
    if not isinstance(flag, bool):
        problems.errors.append("`tool.uv.no-build-isolation` must be true or false")
        flag = False
    out["no_build_isolation"] = flag
    names = raw.get("no-build-isolation-package", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problems.errors.append("`tool.uv.no-build-isolation-package` must be a list of names")
        names = []
    out["no_build_isolation_package"] = tuple(canonicalize_name(n) for n in names)
    extra: dict[NormalizedName, tuple[str, ...]] = {}
    table = raw.get("extra-build-dependencies", {})
    if not isinstance(table, Mapping):
        problems.errors.append("`tool.uv.extra-build-dependencies` must be a table")
        table = {}
    for package, requirements in table.items():
        where = f"tool.uv.extra-build-dependencies.{package}"
        if not isinstance(requirements, list):
            problems.errors.append(f"`{where}` must be a list of requirements")
            continue
        texts: list[str] = []
        for item in requirements:
            if isinstance(item, Mapping):
                # uv's `{ requirement = "...", match-runtime = true }`: pinning a build
                # requirement to the runtime version is not done here, so it is refused.
                problems.errors.append(
                    f"`{where}`: tables (`match-runtime`) are not supported; write the "
                    "requirement as a string"
                )
                continue
            if not isinstance(item, str):
                problems.errors.append(f"`{where}` must be a list of requirement strings")
                continue
            try:
                Requirement(item)
            except InvalidRequirement as exc:
                problems.errors.append(f"`{where}`: `{item}` is not a valid requirement: {exc}")
                continue
            texts.append(item)
        extra[canonicalize_name(package)] = tuple(texts)
    out["extra_build_dependencies"] = extra
    return out


def read_kiln_tables(raw: Mapping[str, Any], problems: Problems) -> KilnTables:
    for key in raw:
        if key not in ("torch-backend", "torch-index-url"):
            problems.warnings.append(f"unknown key `tool.kiln.{key}` is ignored")
    backend = raw.get("torch-backend")
    torch_backend: str | tuple[str, ...] | None = None
    if isinstance(backend, str):
        torch_backend = backend
    elif isinstance(backend, list) and backend and all(isinstance(b, str) for b in backend):
        torch_backend = tuple(backend)
    elif backend is not None:
        problems.errors.append(
            '`tool.kiln.torch-backend` must be `"auto"`, a backend name or a list of names'
        )
    index_url = raw.get("torch-index-url")
    if index_url is not None and not isinstance(index_url, str):
        problems.errors.append("`tool.kiln.torch-index-url` must be a URL string")
        index_url = None
    return KilnTables(torch_backend=torch_backend, torch_index_url=index_url)
