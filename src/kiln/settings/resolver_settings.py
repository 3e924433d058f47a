"""`--prerelease`, `--resolution`, the binary/build options and the target Python/platform,
from flags, then `KILN_*` variables (each falling back to `UV_*`), then the project's
`[tool.uv]`, into frozen values.

Each variable stands in for its flag, as uv's do. The pip verbs take pip's spellings
(`--no-binary PKG|:all:|:none:`, `--only-binary ...`) beside uv's (`--no-build`,
`--no-build-package`, `--no-binary-package`); the project verbs take uv's alone.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, cast

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.errors import UsageError
from kiln.core.records import record
from kiln.project.uv_legacy_keys import resolver_keys
from kiln.project.uv_tables import UvTables
from kiln.resolve.options import (
    PRERELEASE_MODES,
    RESOLUTION_MODES,
    BuildChoices,
    PackageSet,
    PrereleaseMode,
    ResolutionMode,
    ResolverOptions,
)
from kiln.settings.config_files import config_of
from kiln.settings.global_settings import env_flag, env_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_PACKAGE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


def resolver_options(
    args: Any, env: Mapping[str, str] | None = None, *, project: UvTables | None = None
) -> ResolverOptions:
    """The options for one command: ``args`` is read with getattr, so any verb's namespace
    fits; ``project`` is the project's `[tool.uv]`, below flags and variables."""
    env = os.environ if env is None else env
    uv = project or UvTables()
    prerelease = _choice(
        getattr(args, "prerelease", None),
        env,
        "KILN_PRERELEASE",
        uv.resolver.prerelease,
        "tool.uv.prerelease",
        PRERELEASE_MODES,
        "--prerelease",
        "if-necessary-or-explicit",
    )
    resolution = _choice(
        getattr(args, "resolution", None),
        env,
        "KILN_RESOLUTION",
        uv.resolver.resolution,
        "tool.uv.resolution",
        RESOLUTION_MODES,
        "--resolution",
        "highest",
    )
    return ResolverOptions(
        prerelease=cast(PrereleaseMode, prerelease),
        resolution=cast(ResolutionMode, resolution),
        builds=_builds(args, env, uv),
    )


def pip_resolver_options(args: Any, env: Mapping[str, str] | None = None) -> ResolverOptions:
    """`resolver_options` for the pip verbs: below flags and variables, the nearest
    `pyproject.toml`'s `[tool.uv]` resolver keys (`[tool.uv.pip]` over them), found as the
    configuration files are (`settings/config_files.py`) and hidden where they hide it."""
    config = config_of(args)
    if config is None or not config.project_is_pyproject or config.masks_project:
        return resolver_options(args, env)
    path = config.files[0]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return resolver_options(args, env)  # the files' reader has already said why
    found = (data.get("tool") or {}).get("uv")
    uv: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    raw_pip = uv.get("pip")
    pip: Mapping[str, Any] = raw_pip if isinstance(raw_pip, Mapping) else {}
    merged = {**uv, **{k: pip[k] for k in ("prerelease", "resolution", "no-build") if k in pip}}
    errors: list[str] = []
    keys = resolver_keys(merged, errors)
    if errors:
        raise UsageError(f"`{path}` is not valid", causes=errors)
    return resolver_options(args, env, project=UvTables(resolver=keys))


def _choice(
    flag: str | None,
    env: Mapping[str, str],
    var: str,
    project: str | None,
    key: str,
    allowed: Sequence[str],
    option: str,
    default: str,
) -> str:
    for value, origin in (
        (flag, option),
        (env_value(env, var), _set_name(env, var)),
        (project, f"`{key}`"),
    ):
        if value is None:
            continue
        if value not in allowed:
            raise UsageError(
                f"{origin} `{value}` is not a known {option[2:]} mode",
                hint=f"use one of {', '.join(f'`{a}`' for a in allowed)}",
            )
        return value
    return default


def _set_name(env: Mapping[str, str], var: str) -> str:
    """The variable that gave a value: ``KILN_X``, or ``UV_X`` where it stood in."""
    return var if env.get(var) else "UV_" + var[5:]


def _names(values: Sequence[str], origin: str) -> frozenset[NormalizedName]:
    out: set[NormalizedName] = set()
    for value in values:
        for part in value.replace(",", " ").split():
            if not _PACKAGE.match(part):
                raise UsageError(
                    f"{origin} `{part}` is not a package name",
                    hint="name packages (`--no-build-package numpy`), or use `:all:`",
                )
            out.add(canonicalize_name(part))
    return frozenset(out)


def _pip_style(values: Sequence[str], origin: str) -> PackageSet | None:
    """pip's `--no-binary`/`--only-binary` values: names, `:all:`, `:none:` (which clears
    what came before it), comma-separated or repeated; None where none is given."""
    if not values:
        return None
    every = False
    names: set[NormalizedName] = set()
    for value in values:
        for part in value.replace(",", " ").split():
            if part == ":all:":
                every, names = True, set()
            elif part == ":none:":
                every, names = False, set()
            else:
                names |= _names([part], origin)
    return PackageSet(every, frozenset(names), f"`{origin} {' '.join(values)}`")


def _builds(args: Any, env: Mapping[str, str], uv: UvTables) -> BuildChoices:
    no_binary = _set(
        pip=_pip_style(_list(args, "no_binary"), "--no-binary"),
        every_flag=getattr(args, "no_binary", None) is True,
        every_flag_name="--no-binary",
        packages=_list(args, "no_binary_package"),
        packages_flag="--no-binary-package",
        env=env,
        every_var="KILN_NO_BINARY",
        packages_var="KILN_NO_BINARY_PACKAGE",
        # `kiln sync` installs a lock's wheels wherever they fit, so `tool.uv.no-binary`
        # stays refused (`project/uv_legacy_keys.py`) and is never read here.
        project_every=False,
        project_packages=(),
        key="no-binary",
    )
    no_build = _set(
        pip=_pip_style(_list(args, "only_binary"), "--only-binary"),
        every_flag=bool(getattr(args, "no_build", False)),
        every_flag_name="--no-build",
        packages=_list(args, "no_build_package"),
        packages_flag="--no-build-package",
        env=env,
        every_var="KILN_NO_BUILD",
        packages_var="KILN_NO_BUILD_PACKAGE",
        project_every=uv.resolver.no_build,
        project_packages=uv.resolver.no_build_package,
        key="no-build",
    )
    return BuildChoices(no_binary=no_binary, no_build=no_build)


def _list(args: Any, attr: str) -> list[str]:
    value = getattr(args, attr, None)
    return [v for v in value if v] if isinstance(value, list) else []


def _set(
    *,
    pip: PackageSet | None,
    every_flag: bool,
    every_flag_name: str,
    packages: Sequence[str],
    packages_flag: str,
    env: Mapping[str, str],
    every_var: str,
    packages_var: str,
    project_every: bool,
    project_packages: tuple[str, ...],
    key: str,
) -> PackageSet:
    """The flag form first, else its variable, else `[tool.uv]`; the `:all:` switch and the
    per-package list are read apart, as uv reads them, and joined."""
    if pip is not None:
        return pip
    if every_flag:
        return PackageSet(True, frozenset(), f"`{every_flag_name}`")
    if packages:
        names = _names(packages, packages_flag)
        return PackageSet(False, names, f"`{packages_flag} {' '.join(sorted(names))}`")
    if env_value(env, every_var) is not None and env_flag(env, every_var):
        return PackageSet(True, frozenset(), f"`{_set_name(env, every_var)}`")
    listed = env_value(env, packages_var)
    if listed:
        var = _set_name(env, packages_var)
        return PackageSet(False, _names([listed], var), f"`{var}={listed}`")
    if project_every:
        return PackageSet(True, frozenset(), f"`tool.uv.{key} = true`")
    if project_packages:
        names = _names(project_packages, f"`tool.uv.{key}-package`")
        return PackageSet(False, names, f"`tool.uv.{key}-package`")
    return PackageSet()


# -- the target Python and platform -----------------------------------------------------------

_PYTHON_VERSION = re.compile(r"^3\.(\d+)(?:\.(\d+))?$")


@record
class TargetPython:
    """`--python-version X.Y[.Z]`: the Python resolved for, whatever runs the builds."""

    minor: int
    patch: int | None  # None: `3.9` means 3.9.0 to `Requires-Python`, as uv reads it

    @property
    def version(self) -> tuple[int, int]:
        return (3, self.minor)

    @property
    def full_version(self) -> str:
        return f"3.{self.minor}.{self.patch or 0}"

    def __str__(self) -> str:
        return f"3.{self.minor}" + (f".{self.patch}" if self.patch is not None else "")


def target_python(text: str | None) -> TargetPython | None:
    if text is None:
        return None
    match = _PYTHON_VERSION.match(text.strip())
    if match is None:
        raise UsageError(
            f"`--python-version {text}` is not a Python version",
            hint="write it as `3.X` or `3.X.Y`, e.g. `--python-version 3.11`",
        )
    return TargetPython(int(match.group(1)), int(match.group(2)) if match.group(2) else None)
