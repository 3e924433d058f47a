"""`kiln pip install`: resolve for the target interpreter, fetch everything, then install."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.commands.build_support import SdistWheels, sdist_metadata_hook
from kiln.commands.context import CommandContext
from kiln.commands.pip.hash_check import HashPolicy, check_pins, hold_to_hashes, user_hashes
from kiln.commands.pip.local_sources import local_sources
from kiln.commands.pip.target import target_environment, target_interpreter
from kiln.core.dist import DistFile
from kiln.core.errors import UsageError
from kiln.core.hashes import Hashes
from kiln.core.protocols import ReportingFinder
from kiln.core.records import field, record
from kiln.install.executor import InstallReport, execute
from kiln.install.installed import installed_distributions
from kiln.install.installer import InstallOptions
from kiln.install.plan import DEFAULT_KEEP, InstallPlan, plan_install
from kiln.install.preparer import prepare
from kiln.lock.file_names import is_lock_file
from kiln.project.requirements_txt import (
    LocalRequirement,
    RequirementsFile,
    is_local_location,
    parse_requirement_text,
    read_requirements,
)
from kiln.python.interpreter import Interpreter
from kiln.python.venv_lock import venv_lock
from kiln.resolve.resolver import Resolution, resolve
from kiln.settings.build_settings import build_settings
from kiln.settings.index_settings import IndexSettings
from kiln.settings.resolver_settings import pip_resolver_options, target_python
from kiln.settings.target_platforms import target_platform
from kiln.settings.torch_settings import TorchSettings

if TYPE_CHECKING:
    # Only `--torch-backend` needs the torch index machinery (a fifth of the imports).
    from kiln.commands.pip.torch_index import TorchIndexChoice


@record
class PipInstallRequest:
    """The inputs and options of one `kiln pip install`."""

    packages: Sequence[str]
    requirement_files: Sequence[Path] = ()
    constraint_files: Sequence[Path] = ()
    python: str | None = None
    system: bool = False
    no_deps: bool = False
    upgrade: bool = False
    upgrade_packages: Sequence[str] = ()
    reinstall: bool = False
    dry_run: bool = False
    compile_bytecode: bool = False
    link_mode: str = "hardlink"
    torch: TorchSettings | None = None
    # `pip sync`: the files list the whole environment; what they do not name is removed.
    exact: bool = False
    hashes: HashPolicy = field(default_factory=HashPolicy)  # --require-hashes, --no-verify-hashes
    editables: Sequence[str] = ()  # `-e PATH`: project folders installed editable


@record
class PipInstallResult:
    """What `kiln pip install` resolved, planned and installed."""

    interpreter: Interpreter
    resolution: Resolution
    plan: InstallPlan
    report: InstallReport | None
    timings: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    torch: TorchIndexChoice | None = None


def gather(request: PipInstallRequest) -> RequirementsFile:
    """Requirements from the command line and every -r / -c file, in order."""
    collected = RequirementsFile()
    for path in request.requirement_files:
        read_requirements(path, into=collected)
    for path in request.constraint_files:
        read_requirements(path, into=collected, constraint=True)
    for text in request.packages:
        if is_local_location(text):
            collected.locations.append(
                LocalRequirement(text, False, Path.cwd(), "the command line")
            )
            continue
        collected.requirements.append(parse_requirement_text(text, "the command line"))
    for text in request.editables:
        collected.locations.append(LocalRequirement(text, True, Path.cwd(), "`-e`"))
    return collected


def direct_files(requirements: Sequence[Requirement]) -> dict[NormalizedName, DistFile]:
    """Requirements that name a wheel by URL become the only candidate for that project."""
    direct: dict[NormalizedName, DistFile] = {}
    for req in requirements:
        if req.url is None:
            continue
        url = req.url
        filename = url.split("#", 1)[0].rsplit("/", 1)[-1]
        if not filename.endswith(".whl"):
            raise UsageError(
                f"`{req}` does not point at a wheel",
                hint="`kiln pip install` takes folders, sdists and git URLs; `kiln pip compile` "
                "pins wheels by URL only: point it at a `.whl` file",
            )
        fragment = url.split("#", 1)[1] if "#" in url else ""
        direct[canonicalize_name(req.name)] = DistFile(
            filename=filename,
            url=url.split("#", 1)[0],
            hashes=Hashes.from_fragment(fragment),
            index=url,
        )
    return direct


def _lock_alone(request: PipInstallRequest, locks: list[Path]) -> None:
    if (
        len(locks) > 1
        or request.packages
        or request.editables
        or len(request.requirement_files) > 1
    ):
        raise UsageError(
            f"`{locks[0]}` is a lock: it is installed on its own",
            hint="pass the lock alone with `-r`, as uv does; lock files and other requirements "
            "do not mix",
        )


def _install_lock(
    ctx: CommandContext, request: PipInstallRequest, index_args: object, locks: list[Path]
) -> PipInstallResult:
    _lock_alone(request, locks)
    interpreter = target_interpreter(ctx, request.python, request.system)
    settings = IndexSettings.resolve(index_args)
    # Only an install from a lock needs its reader and the sources it may name.
    from kiln.commands.pip.lock_install import install_lock

    resolution, plan, report, timings = install_lock(
        ctx,
        locks[0],
        interpreter,
        settings,
        dry_run=request.dry_run,
        reinstall=request.reinstall,
        build=build_settings(index_args),
    )
    return PipInstallResult(interpreter, resolution, plan, report, timings)


def pip_install(
    ctx: CommandContext, request: PipInstallRequest, index_args: object
) -> PipInstallResult:
    locks = [p for p in request.requirement_files if is_lock_file(p)]
    if locks:
        _lock_alone(request, locks)  # a usage error first, before looking for the target
    if request.dry_run:
        return _pip_install(ctx, request, index_args)
    interpreter = target_interpreter(ctx, request.python, request.system)
    if not interpreter.is_virtualenv:
        return _pip_install(ctx, request, index_args)
    # One process at a time plans and changes a virtual environment, as `kiln sync` does.
    with venv_lock(interpreter.prefix):
        return _pip_install(ctx, request, index_args)


def _pip_install(
    ctx: CommandContext, request: PipInstallRequest, index_args: object
) -> PipInstallResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    locks = [p for p in request.requirement_files if is_lock_file(p)]
    if locks:
        return _install_lock(ctx, request, index_args, locks)
    wanted = gather(request)
    if not (wanted.requirements or wanted.locations):
        raise UsageError(
            "nothing to install", hint="name packages, or pass a requirements file with `-r`"
        )
    check_pins(wanted.requirements, request.hashes)
    interpreter = target_interpreter(ctx, request.python, request.system)
    settings = IndexSettings.resolve(
        index_args,
        file_index_url=wanted.index_url,
        file_extra_index_urls=wanted.extra_index_urls,
        file_find_links=wanted.find_links,
        file_no_index=wanted.no_index,
    )
    if getattr(index_args, "refresh", False):
        ctx.client.refresh = True
    resolver = pip_resolver_options(index_args)
    python_version = target_python(getattr(index_args, "python_version", None))
    platform_name = getattr(index_args, "python_platform", None)
    platform = target_platform(platform_name) if platform_name else None
    env = target_environment(interpreter.environment(), python_version, platform)
    torch_choice: TorchIndexChoice | None = None
    if request.torch is not None:
        from kiln.commands.pip.torch_index import torch_finder

        finder, torch_choice = torch_finder(
            settings, request.torch, wanted.requirements, env, ctx.client, ctx.cache
        )
    else:
        finder = settings.finder(ctx.client, ctx.cache)
    build = build_settings(index_args)
    finder.sdist_metadata = sdist_metadata_hook(ctx, finder, lambda: interpreter, build)
    local = local_sources(
        ctx, wanted.requirements, wanted.locations, finder, lambda: interpreter, build
    )
    site = interpreter.site_packages()
    installed = installed_distributions(site)
    upgrade_names = {canonicalize_name(n) for n in request.upgrade_packages}
    preferences: dict[NormalizedName, Version] = {}
    if not request.upgrade:
        preferences = {d.name: d.version for d in installed if d.name not in upgrade_names}
    try:
        resolution = resolve(
            local.requirements,
            ReportingFinder(local.wrap(finder), ctx.reporter),
            env,
            constraints=wanted.constraints,
            preferences=preferences,
            direct=direct_files(local.requirements),
            no_deps=request.no_deps,
            options=resolver,
        )
    finally:
        finder.close()  # drop metadata prefetches nobody will read
    timings["resolve"] = time.perf_counter() - started

    reinstall_names = {c.name for c in resolution.candidates} if request.reinstall else set()
    held = hold_to_hashes(resolution.candidates, user_hashes(wanted.hashes), request.hashes)
    # Local sources are built before anything is installed; a dry run only plans them.
    held, kept_sources, source_urls = local.installs(
        ctx, held, interpreter, installed, None if request.dry_run else finder, build
    )
    plan = plan_install(
        held,
        installed,
        ctx.cache,
        reinstall=bool(reinstall_names),
        exact=request.exact,
        keep=DEFAULT_KEEP | kept_sources,
    )
    warnings = tuple(
        f"`{c.name}=={c.version}` is yanked"
        + (f" (reason: {c.file.yanked})" if c.file.yanked else "")
        for c in resolution.yanked
    ) + tuple(finder.notes())
    if env is not interpreter.environment() and not request.dry_run:
        warnings += (
            f"resolved for {env.description}, not for the environment's "
            f"{interpreter.environment().description}: what is installed may not run there",
        )
    if request.dry_run:
        return PipInstallResult(
            interpreter, resolution, plan, None, timings, warnings, torch_choice
        )

    started = time.perf_counter()
    unpacked = prepare(
        (*plan.cached, *plan.remote),
        finder,
        ctx.cache,
        ctx.reporter,
        builder=SdistWheels(ctx, finder, interpreter.executable, build),
    )
    timings["prepare"] = time.perf_counter() - started
    started = time.perf_counter()
    options = InstallOptions(
        python_executable=interpreter.executable,
        link_mode="copy" if request.link_mode == "copy" else "hardlink",
        compile_bytecode=request.compile_bytecode,
    )
    requested = frozenset(canonicalize_name(r.name) for r in local.requirements)
    direct_urls: dict[NormalizedName, Mapping[str, object]] = {
        name: {
            "url": file.url,
            "archive_info": ({"hashes": dict(file.hashes.items)} if file.hashes else {}),
        }
        for name, file in direct_files(local.requirements).items()
    }
    direct_urls.update(source_urls)
    report = execute(
        plan, unpacked, interpreter.scheme, options, requested=requested, direct_urls=direct_urls
    )
    timings["install"] = time.perf_counter() - started
    return PipInstallResult(interpreter, resolution, plan, report, timings, warnings, torch_choice)
