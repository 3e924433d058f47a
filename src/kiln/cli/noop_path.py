"""`kiln run` and `kiln sync` on a project whose last identical check found nothing to do.

Answered from the record the full check left in `.venv` (`commands/project/noop.py`), with
only the standard library imported; anything else goes the full way, which records again.
"""

from __future__ import annotations

import argparse
import os
import sys

from kiln.commands.project.noop import ARGS_ATTRIBUTE, NoopCheck, environment_vars


def _command(args: argparse.Namespace) -> list[str]:
    command = list(args.command)
    return command[1:] if command and command[0] == "--" else command


def _eligible(args: argparse.Namespace) -> bool:
    """Only what the record can stand for: no debug output, nothing built for this run."""
    if args.verbose:
        return False
    if args.verb == "sync":
        return not args.dry_run
    command = _command(args)
    # A script may carry its own dependencies (PEP 723): the full path reads it.
    return bool(command) and not (args.with_ or args.no_sync or command[0].endswith(".py"))


def answer_noop(args: argparse.Namespace) -> int | None:
    """The exit status when the record answers (for `run` the process is replaced by the
    command); None when the full check has to run. The check is left on ``args`` then, so
    the command can record what it finds."""
    if not _eligible(args):
        return None
    options = {k: v for k, v in vars(args).items() if k != "command"}
    try:
        check = NoopCheck.capture(args.verb, options, args.project)
    except OSError:  # e.g. the current folder is gone: the full path says so properly
        return None
    if check is None:
        return None
    setattr(args, ARGS_ATTRIBUTE, check)
    entry = check.recorded()
    if entry is None:
        return _switched(args, check) if args.verb == "sync" else None
    if args.verb == "sync":
        audited = entry.get("audited")
        if not isinstance(audited, int):
            return None
        if not args.quiet:
            print(f"Audited {audited} package{'' if audited == 1 else 's'}", file=sys.stderr)
        return 0
    command = _command(args)
    bin_dir = os.path.join(check.venv, "Scripts" if os.name == "nt" else "bin")
    env = environment_vars([bin_dir], check.venv)
    if os.name == "nt":
        return None  # no exec there: the full path spawns and waits
    try:
        os.execvpe(command[0], command, env)
    except OSError:
        return None  # not found: the full path says so in kiln's words
    return None  # pragma: no cover - execvpe does not return


def _switched(args: argparse.Namespace, check: NoopCheck) -> int | None:
    """A sync to what an earlier full sync with these inputs installed (`switch`)."""
    from kiln.cli.console import Console, report_sync
    from kiln.commands.project.switch import replay_switch
    from kiln.core.errors import KilnError

    console = Console(quiet=args.quiet, verbose=args.verbose)
    try:
        done = replay_switch(check)
    except KilnError as exc:
        console.error(exc.render())
        return exc.exit_code
    if done is None:
        return None
    plan = done.plan
    report_sync(console, list(plan.to_remove), [p.candidate for p in plan.to_install], done.audited)
    return 0
