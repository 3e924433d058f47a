"""`kiln pip install -r pylock.toml`: a PEP 751 lock installed as it is, with no resolution.

Any valid lock is read (kiln's, uv's export, another locker's): the entries that apply to the
target environment, with the lock's default groups, each with its best wheel (or its sdist,
built); `directory` entries are built by their backend, editable where the lock says so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import NormalizedName, parse_wheel_filename

from kiln.commands.build_support import SdistWheels, frontend
from kiln.commands.context import CommandContext
from kiln.core.build import BuildRequest
from kiln.core.dist import Candidate, DistFile
from kiln.core.errors import UsageError
from kiln.core.hashes import Hashes, file_sha256
from kiln.install.executor import InstallReport, execute
from kiln.install.installed import installed_distributions
from kiln.install.installer import InstallOptions
from kiln.install.plan import InstallPlan, plan_install
from kiln.install.preparer import prepare
from kiln.lock.pylock_toml import load_lock
from kiln.lock.select import select
from kiln.net.locations import path_to_url
from kiln.python.interpreter import Interpreter
from kiln.resolve.resolver import Resolution
from kiln.settings.index_settings import IndexSettings


def is_lock_file(path: Path) -> bool:
    """PEP 751's names: `pylock.toml` and `pylock.<name>.toml`."""
    name = path.name
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))


def install_lock(
    ctx: CommandContext,
    path: Path,
    interpreter: Interpreter,
    settings: IndexSettings,
    *,
    dry_run: bool,
    reinstall: bool,
) -> tuple[Resolution, InstallPlan, InstallReport | None, dict[str, float]]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read `{path}`: {exc.strerror}") from None
    lock = load_lock(text, path)
    env = interpreter.environment()
    chosen = select(lock, env, extras=frozenset(), groups=frozenset(lock.default_groups))
    candidates = [s.candidate() for s in chosen]
    finder = settings.finder(ctx.client, ctx.cache)
    direct_urls: dict[NormalizedName, Mapping[str, object]] = {}
    try:
        for directory in lock.directories:
            if directory.marker is not None and not env.evaluate(directory.marker):
                continue
            source = (path.parent / directory.path).resolve()
            if dry_run:
                continue
            wheel = frontend(ctx, finder).wheel(
                BuildRequest(source, interpreter.executable, label=str(directory.name)),
                editable=directory.editable,
            )
            candidates.append(
                Candidate(
                    directory.name,
                    parse_wheel_filename(wheel.name)[1],
                    DistFile(
                        filename=wheel.name,
                        url=path_to_url(wheel),
                        hashes=Hashes.of({"sha256": file_sha256(wheel)}),
                        index=path_to_url(source),
                    ),
                )
            )
            direct_urls[directory.name] = {
                "url": path_to_url(source),
                "dir_info": {"editable": directory.editable},
            }
        resolution = Resolution(tuple(candidates), {})
        installed = installed_distributions(interpreter.site_packages())
        plan = plan_install(candidates, installed, ctx.cache, reinstall=reinstall)
        timings["resolve"] = time.perf_counter() - started
        if dry_run:
            return resolution, plan, None, timings
        started = time.perf_counter()
        unpacked = prepare(
            (*plan.cached, *plan.remote),
            finder,
            ctx.cache,
            ctx.reporter,
            builder=SdistWheels(ctx, finder, interpreter.executable),
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
        direct_urls=direct_urls,
    )
    timings["install"] = time.perf_counter() - started
    return resolution, plan, report, timings
