"""The guide's PyTorch tables, written into a `pyproject.toml` in uv's own shapes.

For each backend: a `[[tool.uv.index]]` named `pytorch-<backend>` with `explicit = true`, so
that index serves only the packages whose source names it. Then, in one of two modes:

platform
    `[tool.uv.sources]` lists, for each torch-family package the project depends on, one
    entry per backend with disjoint `sys_platform` markers. macOS never gets an entry: PyPI's
    macOS wheels are the CPU builds, and the PyTorch indexes publish no accelerated ones.

    * one backend: it serves every platform it has builds for, so cpu, CUDA and XPU get
      `sys_platform != 'darwin'` (the guide's S2) and ROCm `sys_platform == 'linux'`;
    * cpu beside one accelerator backend (CUDA, ROCm or XPU): the accelerator takes Linux
      and cpu takes Windows (the guide's S3), since asking for cpu as well says where the
      accelerator is not wanted;
    * two accelerator backends: every accelerator builds for Linux, so no marker on the
      platform can tell them apart; that is refused in favour of the extras mode.

extras
    `[project.optional-dependencies] <backend>` holds the project's torch-family
    requirements (moved out of `[project] dependencies`, as in the guide's S4), each source
    entry carries `extra = "<backend>"` and the marker of the platforms that backend builds
    for (so macOS, and Windows for ROCm, fall back to PyPI whichever extra is chosen), and
    `[tool.uv] conflicts` keeps the extras apart.

Tables of those names that already exist are reported, and replaced only when asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, Comment, Item, Table
from tomlkit.toml_document import TOMLDocument

from kiln.accel.backends import DEFAULT_TORCH_INDEX_URL, TORCH_FAMILY, Backend
from kiln.core.records import record
from kiln.project.edit import get_path
from kiln.project.toml_layout import (
    PyprojectEditError,
    inline_list,
    inline_text,
    lookup,
    malformed,
    reflow,
    render,
    table,
)

Mode = Literal["platform", "extras"]

_NOT_MACOS = "sys_platform != 'darwin'"
_LINUX = "sys_platform == 'linux'"
_WINDOWS = "sys_platform == 'win32'"


@record
class TorchSource:
    """One entry of a package's `[tool.uv.sources]` list."""

    index: str
    marker: str | None = None
    extra: str | None = None

    def as_dict(self) -> dict[str, str]:
        entry = {"index": self.index}
        if self.extra is not None:
            entry["extra"] = self.extra
        if self.marker is not None:
            entry["marker"] = self.marker
        return entry


@record
class TorchTables:
    """The new text and what went into it, for the command to report."""

    text: str
    base_url: str
    indexes: tuple[tuple[str, str], ...]  # (name, url)
    packages: tuple[NormalizedName, ...]
    sources: tuple[TorchSource, ...]  # the same list for every package
    extras: tuple[str, ...]
    replaced: tuple[str, ...]  # tables that existed and were overwritten


def index_name(backend: Backend) -> str:
    return f"pytorch-{backend.name}"


def platform_sources(backends: Sequence[Backend]) -> tuple[TorchSource, ...]:
    """Disjoint platform markers for ``backends`` (see the module docstring for the rule)."""
    accelerators = [b for b in backends if b.kind != "cpu"]
    if len(accelerators) > 1:
        names = ", ".join(f"`{b.name}`" for b in accelerators[:-1])
        names += f" and `{accelerators[-1].name}`"
        both = "both" if len(accelerators) == 2 else "all"
        raise PyprojectEditError(
            f"{names} {both} build for Linux, so platform markers cannot choose between them",
            hint=f"pass `--mode extras` and pick one with `kiln sync --extra {accelerators[0].name}`",
        )
    if len(backends) == 1:
        only = backends[0]
        return (TorchSource(index_name(only), _platforms_marker(only)),)
    return tuple(
        TorchSource(index_name(b), _WINDOWS if b.kind == "cpu" else _LINUX) for b in backends
    )


def extra_sources(backends: Sequence[Backend]) -> tuple[TorchSource, ...]:
    return tuple(TorchSource(index_name(b), _platforms_marker(b), b.name) for b in backends)


def write_torch_tables(
    text: str,
    backends: Sequence[Backend],
    *,
    mode: Mode,
    base_url: str | None = None,
    force: bool = False,
) -> TorchTables:
    """``text`` with the indexes and sources for ``backends``; nothing changes on an error.

    The indexes live under ``base_url``, else `[tool.kiln] torch-index-url`, else
    download.pytorch.org."""
    if not backends:
        raise PyprojectEditError("no torch backend given", hint="pass e.g. `--backends cpu,cu124`")
    doc = _parse(text)
    family = _family_requirements(doc, backends, mode)
    packages = tuple(dict.fromkeys(name for name, _ in family))
    sources = platform_sources(backends) if mode == "platform" else extra_sources(backends)
    existing = _existing(doc, backends, packages, mode)
    if existing and not force:
        raise PyprojectEditError(
            f"`pyproject.toml` already configures torch: {', '.join(existing)}",
            hint="pass `--force` to replace them",
        )
    created: list[Table] = []
    extras: tuple[str, ...] = ()
    if mode == "extras":
        extras = tuple(b.name for b in backends)
        _write_extras(doc, created, extras, [entry for _, entry in family])
    configured = get_path(doc.unwrap(), ("tool", "kiln", "torch-index-url"))
    base = base_url or (configured if isinstance(configured, str) else DEFAULT_TORCH_INDEX_URL)
    indexes = tuple((index_name(b), b.index_url(base).rstrip("/")) for b in backends)
    _write_indexes(doc, indexes)
    source_table = table(doc, ("tool", "uv", "sources"), created)
    for package in packages:
        key = next((k for k in source_table if canonicalize_name(k) == package), package)
        source_table[key] = inline_list([inline_text(s.as_dict()) for s in sources])
    return TorchTables(
        text=render(doc, text, created),
        base_url=base,
        indexes=indexes,
        packages=packages,
        sources=sources,
        extras=extras,
        replaced=existing,
    )


# --- reading --------------------------------------------------------------------------------


def _parse(text: str) -> TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise PyprojectEditError("`pyproject.toml` is not valid TOML", causes=[str(exc)]) from None


def _platforms_marker(backend: Backend) -> str:
    # ROCm wheels exist for Linux only; cpu, CUDA and XPU wheels for Linux and Windows.
    return _LINUX if backend.kind == "rocm" else _NOT_MACOS


def _family_in(values: Any) -> list[tuple[NormalizedName, str]]:
    found: list[tuple[NormalizedName, str]] = []
    for value in values if isinstance(values, list) else []:
        if not isinstance(value, str):
            continue
        try:
            name = canonicalize_name(Requirement(value).name)
        except InvalidRequirement:
            continue
        if name in TORCH_FAMILY:
            found.append((name, value))
    return found


def _family_requirements(
    doc: TOMLDocument, backends: Sequence[Backend], mode: Mode
) -> list[tuple[NormalizedName, str]]:
    """The torch-family entries of `[project] dependencies`, as written; in extras mode, those
    of an extra an earlier run wrote when the dependencies no longer hold any."""
    data = doc.unwrap()
    family = _family_in(get_path(data, ("project", "dependencies")))
    if not family and mode == "extras":
        extras = get_path(data, ("project", "optional-dependencies")) or {}
        wanted = {canonicalize_name(b.name) for b in backends}
        for key, values in extras.items() if isinstance(extras, dict) else ():
            if canonicalize_name(key) in wanted and (family := _family_in(values)):
                break
    if not family:
        raise PyprojectEditError(
            "the project depends on no torch package, so there is nothing to point at an index",
            hint="add it first (`kiln add torch`), then run `kiln torch init` again",
        )
    return family


def _existing(
    doc: TOMLDocument, backends: Sequence[Backend], packages: Sequence[NormalizedName], mode: Mode
) -> tuple[str, ...]:
    data = doc.unwrap()
    names = {index_name(b) for b in backends}
    found = [
        f"index `{entry['name']}`"
        for entry in get_path(data, ("tool", "uv", "index")) or []
        if isinstance(entry, dict) and entry.get("name") in names
    ]
    sources = get_path(data, ("tool", "uv", "sources")) or {}
    found += [f"`tool.uv.sources.{k}`" for k in sources if canonicalize_name(k) in packages]
    if mode == "extras":
        extras = get_path(data, ("project", "optional-dependencies")) or {}
        wanted = {canonicalize_name(b.name) for b in backends}
        found += [f"extra `{k}`" for k in extras if canonicalize_name(k) in wanted]
    return tuple(found)


# --- writing --------------------------------------------------------------------------------


def _write_indexes(doc: TOMLDocument, indexes: Sequence[tuple[str, str]]) -> None:
    uv = table(doc, ("tool", "uv"), [])
    current = uv.get("index")
    if current is not None and not isinstance(current, AoT):
        raise malformed("tool.uv.index", "an array of tables (`[[tool.uv.index]]`)")
    if current is None:
        # A blank line parts `[[tool.uv.index]]` from the keys of `[tool.uv]` above it.
        if isinstance(uv, Table) and _ends_with_key(uv):
            uv.add(tomlkit.nl())
        uv["index"] = current = tomlkit.aot()
    for name, url in indexes:
        entry = next((e for e in current if e.get("name") == name), None)
        if entry is not None:
            # Replaced where it stands, keeping any other keys the user gave it.
            entry["url"] = url
            entry["explicit"] = True
            continue
        if len(current) and not current[-1].as_string().endswith("\n\n"):
            current[-1].add(tomlkit.nl())
        entry = tomlkit.table()
        entry.add("name", name)
        entry.add("url", url)
        entry.add("explicit", True)
        entry.add(tomlkit.nl())
        current.append(entry)


def _write_extras(
    doc: TOMLDocument, created: list[Table], extras: Sequence[str], entries: Sequence[str]
) -> None:
    project = lookup(doc, ("project",))
    dependencies = project.get("dependencies") if project is not None else None
    if isinstance(dependencies, Array):
        multiline = "\n" in dependencies.as_string()
        moved = set(entries)
        for i in reversed(range(len(dependencies))):
            if isinstance(dependencies[i], str) and str(dependencies[i]) in moved:
                del dependencies[i]
        reflow(dependencies, multiline=multiline)
    if isinstance(project, Table) and "optional-dependencies" not in project:
        optional: Any = tomlkit.table()
        for extra in extras:
            optional[extra] = _string_list(entries)
        _append_below_keys(project, "optional-dependencies", optional)
    else:
        optional = table(doc, ("project", "optional-dependencies"), created)
        for extra in extras:
            key = next(
                (k for k in optional if canonicalize_name(k) == canonicalize_name(extra)), extra
            )
            optional[key] = _string_list(entries)
    uv = table(doc, ("tool", "uv"), [])
    if len(extras) < 2:
        return
    conflicts = uv.get("conflicts")
    if conflicts is not None and not isinstance(conflicts, Array):
        raise malformed("tool.uv.conflicts", "an array of lists of `{ extra = ... }` tables")
    ours = {canonicalize_name(e) for e in extras}
    kept = [_unwrap(c) for c in conflicts or []]
    # A conflict set among these extras only is an earlier run's, and is replaced.
    kept = [c for c in kept if not _only_extras(c, ours)]
    groups = [*(_conflict_text(c) for c in kept), _conflict_text([{"extra": e} for e in extras])]
    new = tomlkit.parse(f"x = [\n{''.join(groups)}]\n")["x"]
    if isinstance(conflicts, Item):
        new.trivia.trail = conflicts.trivia.trail
    elif isinstance(uv, Table) and any(isinstance(v, (Table, AoT)) for _, v in uv.value.body):
        new.trivia.trail = "\n\n"  # a new key goes above the sub-tables: part it from them
    uv["conflicts"] = new


def _unwrap(value: Any) -> Any:
    return value.unwrap() if isinstance(value, Item) else value


def _only_extras(conflict: Any, extras: set[NormalizedName]) -> bool:
    return isinstance(conflict, list) and all(
        isinstance(item, dict)
        and set(item) == {"extra"}
        and canonicalize_name(str(item["extra"])) in extras
        for item in conflict
    )


def _conflict_text(conflict: Any) -> str:
    items = conflict if isinstance(conflict, list) else []
    body = "".join(
        f"    {inline_text(i) if isinstance(i, dict) else tomlkit.item(i).as_string()},\n"
        for i in items
    )
    return f"  [\n{body}  ],\n"


def _string_list(entries: Sequence[str]) -> Item:
    body = "".join(f"  {tomlkit.item(e).as_string()},\n" for e in entries)
    return tomlkit.parse(f"x = [\n{body}]\n")["x"]  # type: ignore[no-any-return]


def _ends_with_key(container: Table) -> bool:
    body = container.value.body
    return bool(body) and body[-1][0] is not None and not isinstance(body[-1][1], (Table, AoT))


def _ends_blank(container: Table) -> bool:
    return container.as_string().endswith("\n\n")


def _append_below_keys(parent: Table, key: str, child: Table) -> None:
    """``child`` as the last sub-table of ``parent``. Comments at the end of ``parent`` are
    about the table that follows it in the file, so they move below ``child``."""
    body = parent.value.body
    cut = len(body)
    while cut and body[cut - 1][0] is None and isinstance(body[cut - 1][1], Comment):
        cut -= 1
    trailing = [item for _, item in body[cut:] if isinstance(item, Comment)]
    del body[cut:]
    if not _ends_blank(parent):
        parent.add(tomlkit.nl())
    if trailing:
        child.add(tomlkit.nl())
    for item in trailing:
        child.add(item)
    if not trailing:
        child.add(tomlkit.nl())
    parent.append(key, child)
