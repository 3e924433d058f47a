"""`kiln pip check`: whether every installed distribution's requirements hold in its environment."""

from __future__ import annotations

import time
from collections.abc import Callable

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from kiln.commands.context import CommandContext
from kiln.commands.pip.target import target_interpreter
from kiln.core.errors import KilnError
from kiln.core.metadata import CoreMetadata
from kiln.core.records import record
from kiln.install.installed import InstalledDist, installed_distributions
from kiln.python.interpreter import Interpreter


@record
class PipCheckRequest:
    """The environment `kiln pip check` looks at."""

    python: str | None = None
    system: bool = False


@record
class Incompatibility:
    """One installed package whose requirement is not met."""

    package: str
    requirement: str  # `b>=2`, or the Python specifier for a requires-python problem
    installed: str | None  # the installed version; None when it is not installed
    python: bool = False  # the package's requires-python, not a dependency, is unmet


@record
class PipCheckResult:
    """What `kiln pip check` found."""

    interpreter: Interpreter
    checked: int
    problems: tuple[Incompatibility, ...]
    unreadable: tuple[str, ...]
    seconds: float


def pip_check(ctx: CommandContext, request: PipCheckRequest) -> PipCheckResult:
    started = time.perf_counter()
    interpreter = target_interpreter(ctx, request.python, request.system)
    dists = installed_distributions(interpreter.site_packages())
    metadata, unreadable = read_metadata(dists)
    env = interpreter.environment()
    by_name = {d.name: d for d in dists}
    problems: list[Incompatibility] = []
    python = env.python_full_version
    for name, meta in sorted(metadata.items()):
        spec = meta.requires_python
        if spec is not None and not spec.contains(python, prereleases=True):
            problems.append(Incompatibility(by_name[name].display_name, str(spec), python, True))
    extras = requested_extras(metadata, env.evaluate)
    for name, meta in sorted(metadata.items()):
        for requirement in meta.requires_dist:
            if not env.evaluate(requirement.marker, extras.get(name, frozenset())):
                continue
            problem = _unmet(by_name[name].display_name, requirement, by_name)
            if problem is not None and problem not in problems:
                problems.append(problem)
    return PipCheckResult(
        interpreter, len(dists), tuple(problems), tuple(unreadable), time.perf_counter() - started
    )


def read_metadata(
    dists: list[InstalledDist],
) -> tuple[dict[NormalizedName, CoreMetadata], list[str]]:
    """Each distribution's metadata; the names of those whose metadata cannot be read."""
    metadata: dict[NormalizedName, CoreMetadata] = {}
    unreadable: list[str] = []
    for dist in dists:
        try:
            metadata[dist.name] = dist.metadata()
        except (KilnError, OSError):
            unreadable.append(dist.display_name)
    return metadata, unreadable


def requested_extras(
    metadata: dict[NormalizedName, CoreMetadata],
    evaluate: Callable[[Marker | None, frozenset[str]], bool],
) -> dict[NormalizedName, frozenset[str]]:
    """The extras some installed distribution asks of each other one, followed to a fixpoint."""
    extras: dict[NormalizedName, frozenset[str]] = {}
    changed = True
    while changed:
        changed = False
        for name, meta in metadata.items():
            for requirement in meta.requires_dist:
                target = canonicalize_name(requirement.name)
                if not requirement.extras or target not in metadata:
                    continue
                if not evaluate(requirement.marker, extras.get(name, frozenset())):
                    continue
                wanted = frozenset(canonicalize_name(e) for e in requirement.extras)
                have = extras.get(target, frozenset())
                if not wanted <= have:
                    extras[target] = have | wanted
                    changed = True
    return extras


def _unmet(
    package: str, requirement: Requirement, by_name: dict[NormalizedName, InstalledDist]
) -> Incompatibility | None:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    text = f"{requirement.name}{extras}{requirement.specifier}"
    installed = by_name.get(canonicalize_name(requirement.name))
    if installed is None:
        return Incompatibility(package, text, None)
    if requirement.url is None and not requirement.specifier.contains(
        installed.version, prereleases=True
    ):
        return Incompatibility(package, text, str(installed.version))
    return None
