"""How sdists and source trees are built: isolated or in the target environment, and with
which extra build requirements. Flags, then `KILN_*` (then `UV_*`) variables, then the
project's `[tool.uv]`, as uv reads them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.records import field, record
from kiln.project.uv_tables import UvTables
from kiln.settings.global_settings import env_flag, env_value


@record
class BuildSettings:
    """How source distributions are built: isolation, and extra build requirements."""

    isolation: bool = True  # False: `--no-build-isolation` for every package
    no_isolation: frozenset[NormalizedName] = frozenset()  # `--no-build-isolation-package`
    # `extra-build-dependencies`: package -> requirements added to its build environment
    extra: Mapping[NormalizedName, tuple[str, ...]] = field(default_factory=dict)

    def isolated(self, name: str | None) -> bool:
        if not self.isolation:
            return False
        return name is None or canonicalize_name(name) not in self.no_isolation

    def extra_for(self, name: str | None) -> tuple[str, ...]:
        return () if name is None else tuple(self.extra.get(canonicalize_name(name), ()))

    @property
    def any_unisolated(self) -> bool:
        return not self.isolation or bool(self.no_isolation)


def build_settings(
    args: Any, uv: UvTables | None = None, env: Mapping[str, str] | None = None
) -> BuildSettings:
    env = os.environ if env is None else env
    isolation = not (
        getattr(args, "no_build_isolation", False)
        or env_flag(env, "KILN_NO_BUILD_ISOLATION")
        or (uv is not None and uv.no_build_isolation)
    )
    packages = set(getattr(args, "no_build_isolation_package", None) or ())
    from_env = env_value(env, "KILN_NO_BUILD_ISOLATION_PACKAGE")
    if from_env:
        packages.update(p for p in from_env.replace(",", " ").split() if p)
    if uv is not None:
        packages.update(uv.no_build_isolation_package)
    return BuildSettings(
        isolation=isolation,
        no_isolation=frozenset(canonicalize_name(p) for p in packages),
        extra=dict(uv.extra_build_dependencies) if uv is not None else {},
    )
