"""Persistent configuration: `kiln.toml` and `uv.toml`, found where uv looks for `uv.toml`.

Where kiln looks, highest priority first (each level is merged over the ones below it):

1. project: the nearest folder, from the project (``--project``) or the current folder
   upwards, that holds a `kiln.toml` or `uv.toml`, or a `pyproject.toml` with `[tool.uv]`.
   A `kiln.toml`/`uv.toml` there hides the settings of that `pyproject.toml`'s `[tool.uv]`
   (its `sources`, `conflicts` and other project keys still count), as in uv;
2. user: `$XDG_CONFIG_HOME/kiln/kiln.toml` and `$XDG_CONFIG_HOME/uv/uv.toml`
   (`~/.config/...` when `XDG_CONFIG_HOME` is unset or relative);
3. system: the first `DIR/kiln/kiln.toml` for DIR in `$XDG_CONFIG_DIRS` (default `/etc/xdg`),
   else `/etc/kiln/kiln.toml`; and `uv.toml` the same way.

At every level `kiln.toml` wins over `uv.toml` for the same key, so a file written for kiln
can sit beside one shared with uv. ``--config-file PATH`` (``KILN_CONFIG_FILE``, else
``UV_CONFIG_FILE``) reads that one file in place of all of them, the project's `[tool.uv]`
settings included; ``--no-config`` (``KILN_NO_CONFIG``, else ``UV_NO_CONFIG``) reads none.
Either way indexes that `[tool.uv.sources]` names stay usable for those packages, as in uv.

Merging is uv's: a string, number or boolean comes from the highest level that sets it;
lists are joined, the higher level's items first. Flags beat variables, which beat files.
Both files use uv.toml's shape: `[tool.uv]` keys at the top, plus `[pip]` for the pip verbs
only (where it beats the top-level keys of every level). Unknown keys are warnings; a key
that would change what is installed and that kiln does not carry out is an error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName

from kiln.core.errors import UsageError
from kiln.core.records import field, record, replace
from kiln.project.uv_legacy_keys import RESOLVER_KEYS, PipIndexKeys, refuse_unhonoured
from kiln.project.uv_tables import IndexEntry, Problems, UvTables, read_uv_tables
from kiln.settings.global_settings import env_flag, env_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Where dispatch leaves the loaded configuration on the parsed arguments, so that the
# settings built later from those arguments see the same files, read (and warned about) once.
ARGS_ATTRIBUTE = "persistent_config"

_INDEX_KEYS = frozenset(
    {"index", "index-url", "extra-index-url", "find-links", "no-index", "index-strategy",
     "exclude-newer", "exclude-newer-package"}
)  # fmt: skip
_GLOBAL_KEYS = frozenset({"cache-dir", "offline", "no-cache"})
# uv refuses these in a `uv.toml`: they describe one project.
_PROJECT_ONLY = (
    "conflicts", "workspace", "sources", "dev-dependencies", "default-groups",
    "dependency-groups", "managed", "package", "build-backend", "environments",
    "required-environments",
)  # fmt: skip
# Known to uv, and without effect on what gets installed.
_HARMLESS = frozenset(
    {"required-version", "system-certs", "native-tls", "preview", "preview-features",
     "python-downloads", "concurrent-downloads", "concurrent-builds", "concurrent-installs",
     "keyring-provider", "http-proxy", "https-proxy", "no-proxy", "allow-insecure-host",
     "python-install-mirror", "pypy-install-mirror", "graalpy-install-mirror",
     "pyodide-install-mirror", "python-downloads-json-url", "publish-url",
     "trusted-publishing", "check-url", "add-bounds", "audit", "cache-keys"}
)  # fmt: skip
# Known to uv, and changing the result; accepted only where the value asks for nothing.
_NOT_CARRIED_OUT = frozenset(
    {"no-build", "no-binary", "no-build-package", "no-binary-package", "torch-backend",
     "override-dependencies", "constraint-dependencies", "exclude-dependencies",
     "build-constraint-dependencies", "dependency-metadata", "no-sources", "no-sources-package",
     "fork-strategy", "reinstall", "reinstall-package", "upgrade", "config-settings",
     "config-settings-package", "no-build-isolation", "no-build-isolation-package",
     "extra-build-dependencies", "extra-build-variables", "prerelease-package",
     "require-build-hashes", "minimum-libc-version", "only-binary"}
)  # fmt: skip
# uv's `[pip]` settings that change what the pip verbs do. The pip verbs take them from the
# command line; in a file they are refused unless empty, never dropped.
_PIP_SETTINGS = frozenset(
    {"python", "system", "break-system-packages", "target", "prefix", "python-version",
     "python-platform", "universal", "no-deps", "strict", "extra", "all-extras", "no-extra",
     "group", "no-strip-extras", "no-strip-markers", "no-annotate", "no-header",
     "custom-compile-command", "generate-hashes", "output-file", "emit-index-url",
     "emit-find-links", "emit-build-options", "emit-marker-expression", "emit-index-annotation",
     "annotation-style", "require-hashes", "verify-hashes", "torch-backend", "only-binary",
     "no-binary", "no-build-isolation", "no-build-isolation-package", "compile-bytecode",
     "link-mode", "reinstall", "reinstall-package", "upgrade", "upgrade-package",
     "dependency-metadata", "no-sources", "config-settings", "allow-empty-requirements",
     "exclude-newer", "prerelease", "resolution", "no-build", "no-build-package",
     "fork-strategy", "keyring-provider", "index-strategy", "extra-build-dependencies"}
)  # fmt: skip
_PIP_INDEX_KEYS = frozenset(
    {"index", "index-url", "extra-index-url", "find-links", "no-index", "index-strategy",
     "exclude-newer"}
)  # fmt: skip
_NOTHING: tuple[object, ...] = (False, None, [], {}, "")


@record
class ConfigLayer:
    """What one file, or several merged, sets; None where nothing is set."""

    indexes: tuple[IndexEntry, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool | None = None
    index_strategy: str | None = None
    exclude_newer: datetime | None = None
    exclude_newer_package: Mapping[NormalizedName, datetime | None] = field(default_factory=dict)
    cache_dir: Path | None = None
    offline: bool | None = None
    no_cache: bool | None = None
    pip: ConfigLayer | None = None
    # `[pip]` settings kiln does not read from a file, each naming its file: an error for
    # the pip verbs, which uv applies them to, and nothing to the project verbs.
    pip_refusals: tuple[str, ...] = ()

    def over(self, lower: ConfigLayer) -> ConfigLayer:
        def first(a: Any, b: Any) -> Any:
            return a if a is not None else b

        pip = self.pip.over(lower.pip or ConfigLayer()) if self.pip else lower.pip
        return ConfigLayer(
            indexes=(*self.indexes, *lower.indexes),
            index_url=first(self.index_url, lower.index_url),
            extra_index_urls=(*self.extra_index_urls, *lower.extra_index_urls),
            find_links=(*self.find_links, *lower.find_links),
            no_index=first(self.no_index, lower.no_index),
            index_strategy=first(self.index_strategy, lower.index_strategy),
            exclude_newer=first(self.exclude_newer, lower.exclude_newer),
            exclude_newer_package={**lower.exclude_newer_package, **self.exclude_newer_package},
            cache_dir=first(self.cache_dir, lower.cache_dir),
            offline=first(self.offline, lower.offline),
            no_cache=first(self.no_cache, lower.no_cache),
            pip=pip,
            pip_refusals=(*self.pip_refusals, *lower.pip_refusals),
        )


@record
class PersistentConfig:
    """The settings read from configuration files, level by level."""

    project: ConfigLayer = field(default_factory=ConfigLayer)
    # The project level came from a `pyproject.toml`, which project verbs read themselves.
    project_is_pyproject: bool = False
    below: ConfigLayer = field(default_factory=ConfigLayer)
    # The project's own `[tool.uv]` settings do not apply (a `uv.toml` beside it,
    # `--config-file` or `--no-config`).
    masks_project: bool = False
    files: tuple[Path, ...] = ()
    warnings: tuple[str, ...] = ()

    def for_pip(self) -> ConfigLayer:
        """The pip verbs: every level, each level's `[pip]` over all top-level keys."""
        merged = self.project.over(self.below)
        if merged.pip_refusals:
            raise UsageError(
                "a configuration file sets what the pip verbs take only from the command line",
                causes=merged.pip_refusals,
                hint="pass the setting as a flag (or its `KILN_*` variable), or remove it",
            )
        return merged.pip.over(replace(merged, pip=None)) if merged.pip else merged

    def for_project(self) -> ConfigLayer:
        """The project verbs: the levels below the project's `[tool.uv]`, which they read."""
        layer = self.below if self.project_is_pyproject else self.project.over(self.below)
        return replace(layer, pip=None)

    def for_global(self) -> ConfigLayer:
        return self.project.over(self.below)


def config_of(args: Any) -> PersistentConfig | None:
    config = getattr(args, ARGS_ATTRIBUTE, None)
    return config if isinstance(config, PersistentConfig) else None


def load_config(
    args: Any,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    *,
    etc: Path = Path("/etc"),
) -> PersistentConfig:
    """Read the files the command line and ``env`` call for; ``etc`` is the last system place."""
    env = os.environ if env is None else env
    explicit = getattr(args, "config_file", None) or env_value(env, "KILN_CONFIG_FILE")
    if explicit:
        path = Path(explicit).expanduser()
        if path.name == "pyproject.toml":
            raise UsageError(
                f"`--config-file` takes a `kiln.toml` or `uv.toml`, not `{path}`",
                hint="to run a command for another project, pass `--project` instead",
            )
        if path.is_dir():
            raise UsageError(
                f"config file `{path}` is a folder",
                hint="give the path of a `kiln.toml` or `uv.toml`",
            )
        if not path.is_file():
            raise UsageError(f"config file `{path}` does not exist")
        warnings: list[str] = []
        layer = _read_config_file(path, warnings)
        return PersistentConfig(
            below=layer, masks_project=True, files=(path,), warnings=tuple(warnings)
        )
    if getattr(args, "no_config", False) or env_flag(env, "KILN_NO_CONFIG"):
        return PersistentConfig(masks_project=True)
    warnings = []
    start = Path(getattr(args, "project", None) or cwd or Path.cwd()).absolute()
    project_files, is_pyproject = _project_files(start, warnings)
    project = ConfigLayer()
    for path in reversed(project_files):
        project = (
            _read_pyproject(path, warnings) if is_pyproject else _read_config_file(path, warnings)
        ).over(project)
    user = [p for p in (_user_file(env, "kiln"), _user_file(env, "uv")) if p is not None]
    system = [p for p in (_system_file(env, "kiln", etc), _system_file(env, "uv", etc)) if p]
    below = ConfigLayer()
    for path in reversed([*user, *system]):
        below = _read_config_file(path, warnings).over(below)
    return PersistentConfig(
        project=project,
        project_is_pyproject=is_pyproject,
        below=below,
        masks_project=bool(project_files) and not is_pyproject,
        files=(*project_files, *user, *system),
        warnings=tuple(warnings),
    )


def _project_files(start: Path, warnings: list[str]) -> tuple[list[Path], bool]:
    for folder in (start, *start.parents):
        found = [p for p in (folder / "kiln.toml", folder / "uv.toml") if p.is_file()]
        pyproject = folder / "pyproject.toml"
        if found:
            masked = _pyproject_settings(pyproject) if pyproject.is_file() else []
            if masked:
                warnings.append(
                    f"`{found[0]}` hides these settings of `[tool.uv]` in `{pyproject}`, "
                    f"which are ignored: {', '.join(masked)}"
                )
            return found, False
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                warnings.append(f"`{pyproject}` could not be read for its settings: {exc}")
                continue
            if isinstance((data.get("tool") or {}).get("uv"), Mapping):
                return [pyproject], True
    return [], False


def _pyproject_settings(path: Path) -> list[str]:
    try:
        uv = (tomllib.loads(path.read_text(encoding="utf-8")).get("tool") or {}).get("uv")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    return [k for k in uv if k not in _PROJECT_ONLY] if isinstance(uv, Mapping) else []


def _user_file(env: Mapping[str, str], name: str) -> Path | None:
    xdg = env.get("XDG_CONFIG_HOME") or ""
    if os.path.isabs(xdg):
        base = Path(xdg)
    elif env.get("HOME"):
        base = Path(env["HOME"]) / ".config"
    else:
        return None
    path = base / name / f"{name}.toml"
    try:
        return path if path.is_file() else None
    except OSError:  # an unreadable home is no configuration, as for uv
        return None


def _system_file(env: Mapping[str, str], name: str, etc: Path) -> Path | None:
    dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    for folder in dirs.split(":"):
        if not folder:
            break
        path = Path(folder) / name / f"{name}.toml"
        if path.is_file():
            return path
    path = etc / name / f"{name}.toml"
    return path if path.is_file() else None


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"`{path}` could not be read", causes=(str(exc),)) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"`{path}` is not valid TOML", causes=(str(exc),)) from None


def _read_config_file(path: Path, warnings: list[str]) -> ConfigLayer:
    """A `kiln.toml` or `uv.toml`: uv's `[tool.uv]` keys at the top, and `[pip]`."""
    raw = _load_toml(path)
    errors: list[str] = []
    for key in _PROJECT_ONLY:
        if key in raw:
            errors.append(
                f"`{key}` belongs to a project: move it to `[tool.uv]` in its `pyproject.toml`"
            )
    _check_keys(raw, "", errors, warnings, path, known=_INDEX_KEYS | _GLOBAL_KEYS | {"pip"})
    pip_raw = raw.get("pip")
    pip: ConfigLayer | None = None
    refusals: tuple[str, ...] = ()
    if pip_raw is not None:
        if isinstance(pip_raw, Mapping):
            refusals = _pip_refusals(pip_raw, "pip.", path, honoured=frozenset())
            known = _PIP_INDEX_KEYS | _PIP_SETTINGS
            _check_keys(pip_raw, "pip.", errors, warnings, path, known=known)
            pip = _index_layer(pip_raw, "pip.", path.parent, errors, warnings)
        else:
            errors.append("`pip` must be a table")
    layer = _index_layer(raw, "", path.parent, errors, warnings)
    layer = replace(layer, pip=pip, pip_refusals=refusals, **_global_keys(raw, path.parent, errors))
    _raise(path, errors)
    return layer


def _read_pyproject(path: Path, warnings: list[str]) -> ConfigLayer:
    """The settings in a `pyproject.toml`'s `[tool.uv]`; its other keys are the project's."""
    uv = (_load_toml(path).get("tool") or {}).get("uv") or {}
    errors: list[str] = []
    layer = _index_layer(uv, "tool.uv.", path.parent, errors, warnings)
    pip_raw = uv.get("pip")
    pip = None
    refusals: tuple[str, ...] = ()
    if isinstance(pip_raw, Mapping):
        # The pip verbs read `prerelease`, `resolution`, `no-build` and `no-build-package`
        # from here themselves (`settings/resolver_settings.py`).
        refusals = _pip_refusals(pip_raw, "tool.uv.pip.", path, honoured=RESOLVER_KEYS)
        pip = _index_layer(pip_raw, "tool.uv.pip.", path.parent, errors, warnings)
    layer = replace(layer, pip=pip, **_global_keys(uv, path.parent, errors))
    layer = replace(layer, pip_refusals=refusals)
    _raise(path, errors)
    return layer


def _check_keys(
    raw: Mapping[str, Any],
    prefix: str,
    errors: list[str],
    warnings: list[str],
    path: Path,
    *,
    known: frozenset[str],
) -> None:
    refused: list[str] = []
    refuse_unhonoured(
        {k: v for k, v in raw.items() if k not in ("cache-dir", "workspace", "managed")}, refused
    )
    errors += [_renamed(message, prefix) for message in refused]
    for key, value in raw.items():
        if key in known or key in _PROJECT_ONLY or key in _HARMLESS:
            continue
        if key in _NOT_CARRIED_OUT:
            if value not in _NOTHING:
                errors.append(
                    f"`{prefix}{key}` is not supported by kiln yet; remove it or use uv here"
                )
        elif not any(f"`tool.uv.{key}" in m for m in refused) and not _refused_key(key):
            warnings.append(f"unknown key `{prefix}{key}` in `{path}` is ignored")


def _pip_refusals(
    raw: Mapping[str, Any], prefix: str, path: Path, *, honoured: frozenset[str]
) -> tuple[str, ...]:
    return tuple(
        f"`{prefix}{key}` in `{path}`"
        for key, value in raw.items()
        if key in _PIP_SETTINGS
        and key not in _PIP_INDEX_KEYS
        and key not in honoured
        and not _refused_key(key)  # `refuse_unhonoured` names it already
        and value not in _NOTHING
    )


def _refused_key(key: str) -> bool:
    probe: list[str] = []
    refuse_unhonoured({key: object()}, probe)
    return bool(probe)


def _index_layer(
    raw: Mapping[str, Any], prefix: str, base: Path, errors: list[str], warnings: list[str]
) -> ConfigLayer:
    problems = Problems()
    tables: UvTables = read_uv_tables({k: raw[k] for k in _INDEX_KEYS if k in raw}, problems)
    errors += [_renamed(message, prefix) for message in problems.errors]
    warnings += [_renamed(message, prefix) for message in problems.warnings]
    no_index = raw.get("no-index")
    keys = tables.pip_indexes
    return ConfigLayer(
        indexes=tuple(replace(i, url=_located(i.url, base)) for i in tables.indexes),
        index_url=_located(keys.index_url, base) if keys.index_url else None,
        extra_index_urls=tuple(_located(u, base) for u in keys.extra_index_urls),
        find_links=tuple(_located(u, base) for u in keys.find_links),
        no_index=no_index if isinstance(no_index, bool) else None,
        index_strategy=tables.index_strategy,
        exclude_newer=tables.exclude_newer,
        exclude_newer_package=tables.exclude_newer_package,
    )


def _global_keys(raw: Mapping[str, Any], base: Path, errors: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cache_dir = raw.get("cache-dir")
    if cache_dir is not None:
        if isinstance(cache_dir, str) and cache_dir:
            out["cache_dir"] = base / Path(cache_dir).expanduser()
        else:
            errors.append("`cache-dir` must be a path")
    for key in ("offline", "no-cache"):
        value = raw.get(key)
        if value is not None and not isinstance(value, bool):
            errors.append(f"`{key}` must be true or false")
        elif value is not None:
            out[key.replace("-", "_")] = value
    return out


def _located(value: str, base: Path) -> str:
    """A path in a file is relative to that file's folder, as uv reads it; URLs stay."""
    if "://" in value or value.startswith("file:") or os.path.isabs(value):
        return value
    return str(base / value)


def _renamed(message: str, prefix: str) -> str:
    # `read_uv_tables` names keys as they sit in a pyproject.toml.
    return (
        message.replace("[[tool.uv.index]]", f"[[{prefix}index]]")
        .replace("`tool.uv.index`", f"`{prefix}index`")
        .replace("tool.uv.", prefix)
    )


def _raise(path: Path, errors: list[str]) -> None:
    if errors:
        raise UsageError(
            f"`{path}` is not valid",
            causes=errors,
            hint="fix the keys named above; kiln reads this file as uv reads a `uv.toml`",
        )


def without_settings(uv: UvTables) -> UvTables:
    """A project's tables when its `[tool.uv]` settings do not apply: what is left of its
    indexes is those its sources name, and only for the packages pinned to them (as uv)."""
    named = {s.index for sources in uv.sources.values() for s in sources if s.index}
    return replace(
        uv,
        indexes=tuple(replace(i, explicit=True) for i in uv.indexes if i.name in named),
        index_strategy=None,
        exclude_newer=None,
        exclude_newer_package={},
        pip_indexes=PipIndexKeys(),
    )
