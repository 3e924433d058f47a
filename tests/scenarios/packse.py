"""packse resolver scenarios (TOML, packse 0.3.59) as test data for kiln.

A scenario names a set of package releases, what the user asks for (`root.requires`), the
interpreter (`environment.python`), options for the resolver, and the expected outcome. This
module reads one into frozen values, turns its releases into `Pkg`s for the local test index,
and says when a scenario needs something kiln does not have, so that it is skipped with that
reason rather than passed by accident.

Defaults follow packse 0.3.59: every release has an sdist and a `py3-none-any` wheel and
`requires-python = ">=3.12"` unless it says otherwise, and the interpreter is 3.12.
Package names stay plain (packse prefixes them with the scenario's name) because each
scenario gets an index of its own.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag, platform_tags
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.wheels import Pkg

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the dev environment is 3.12
    import tomli as tomllib

DEFAULT_REQUIRES_PYTHON = ">=3.12"
DEFAULT_PYTHON = "3.12"
PYENV_VERSIONS = Path("/root/.pyenv/versions")
# A reason given for every yanked file: the Simple API's JSON form treats "" as not yanked
# in some readers, and a reason also shows in kiln's warning.
YANKED_REASON = "yanked in the packse scenario"
# Lock-mode scenarios whose point lies on a platform kiln does not lock for (it locks Linux
# x86_64/aarch64, macOS arm64 and Windows AMD64, CPython only): id -> what is missing.
OUTSIDE_LOCK_TARGETS = {
    "fork/conflict-in-fork": "the conflict is on `sys_platform == 'os1'`",
    "tag_and_markers/unreachable-wheels": "`c` (darwin) has wheels for macOS x86_64 only",
}


@dataclass(frozen=True)
class Release:
    """One version of one package in a scenario."""

    version: str
    requires: tuple[str, ...] = ()
    requires_python: str | None = DEFAULT_REQUIRES_PYTHON
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sdist: bool = True
    wheel: bool = True
    yanked: bool = False
    wheel_tags: tuple[str, ...] = ()

    @property
    def tags(self) -> tuple[str, ...]:
        return self.wheel_tags or ("py3-none-any",)


@dataclass(frozen=True)
class ResolverOptions:
    python: str | None = None
    prereleases: bool = False
    no_build: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    universal: bool = False
    python_platform: str | None = None
    required_environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expected:
    satisfiable: bool
    packages: Mapping[str, str] = field(default_factory=dict)
    explanation: str | None = None


@dataclass(frozen=True)
class Scenario:
    category: str
    name: str
    description: str
    # package name -> version string -> release
    packages: Mapping[str, Mapping[str, Release]]
    root_requires: tuple[str, ...]
    root_requires_python: str | None
    python: str
    additional_python: tuple[str, ...]
    options: ResolverOptions
    expected: Expected
    path: Path

    @property
    def id(self) -> str:
        return f"{self.category}/{self.name}"

    def pkgs(self) -> list[Pkg]:
        """Every release as the local index should serve it."""
        built: list[Pkg] = []
        for name, versions in self.packages.items():
            for version, release in versions.items():
                built.append(
                    Pkg(
                        name=name,
                        version=version,
                        requires_dist=list(release.requires),
                        requires_python=release.requires_python,
                        extras={k: list(v) for k, v in release.extras.items()},
                        tags=list(release.tags),
                        sdist=release.sdist,
                        wheel=release.wheel,
                        yanked=YANKED_REASON if release.yanked else None,
                    )
                )
        return built

    def expected_set(self) -> dict[str, str]:
        """The expected resolution, names normalized and versions in PEP 440 normal form."""
        return {
            canonicalize_name(name): str(Version(version))
            for name, version in self.expected.packages.items()
        }

    def root_names(self) -> set[str]:
        """Normalized names of the root requirements that hold unconditionally."""
        reqs = [Requirement(text) for text in self.root_requires]
        return {canonicalize_name(r.name) for r in reqs if r.marker is None}

    def unsupported(self) -> str | None:
        """Why kiln cannot run this scenario as written, or None when it can."""
        opts = self.options
        if self.lock_mode:
            return self._lock_unsupported()
        if opts.python is not None:
            return f"needs `--python-version {opts.python}` (resolve for another Python than the environment's); kiln has no such flag"
        if opts.python_platform is not None and not host_matches(opts.python_platform):
            return f"needs `--python-platform {opts.python_platform}`; kiln has no such flag"
        if opts.prereleases:
            return "needs `--prerelease=allow`; kiln has no such flag"
        if opts.no_binary:
            return "needs `--no-binary` and building sdists; kiln has neither"
        if self.expected.satisfiable:
            built = self._expected_from_sdist()
            if built:
                return f"needs building an sdist ({', '.join(built)} has no usable wheel); kiln does not build sdists yet"
        if interpreter_for(self.python) is None:
            return f"needs CPython {self.python}, which is not installed"
        return None

    @property
    def lock_mode(self) -> bool:
        """Whether the scenario asks for one resolution valid everywhere (`uv lock`)."""
        return self.options.universal or bool(self.options.required_environments)

    def _lock_unsupported(self) -> str | None:
        opts = self.options
        if self.id in OUTSIDE_LOCK_TARGETS:
            return f"needs a lock target outside kiln's four platforms: {OUTSIDE_LOCK_TARGETS[self.id]}"
        if opts.python is not None:
            return f"needs `--python-version {opts.python}` in lock mode; kiln has no such flag"
        if opts.python_platform is not None:
            return f"needs `--python-platform {opts.python_platform}`; kiln has no such flag"
        if opts.prereleases:
            return "needs `--prerelease=allow`; kiln has no such flag"
        if opts.no_binary:
            return "needs `--no-binary` and building sdists; kiln has neither"
        return None

    def pyproject(self) -> str:
        """The project `uv lock` would be run in: the root requirements as dependencies."""
        lines = [
            "[project]",
            'name = "project"',
            'version = "0.1.0"',
            f"dependencies = {_toml_list(self.root_requires)}",
        ]
        if self.root_requires_python is not None:
            lines.append(f"requires-python = {_toml_str(self.root_requires_python)}")
        if self.options.required_environments:
            lines += [
                "",
                "[tool.uv]",
                f"required-environments = {_toml_list(self.options.required_environments)}",
            ]
        return "\n".join(lines) + "\n"

    def _expected_from_sdist(self) -> list[str]:
        """Releases the environment could only get by building their sdist.

        Those are the expected releases without a usable wheel and, where the scenario lists
        no expected versions, each root requirement none of whose matching releases has one.
        """
        needs: list[str] = []
        for name, version in self.expected.packages.items():
            release = _find_release(self.packages, name, version)
            if release is not None and self._only_sdist(release):
                needs.append(f"{name} {version}")
        if self.expected.packages:
            return needs
        for text in self.root_requires:
            req = Requirement(text)
            matching = [
                release
                for pkg_name, versions in self.packages.items()
                if canonicalize_name(pkg_name) == canonicalize_name(req.name)
                for release in versions.values()
                if req.specifier.contains(release.version, prereleases=True)
            ]
            if matching and all(self._only_sdist(r) for r in matching):
                needs.append(str(req))
        return needs

    def _only_sdist(self, release: Release) -> bool:
        supported = supported_tags(self.python)
        usable = release.wheel and any(
            tag in supported for text in release.tags for tag in parse_tag(text)
        )
        return release.sdist and not usable


def _find_release(
    packages: Mapping[str, Mapping[str, Release]], name: str, version: str
) -> Release | None:
    wanted = Version(version)
    for pkg_name, versions in packages.items():
        if canonicalize_name(pkg_name) != canonicalize_name(name):
            continue
        for text, release in versions.items():
            if Version(text) == wanted:
                return release
    return None


def _toml_str(text: str) -> str:
    # TOML basic strings share JSON's escapes for everything a requirement can hold.
    return json.dumps(text)


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(i) for i in items) + "]"


# -- loading ---------------------------------------------------------------------------------


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _release(version: str, raw: Mapping[str, Any]) -> Release:
    known = {"requires", "requires_python", "extras", "sdist", "wheel", "yanked", "wheel_tags"}
    unknown = set(raw) - known - {"description"}
    if unknown:
        raise ValueError(f"unknown release keys {sorted(unknown)} for version {version}")
    return Release(
        version=version,
        requires=_strings(raw.get("requires")),
        requires_python=raw.get("requires_python", DEFAULT_REQUIRES_PYTHON),
        extras={k: _strings(v) for k, v in (raw.get("extras") or {}).items()},
        sdist=bool(raw.get("sdist", True)),
        wheel=bool(raw.get("wheel", True)),
        yanked=bool(raw.get("yanked", False)),
        wheel_tags=_strings(raw.get("wheel_tags")),
    )


def load_scenario(path: Path, root: Path) -> Scenario:
    """Read one scenario file; its category is the folder it sits in below ``root``."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    packages: dict[str, dict[str, Release]] = {}
    for name, pkg in (data.get("packages") or {}).items():
        versions = pkg.get("versions") or {}
        packages[name] = {v: _release(v, raw or {}) for v, raw in versions.items()}
    raw_root = data.get("root") or {}
    raw_env = data.get("environment") or {}
    raw_opts = data.get("resolver_options") or {}
    raw_expected = data["expected"]
    category = path.parent.relative_to(root).as_posix()
    return Scenario(
        category=category,
        name=str(data["name"]),
        description=str(data.get("description", "")),
        packages=packages,
        root_requires=_strings(raw_root.get("requires")),
        root_requires_python=raw_root.get("requires_python", DEFAULT_REQUIRES_PYTHON),
        python=str(raw_env.get("python", DEFAULT_PYTHON)),
        additional_python=_strings(raw_env.get("additional_python")),
        options=ResolverOptions(
            python=raw_opts.get("python"),
            prereleases=bool(raw_opts.get("prereleases", False)),
            no_build=_strings(raw_opts.get("no_build")),
            no_binary=_strings(raw_opts.get("no_binary")),
            universal=bool(raw_opts.get("universal", False)),
            python_platform=raw_opts.get("python_platform"),
            required_environments=_strings(raw_opts.get("required_environments")),
        ),
        expected=Expected(
            satisfiable=bool(raw_expected["satisfiable"]),
            packages={str(k): str(v) for k, v in (raw_expected.get("packages") or {}).items()},
            explanation=raw_expected.get("explanation"),
        ),
        path=path,
    )


def load_scenarios(root: Path) -> list[Scenario]:
    """Every scenario below ``root``, in a stable order (category, then name)."""
    found = [load_scenario(p, root) for p in sorted(root.rglob("*.toml"))]
    return sorted(found, key=lambda s: s.id)


# -- interpreters ----------------------------------------------------------------------------


@cache
def installed_pythons() -> dict[str, Path]:
    """Full CPython version -> interpreter, from pyenv's versions folder."""
    found: dict[str, Path] = {}
    if not PYENV_VERSIONS.is_dir():
        return found
    for folder in PYENV_VERSIONS.iterdir():
        exe = folder / "bin" / "python3"
        if re.fullmatch(r"\d+\.\d+\.\d+", folder.name) and exe.exists():
            found[folder.name] = exe
    return found


def interpreter_for(version: str) -> Path | None:
    """An interpreter for ``3.X`` (the newest patch installed) or exactly ``3.X.Y``."""
    pythons = installed_pythons()
    if version.count(".") >= 2:
        return pythons.get(version)
    matching = [v for v in pythons if v.startswith(version + ".")]
    if not matching:
        return None
    return pythons[max(matching, key=Version)]


def host_matches(python_platform: str) -> bool:
    """Whether this machine is the platform a scenario asks uv to resolve for.

    Only the x86_64 Linux targets are recognised: there, running on the host asks the same
    question as `--python-platform` would, since the host accepts every manylinux2014 tag.
    """
    arch, _, system = python_platform.partition("-")
    return (
        sys.platform == "linux"
        and platform.machine() == arch == "x86_64"
        and system in ("manylinux2014", "manylinux_2_17", "linux", "unknown-linux-gnu")
    )


@cache
def supported_tags(version: str) -> frozenset[Tag]:
    """The wheel tags CPython ``version`` accepts on this machine."""
    parsed = Version(version)
    py = (parsed.major, parsed.minor)
    platforms = list(platform_tags())
    tags: Iterable[Tag] = [
        *cpython_tags(py, platforms=platforms),
        *compatible_tags(py, f"cp{py[0]}{py[1]}", platforms),
    ]
    return frozenset(tags)
