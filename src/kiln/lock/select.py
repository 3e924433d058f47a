"""What to install from a lock on one machine: the entries that apply there, each with its
best wheel. This follows PEP 751's installation steps (lock and package requires-python, the
lock's environments, one entry per name) and fails with a message naming what to change.
"""

from __future__ import annotations

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from kiln.core.dist import Candidate, DistFile
from kiln.core.environment import Environment
from kiln.core.errors import KilnError
from kiln.core.hashes import Hashes
from kiln.core.markers import evaluate
from kiln.core.records import record
from kiln.lock.model import Lock, LockedDirectory, LockedFile, LockedPackage

__all__ = ["LockSelectError", "Selected", "select", "select_directories"]

REGENERATE = "run `kiln lock` to regenerate the lock"
_LISTED_WHEELS = 12


class LockSelectError(KilnError):
    """The lock has nothing, or something contradictory, for this machine and selection."""


@record
class Selected:
    """A lock entry chosen for this machine, with the file to install."""

    package: LockedPackage
    # The best wheel here, or the sdist where no wheel fits; None for an entry that is not
    # a file from an index (`archive`, `vcs`), which the command fetches from its source.
    wheel: LockedFile | None

    def candidate(self) -> Candidate:
        """What the installer is handed for this entry: its file, with the lock's hashes."""
        if self.wheel is None:
            raise LockSelectError(
                f"`{self.package.name}` {self.package.version} is locked from its source, "
                "not from an index file",
                hint=REGENERATE,
            )
        return Candidate(
            self.package.name,
            self.package.version,
            DistFile(
                filename=self.wheel.name,
                url=self.wheel.url,
                hashes=Hashes.of(self.wheel.hashes),
                size=self.wheel.size,
                index=self.package.index or "",
            ),
        )


def select(
    lock: Lock, env: Environment, *, extras: frozenset[str], groups: frozenset[str]
) -> tuple[Selected, ...]:
    """The packages of ``lock`` that apply in ``env`` with these extras and groups, in lock
    order, each with the wheel ``env`` ranks best."""
    extras = _known(extras, lock.extras, "extra", "extras")
    groups = _known(
        groups,
        (*lock.dependency_groups, *lock.default_groups, *lock.torch_backend_groups),
        "group",
        "groups",
    )
    _check_python(lock, env)
    _check_environments(lock, env)
    _check_supported(lock, env, extras, groups)
    chosen: dict[str, LockedPackage] = {}
    for package in lock.packages:
        if not evaluate(package.marker, env.markers, extras=extras, groups=groups):
            continue
        if package.name in chosen:
            raise _two_entries(chosen[package.name], package, env)
        chosen[package.name] = package
    return tuple(
        Selected(p, None if p.archive or p.vcs else _best_wheel(p, env)) for p in chosen.values()
    )


def select_directories(
    lock: Lock, env: Environment, *, extras: frozenset[str], groups: frozenset[str]
) -> tuple[LockedDirectory, ...]:
    """The source trees of ``lock`` (the project, path sources, workspace members) that
    apply in ``env``; checked for names and regions by `select`, which callers run first."""
    extras = frozenset(canonicalize_name(e) for e in extras)
    groups = frozenset(canonicalize_name(g) for g in groups)
    return tuple(
        d for d in lock.directories if evaluate(d.marker, env.markers, extras=extras, groups=groups)
    )


def _known(asked: frozenset[str], known: tuple[str, ...], noun: str, plural: str) -> frozenset[str]:
    names = frozenset(canonicalize_name(n) for n in asked)
    known_names = {canonicalize_name(n) for n in known}
    unknown = sorted(names - known_names)
    if unknown:
        listed = ", ".join(f"`{n}`" for n in unknown)
        have = (
            f"the lock has {plural} " + ", ".join(f"`{n}`" for n in sorted(known_names))
            if known_names
            else f"the lock has no {plural}"
        )
        raise LockSelectError(
            f"{noun if len(unknown) == 1 else plural} {listed} not found in the lock",
            causes=(have,),
            hint=f"choose one of the {plural} the lock has, or add it to `pyproject.toml` "
            "and run `kiln lock`",
        )
    return names


def _check_python(lock: Lock, env: Environment) -> None:
    python = env.python_full_version
    if lock.requires_python is not None and not lock.requires_python.contains(
        python, prereleases=True
    ):
        raise LockSelectError(
            f"the lock requires Python `{lock.requires_python}`, "
            f"but {env.description} is Python {python}",
            hint="use an interpreter the lock allows (`--python`), "
            "or widen `requires-python` and run `kiln lock`",
        )


def _check_environments(lock: Lock, env: Environment) -> None:
    if not lock.environments:
        return
    if any(evaluate(m, env.markers) for m in lock.environments):
        return
    raise LockSelectError(
        f"the lock was not made for {env.description}",
        causes=tuple(f"it covers `{m}`" for m in lock.environments),
        hint="add this platform to `environments` in `[tool.uv]` and run `kiln lock`",
    )


def _check_supported(
    lock: Lock, env: Environment, extras: frozenset[str], groups: frozenset[str]
) -> None:
    """A region the lock knowingly left out fails with the reason found at lock time, rather
    than installing an environment that lacks what could not be resolved there."""
    reasons = tuple(
        reason
        for marker, reason in lock.unsupported
        if evaluate(marker, env.markers, extras=extras, groups=groups)
    )
    if reasons:
        raise LockSelectError(
            f"the lock cannot be installed on {env.description}",
            causes=reasons,
            hint="choose other extras or groups, or change the sources so that this platform "
            "has wheels; then run `kiln lock`",
        )


def _two_entries(first: LockedPackage, second: LockedPackage, env: Environment) -> KilnError:
    return LockSelectError(
        f"the lock is broken: two entries of `{first.name}` apply to {env.description}",
        causes=tuple(
            f"`{p.name}` {p.version} where `{p.marker}`" if p.marker else f"`{p.name}` {p.version}"
            for p in (first, second)
        ),
        hint="if these come from conflicting extras or groups, select only one of them; "
        f"otherwise {REGENERATE}",
    )


def _wheel_tags(wheel: LockedFile) -> frozenset[Tag]:
    try:
        return parse_wheel_filename(wheel.name)[3]
    except InvalidWheelFilename:
        return frozenset()


def _best_wheel(package: LockedPackage, env: Environment) -> LockedFile:
    if package.requires_python is not None and not package.requires_python.contains(
        env.python_full_version, prereleases=True
    ):
        raise LockSelectError(
            f"`{package.name}` {package.version} requires Python `{package.requires_python}`, "
            f"but {env.description} is Python {env.python_full_version}",
            hint=REGENERATE,
        )
    ranked = [
        (rank, wheel.name, wheel)
        for wheel in package.wheels
        if (rank := env.tag_rank(_wheel_tags(wheel))) is not None
    ]
    if ranked:
        return min(ranked, key=lambda r: (r[0], r[1]))[2]
    if package.sdist is not None:
        # No wheel fits here: the installer builds one from the sdist.
        return package.sdist
    # "torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl" -> "cp312-cp312-linux_x86_64"
    tags = [w.name.removesuffix(".whl").split("-", 2)[-1] for w in package.wheels]
    shown = ", ".join(tags[:_LISTED_WHEELS])
    if len(tags) > _LISTED_WHEELS:
        shown += f" and {len(tags) - _LISTED_WHEELS} more"
    causes = [f"the lock has wheels for {shown}" if tags else "the lock has no wheels for it"]
    where = f" from `{package.index}`" if package.index else ""
    raise LockSelectError(
        f"no wheel of `{package.name}` {package.version}{where} fits {env.description}",
        causes=tuple(causes),
        hint=f"give `{package.name}` a source with a marker that sends {env.description} to an "
        "index with wheels for it, or narrow `environments` in `[tool.uv]`; then run `kiln lock`",
    )
