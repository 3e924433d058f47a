"""`kiln lock`: resolve the project for every platform, Python and extra into `pylock.toml`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.utils import NormalizedName, canonicalize_name

from kiln.cache.atomic import write_text
from kiln.cache.layout import Cache
from kiln.commands.context import CommandContext
from kiln.commands.project.project_sources import project_sources, source_inputs
from kiln.core.errors import KilnError, undecodable_error
from kiln.core.records import record, replace
from kiln.lock.fingerprint import fingerprint
from kiln.lock.known_locks import load_known_lock
from kiln.lock.model import Lock, LockedDirectory, LockedSource
from kiln.lock.uv_lock import UV_LOCK_NAME
from kiln.project.pyproject import Pyproject, find_project, is_packaged, load_pyproject
from kiln.project.workspace import with_virtual_members, workspace_members, workspace_root
from kiln.python.discovery import find_interpreter
from kiln.python.interpreter import inspect_interpreter
from kiln.resolve.options import PRERELEASE_MODES, RESOLUTION_MODES, ResolverOptions
from kiln.settings.index_settings import IndexSettings, project_indexes
from kiln.settings.resolver_settings import resolver_options
from kiln.settings.torch_settings import ProjectTorch, parse_choice, project_torch

if TYPE_CHECKING:
    from kiln.accel.backends import Backend
    from kiln.core.dist import DistFile
    from kiln.core.metadata import CoreMetadata
    from kiln.core.protocols import PackageFinder
    from kiln.index.finder import IndexFinder
    from kiln.project.uv_tables import Source
    from kiln.python.interpreter import Interpreter
    from kiln.resolve.forks import ForkStrategy
    from kiln.resolve.region import Region

LOCK_NAME = "pylock.toml"


class LockOutdated(KilnError):
    """`--locked` / `--check`: the lock does not match pyproject.toml."""

    exit_code = 1


@record
class LockResult:
    """The lock a project verb read or wrote, whether it changed, and its warnings."""

    project: Pyproject
    lock: Lock
    path: Path
    changed: bool
    packages: int
    seconds: float
    warnings: tuple[str, ...]


def discover(project_dir: Path | None) -> Pyproject:
    """The project to lock: the nearest `pyproject.toml`, or the root of the workspace it is
    a member of (one workspace, one lock, as in uv)."""
    start = (project_dir or Path.cwd()).resolve()
    path = find_project(start)
    if path is None:
        raise KilnError(
            f"no `pyproject.toml` found in `{start}` or any parent folder",
            hint="run `kiln init` to create a project, or pass `--project DIR`",
        )
    root = workspace_root(path.parent)
    return load_pyproject(root / "pyproject.toml" if root is not None else path)


def lock_inputs(
    project: Pyproject, indexes: IndexSettings, fork_strategy: ForkStrategy | None = None
) -> Mapping[str, object]:
    """Everything that changes what the lock should hold; its hash is the fingerprint."""
    return {
        "requires-python": str(project.requires_python or ""),
        "dependencies": sorted(str(r) for r in project.dependencies),
        "optional-dependencies": {
            k: sorted(map(str, v)) for k, v in project.optional_dependencies.items()
        },
        "dependency-groups": {k: sorted(map(str, v)) for k, v in project.dependency_groups.items()},
        **source_inputs(project, project_sources(project)),
        "indexes": [repr(i) for i in indexes.indexes],
        "find-links": list(indexes.find_links),
        "strategy": indexes.strategy,
        "exclude-newer": indexes.exclude_newer.isoformat() if indexes.exclude_newer else "",
        "exclude-newer-package": {
            name: when.isoformat() if when else "false"
            for name, when in sorted(indexes.exclude_newer_package.items())
        },
        "conflicts": [[repr(i) for i in g] for g in project.uv.conflicts],
        "environments": [str(m) for m in project.uv.environments],
        "required-environments": [str(m) for m in project.uv.required_environments],
        "constraints": sorted(str(r) for r in project.uv.constraint_dependencies),
        "overrides": sorted(str(r) for r in project.uv.override_dependencies),
        "fork-strategy": fork_strategy or project.uv.fork_strategy or "requires-python",
        "package": is_packaged(project),
    }


def project_fingerprint(
    project: Pyproject,
    indexes: IndexSettings,
    torch: ProjectTorch,
    fork_strategy: ForkStrategy | None = None,
    options: ResolverOptions | None = None,
) -> str:
    """The fingerprint a lock of ``project`` made now would carry; ``options`` default to
    the project's `[tool.uv]` and the environment's (flags are the lock command's)."""
    inputs = dict(lock_inputs(project, indexes, fork_strategy))
    chosen = options if options is not None else resolver_options(None, project=project.uv)
    inputs.update(chosen.fingerprint())
    if torch.configured is not None:
        inputs["torch-backend"] = list(torch.configured.names())
    inputs["torch-index-url"] = torch.index_url
    return fingerprint(inputs)


def _strategy_changed(
    previous: str | None,
    project: Pyproject,
    indexes: IndexSettings,
    torch: ProjectTorch,
    fork_strategy: ForkStrategy | None,
    options: ResolverOptions,
) -> bool:
    """Whether the previous lock was made from these inputs with another `--resolution` or
    `--prerelease` (its fingerprint is that of one of the other modes)."""
    if previous is None:
        return False
    for prerelease in PRERELEASE_MODES:
        for resolution in RESOLUTION_MODES:
            other = replace(options, prerelease=prerelease, resolution=resolution)
            if other != options and previous == project_fingerprint(
                project, indexes, torch, fork_strategy, other
            ):
                return True
    return False


def _index_served(project: Pyproject) -> list[NormalizedName]:
    """The project's direct dependencies that its indexes serve: not one with a source of
    its own (its page is asked of that source alone), nor a URL reference."""
    sourced = set(project.uv.sources)
    every = [
        *project.dependencies,
        *(r for reqs in project.optional_dependencies.values() for r in reqs),
        *(r for reqs in project.dependency_groups.values() for r in reqs),
    ]
    own = canonicalize_name(project.name) if project.name else None
    names = dict.fromkeys(canonicalize_name(r.name) for r in every if r.url is None)
    return [name for name in names if name not in sourced and name != own]


def existing_lock(path: Path, cache: Cache | None) -> Lock | None:
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise undecodable_error(exc, path) from None
    return load_known_lock(text, path, cache)


def lock_project(
    ctx: CommandContext,
    project_dir: Path | None,
    index_args: object,
    *,
    check: bool = False,
    upgrade: bool = False,
    upgrade_packages: frozenset[NormalizedName] = frozenset(),
    fork_strategy: ForkStrategy | None = None,
    python: str | None = None,
    torch_backend: str | None = None,
    torch_verb: Literal["lock", "install"] = "lock",
    write: bool = True,
) -> LockResult:
    """``torch_backend`` is `--torch-backend`: on `lock` the backends to carry; on the verbs
    that install (``torch_verb="install"``) the one to install, carried beside the project's."""
    started = time.perf_counter()
    project = discover(project_dir)
    project = with_virtual_members(project, workspace_members(project))
    torch = project_torch(project.kiln, torch_backend, verb=torch_verb)
    if python is not None:
        # As `uv lock --python`: the interpreter kiln would build with, found or an error;
        # the lock is not narrowed to it.
        find_interpreter(python, ctx.cache)
    path = project.root / LOCK_NAME
    indexes = project_indexes(index_args, project.uv)
    options = resolver_options(index_args, project=project.uv)
    inputs_hash = project_fingerprint(project, indexes, torch, fork_strategy, options)
    previous = existing_lock(path, ctx.cache)
    fresh = previous is not None and previous.fingerprint == inputs_hash
    previous_request = (
        parse_choice(previous.torch_backend_request, f"`{path}`")
        if fresh and previous is not None and previous.torch_backend_request
        else None
    )
    choice = torch.lock_request(previous_request)
    request_text = ",".join(choice.names()) if choice is not None else None
    up_to_date = fresh and previous is not None and previous.torch_backend_request == request_text
    if check:
        if previous is None:
            raise LockOutdated(f"`{path}` does not exist", hint="run `kiln lock` to create it")
        if not up_to_date:
            raise LockOutdated(
                f"`{path}` is out of date with `{project.path}`",
                hint="run `kiln lock` to update it",
            )
    if check or (up_to_date and not (upgrade or upgrade_packages)):
        # Nothing the lock was made from has changed: it stands as it is, without a request.
        assert previous is not None
        return LockResult(
            project,
            previous,
            path,
            False,
            len(previous.packages) + len(previous.directories),
            time.perf_counter() - started,
            project.warnings,
        )

    # With no backend to weigh, the indexes are known now: the pages of the project's own
    # dependencies, the resolver's first questions, are asked for while its modules load.
    base: IndexFinder | None = indexes.finder(ctx.client, ctx.cache) if choice is None else None
    if base is not None:
        base.prefetch_projects(_index_served(project))
    finders: dict[tuple[tuple[str, str], ...], IndexFinder] = {}
    try:
        # Only a lock that must be made again needs the resolver, the lock writer and the
        # builders: a `kiln sync` or `kiln run` with a fresh lock never imports them.
        from kiln.commands.build_support import sdist_metadata_hook
        from kiln.commands.source_dists import SourceDists
        from kiln.core.protocols import ReportingFinder
        from kiln.index.direct import DirectFinder
        from kiln.lock.from_resolution import resolution_to_lock
        from kiln.lock.preferences import starting_preferences
        from kiln.lock.pylock_toml import dump_lock
        from kiln.project.manifest import project_manifest, project_scope
        from kiln.resolve.universal import resolve_universal
        from kiln.settings.build_settings import build_settings
        from kiln.settings.sources import direct_sources_for, pins_for

        backends: tuple[Backend, ...] = ()
        if choice is not None:
            from kiln.commands.project.torch_lock import candidate_backends, lockable_backends
            from kiln.project.torch_backends import with_backends

            # Every candidate's index is known to the finder; only the backends kept are pinned.
            every = with_backends(project, candidate_backends(choice), torch.index_url)
            indexes = project_indexes(index_args, every.uv)
        if base is None:
            base = indexes.finder(ctx.client, ctx.cache)
        found_python: list[Interpreter] = []

        build = build_settings(index_args, project.uv)

        def build_python() -> Interpreter:
            # Metadata an sdist must be built for is built with an interpreter the project allows;
            # a build without isolation runs where its requirements are installed, `.venv`, as
            # in uv.
            if not found_python:
                venv = (
                    project.root
                    / ".venv"
                    / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
                )
                if build.any_unisolated and python is None and venv.exists():
                    found_python.append(inspect_interpreter(venv, ctx.cache))
                else:
                    wanted = python or (
                        str(project.requires_python) if project.requires_python else None
                    )
                    found_python.append(find_interpreter(wanted, ctx.cache))
            return found_python[0]

        base.sdist_metadata = sdist_metadata_hook(ctx, base, build_python, build)
        if choice is not None:
            backends = lockable_backends(choice, project, base)
            project = with_backends(project, backends, torch.index_url)
        if previous is not None and _strategy_changed(
            previous.fingerprint, project, indexes, torch, fork_strategy, options
        ):
            # As uv ignores its lock when the resolution or pre-release mode changes: the old
            # versions are what the other mode chose, not preferences.
            upgrade = True
        preferences, notes = starting_preferences(
            previous, project.root / UV_LOCK_NAME, True if upgrade else upgrade_packages
        )
        # Told with the project's warnings, which `kiln lock` prints and `kiln sync` logs.
        project = replace(project, warnings=(*project.warnings, *notes))
        found = project_sources(project)
        # Regions split on every source that applies anywhere: members' and direct references'
        # too, so each applies to all of a region or to none of it.
        manifest = project_manifest(
            replace(project, uv=replace(project.uv, sources=found.sources)),
            preferences,
            fork_strategy,
            previous.resolution_markers if previous is not None and not upgrade else (),
        )
        manifest = replace(manifest, options=options)
        dists = SourceDists(ctx, base, build_python, found.members.folders, build)
        locked_sources: dict[str, LockedSource] = {}
        # One view per set of pins and sources; views share pages, metadata and connections
        # with ``base``.
        reporting: dict[tuple[tuple[str, str], ...], PackageFinder] = {}
        seen: set[NormalizedName] = set()

        def finder_for(region: Region) -> PackageFinder:
            pins = pins_for(found.sources, region)
            direct = direct_sources_for(found.sources, region)
            key = (*sorted(pins.items()), *sorted((n, repr(s)) for n, s in direct.items()))
            if key not in finders:
                finders[key] = base.with_pins(pins)
                view: PackageFinder = finders[key]
                if direct:
                    view = DirectFinder(view, lookup_in(direct))
                reporting[key] = ReportingFinder(view, ctx.reporter, seen)
            return reporting[key]

        def lookup_in(
            direct: Mapping[NormalizedName, Source],
        ) -> Callable[[NormalizedName], tuple[DistFile, CoreMetadata] | None]:
            def lookup(name: NormalizedName) -> tuple[DistFile, CoreMetadata] | None:
                if name not in direct:
                    return None
                dist = dists.dist(name, direct[name], found.origin(name))
                locked_sources[dist.label] = dist.locked
                return dist.file, dist.metadata

            return lookup

        result = resolve_universal(manifest, finder_for)
    finally:
        if base is not None:
            base.close()
        for finder in finders.values():
            finder.close()
    scope = replace(
        project_scope(project),
        torch_backends=tuple(b.name for b in backends),
        torch_backend_request=request_text,
    )
    lock = resolution_to_lock(scope, result, inputs_hash, locked_sources)
    if is_packaged(project) and project.name:
        # The project itself, built from its folder: editable, as uv installs it.
        own = LockedDirectory(canonicalize_name(project.name), ".", editable=True)
        lock = replace(lock, directories=(*lock.directories, own))
    text = dump_lock(lock)
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    if changed and write:  # a dry run resolves but writes nothing
        write_text(path, text)
    warnings = (*project.warnings, *(reason for _, reason in lock.unsupported))
    return LockResult(
        project,
        lock,
        path,
        changed,
        len(lock.packages) + len(lock.directories),
        time.perf_counter() - started,
        warnings,
    )
