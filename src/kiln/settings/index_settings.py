"""Which indexes a command consults, in uv's order, from flags, KILN_* variables and the project.

Each variable stands in for its own flag, as uv's do: ``KILN_INDEX`` is read only when no
``--index`` is given, ``KILN_EXTRA_INDEX_URL`` only without ``--extra-index-url``, and so on.
What results is one list in priority order:

1. ``--default-index``, ``--index``, ``--extra-index-url``, ``--index-url`` (or their
   variables), then requirements-file options, then `[[tool.uv.index]]` entries, in that
   order; the first entry of a name wins, so ``--index pytorch=URL`` replaces the project's
   ``pytorch`` index;
2. every non-default entry keeps its place; of the default entries (``--default-index``,
   ``--index-url``, ``default = true``) only the first is kept, and it goes last;
3. without one, PyPI is the default, unless ``--no-index``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from packaging.utils import NormalizedName

from kiln.core.errors import UsageError
from kiln.core.records import field, record
from kiln.index.index_url import IndexUrl
from kiln.project.uv_legacy_keys import PipIndexKeys
from kiln.project.uv_tables import IndexEntry, UvTables, parse_exclude_newer
from kiln.settings.config_files import ConfigLayer, config_of, without_settings
from kiln.settings.global_settings import env_flag, env_value

if TYPE_CHECKING:
    from kiln.cache.layout import Cache
    from kiln.index.finder import IndexFinder
    from kiln.net.client import HttpClient

PYPI = "https://pypi.org/simple"

Strategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]
STRATEGIES: tuple[Strategy, ...] = ("first-index", "unsafe-first-match", "unsafe-best-match")
_NAME = re.compile(r"[A-Za-z0-9._-]+")


@record
class IndexSettings:
    """The indexes, find-links and upload-time cut-offs a command resolves with."""

    # Priority order, the default index last; explicit indexes included (the finder
    # consults them only for packages pinned to them).
    indexes: tuple[IndexUrl, ...]
    find_links: tuple[str, ...]
    strategy: Strategy = "first-index"
    exclude_newer: datetime | None = None
    exclude_newer_package: Mapping[NormalizedName, datetime | None] = field(default_factory=dict)

    @property
    def default_index(self) -> str | None:
        """The default index's URL; None with --no-index."""
        return next((index.url for index in self.indexes if index.default), None)

    @property
    def extra_indexes(self) -> tuple[str, ...]:
        return tuple(index.url for index in self.indexes if not index.default)

    def ordered(self) -> tuple[str, ...]:
        """Index URLs in priority order, the default index last (as uv)."""
        return tuple(index.url for index in self.indexes)

    def finder(
        self,
        client: HttpClient,
        cache: Cache,
        *,
        pins: Mapping[NormalizedName, str] | None = None,
    ) -> IndexFinder:
        from kiln.index.finder import IndexFinder

        return IndexFinder(
            self.indexes,
            self.find_links,
            client,
            cache,
            strategy=self.strategy,
            exclude_newer=self.exclude_newer,
            exclude_newer_package=self.exclude_newer_package,
            pins=pins,
        )

    @classmethod
    def resolve(
        cls,
        args: Any,
        env: Mapping[str, str] | None = None,
        *,
        file_index_url: str | None = None,
        file_extra_index_urls: Sequence[str] = (),
        file_find_links: Sequence[str] = (),
        file_no_index: bool = False,
    ) -> IndexSettings:
        """The pip interface: flags and variables, then requirements-file options, then the
        configuration files (`kiln.settings.config_files`), the nearest `[tool.uv]` included."""
        config = config_of(args)
        return index_settings(
            args,
            env,
            files=config.for_pip() if config is not None else None,
            requirements_index_url=file_index_url,
            requirements_extra_index_urls=file_extra_index_urls,
            requirements_find_links=file_find_links,
            requirements_no_index=file_no_index,
        )


def index_settings(
    args: Any,
    env: Mapping[str, str] | None = None,
    *,
    project_indexes: Sequence[IndexEntry] = (),
    project_strategy: str | None = None,
    project_exclude_newer: datetime | None = None,
    project_exclude_newer_package: Mapping[NormalizedName, datetime | None] | None = None,
    requirements_index_url: str | None = None,
    requirements_extra_index_urls: Sequence[str] = (),
    requirements_find_links: Sequence[str] = (),
    requirements_no_index: bool = False,
    project_pip_indexes: PipIndexKeys | None = None,
    files: ConfigLayer | None = None,
) -> IndexSettings:
    """Merge flags (``args``, read with getattr so any verb's namespace fits), the
    environment, the project's `[[tool.uv.index]]` entries and, below them, the
    configuration ``files`` into one `IndexSettings`."""
    env = os.environ if env is None else env
    files = files or ConfigLayer()

    def flag_or_env(attr: str, var: str) -> str | None:
        value = getattr(args, attr, None)
        return value if value else env_value(env, var)

    def flags_or_env(attr: str, var: str) -> list[str]:
        values = [v for v in (getattr(args, attr, None) or []) if v]
        return values if values else (env_value(env, var) or "").split()

    entries: list[IndexUrl] = []
    default_index = flag_or_env("default_index", "KILN_DEFAULT_INDEX")
    if default_index:
        entries.append(parse_index(default_index, default=True, origin="--default-index"))
    entries += [parse_index(v, origin="--index") for v in flags_or_env("index", "KILN_INDEX")]
    entries += [
        parse_index(v, origin="--extra-index-url", named=False)
        for v in flags_or_env("extra_index_url", "KILN_EXTRA_INDEX_URL")
    ]
    index_url = flag_or_env("index_url", "KILN_INDEX_URL")
    if index_url:
        entries.append(parse_index(index_url, default=True, origin="--index-url", named=False))
    entries += [
        parse_index(v, origin="a requirements file", named=False)
        for v in requirements_extra_index_urls
    ]
    if requirements_index_url:
        entries.append(
            parse_index(
                requirements_index_url, default=True, origin="a requirements file", named=False
            )
        )
    entries += [_from_entry(entry) for entry in (*project_indexes, *files.indexes)]
    legacy = project_pip_indexes or PipIndexKeys()
    # uv ranks these below `[[tool.uv.index]]`, and a `default = true` index above `index-url`.
    entries += [
        parse_index(v, origin="`tool.uv.extra-index-url`", named=False)
        for v in legacy.extra_index_urls
    ]
    entries += [
        parse_index(v, origin="`extra-index-url`", named=False) for v in files.extra_index_urls
    ]
    if legacy.index_url:
        entries.append(
            parse_index(legacy.index_url, default=True, origin="`tool.uv.index-url`", named=False)
        )
    if files.index_url:
        entries.append(
            parse_index(files.index_url, default=True, origin="`index-url`", named=False)
        )

    links = [
        *flags_or_env("find_links", "KILN_FIND_LINKS"),
        *requirements_find_links,
        *legacy.find_links,
        *files.find_links,
    ]
    no_index = (
        bool(getattr(args, "no_index", False))
        or env_flag(env, "KILN_NO_INDEX")
        or requirements_no_index
        or legacy.no_index
        or bool(files.no_index)
    )
    return IndexSettings(
        indexes=() if no_index else _ordered(entries),
        find_links=tuple(dict.fromkeys(links)),
        strategy=_strategy(
            getattr(args, "index_strategy", None)
            or env_value(env, "KILN_INDEX_STRATEGY")
            or project_strategy
            or files.index_strategy
            or "first-index"
        ),
        exclude_newer=_exclude_newer(args, env, project_exclude_newer or files.exclude_newer),
        exclude_newer_package={
            **files.exclude_newer_package,
            **(project_exclude_newer_package or {}),
        },
    )


# What a project command consults: the same settings, with the project's tables merged in.
ProjectIndexes = IndexSettings


def project_indexes(args: Any, uv: UvTables, env: Mapping[str, str] | None = None) -> IndexSettings:
    """`index_settings` for a project: its `[[tool.uv.index]]` entries, `index-strategy`
    and `exclude-newer` below the flags and variables, the configuration files below them."""
    config = config_of(args)
    if config is not None and config.masks_project:
        uv = without_settings(uv)
    legacy = uv.pip_indexes
    return index_settings(
        args,
        env,
        files=config.for_project() if config is not None else None,
        project_indexes=uv.indexes,
        project_pip_indexes=legacy,
        project_strategy=uv.index_strategy,
        project_exclude_newer=uv.exclude_newer,
        project_exclude_newer_package=uv.exclude_newer_package,
    )


def parse_index(
    text: str, *, default: bool = False, origin: str = "--index", named: bool = True
) -> IndexUrl:
    """``URL`` or ``NAME=URL`` (only where uv accepts names: --index, --default-index and
    their variables). A URL's own ``=`` (in a query) is told apart by the ``:`` before it."""
    value = text.strip()
    name: str | None = None
    if named and "=" in value:
        head, _, rest = value.partition("=")
        if _NAME.fullmatch(head):
            name, value = head, rest.strip()
    if not value:
        raise UsageError(
            f"{origin} `{text}` has no URL",
            hint="write `URL` or `NAME=URL`, e.g. `pytorch=https://download.pytorch.org/whl/cpu`",
        )
    url = value if "://" not in value else value.rstrip("/")
    return IndexUrl(url, name=name, default=default)


def _from_entry(entry: IndexEntry) -> IndexUrl:
    return IndexUrl(
        entry.url if entry.format == "flat" else entry.url.rstrip("/"),
        name=entry.name,
        explicit=entry.explicit,
        default=entry.default,
        format=entry.format,
        authenticate=entry.authenticate,
        ignore_error_codes=frozenset(entry.ignore_error_codes)
        if entry.ignore_error_codes
        else None,
    )


def _ordered(entries: Sequence[IndexUrl]) -> tuple[IndexUrl, ...]:
    seen_names: set[str] = set()
    seen_urls: set[str] = set()
    kept: list[IndexUrl] = []
    default: IndexUrl | None = None
    for entry in entries:
        if entry.name is not None:
            if entry.name in seen_names:
                continue
            seen_names.add(entry.name)
        elif entry.url in seen_urls and not entry.default:
            continue
        seen_urls.add(entry.url)
        if entry.default:
            if default is None:
                default = entry
            continue
        kept.append(entry)
    if default is None:
        default = IndexUrl(PYPI, default=True)
    elif any(e.url == default.url and e.name is None for e in kept):
        # `--index-url X --extra-index-url X`: one index, consulted as the default.
        kept = [e for e in kept if not (e.url == default.url and e.name is None)]
    return (*kept, default)


def _strategy(value: str) -> Strategy:
    for strategy in STRATEGIES:
        if value == strategy:
            return strategy
    raise UsageError(
        f"unknown index strategy `{value}`",
        hint=f"use one of {', '.join(STRATEGIES)}",
    )


def _exclude_newer(args: Any, env: Mapping[str, str], project: datetime | None) -> datetime | None:
    for value, origin in (
        (getattr(args, "exclude_newer", None), "--exclude-newer"),
        (env.get("KILN_EXCLUDE_NEWER"), "KILN_EXCLUDE_NEWER"),
        (env.get("UV_EXCLUDE_NEWER"), "UV_EXCLUDE_NEWER"),
    ):
        if value:
            try:
                return parse_exclude_newer(str(value))
            except ValueError as exc:
                raise UsageError(
                    f"{origin} `{value}` is not a date or a time",
                    causes=(str(exc),),
                    hint="write a date (`2024-06-01`) or an RFC 3339 time (`2024-06-01T12:00:00Z`)",
                ) from None
    return project
