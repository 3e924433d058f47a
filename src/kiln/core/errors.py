"""Errors a user can cause, each carrying what is needed to print one message in uv's manner.

A `KilnError` renders as::

    error: <message>
      caused by: <cause>
    hint: <hint>

An `OSError` that reaches the CLI is rendered from its path and errno
(`file_system_error`); anything else that escapes to the CLI is a bug.
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


class FileSystemError(KilnError):
    """A file or folder kiln must read or write cannot be used: permissions, a full disk,
    a folder where a file belongs."""


_ERRNO_HINTS = {
    "EACCES": "check the permissions of that path, or run where kiln may write",
    "EPERM": "check the permissions of that path, or run where kiln may write",
    "EROFS": "that file system is read-only: run where kiln may write (for the cache, set "
    "KILN_CACHE_DIR)",
    "ENOSPC": "free space on that disk, then run the command again",
    "EDQUOT": "free space within your quota, then run the command again",
    "EISDIR": "that path is a folder; give the path of a file",
    "ENOTDIR": "a part of that path is a file, not a folder",
    "ENOENT": "create the folder it belongs in, or give a path that exists",
}


def file_system_error(exc: OSError) -> FileSystemError:
    """``exc`` in kiln's words: the path it names, the system's reason, and what to do."""
    import errno

    where = exc.filename if exc.filename is not None else None
    if exc.filename2 is not None:
        where = f"{exc.filename}` -> `{exc.filename2}"
    message = f"cannot use `{where}`" if where is not None else "a file operation failed"
    name = errno.errorcode.get(exc.errno or 0, "")
    return FileSystemError(
        message,
        causes=[exc.strerror or str(exc)],
        hint=_ERRNO_HINTS.get(name, "check that path, then run the command again"),
    )


def undecodable_error(exc: UnicodeDecodeError, path: object) -> KilnError:
    """A text file kiln reads that is not UTF-8."""
    return KilnError(
        f"`{path}` is not UTF-8 text",
        causes=[f"byte {exc.object[exc.start : exc.start + 1]!r} at offset {exc.start}"],
        hint="save the file as UTF-8",
    )
