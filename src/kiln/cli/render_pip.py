"""Output of the `kiln pip` verbs, in uv's words."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING

from kiln.cli.console import Console, elapsed, plural, print_changes
from kiln.cli.dispatch import paths
from kiln.commands.context import CommandContext

if TYPE_CHECKING:
    from kiln.commands.pip.hash_check import HashPolicy
    from kiln.commands.pip.install import PipInstallResult
    from kiln.commands.pip.torch_index import TorchIndexChoice
    from kiln.settings.torch_settings import TorchSettings


def _env_line(console: Console, interpreter: object) -> None:
    prefix = getattr(interpreter, "prefix", "")
    version = getattr(interpreter, "version_str", "")
    console.info(f"Using Python {version} environment at: {prefix}")


def _torch(args: argparse.Namespace) -> TorchSettings | None:
    from kiln.settings.torch_settings import pip_torch_settings

    settings = pip_torch_settings(getattr(args, "torch_backend", None))
    return settings if settings.choice is not None else None


def _torch_line(console: Console, choice: TorchIndexChoice | None) -> None:
    if choice is None:
        return
    if choice.backend is None:
        console.info(f"Using the configured indexes for the torch family ({choice.why})")
    else:
        console.info(f"Using PyTorch backend `{choice.backend.name}` ({choice.why})")


def sync(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    """As uv's `pip sync`: each listed requirement without its dependencies (the files are
    the complete set), and everything else removed."""
    from pathlib import Path

    from kiln.commands.pip.install import PipInstallRequest, pip_install
    from kiln.core.errors import UsageError

    for name in args.src_files:
        if Path(name).name.startswith("pylock") and name.endswith(".toml"):
            raise UsageError(
                f"`kiln pip sync` reads requirements files; `{name}` is a PEP 751 lock",
                hint="install a lock into a project's environment with `kiln sync`",
            )
    request = PipInstallRequest(
        packages=(),
        requirement_files=paths(args.src_files),
        constraint_files=paths(args.constraints),
        python=args.python,
        system=args.system,
        no_deps=True,
        reinstall=args.reinstall,
        dry_run=args.dry_run,
        compile_bytecode=args.compile_bytecode,
        link_mode=args.link_mode or "hardlink",
        torch=_torch(args),
        exact=True,
        hashes=_hash_policy(args),
    )
    return _render_install(console, args, pip_install(ctx, request, args))


def install(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.pip.install import PipInstallRequest, pip_install

    request = PipInstallRequest(
        packages=args.packages,
        requirement_files=paths(args.requirements),
        constraint_files=paths(args.constraints),
        python=args.python,
        system=args.system,
        no_deps=args.no_deps,
        upgrade=args.upgrade,
        upgrade_packages=args.upgrade_package,
        reinstall=args.reinstall,
        dry_run=args.dry_run,
        compile_bytecode=args.compile_bytecode,
        link_mode=args.link_mode or "hardlink",
        torch=_torch(args),
        hashes=_hash_policy(args),
        editables=args.editables,
    )
    return _render_install(console, args, pip_install(ctx, request, args))


def _hash_policy(args: argparse.Namespace) -> HashPolicy:
    from kiln.commands.pip.hash_check import HashPolicy
    from kiln.settings.global_settings import env_flag

    require = bool(args.require_hashes) or env_flag(os.environ, "KILN_REQUIRE_HASHES")
    verify = args.verify_hashes
    if verify is None:
        verify = not env_flag(os.environ, "KILN_NO_VERIFY_HASHES")
    return HashPolicy(require=require, verify=bool(verify))


def _render_install(console: Console, args: argparse.Namespace, result: PipInstallResult) -> int:
    _env_line(console, result.interpreter)
    _torch_line(console, result.torch)
    count = len(result.resolution.candidates)
    console.info(f"Resolved {plural(count, 'package')} in {elapsed(result.timings['resolve'])}")
    for warning in result.warnings:
        console.warn(warning)
    plan = result.plan
    to_install = [p.candidate for p in (*plan.cached, *plan.remote)]
    removed = [*plan.reinstalls, *plan.extraneous]
    if args.dry_run:
        if not to_install and not removed:
            console.info("Would make no changes")
            return 0
        console.info(f"Would download {plural(len(plan.remote), 'package')}")
        console.info(f"Would install {plural(len(to_install), 'package')}")
        for dist in removed:
            console.removed(f"{dist.display_name}=={dist.version}")
        for cand in sorted(to_install, key=lambda c: c.name):
            console.added(f"{cand.name}=={cand.version}")
        return 0
    if not to_install and not removed:
        console.info(
            f"Audited {plural(count, 'package')} in {elapsed(sum(result.timings.values()))}"
        )
        return 0
    if plan.remote:
        console.info(
            f"Prepared {plural(len(plan.remote), 'package')} in {elapsed(result.timings.get('prepare', 0.0))}"
        )
    if removed:
        console.info(f"Uninstalled {plural(len(removed), 'package')}")
    console.info(
        f"Installed {plural(len(to_install), 'package')} in {elapsed(result.timings.get('install', 0.0))}"
    )
    print_changes(console, removed, to_install)
    return 0


def uninstall(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.pip.uninstall import pip_uninstall

    result = pip_uninstall(
        ctx,
        args.packages,
        paths(args.requirements),
        python=args.python,
        system=args.system,
        dry_run=args.dry_run,
    )
    _env_line(console, result.interpreter)
    for name in result.missing:
        console.warn(f"skipping `{name}`: it is not installed")
    if not result.removed:
        console.info("No packages to uninstall")
        return 0
    verb = "Would uninstall" if args.dry_run else "Uninstalled"
    console.info(f"{verb} {plural(len(result.removed), 'package')}")
    for dist in result.removed:
        console.removed(f"{dist.display_name}=={dist.version}")
    return 0


def list_(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.pip.inspect import pip_inventory

    inv = pip_inventory(
        ctx, python=args.python, system=args.system, exclude_editable=args.exclude_editable
    )
    rows = [(d.display_name, str(d.version)) for d in inv.dists]
    if args.format == "json":
        console.out(json.dumps([{"name": n, "version": v} for n, v in rows]))
    elif args.format == "freeze":
        for name, version in rows:
            console.out(f"{name}=={version}")
    elif rows:
        width = max(len("Package"), *(len(n) for n, _ in rows))
        vwidth = max(len("Version"), *(len(v) for _, v in rows))
        console.out(f"{'Package':<{width}} Version")
        console.out(f"{'-' * width} {'-' * vwidth}")
        for name, version in rows:
            console.out(f"{name:<{width}} {version}")
    return 0


def freeze(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.pip.inspect import pip_inventory

    inv = pip_inventory(
        ctx, python=args.python, system=args.system, exclude_editable=args.exclude_editable
    )
    for d in inv.dists:
        url = (d.direct_url or {}).get("url")
        console.out(f"{d.display_name} @ {url}" if url else f"{d.display_name}=={d.version}")
    return 0


def show(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.pip.inspect import pip_show

    _, shown, missing = pip_show(
        ctx, args.packages, python=args.python, system=args.system, files=args.files
    )
    for name in missing:
        console.warn(f"package(s) not found: {name}")
    for i, item in enumerate(shown):
        if i:
            console.out("---")
        console.out(f"Name: {item.dist.display_name}")
        console.out(f"Version: {item.dist.version}")
        console.out(f"Summary: {item.metadata.summary}")
        console.out(f"Location: {item.dist.dist_info.parent}")
        console.out(f"Requires: {', '.join(item.requires)}")
        console.out(f"Required-by: {', '.join(item.required_by)}")
        if item.dist.installer:
            console.out(f"Installer: {item.dist.installer}")
        if args.files:
            console.out("Files:")
            for f in item.files:
                console.out(f"  {f}")
    return 1 if missing and not shown else 0


# Flags the header leaves out, as uv's does: they change how kiln runs, not what it pins,
# or (index URLs) may carry credentials.
_HEADER_SKIP_FLAG = {"-q", "--quiet", "-v", "--verbose", "-U", "--upgrade", "-n", "--no-cache"}
_HEADER_SKIP_VALUE = {
    "-P", "--upgrade-package", "--cache-dir", "-i", "--index-url", "--extra-index-url",
    "--index", "--default-index", "-f", "--find-links",
}  # fmt: skip


def compile_command(argv: list[str]) -> str:
    """The command line the header repeats."""
    kept: list[str] = []
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
            continue
        flag = arg.split("=", 1)[0]
        if arg in _HEADER_SKIP_FLAG or (flag in _HEADER_SKIP_VALUE and "=" in arg):
            continue
        if arg in _HEADER_SKIP_VALUE:
            skip_next = True
            continue
        if arg.startswith("-q") and set(arg[1:]) == {"q"}:
            continue
        kept.append(arg)
    return " ".join(["kiln", *kept])


def compile_(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    import sys
    from pathlib import Path

    from kiln.commands.pip.compile import PipCompileRequest, pip_compile

    request = PipCompileRequest(
        sources=paths(args.src_files),
        constraint_files=paths(args.constraints),
        output_file=Path(args.output_file) if args.output_file else None,
        universal=args.universal,
        format=args.format,
        python=args.python,
        python_version=args.python_version,
        extras=args.extra,
        all_extras=args.all_extras,
        upgrade=args.upgrade,
        upgrade_packages=args.upgrade_package,
        header=not args.no_header,
        command=compile_command(sys.argv[1:]),
        torch=_torch(args),
    )
    result = pip_compile(ctx, request, args)
    console.info(f"Resolved {plural(len(result.pins), 'package')} in {elapsed(result.seconds)}")
    for warning in result.warnings:
        console.warn(warning)
    if result.output_file is None:
        sys.stdout.write(result.text)
    return 0
