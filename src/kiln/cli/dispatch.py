"""Run the verb the parser found, and print what it returns."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiln.cli.console import Console
from kiln.cli.progress import make_reporter
from kiln.commands.context import CommandContext
from kiln.commands.project.noop import ARGS_ATTRIBUTE as NOOP_ATTRIBUTE
from kiln.settings.config_files import ARGS_ATTRIBUTE, load_config
from kiln.settings.global_settings import GlobalSettings


def run(args: argparse.Namespace, console: Console) -> int:
    config = load_config(args)
    for warning in config.warnings:
        console.warn(warning)
    if config.warnings and hasattr(args, NOOP_ATTRIBUTE):
        # The no-op answer would not repeat these warnings, so it is not recorded.
        delattr(args, NOOP_ATTRIBUTE)
    setattr(args, ARGS_ATTRIBUTE, config)
    settings = GlobalSettings.resolve(args)
    reporter = make_reporter(settings.quiet)
    ctx = CommandContext.create(settings, reporter, log=console.debug)
    try:
        if args.verb == "venv":
            from kiln.cli.render_venv import venv

            return venv(ctx, args, console)
        if args.verb in ("lock", "sync", "add", "remove", "run", "tree", "export"):
            from kiln.cli import render_project

            handler = {
                "lock": render_project.lock,
                "sync": render_project.sync,
                "add": render_project.add,
                "remove": render_project.remove,
                "run": render_project.run,
                "tree": render_project.tree,
                "export": render_project.export,
            }[args.verb]
            return handler(ctx, args, console)
        if args.verb == "build":
            from kiln.cli.render_build import build

            return build(ctx, args, console)
        if args.verb == "init":
            from kiln.cli.render_project import init

            return init(ctx, args, console)
        if args.verb == "torch":
            from kiln.cli.render_torch import run_torch

            return run_torch(ctx, args, console)
        if args.verb in ("python", "cache") or (
            args.verb == "pip" and args.pip_verb in ("check", "tree")
        ):
            from kiln.cli import render_tools

            run_tool = {"python": render_tools.run_python, "cache": render_tools.run_cache}
            return run_tool.get(args.verb, render_tools.run_pip_tool)(ctx, args, console)
        if args.verb == "pip":
            from kiln.cli import render_pip

            handler = {
                "install": render_pip.install,
                "sync": render_pip.sync,
                "uninstall": render_pip.uninstall,
                "list": render_pip.list_,
                "freeze": render_pip.freeze,
                "show": render_pip.show,
                "compile": render_pip.compile_,
            }[args.pip_verb]
            return handler(ctx, args, console)
    finally:
        close = getattr(reporter, "close", None)
        if close is not None:
            close()
    raise AssertionError(f"unhandled verb {args.verb}")


def paths(values: list[str]) -> list[Path]:
    return [Path(v) for v in values]
