"""Edits to `pyproject.toml` that keep the user's comments, key order and layout.

What `kiln add` and `kiln remove` write. Each function takes the document's text and returns
the new text, so a command can compute every edit first and write nothing when one fails.
Requirements are written as uv writes them (`torch>=2.5.1 ; sys_platform == 'linux'`); how
arrays and tables are laid out is `toml_layout`'s business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import tomlkit
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, InlineTable, Item, Table
from tomlkit.toml_document import TOMLDocument

from kiln.project.toml_layout import (
    TABLES,
    PyprojectEditError,
    inline,
    inline_list,
    inline_text,
    insert_position,
    lookup,
    malformed,
    reflow,
    render,
    table,
)

__all__ = [
    "PyprojectEditError",
    "add_dependency",
    "add_index",
    "add_source",
    "format_requirement",
    "listed_requirements",
    "remove_dependency",
    "with_lower_bound",
]

_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_INDEX_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
_QUOTED_RE = re.compile(r'"([^"\']*)"')

Place = tuple[tuple[str, ...], str]  # (path of the table, key of the array in it)


def format_requirement(requirement: Requirement) -> str:
    """``requirement`` as uv writes it: normalized names, `' ; '` before a single-quoted marker."""
    text: str = canonicalize_name(requirement.name)
    if requirement.extras:
        text += f"[{','.join(sorted(canonicalize_name(e) for e in requirement.extras))}]"
    if requirement.url:
        text += f" @ {requirement.url}"
    elif requirement.specifier:
        text += str(requirement.specifier)
    if requirement.marker is not None:
        text += f" ; {_marker_text(requirement.marker)}"
    return text


def with_lower_bound(requirement: str, version: str) -> str:
    """``requirement`` with `>=` the public part of ``version`` (uv drops `+cpu`), unless it
    already has a specifier or a URL, which the user chose and is kept as written."""
    req = _requirement(requirement)
    if req.specifier or req.url:
        return requirement
    try:
        public = Version(version).public
    except InvalidVersion:
        raise PyprojectEditError(f"`{version}` is not a valid version") from None
    req.specifier = SpecifierSet(f">={public}")
    return format_requirement(req)


def add_dependency(
    text: str,
    requirement: str,
    *,
    extra: str | None = None,
    group: str | None = None,
    raw: bool = False,
) -> str:
    """Add ``requirement`` to `[project].dependencies`, an extra, or a PEP 735 group (`dev`
    goes to the legacy `tool.uv.dev-dependencies` where only that exists).

    An entry on the same package under the same marker is updated where it stands, as uv
    updates it: extras are united, its specifier or URL is replaced only by a new one. ``raw``
    writes the requirement exactly as given.
    """
    new = _requirement(requirement)
    doc = _parse(text)
    created: list[Table] = []
    array, where = _target_array(doc, created, extra=extra, group=group)
    multiline = "\n" in array.as_string()
    matches = [
        (i, old)
        for i, old in _requirements(array)
        if canonicalize_name(old.name) == canonicalize_name(new.name)
        and _marker_key(old.marker) == _marker_key(new.marker)
    ]
    if len(matches) > 1:
        raise PyprojectEditError(
            f"`{where}` lists `{new.name}` more than once under the same marker",
            hint="remove the duplicates by hand, then run the command again",
        )
    if matches:
        index, old = matches[0]
        entry = requirement.strip() if raw else format_requirement(_merged(old, new))
        if entry == array[index]:
            return text
        array[index] = entry
    else:
        entry = requirement.strip() if raw else format_requirement(new)
        array.insert(insert_position(array, entry), entry)
    reflow(array, multiline=multiline)
    return render(doc, text, created)


def listed_requirements(
    text: str, name: str, *, extra: str | None = None, group: str | None = None
) -> tuple[str, ...]:
    """The entries of one dependency table that name package ``name``, as written."""
    target = canonicalize_name(name)
    arrays = _existing_arrays(_parse(text), extra=extra, group=group)
    return tuple(str(v) for array in arrays for v in array if _named(v) == target)


def remove_dependency(
    text: str, name: str, *, extra: str | None = None, group: str | None = None
) -> tuple[str, bool]:
    """Remove every entry on package ``name`` from one table (group `dev` includes the legacy
    `tool.uv.dev-dependencies`), and the package's `[tool.uv.sources]` entry once no dependency
    table names it. The text comes back unchanged when nothing was listed."""
    doc = _parse(text)
    target = canonicalize_name(name)
    removed = False
    for array in _existing_arrays(doc, extra=extra, group=group):
        multiline = "\n" in array.as_string()
        found = [i for i, req in _requirements(array) if canonicalize_name(req.name) == target]
        for index in reversed(found):
            del array[index]
        if found:
            removed = True
            reflow(array, multiline=multiline)
    if not removed:
        return text, False
    if target not in _all_dependency_names(doc.unwrap()):
        sources = lookup(doc, ("tool", "uv", "sources")) or {}
        keys = [k for k in sources if canonicalize_name(k) == target]
        for key in keys:
            del sources[key]
        if keys and not sources:
            del doc["tool"]["uv"]["sources"]
    return render(doc, text), True


def add_index(text: str, name: str, url: str, *, explicit: bool = True) -> str:
    """A `[[tool.uv.index]]` entry; one already named ``name`` gets the new URL. A new entry
    goes first, as uv puts an index given on the command line before the others."""
    if not _INDEX_NAME_RE.match(name):
        raise PyprojectEditError(
            f"index name `{name}` may hold only letters, digits, `-`, `_` and `.`",
            hint="pass the index as `--index NAME=URL`, e.g. `--index pytorch-cpu=https://download.pytorch.org/whl/cpu`",
        )
    if not url:
        raise PyprojectEditError(f"index `{name}` needs a URL", hint="pass `--index NAME=URL`")
    doc = _parse(text)
    uv = table(doc, ("tool", "uv"), [])
    existing = uv.get("index")
    if existing is not None and not isinstance(existing, AoT):
        raise malformed("tool.uv.index", "an array of tables (`[[tool.uv.index]]`)")
    for entry in existing or []:
        if entry.get("name") == name:
            if entry.get("url") == url:
                return text
            entry["url"] = url
            return render(doc, text)
    entry = tomlkit.table()
    entry.add("name", name)
    entry.add("url", url)
    if explicit:
        entry.add("explicit", True)
    entry.add(tomlkit.nl())
    if existing is None:
        uv["index"] = tomlkit.aot()
        uv["index"].append(entry)
    else:
        existing.insert(0, entry)
    return render(doc, text)


def add_source(
    text: str,
    package: str,
    *,
    index: str | None = None,
    location: Mapping[str, str | bool] | None = None,
    marker: str | None = None,
    extra: str | None = None,
    group: str | None = None,
) -> str:
    """`[tool.uv.sources] package = { index = ... }` (or ``location``: `path`, `git` + `rev`,
    `url`, …), or a list of such tables when the package already has sources under other
    markers, extras or groups. An entry under the same conditions is replaced; an
    unconditional entry and any other are never kept together."""
    doc = _parse(text)
    data = doc.unwrap()
    entry: dict[str, str | bool] = dict(location or {})
    if index is not None:
        indexes = get_path(data, ("tool", "uv", "index")) or []
        if index not in [i.get("name") for i in indexes if isinstance(i, dict)]:
            raise PyprojectEditError(
                f"`tool.uv.sources.{package}` would name index `{index}`, which no `[[tool.uv.index]]` entry defines",
                hint="add the index first (`--index NAME=URL`)",
            )
        entry = {"index": index}
    if marker:
        entry["marker"] = _marker_text(_marker(marker))
    if extra is not None:
        entry["extra"] = _declared(data, ("project", "optional-dependencies"), extra, "extra")
    if group is not None:
        entry["group"] = _declared(data, ("dependency-groups",), group, "group")
    created: list[Table] = []
    sources = table(doc, ("tool", "uv", "sources"), created)
    target = canonicalize_name(package)
    key = next((k for k in sources if canonicalize_name(k) == target), target)
    current = sources.get(key)
    wanted = _conditions(entry)

    def clashes(old: dict[str, Any]) -> bool:
        conditions = _conditions(old)
        return conditions == wanted or not any(conditions) or not any(wanted)

    if isinstance(current, Array):
        multiline = "\n" in current.as_string()
        olds = [v.unwrap() if isinstance(v, Item) else v for v in current]
        gone = [i for i, old in enumerate(olds) if clashes(old)]
        if [olds[i] for i in gone] == [entry]:
            return text
        # The first entry under the same conditions is replaced where it stands.
        here = next((i for i in gone if _conditions(olds[i]) == wanted), None)
        for i in reversed(gone):
            if i != here:
                del current[i]
        if here is None:
            current.append(inline(entry))
        else:
            current[here - sum(1 for i in gone if i < here)] = inline(entry)
        reflow(current, multiline=multiline)
    elif isinstance(current, TABLES):
        old = current.unwrap()
        if old == entry:
            return text
        if clashes(old):
            sources[key] = inline(entry)
        else:
            written = current.as_string().strip() if isinstance(current, InlineTable) else None
            sources[key] = inline_list([written or inline_text(old), inline_text(entry)])
    elif current is None:
        sources[key] = inline(entry)
    else:
        raise malformed(f"tool.uv.sources.{key}", "a table or a list of tables")
    return render(doc, text, created)


# --- reading --------------------------------------------------------------------------------


def _parse(text: str) -> TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise PyprojectEditError("`pyproject.toml` is not valid TOML", causes=[str(exc)]) from None


def _requirement(text: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise PyprojectEditError(
            f"`{text}` is not a valid requirement",
            causes=[str(exc)],
            hint="write it as PEP 508 describes, e.g. `torch>=2.5` or `torch ; sys_platform == 'linux'`",
        ) from None


def _marker(text: str) -> Marker:
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise PyprojectEditError(f"`{text}` is not a valid marker", causes=[str(exc)]) from None


def _marker_text(marker: Marker) -> str:
    # packaging quotes values with `"`; uv writes `'`, which needs no escaping inside TOML strings.
    return _QUOTED_RE.sub(r"'\1'", str(marker))


def _marker_key(marker: Marker | None) -> str | None:
    return str(marker) if marker is not None else None


def _named(value: Any) -> NormalizedName | None:
    if not isinstance(value, str):
        return None  # `{ include-group = ... }`
    try:
        return canonicalize_name(Requirement(value).name)
    except InvalidRequirement:
        return None


def _requirements(array: Array) -> Iterator[tuple[int, Requirement]]:
    for i, value in enumerate(array):
        if isinstance(value, str):
            try:
                yield i, Requirement(str(value))
            except InvalidRequirement:
                continue


def get_path(data: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in nested tables, or None where a step is missing."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _key_in(keys: Any, name: str) -> str | None:
    """The key among ``keys`` that is ``name`` once both are normalized."""
    wanted = canonicalize_name(name)
    return next((k for k in keys if canonicalize_name(k) == wanted), None)


def _valid_name(name: str, what: str) -> str:
    if not _NAME_RE.match(name):
        raise PyprojectEditError(
            f"`{name}` is not a valid {what} name",
            hint="use letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
        )
    return canonicalize_name(name)


def _declared(data: Any, path: tuple[str, ...], name: str, what: str) -> str:
    legacy_dev = get_path(data, ("tool", "uv", "dev-dependencies"))
    if what == "group" and canonicalize_name(name) == "dev" and legacy_dev:
        return "dev"
    if _key_in(get_path(data, path) or {}, name) is None:
        flag = "--optional" if what == "extra" else "--group"
        raise PyprojectEditError(
            f"{what} `{name}` is not defined in `{'.'.join(path)}`",
            hint=f"add a dependency to that {what} first (`kiln add {flag} {name} PACKAGE`)",
        )
    return canonicalize_name(name)


def _places(doc: TOMLDocument, *, extra: str | None, group: str | None) -> list[Place]:
    """Where the requirements of the project, an extra or a group live, first the one a new
    requirement goes to. Group `dev` also lives in the legacy `tool.uv.dev-dependencies`."""
    if extra is not None and group is not None:
        raise PyprojectEditError("a dependency goes into an extra or a group, not both")
    if extra is not None:
        return [(("project", "optional-dependencies"), _valid_name(extra, "extra"))]
    if group is None:
        return [(("project",), "dependencies")]
    places: list[Place] = [(("dependency-groups",), _valid_name(group, "group"))]
    if canonicalize_name(group) == "dev":
        legacy: Place = (("tool", "uv"), "dev-dependencies")
        groups = lookup(doc, ("dependency-groups",))
        uv = lookup(doc, ("tool", "uv"))
        has_group = groups is not None and _key_in(groups, "dev") is not None
        places.insert(0 if uv and "dev-dependencies" in uv and not has_group else 1, legacy)
    return places


def _target_array(
    doc: TOMLDocument, created: list[Table], *, extra: str | None, group: str | None
) -> tuple[Array, str]:
    """The array a new requirement goes into, made (with its tables) when missing."""
    path, key = _places(doc, extra=extra, group=group)[0]
    parent = table(doc, path, created)
    name = key if key in parent else _key_in(parent, key) or key
    if name not in parent:
        parent[name] = tomlkit.array()
    array = parent[name]
    if not isinstance(array, Array):
        raise malformed(f"{'.'.join(path)}.{name}", "an array of requirement strings")
    return array, f"{'.'.join(path)}.{name}"


def _existing_arrays(doc: TOMLDocument, *, extra: str | None, group: str | None) -> list[Array]:
    arrays: list[Array] = []
    for path, key in _places(doc, extra=extra, group=group):
        parent = lookup(doc, path)
        name = None if parent is None else key if key in parent else _key_in(parent, key)
        if parent is None or name is None:
            continue
        array = parent[name]
        if not isinstance(array, Array):
            raise malformed(f"{'.'.join(path)}.{name}", "an array of requirement strings")
        arrays.append(array)
    return arrays


def _all_dependency_names(data: Any) -> set[NormalizedName]:
    values: list[Any] = list(get_path(data, ("project", "dependencies")) or [])
    for tables in (
        get_path(data, ("project", "optional-dependencies")),
        get_path(data, ("dependency-groups",)),
    ):
        for array in (tables or {}).values():
            values.extend(array if isinstance(array, list) else [])
    values.extend(get_path(data, ("tool", "uv", "dev-dependencies")) or [])
    return {name for v in values if (name := _named(v)) is not None}


# --- writing --------------------------------------------------------------------------------


def _merged(old: Requirement, new: Requirement) -> Requirement:
    merged = Requirement(str(old))
    merged.extras = old.extras | new.extras
    if new.url:
        merged.url, merged.specifier = new.url, SpecifierSet()
    elif new.specifier:
        merged.url, merged.specifier = None, new.specifier
    if new.marker is not None:
        merged.marker = new.marker
    return merged


def _conditions(entry: Any) -> tuple[str | None, str | None, str | None]:
    """A source's marker, extra and group, normalized, to tell which entries stand for one."""
    if not isinstance(entry, dict):
        return (None, None, None)
    marker = entry.get("marker")
    try:
        marker_key = str(Marker(marker)) if marker else None
    except InvalidMarker:
        marker_key = str(marker)
    extra, group = entry.get("extra"), entry.get("group")
    return (
        marker_key,
        canonicalize_name(extra) if isinstance(extra, str) else None,
        canonicalize_name(group) if isinstance(group, str) else None,
    )
