"""`kiln pip install -r pylock.toml`: a PEP 751 lock installed as it is, with no resolution.

Any valid lock is read (kiln's, uv's export, another locker's): the entries that apply to the
target environment, with the lock's default groups, each with its best wheel (or its sdist,
built); `directory` entries are built by their backend, editable where the lock says so;
`vcs` entries are checked out at their commit and built; `archive` entries are fetched and
checked against their hashes.
"""

from __future__ import annotations

import time
from pathlib import Path

from kiln.commands.build_support import SdistWheels
from kiln.commands.context import CommandContext
from kiln.commands.source_install import SourceTarget, source_installs
from kiln.core.errors import UsageError
from kiln.install.executor import InstallReport, execute
from kiln.install.installed import installed_distributions
from kiln.install.installer import InstallOptions
from kiln.install.plan import DEFAULT_KEEP, InstallPlan, plan_install
from kiln.install.preparer import prepare
from kiln.lock.known_locks import load_known_lock
from kiln.lock.select import select, select_directories
from kiln.python.interpreter import Interpreter
from kiln.resolve.resolver import Resolution
from kiln.settings.build_settings import BuildSettings
from kiln.settings.index_settings import IndexSettings


def install_lock(
    ctx: CommandContext,
    path: Path,
    interpreter: Interpreter,
    settings: IndexSettings,
    *,
    dry_run: bool,
    reinstall: bool,
    build: BuildSettings | None = None,
) -> tuple[Resolution, InstallPlan, InstallReport | None, dict[str, float]]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read `{path}`: {exc.strerror}") from None
    lock = load_known_lock(text, path, ctx.cache)
    env = interpreter.environment()
    chosen = select(lock, env, extras=frozenset(), groups=frozenset(lock.default_groups))
    directories = select_directories(
        lock, env, extras=frozenset(), groups=frozenset(lock.default_groups)
    )
    installed = installed_distributions(interpreter.site_packages())
    build = build or BuildSettings()
    target = SourceTarget(ctx, path.parent, interpreter.executable, installed, build=build)
    finder = settings.finder(ctx.client, ctx.cache)
    try:
        sources = source_installs(target, chosen, directories, None if dry_run else finder)
        candidates = [s.candidate() for s in chosen if s.wheel is not None]
        candidates += sources.candidates
        resolution = Resolution(tuple(candidates), {})
        plan = plan_install(
            candidates,
            installed,
            ctx.cache,
            reinstall=reinstall,
            keep=DEFAULT_KEEP | sources.keep,
        )
        timings["resolve"] = time.perf_counter() - started
        if dry_run:
            return resolution, plan, None, timings
        started = time.perf_counter()
        unpacked = prepare(
            (*plan.cached, *plan.remote),
            finder,
            ctx.cache,
            ctx.reporter,
            builder=SdistWheels(ctx, finder, interpreter.executable, build),
        )
    finally:
        finder.close()
    timings["prepare"] = time.perf_counter() - started
    started = time.perf_counter()
    report = execute(
        plan,
        unpacked,
        interpreter.scheme,
        InstallOptions(python_executable=interpreter.executable),
        requested=frozenset(c.name for c in candidates),
        direct_urls=sources.direct_urls,
    )
    timings["install"] = time.perf_counter() - started
    return resolution, plan, report, timings
