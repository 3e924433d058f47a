"""`kiln sync`: make `.venv` hold exactly the lock's slice for this machine and selection."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from kiln.cache.layout import Cache
from kiln.commands.context import CommandContext
from kiln.commands.project.lock import LOCK_NAME, discover, existing_lock, lock_project
from kiln.commands.project.noop import ARGS_ATTRIBUTE as NOOP_ATTRIBUTE
from kiln.commands.project.noop import NoopCheck
from kiln.commands.project.project_sources import watched_files
from kiln.commands.project.switch import target_facts
from kiln.commands.project.torch_select import BackendChoice, choose_backend, lock_request
from kiln.commands.source_install import SourceTarget, source_installs
from kiln.core.dist import Candidate, DistFile
from kiln.core.environment import Environment
from kiln.core.errors import KilnError, UsageError, undecodable_error
from kiln.core.markers import evaluate
from kiln.core.protocols import ProgressCallback
from kiln.core.records import field, record
from kiln.core.together import together
from kiln.install.executor import InstallReport, execute
from kiln.install.installed import installed_distributions
from kiln.install.installer import InstallOptions
from kiln.install.plan import DEFAULT_KEEP, InstallPlan, plan_install
from kiln.install.preparer import prepare
from kiln.lock.model import Lock, torch_backend_group
from kiln.lock.select import Selected, select, select_directories
from kiln.lock.uv_lock import UV_LOCK_NAME
from kiln.project.pyproject import Pyproject
from kiln.project.workspace import with_virtual_members, workspace_members
from kiln.python.discovery import find_interpreter
from kiln.python.interpreter import Interpreter, inspect_interpreter
from kiln.python.request import VersionRequest, parse_request
from kiln.python.venv import create_venv
from kiln.python.venv_lock import venv_lock
from kiln.resolve.options import ResolverOptions
from kiln.settings.build_settings import build_settings
from kiln.settings.global_settings import env_value
from kiln.settings.index_settings import IndexSettings, project_indexes
from kiln.settings.resolver_settings import resolver_options
from kiln.settings.torch_settings import project_torch


@record
class Selection:
    """The extras and groups a sync installs."""

    extras: frozenset[NormalizedName]
    groups: frozenset[NormalizedName]


@record
class SyncRequest:
    """The options of one `kiln sync`."""

    extras: Sequence[str] = ()
    all_extras: bool = False
    groups: Sequence[str] = ()
    only_groups: Sequence[str] = ()
    no_dev: bool = False
    no_default_groups: bool = False
    inexact: bool = False
    locked: bool = False
    frozen: bool = False
    dry_run: bool = False
    python: str | None = None
    torch_backend: str | None = None  # --torch-backend: which build to install
    no_install_project: bool = False
    no_editable: bool = False


@record
class SyncResult:
    """What `kiln sync` planned and installed, and how long each step took."""

    project: Pyproject
    interpreter: Interpreter
    selection: Selection
    plan: InstallPlan
    report: InstallReport | None
    created_venv: bool
    timings: dict[str, float] = field(default_factory=dict)
    torch: BackendChoice | None = None
    notes: tuple[str, ...] = ()  # said when the lock was written by this sync
    kept_sources: int = 0  # source trees and git checkouts installed already, left as they are

    @property
    def audited(self) -> int:
        return len(self.plan.unchanged) + self.kept_sources


def selection_for(project: Pyproject, request: SyncRequest) -> Selection:
    known_extras = set(project.optional_dependencies)
    extras = {canonicalize_name(e) for e in request.extras}
    if request.all_extras:
        extras = set(known_extras)
    unknown = sorted(extras - known_extras)
    if unknown:
        raise UsageError(
            f"extra `{unknown[0]}` is not defined in `{project.path}`",
            hint=f"known extras: {', '.join(sorted(known_extras)) or 'none'}",
        )
    known_groups = set(project.dependency_groups)
    if request.only_groups:
        groups = {canonicalize_name(g) for g in request.only_groups}
    else:
        defaults: set[NormalizedName] = set()
        if not (request.no_default_groups or request.no_dev):
            default = project.uv.default_groups
            defaults = (
                set(known_groups) if default == "all" else {canonicalize_name(g) for g in default}
            )
        groups = (defaults & known_groups) | {canonicalize_name(g) for g in request.groups}
        if request.no_dev:
            groups.discard(canonicalize_name("dev"))
    unknown = sorted(groups - known_groups)
    if unknown:
        raise UsageError(
            f"group `{unknown[0]}` is not defined in `{project.path}`",
            hint=f"known groups: {', '.join(sorted(known_groups)) or 'none'}",
        )
    for conflict in project.uv.conflicts:
        chosen = [
            f"extra `{item.extra}`" if item.extra else f"group `{item.group}`"
            for item in conflict
            if (item.extra is not None and item.extra in extras)
            or (item.group is not None and item.group in groups)
        ]
        if len(chosen) > 1:
            declared = ", ".join(
                f'{{ extra = "{i.extra}" }}' if i.extra else f'{{ group = "{i.group}" }}'
                for i in conflict
            )
            raise UsageError(
                f"{' and '.join(chosen)} cannot be installed together",
                causes=[f"`tool.uv.conflicts` in `{project.path}` declares [{declared}]"],
                hint="pick one of them",
            )
    return Selection(frozenset(extras), frozenset(groups))


def project_environment(
    ctx: CommandContext, project: Pyproject, python: str | None, *, create: bool = True
) -> tuple[Interpreter, bool]:
    """The project's `.venv`, created when missing (or when it no longer fits `requires-python`).

    Without ``create`` (a dry run) nothing is written: where `.venv` would be made, the base
    interpreter it would be made from is returned in its place, with True.
    """
    # `--python`, else KILN_PYTHON (then uv's UV_PYTHON), else `.python-version`, as uv reads
    # its own: an existing `.venv` is kept only when it is what they ask for.
    python = python or env_value(os.environ, "KILN_PYTHON") or _pinned_python(project)
    venv = project.root / ".venv"
    executable = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if executable.exists():
        interpreter = inspect_interpreter(executable, ctx.cache)
        fits = project.requires_python is None or project.requires_python.contains(
            interpreter.version_str, prereleases=True
        )
        if fits and _matches(python, interpreter, ctx.cache):
            return interpreter, False
    request = python or (str(project.requires_python) if project.requires_python else None)
    base = find_interpreter(request, ctx.cache)
    if project.requires_python is not None and not project.requires_python.contains(
        base.version_str, prereleases=True
    ):
        raise KilnError(
            f'{base.description} does not satisfy `requires-python = "{project.requires_python}"`',
            hint="pass `--python` with a version that fits, or change `.python-version`",
        )
    if not create:
        return base, True
    return create_venv(venv, base, cache=ctx.cache), True


def _look_for_interpreter(ctx: CommandContext, project: Pyproject, python: str | None) -> None:
    """`project_environment` without creating anything or failing: its errors are raised
    when it is called for the environment itself."""
    with contextlib.suppress(KilnError, OSError):
        project_environment(ctx, project, python, create=False)


class _FinderOnDemand:
    """A downloader that makes the project's finder (and the HTTP client) only when a
    download is asked for."""

    def __init__(self, indexes: Callable[[], IndexSettings], ctx: CommandContext) -> None:
        self._indexes = indexes
        self._ctx = ctx

    def download(self, file: DistFile, dest: Path, progress: ProgressCallback | None = None) -> str:
        finder = self._indexes().finder(self._ctx.client, self._ctx.cache)
        try:
            return finder.download(file, dest, progress)
        finally:
            finder.close()


def _matches(request: str | None, interpreter: Interpreter, cache: Cache) -> bool:
    """Whether the existing environment already is what ``--python`` asks for: a version
    it has, or an interpreter (a path, a name) whose real binary is the environment's base.
    """
    if request is None:
        return True
    parsed = parse_request(request)
    if isinstance(parsed, VersionRequest):
        return parsed.matches(interpreter.version, interpreter.implementation)
    # A request that finds nothing fails the same way when the environment is made.
    wanted = find_interpreter(request, cache)
    return wanted.base_executable == interpreter.base_executable


def _pinned_python(project: Pyproject) -> str | None:
    pin = project.root / ".python-version"
    if pin.is_file():
        try:
            text = pin.read_text(encoding="utf-8").strip().splitlines()
        except UnicodeDecodeError as exc:
            raise undecodable_error(exc, pin) from None
        return text[0].strip() if text else None
    return None


def _reached_from_groups(
    chosen: Sequence[Selected], project: Pyproject, groups: frozenset[str], env: Environment
) -> tuple[Selected, ...]:
    by_name = {s.package.name: s for s in chosen}
    todo = [
        canonicalize_name(r.name)
        for group in sorted(groups)
        for r in project.dependency_groups.get(canonicalize_name(group), ())
        if r.marker is None or evaluate(r.marker, env.markers)
    ]
    reached: set[NormalizedName] = set()
    while todo:
        name = todo.pop()
        if name in reached or name not in by_name:
            continue
        reached.add(name)
        todo += [
            d.name
            for d in by_name[name].package.dependencies
            if d.marker is None or evaluate(d.marker, env.markers, groups=groups)
        ]
    return tuple(s for s in chosen if s.package.name in reached)


def _refuse_forbidden_builds(
    chosen: Sequence[Selected], options: ResolverOptions, env: Environment
) -> None:
    """`no-build` holds at install time too: where the lock has only an sdist for this
    machine, building it is what the setting forbids (as `uv sync` refuses)."""
    for selected in chosen:
        wheel = selected.wheel
        name = selected.package.name
        if wheel is None or wheel.name.endswith(".whl") or options.builds.builds_allowed(name):
            continue
        raise KilnError(
            f"`{name}` {selected.package.version} has no wheel for {env.description}, and "
            "`no-build` forbids building its source distribution",
            hint="drop `no-build` (or `no-build-package`) for it, or pick a version with a "
            "wheel for this platform",
        )


def load_or_lock(
    ctx: CommandContext,
    project: Pyproject,
    index_args: object,
    request: SyncRequest,
    notes: list[str] | None = None,
) -> Lock:
    notes = [] if notes is None else notes
    path = project.root / LOCK_NAME
    uv_lock = project.root / UV_LOCK_NAME
    if request.frozen:
        lock = existing_lock(path, ctx.cache)
        if lock is None:
            hint = "run `kiln lock` first, or drop `--frozen`"
            if uv_lock.is_file():
                hint = (
                    f"`{uv_lock.name}` is uv's own format: run `kiln lock` to lock from its "
                    "versions, or `uv export --format pylock.toml -o pylock.toml`"
                )
            raise KilnError(f"`{path}` does not exist", hint=hint)
        return lock
    result = lock_project(
        ctx,
        project.root,
        index_args,
        check=request.locked,
        torch_backend=request.torch_backend,
        torch_verb="install",
        write=not request.dry_run,
    )
    if result.changed:
        # What the new lock started from (a `uv.lock`, a lock another tool made) and what
        # it cannot serve are told once, when it is written.
        notes.extend(result.warnings)
    return result.lock


def sync_project(
    ctx: CommandContext, project_dir: Path | None, index_args: object, request: SyncRequest
) -> SyncResult:
    if request.dry_run:
        return _sync_project(ctx, project_dir, index_args, request)
    # One process at a time writes the lock and changes `.venv`: a second `kiln sync` waits,
    # then finds both as the first left them.
    with venv_lock(discover(project_dir).root / ".venv"):
        return _sync_project(ctx, project_dir, index_args, request)


def _sync_project(
    ctx: CommandContext, project_dir: Path | None, index_args: object, request: SyncRequest
) -> SyncResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    project = discover(project_dir)
    project = with_virtual_members(project, workspace_members(project))
    selection = selection_for(project, request)
    notes: list[str] = []
    # The interpreter is looked for while the lock is read: a probe of an interpreter not
    # seen before is a subprocess that waits beside the parsing (60-70 ms each, on a cold
    # sync). What it finds is kept in the cache, where `project_environment` reads it.
    read: list[Lock] = []
    together(
        [
            lambda: read.append(load_or_lock(ctx, project, index_args, request, notes)),
            lambda: _look_for_interpreter(ctx, project, request.python),
        ]
    )
    lock = read[0]
    timings["lock"] = time.perf_counter() - started
    interpreter, created = project_environment(
        ctx, project, request.python, create=not request.dry_run
    )
    env = interpreter.environment()
    torch = choose_backend(
        lock,
        env,
        project_torch(project.kiln, request.torch_backend, verb="install").install(
            lock_request(lock)
        ),
        frozenset(selection.extras),
    )
    groups = selection.groups
    if torch.backend is not None:
        groups = groups | {torch_backend_group(torch.backend)}
    chosen = select(lock, env, extras=selection.extras, groups=groups)
    if request.only_groups:
        # As uv: only those groups and what they pull in; the project and its own
        # dependencies are left out.
        chosen = _reached_from_groups(chosen, project, frozenset(selection.groups), env)
    # A dry run that would make `.venv` plans for the empty environment it would start as,
    # not for the base interpreter standing in for it.
    installed = (
        [] if request.dry_run and created else installed_distributions(interpreter.site_packages())
    )
    directories = select_directories(lock, env, extras=selection.extras, groups=groups)
    if request.no_install_project or request.only_groups:
        directories = tuple(d for d in directories if not d.is_project)
    if request.only_groups:
        reached = {s.package.name for s in chosen}
        wanted_names = {
            canonicalize_name(r.name)
            for group in selection.groups
            for r in project.dependency_groups.get(group, ())
        }
        directories = tuple(d for d in directories if d.name in wanted_names | reached)
    build = build_settings(index_args, project.uv)
    target = SourceTarget(
        ctx,
        project.root,
        interpreter.executable,
        installed,
        project_version=project.version,
        project_label=f"{project.name} (the project)",
        build=build,
    )
    editable = not request.no_editable
    _refuse_forbidden_builds(chosen, resolver_options(index_args, project=project.uv), env)
    from_index = [s.candidate() for s in chosen if s.wheel is not None]
    sources = source_installs(target, chosen, directories, None, editable=editable)
    keep = DEFAULT_KEEP | sources.keep
    wanted = [*from_index, *sources.candidates]
    plan = plan_install(wanted, installed, ctx.cache, exact=not request.inexact, keep=keep)
    check = getattr(index_args, NOOP_ATTRIBUTE, None)
    said = notes or (torch is not None and (torch.backend or torch.why))
    if check is None or check.verb != "sync" or said or request.dry_run or created:
        check = None  # the records stand for a check that said nothing but its summary
    if request.dry_run or plan.is_empty:
        # Nothing to fetch or change: no HTTP client, no index settings (kiln run's fast path).
        if check is not None:
            watch = watched_files(project)
            audited = len(plan.unchanged) + len(sources.keep)
            check.record(project.root, watch=watch, audited=audited)
            if not (directories or sources.keep or sources.candidates):
                _record_target(check, project, from_index, ctx.cache, interpreter, request)
        return SyncResult(
            project, interpreter, selection, plan, None, created, timings, torch, tuple(notes),
            kept_sources=len(sources.keep),
        )  # fmt: skip
    started = time.perf_counter()
    if plan.remote or sources.needs_build:
        from kiln.commands.build_support import SdistWheels

        indexes = project_indexes(index_args, project.uv)
        finder = indexes.finder(ctx.client, ctx.cache)
        try:
            if sources.needs_build:
                # Built before anything is installed: a failing backend leaves `.venv` as it
                # was.
                sources = source_installs(target, chosen, directories, finder, editable=editable)
                wanted = [*from_index, *sources.candidates]
                plan = plan_install(
                    wanted, installed, ctx.cache, exact=not request.inexact, keep=keep
                )
            unpacked = prepare(
                (*plan.cached, *plan.remote),
                finder,
                ctx.cache,
                ctx.reporter,
                builder=SdistWheels(ctx, finder, interpreter.executable, build),
            )
        finally:
            finder.close()
    else:
        # Everything is unpacked in the cache already (switching extras, a reinstall): no
        # index settings, no HTTP client, unless an entry went missing since the plan.
        unpacked = prepare(
            plan.cached,
            _FinderOnDemand(lambda: project_indexes(index_args, project.uv), ctx),
            ctx.cache,
            ctx.reporter,
        )
    timings["prepare"] = time.perf_counter() - started
    started = time.perf_counter()
    options = InstallOptions(python_executable=interpreter.executable)
    report = execute(
        plan,
        unpacked,
        interpreter.scheme,
        options,
        requested=frozenset(c.name for c in wanted),
        direct_urls=sources.direct_urls,
    )
    timings["install"] = time.perf_counter() - started
    if check is not None and not (directories or sources.keep or sources.candidates):
        _record_target(check, project, from_index, ctx.cache, interpreter, request)
    return SyncResult(
        project, interpreter, selection, plan, report, created, timings, torch, tuple(notes)
    )


def _record_target(
    check: NoopCheck,
    project: Pyproject,
    wanted: Sequence[Candidate],
    cache: Cache,
    interpreter: Interpreter,
    request: SyncRequest,
) -> None:
    """Leave what this sync wanted for a later one with the same inputs (`switch`): only
    for a sync of wheels from the lock, which the cache alone can install again."""
    facts = target_facts(
        wanted,
        cache=cache,
        scheme=interpreter.scheme,
        python=interpreter.executable,
        exact=not request.inexact,
    )
    if facts is not None:
        check.record_target(project.root, facts, watch=watched_files(project))
