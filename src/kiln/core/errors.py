"""Errors a user can cause, each carrying what is needed to print one message in uv's manner.

A `KilnError` renders as::

    error: <message>
      caused by: <cause>
    hint: <hint>

Anything else that escapes to the CLI is a bug.
"""

from __future__ import annotations


class KilnError(Exception):
    """Base of every expected failure; `message` is lowercase with no trailing period."""

    exit_code = 2

    def __init__(
        self, message: str, *, causes: tuple[str, ...] | list[str] = (), hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        # Each cause once: a requirement met on many paths is still one reason.
        self.causes = tuple(dict.fromkeys(causes))
        self.hint = hint

    def render(self) -> str:
        lines = [f"error: {self.message}"]
        lines.extend(f"  caused by: {cause}" for cause in self.causes)
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class UsageError(KilnError):
    """The command line itself is wrong (unknown flag value, missing argument)."""


class NetworkError(KilnError):
    """An index or file could not be reached after retries."""


class NotFoundError(KilnError):
    """A package, file or interpreter that was asked for does not exist."""


class ResolutionError(KilnError):
    """No set of versions satisfies the requirements."""

    exit_code = 1


class HashMismatchError(KilnError):
    """A downloaded file did not match the hash its index or lock promised."""


class InstallError(KilnError):
    """A wheel could not be installed into the target environment."""


class InterpreterError(KilnError):
    """No interpreter fits, or an interpreter could not be inspected."""


class OfflineError(KilnError):
    """Something was needed from the network while running offline."""
