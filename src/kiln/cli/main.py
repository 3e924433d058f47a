"""Entry point: parse, run one verb, print its result or its error."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from kiln.cli.parser import build_parser, verb_of


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(verb_of(words))
    args = parser.parse_args(words)
    if args.verb in ("run", "sync"):
        # A project found up to date before needs none of the imports below.
        from kiln.cli.noop_path import answer_noop

        answered = answer_noop(args)
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

    from kiln.core.errors import KilnError

    try:
        from kiln.cli.dispatch import run

        return run(args, console)
    except KilnError as exc:
        console.error(exc.render())
        return exc.exit_code
    except KeyboardInterrupt:
        console.error("error: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
