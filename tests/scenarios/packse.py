"""packse resolver scenarios (TOML, uv's current set) as test data for kiln.

A scenario names a set of package releases, what the user asks for (`root.requires`), the
interpreter (`environment.python`), options for the resolver, what uv's test generator does
with it (`[testgen]`), and the expected outcome. This module reads one into frozen values,
routes it to the command uv would test it with (`Scenario.mode`), turns its releases into
`Pkg`s for the local test index, and spells its options as that command's flags.

Defaults follow packse: every release has an sdist and a `py3-none-any` wheel and
`requires-python = ">=3.12"` unless it says otherwise, and the interpreter is 3.12.
Package names stay plain (packse prefixes them with the scenario's name) because each
scenario gets an index of its own. Unknown keys are refused, so that a key a newer packse
adds cannot be ignored by accident.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.pythons import interpreter_for
from tests.support.wheels import Pkg

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the dev environment is 3.12
    import tomli as tomllib

Mode = Literal["install", "compile", "lock"]
MODES: tuple[Mode, ...] = ("install", "compile", "lock")
# The kiln command each mode runs, as uv's generator runs `uv pip install`, `uv pip compile`
# and `uv lock`.
VERBS: Mapping[Mode, tuple[str, ...]] = {
    "install": ("pip", "install"),
    "compile": ("pip", "compile"),
    "lock": ("lock",),
}
RESOLUTIONS = ("highest", "lowest", "lowest-direct")
# Beside the repository, as the project's shared data sits.
SCENARIOS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "packse-scenarios"
DEFAULT_REQUIRES_PYTHON = ">=3.12"
DEFAULT_PYTHON = "3.12"
DISABLED_REASON = "disabled by uv's generator"
# A reason given for every yanked file: the Simple API's JSON form treats "" as not yanked
# in some readers, and a reason also shows in kiln's warning.
YANKED_REASON = "yanked in the packse scenario"

_TOP_KEYS = {
    "name",
    "description",
    "packages",
    "root",
    "environment",
    "resolver_options",
    "expected",
    "testgen",
}
_RELEASE_KEYS = {
    "requires",
    "requires_python",
    "extras",
    "sdist",
    "wheel",
    "yanked",
    "wheel_tags",
    "description",
}
_OPTION_KEYS = {
    "python",
    "prereleases",
    "no_build",
    "no_binary",
    "universal",
    "python_platform",
    "required_environments",
    "resolution",
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
    resolution: str | None = None


@dataclass(frozen=True)
class Testgen:
    """uv's `[testgen]` table: whether its generator tests the scenario, and as what."""

    disable: bool = False
    kind: Mode | None = None


@dataclass(frozen=True)
class Expected:
    satisfiable: bool
    packages: Mapping[str, str] = field(default_factory=dict)
    explanation: str | None = None


@dataclass(frozen=True)
class Flag:
    """One option as a kiln command spells it: ``name`` is what `--help` must list."""

    name: str
    args: tuple[str, ...]


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
    testgen: Testgen = Testgen()

    @property
    def id(self) -> str:
        return f"{self.category}/{self.name}"

    @property
    def mode(self) -> Mode:
        """The command uv's generator tests this scenario with, by its rules in that order."""
        if self.testgen.kind is not None:
            return self.testgen.kind
        if self.options.universal:
            return "lock"
        if self.options.python is not None:
            return "compile"
        return "install"

    @property
    def disabled(self) -> bool:
        return self.testgen.disable

    def flags(self) -> tuple[Flag, ...]:
        """The scenario's resolver options as flags of the command for its mode, spelled as
        uv's generator spells them.

        A lock takes none: uv's generator passes `uv lock` only the index, and the project
        carries the rest (`requires-python`, `required-environments`).
        """
        opts = self.options
        if self.mode == "lock":
            return ()
        flags: list[Flag] = []
        if opts.resolution is not None:
            flags.append(Flag("--resolution", ("--resolution", opts.resolution)))
        if opts.prereleases:
            flags.append(Flag("--prerelease", ("--prerelease=allow",)))
        flags += [Flag("--only-binary", ("--only-binary", name)) for name in opts.no_build]
        flags += [Flag("--no-binary", ("--no-binary", name)) for name in opts.no_binary]
        if opts.python_platform is not None:
            flags.append(Flag("--python-platform", ("--python-platform", opts.python_platform)))
        if self.mode == "compile":
            if opts.python is not None:
                flags.append(Flag("--python-version", ("--python-version", opts.python)))
            if opts.universal:
                flags.append(Flag("--universal", ("--universal",)))
        return tuple(flags)

    def flag_args(self) -> list[str]:
        return [arg for flag in self.flags() for arg in flag.args]

    def runner_python(self) -> str:
        """The Python the command runs with: the environment's, except that a compile for
        `--python-version` makes do with another patch release of the same minor where the
        exact one is not installed. There the interpreter only runs builds; what is checked
        is the target version (`python-patch-override-*` want 3.9.21 beside a 3.9.0 or 3.9
        target, and any 3.9.x from 3.9.4 up tells a resolution for the interpreter from one
        for the target just as well)."""
        if (
            self.mode == "compile"
            and self.options.python is not None
            and self.python.count(".") >= 2
            and interpreter_for(self.python) is None
        ):
            return self.python.rsplit(".", 1)[0]
        return self.python

    def interpreters_needed(self) -> tuple[str, ...]:
        """The Pythons the run needs installed: none for a lock, which resolves from
        `requires-python` alone; the runner's (and the extra ones uv puts beside it)
        otherwise."""
        if self.mode == "lock":
            return ()
        return (self.runner_python(), *self.additional_python)

    def missing_interpreter(self) -> str | None:
        for version in self.interpreters_needed():
            if interpreter_for(version) is None:
                return version
        return None

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

    def requirements_in(self) -> str:
        return "".join(f"{text}\n" for text in self.root_requires)

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


def _toml_str(text: str) -> str:
    # TOML basic strings share JSON's escapes for everything a requirement can hold.
    return json.dumps(text)


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(i) for i in items) + "]"


# -- loading ---------------------------------------------------------------------------------


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _refuse_unknown(where: str, raw: Mapping[str, Any], known: set[str]) -> None:
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown {where} keys {sorted(unknown)}")


def _release(version: str, raw: Mapping[str, Any]) -> Release:
    _refuse_unknown(f"release ({version})", raw, _RELEASE_KEYS)
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


def _options(raw: Mapping[str, Any]) -> ResolverOptions:
    _refuse_unknown("resolver_options", raw, _OPTION_KEYS)
    resolution = raw.get("resolution")
    if resolution is not None and resolution not in RESOLUTIONS:
        raise ValueError(f"resolution {resolution!r} is not one of {', '.join(RESOLUTIONS)}")
    return ResolverOptions(
        python=raw.get("python"),
        prereleases=bool(raw.get("prereleases", False)),
        no_build=_strings(raw.get("no_build")),
        no_binary=_strings(raw.get("no_binary")),
        universal=bool(raw.get("universal", False)),
        python_platform=raw.get("python_platform"),
        required_environments=_strings(raw.get("required_environments")),
        resolution=resolution,
    )


def _testgen(raw: Mapping[str, Any]) -> Testgen:
    _refuse_unknown("testgen", raw, {"disable", "kind"})
    kind = raw.get("kind")
    if kind is not None and kind not in MODES:
        raise ValueError(f"testgen kind {kind!r} is not one of {', '.join(MODES)}")
    return Testgen(disable=bool(raw.get("disable", False)), kind=kind)


def load_scenario(path: Path, root: Path) -> Scenario:
    """Read one scenario file; its category is the folder it sits in below ``root``."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    _refuse_unknown("top-level", data, _TOP_KEYS)
    packages: dict[str, dict[str, Release]] = {}
    for name, pkg in (data.get("packages") or {}).items():
        _refuse_unknown(f"package ({name})", pkg, {"versions"})
        versions = pkg.get("versions") or {}
        packages[name] = {v: _release(v, raw or {}) for v, raw in versions.items()}
    raw_root = data.get("root") or {}
    _refuse_unknown("root", raw_root, {"requires", "requires_python"})
    raw_env = data.get("environment") or {}
    _refuse_unknown("environment", raw_env, {"python", "additional_python"})
    raw_expected = data["expected"]
    _refuse_unknown("expected", raw_expected, {"satisfiable", "packages", "explanation"})
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
        options=_options(data.get("resolver_options") or {}),
        expected=Expected(
            satisfiable=bool(raw_expected["satisfiable"]),
            packages={str(k): str(v) for k, v in (raw_expected.get("packages") or {}).items()},
            explanation=raw_expected.get("explanation"),
        ),
        path=path,
        testgen=_testgen(data.get("testgen") or {}),
    )


def load_scenarios(root: Path) -> list[Scenario]:
    """Every scenario below ``root``, in a stable order (category, then name).

    Ids come from each file's `name` (as uv names its tests), not from the file name, which
    differs for many; two scenarios with one id would make one test shadow the other.
    """
    found = [load_scenario(p, root) for p in sorted(root.rglob("*.toml"))]
    ids = [s.id for s in found]
    doubled = sorted({i for i in ids if ids.count(i) > 1})
    if doubled:
        raise ValueError(f"scenario ids used twice: {doubled}")
    return sorted(found, key=lambda s: s.id)


# -- interpreters: tests/support/pythons.py ----------------------------------------------
