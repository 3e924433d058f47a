"""Entry point: parse, run one verb, print its result or its error."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from kiln.cli.parser import build_parser, verb_of

if TYPE_CHECKING:
    from kiln.cli.console import Console


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(verb_of(words))
    args = parser.parse_args(words)
    if args.verb in ("run", "sync"):
        # A project found up to date before needs none of the imports below.
        from kiln.cli.noop_path import answer_noop

        try:
            answered = answer_noop(args)
        except (KeyboardInterrupt, OSError) as exc:
            # A replayed sync (`noop_path._switched`) installs: Ctrl-C and a full disk can
            # land there too.
            from kiln.cli.console import Console

            return _failed(Console(quiet=args.quiet, verbose=args.verbose), exc)
        if answered is not None:
            return answered

    from kiln.cli.console import Console

    console = Console(quiet=args.quiet, verbose=args.verbose)
    if args.verb is None or args.verb == "help":
        topic = getattr(args, "topic", None) or []
        if topic:
            build_parser().parse_args([*topic, "--help"])
        parser.print_help()
        return 0
    if args.verb == "pip" and args.pip_verb is None:
        parser.parse_args(["pip", "--help"])

    if _will_fetch(args):
        from kiln.net.trust import preload

        preload()

    from kiln.core.errors import KilnError

    try:
        from kiln.cli.dispatch import run

        return run(args, console)
    except KilnError as exc:
        console.error(exc.render())
        return exc.exit_code
    except (KeyboardInterrupt, OSError) as exc:
        return _failed(console, exc)


def _failed(console: Console, exc: BaseException) -> int:
    """Ctrl-C, or a file or folder that cannot be used where no caller said more: in kiln's
    words, never a traceback."""
    if isinstance(exc, KeyboardInterrupt):
        console.error("error: interrupted")
        return 130
    assert isinstance(exc, OSError)
    from kiln.core.errors import file_system_error

    error = file_system_error(exc)
    console.error(error.render())
    return error.exit_code


# Verbs that read an index on most runs, whose first request would otherwise wait for the
# trust store to load after every import. Not `sync`: most find their lock fresh and their
# wheels cached, and loading the store beside them cost a warm switch of extras 8 ms.
_FETCHING = {"lock", "add", "remove", "pip install", "pip compile", "pip sync"}


def _will_fetch(args: Any) -> bool:
    verb = args.verb if args.verb != "pip" else f"pip {args.pip_verb}"
    if verb not in _FETCHING or getattr(args, "offline", False):
        return False
    from kiln.core.errors import KilnError
    from kiln.settings.global_settings import env_flag

    # A config file's `offline` is not read yet: then the store is loaded for nothing.
    try:
        return not env_flag(os.environ, "KILN_OFFLINE")
    except KilnError:
        return False  # said when the settings are resolved


def entry() -> NoReturn:
    """The `kiln` program: one verb, then out without taking the heap apart."""
    leave(main())


def leave(code: int) -> NoReturn:
    """Exit with ``code`` once the exit handlers have run and the output is flushed, skipping
    the interpreter's teardown: freeing a lock's objects one by one took 0.1-0.2 s, which the
    OS does at once. Not while another thread is left that the interpreter would wait for,
    since it may still be writing (a daemon thread, such as a request that lost a race, is
    stopped by either exit alike), nor under a profiler or tracer, which write their results
    once this returns."""
    threading = sys.modules.get("threading")
    if threading is not None and any(
        not thread.daemon and thread is not threading.main_thread()
        for thread in threading.enumerate()
    ):
        sys.exit(code)
    if sys.getprofile() is not None or sys.gettrace() is not None or _monitored():
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except OSError:
        # The reader went away (`kiln ... | head`): the interpreter reports that its own way.
        sys.exit(code)
    os._exit(code)


def _monitored() -> bool:
    """Whether a tool watches through `sys.monitoring` (Python 3.12 on: cProfile does, and
    `sys.getprofile()` does not show it)."""
    monitoring: Any = getattr(sys, "monitoring", None)
    if monitoring is None:
        return False
    return any(monitoring.get_tool(tool) is not None for tool in range(6))


if __name__ == "__main__":
    entry()
