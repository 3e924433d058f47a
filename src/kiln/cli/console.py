"""Where kiln writes: results to stdout, progress and the story of a command to stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

from kiln.core.records import record


def _colour_allowed(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR") or os.environ.get("CLICOLOR_FORCE"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@record(frozen=False)
class Console:
    """Where kiln writes: results to stdout, progress and the story of a command to stderr."""

    quiet: int = 0
    verbose: int = 0

    @property
    def colour(self) -> bool:
        return _colour_allowed(sys.stderr)

    def _say(self, line: str) -> None:
        # One write per line: requests log from their worker threads, and `print` writes the
        # text and its newline separately, so two lines could run together.
        sys.stderr.write(line + "\n")

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def info(self, message: str) -> None:
        """The story of a command (what it used, what it did); silenced by -q."""
        if self.quiet == 0:
            self._say(message)

    def debug(self, message: str) -> None:
        if self.verbose > 0:
            self._say(self._paint(message, "2"))

    def out(self, message: str) -> None:
        """A command's actual output (lists, versions): stays even with -q."""
        print(message)

    def warn(self, message: str) -> None:
        if self.quiet < 2:
            self._say(f"{self._paint('warning', '1;33')}: {message}")

    def error(self, rendered: str) -> None:
        head, _, rest = rendered.partition(":")
        first = self._paint(head, "1;31") + ":" + rest if head == "error" else rendered
        self._say(first)

    def added(self, text: str) -> None:
        if self.quiet == 0:
            self._say(f" {self._paint('+', '32')} {text}")

    def removed(self, text: str) -> None:
        if self.quiet == 0:
            self._say(f" {self._paint('-', '31')} {text}")


def elapsed(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    return f"{seconds:.2f}s"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def print_changes(console: Console, removed: Iterable[Any], added: Iterable[Any]) -> None:
    """` - name==old` and ` + name==new` lines, sorted by name, removals first (as uv)."""
    rows = [(str(d.name), 0, f"{d.display_name}=={d.version}") for d in removed]
    rows += [(str(c.name), 1, f"{c.name}=={c.version}") for c in added]
    for _, kind, text in sorted(rows):
        (console.added if kind else console.removed)(text)


def report_sync(
    console: Console, removed: list[Any], added: list[Any], audited: int, *, dry_run: bool = False
) -> None:
    """What a sync changed, as uv says it: the counts, then each change; or what it audited."""
    if not added and not removed:
        console.info(f"Audited {plural(audited, 'package')}")
        return
    if removed:
        console.info(
            f"{'Would uninstall' if dry_run else 'Uninstalled'} {plural(len(removed), 'package')}"
        )
    console.info(f"{'Would install' if dry_run else 'Installed'} {plural(len(added), 'package')}")
    print_changes(console, removed, added)
