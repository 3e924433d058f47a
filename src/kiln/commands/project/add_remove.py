"""`kiln add` and `kiln remove`: edit pyproject.toml, lock, sync — or change nothing at all.

Both files are restored byte for byte when any step fails (a package that does not exist, a
resolution conflict, a download that breaks), so a failed command leaves the project as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from kiln.cache.atomic import write_bytes, write_text
from kiln.commands.context import CommandContext
from kiln.commands.project.add_sources import AddFlags, parse_additions
from kiln.commands.project.lock import LOCK_NAME, LockResult, discover, lock_project
from kiln.commands.project.sync import SyncRequest, SyncResult, sync_project
from kiln.commands.requirement_args import requirement_or_usage_error
from kiln.commands.source_dists import SourceDists
from kiln.core.errors import KilnError, UsageError
from kiln.core.records import record
from kiln.project.edit import (
    add_dependency,
    add_index,
    add_source,
    remove_dependency,
    with_lower_bound,
)
from kiln.project.pyproject import Pyproject
from kiln.python.discovery import find_interpreter
from kiln.settings.build_settings import build_settings
from kiln.settings.index_settings import parse_index, project_indexes

if TYPE_CHECKING:
    from kiln.index.finder import IndexFinder
    from kiln.python.interpreter import Interpreter


@record
class EditRequest:
    """What `kiln add` or `kiln remove` changes in the project."""

    packages: Sequence[str]
    extra: str | None = None
    group: str | None = None
    indexes: Sequence[str] = ()  # `--index NAME=URL`: written to [[tool.uv.index]] + sources
    marker: str | None = None
    raw: bool = False
    frozen: bool = False
    no_sync: bool = False
    python: str | None = None
    torch_backend: str | None = None
    editable: bool = False  # `--editable`: a path source installed editable
    git_revision: tuple[str, str] | None = None  # `--rev` / `--tag` / `--branch`


@record
class EditResult:
    """The edited project's new lock and sync, and the requirements changed."""

    lock: LockResult | None
    sync: SyncResult | None
    changed: tuple[str, ...]


@contextmanager
def restored_on_failure(*paths: Path) -> Iterator[None]:
    saved = {p: (p.read_bytes() if p.exists() else None) for p in paths}
    try:
        yield
    except BaseException:
        for path, data in saved.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                write_bytes(path, data)
        raise


def _requirement(text: str) -> Requirement:
    return requirement_or_usage_error(text)


def _marker(text: str | None) -> Marker | None:
    if text is None:
        return None
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise UsageError(
            f"`--marker {text}` is not a valid marker",
            causes=[str(exc)],
            hint="write it as PEP 508 describes, e.g. `--marker \"sys_platform == 'linux'\"`",
        ) from None


def _with_marker(requirement: Requirement, marker: Marker | None) -> Requirement:
    """``requirement`` that applies only where ``marker`` holds too (`--marker`, as in uv)."""
    if marker is None:
        return requirement
    joined = Requirement(str(requirement))
    joined.marker = (
        marker if requirement.marker is None else Marker(f"({requirement.marker}) and ({marker})")
    )
    return joined


@contextmanager
def _source_dists(
    ctx: CommandContext, project: Pyproject, index_args: object
) -> Iterator[Callable[[], SourceDists]]:
    """Made on first use: only an added path or URL needs to be fetched to learn its name."""
    made: list[SourceDists] = []
    finders: list[IndexFinder] = []

    def dists() -> SourceDists:
        if not made:
            finder = project_indexes(index_args, project.uv).finder(ctx.client, ctx.cache)
            finders.append(finder)
            wanted = str(project.requires_python) if project.requires_python else None
            found: list[Interpreter] = []

            def python() -> Interpreter:
                if not found:
                    found.append(find_interpreter(wanted, ctx.cache))
                return found[0]

            made.append(
                SourceDists(ctx, finder, python, build=build_settings(index_args, project.uv))
            )
        return made[0]

    try:
        yield dists
    finally:
        for finder in finders:
            finder.close()


def _finish(
    ctx: CommandContext,
    root: Path,
    index_args: object,
    request: EditRequest,
    sync_extra: Sequence[str],
) -> tuple[LockResult | None, SyncResult | None]:
    if request.frozen:
        return None, None
    locked = lock_project(
        ctx, root, index_args, torch_backend=request.torch_backend, torch_verb="install"
    )
    if request.no_sync:
        return locked, None
    synced = sync_project(
        ctx,
        root,
        index_args,
        SyncRequest(
            extras=sync_extra,
            frozen=True,
            python=request.python,
            groups=[request.group] if request.group else (),
            torch_backend=request.torch_backend,
        ),
    )
    return locked, synced


def add_packages(
    ctx: CommandContext, project_dir: Path | None, index_args: object, request: EditRequest
) -> EditResult:
    if not request.packages:
        raise UsageError("nothing to add", hint="name the packages, e.g. `kiln add torch`")
    project = discover(project_dir)
    flags = AddFlags(request.editable, request.git_revision)
    with _source_dists(ctx, project, index_args) as dists:
        additions = parse_additions(list(request.packages), project, flags, dists, _requirement)
    own = canonicalize_name(project.name) if project.name else None
    for addition in additions:
        name = canonicalize_name(addition.requirement.name)
        if name == own and request.extra is None and request.group is None:
            # As uv: a project that needs itself does so through one of its extras or groups.
            raise UsageError(
                f"requirement name `{name}` matches project name `{own}`, but self-dependencies "
                "are not permitted without `--optional` or `--group`",
                hint="if the project's name shadows a third-party package, rename the project",
            )
    marker = _marker(request.marker)
    requirements = [_with_marker(a.requirement, marker) for a in additions]
    pyproject, lock_path = project.path, project.root / LOCK_NAME
    with restored_on_failure(pyproject, lock_path):
        text = pyproject.read_text(encoding="utf-8")
        for addition in additions:
            if addition.location is not None:
                text = add_source(
                    text,
                    addition.requirement.name,
                    location=addition.location,
                    marker=request.marker,
                    extra=request.extra,
                    group=request.group,
                )
        for value in request.indexes:
            index = parse_index(value)
            if index.name is None:
                raise UsageError(
                    f"`--index {value}` has no name",
                    hint="write `--index NAME=URL` so sources can refer to it",
                )
            text = add_index(text, index.name, index.url)
            for req in (a.requirement for a in additions if a.location is None):
                text = add_source(
                    text,
                    req.name,
                    index=index.name,
                    marker=request.marker,
                    extra=request.extra,
                    group=request.group,
                )
        for req in requirements:
            text = add_dependency(
                text, str(req), extra=request.extra, group=request.group, raw=request.raw
            )
        write_text(pyproject, text)
        sync_extras = [request.extra] if request.extra else []
        if request.frozen:
            return EditResult(None, None, tuple(r.name for r in requirements))
        locked = lock_project(
            ctx,
            project.root,
            index_args,
            torch_backend=request.torch_backend,
            torch_verb="install",
        )
        if not request.raw:
            bounded = text
            for req in (a.requirement for a in additions if a.location is None):
                versions = sorted(
                    (
                        p.version
                        for p in locked.lock.packages
                        if p.name == canonicalize_name(req.name)
                    ),
                    reverse=True,
                )
                if versions and not req.specifier and req.url is None:
                    bounded = add_dependency(
                        bounded,
                        with_lower_bound(str(req), str(versions[0])),
                        extra=request.extra,
                        group=request.group,
                    )
            if bounded != text:
                write_text(pyproject, bounded)
        result_lock, result_sync = _finish(ctx, project.root, index_args, request, sync_extras)
        return EditResult(result_lock or locked, result_sync, tuple(r.name for r in requirements))


def remove_packages(
    ctx: CommandContext, project_dir: Path | None, index_args: object, request: EditRequest
) -> EditResult:
    if not request.packages:
        raise UsageError("nothing to remove", hint="name the packages, e.g. `kiln remove torch`")
    project = discover(project_dir)
    pyproject, lock_path = project.path, project.root / LOCK_NAME
    with restored_on_failure(pyproject, lock_path):
        text = pyproject.read_text(encoding="utf-8")
        for name in request.packages:
            text, removed = remove_dependency(text, name, extra=request.extra, group=request.group)
            if not removed:
                where = (
                    f"optional dependencies `{request.extra}`"
                    if request.extra
                    else f"group `{request.group}`"
                    if request.group
                    else "dependencies"
                )
                raise KilnError(
                    f"`{name}` is not among the project's {where}",
                    hint="check the name, or pass `--optional EXTRA` / `--group GROUP` / `--dev`",
                )
        write_text(pyproject, text)
        locked, synced = _finish(ctx, project.root, index_args, request, [])
        return EditResult(locked, synced, tuple(request.packages))
