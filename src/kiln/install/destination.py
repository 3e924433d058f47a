"""Where installed files are written: the one place every write into an environment passes.

Files from the cache are hard-linked (or copied); files kiln generates are written fresh.
A fresh write always replaces the directory entry instead of writing into it, so an
environment file never shares an inode with something kiln rewrites, and a symlink or a
hard link in the way is replaced rather than written through.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from typing import Literal

from kiln.core.errors import InstallError

# Errors after which no hard link into this environment can succeed: stop trying.
_NO_LINKS = {errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}


class Destination:
    """Writes files under a fixed set of root folders and refuses to leave them.

    Paths are plain strings: this runs once per installed file, where pathlib's parsing
    costs more than the link itself.
    """

    def __init__(self, link_mode: Literal["hardlink", "copy"], label: str) -> None:
        self._hardlink = link_mode == "hardlink"
        self._label = label  # the wheel, for messages
        self._ready: set[str] = set()
        self._real_roots: dict[str, str] = {}
        self._lock = threading.Lock()
        self.made = 0  # files and folders created, for the executor's pace (`executor`)

    def path(self, root: str, relative: str) -> str:
        """``root/relative`` after checking ``relative`` stays inside ``root``.

        Once per installed file: a path plainly inside (no empty, ``.`` or ``..`` segment,
        no backslash) is joined by string operations, since splitting every path was a
        measurable part of linking a large wheel; anything else is split and checked.
        """
        padded = f"/{relative}/"
        if (
            os.sep == "/"
            and "\\" not in relative
            and "//" not in padded
            and "/./" not in padded
            and "/../" not in padded
            and not root.endswith("/")
        ):
            folder, _, _ = relative.rpartition("/")
            parent = f"{root}/{folder}" if folder else root
            target = f"{root}/{relative}"
        else:
            parts = relative.replace("\\", "/").split("/")
            if relative.startswith(("/", "\\")) or ".." in parts or "" in parts or "." in parts:
                raise InstallError(
                    f"`{self._label}` wants to write to `{relative}`, outside `{root}`",
                    hint="the wheel is malformed or malicious; do not install it",
                )
            target = os.path.join(root, *parts)
            parent = os.path.dirname(target)
        if parent not in self._ready:
            self._prepare(root, parent)
        return target

    def link(self, source: str, target: str) -> None:
        """Put ``source`` (a cache file) at ``target``: a hard link when possible, else a copy."""
        self.made += 1
        if self._hardlink:
            try:
                os.link(source, target)  # the common case: nothing in the way
                return
            except FileExistsError:
                try:
                    self._replace(target, lambda: os.link(source, target))
                    return
                except OSError as exc:
                    if exc.errno in _NO_LINKS:
                        self._hardlink = False
            except OSError as exc:
                if exc.errno in _NO_LINKS:
                    self._hardlink = False  # e.g. cache on another file system
        self._replace(target, lambda: _copy(source, target))

    def write(self, target: str, data: bytes, *, executable: bool = False) -> None:
        """Write ``data`` as a new file at ``target``."""

        def create() -> None:
            fd = os.open(
                target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755 if executable else 0o644
            )
            with os.fdopen(fd, "wb") as f:
                f.write(data)

        self.made += 1
        self._replace(target, create)
        if executable:
            # O_CREAT's mode is filtered by the umask; scripts must run regardless.
            os.chmod(target, 0o755)

    def _replace(self, target: str, create: Callable[[], None]) -> None:
        # Another wheel installed in parallel may write the same path (namespace packages'
        # shared files): remove what is there and retry a few times.
        for _ in range(8):
            try:
                create()
                return
            except FileExistsError:
                self._remove(target)
        create()

    def _remove(self, target: str) -> None:
        try:
            os.unlink(target)
        except FileNotFoundError:
            pass
        except (IsADirectoryError, PermissionError) as exc:
            if not os.path.isdir(target):
                raise
            raise InstallError(
                f"`{self._label}` wants to install the file `{target}`, but it is a folder",
                hint="remove the folder, or the package that owns it, and retry",
            ) from exc

    def _prepare(self, root: str, parent: str) -> None:
        """Create ``parent`` and the folders above it up to ``root``, refusing to pass a
        symbolic link that leads outside ``root``.

        Each folder is looked at once (an `lstat`, a `mkdir` when missing): a folder this
        wheel created is no link, so only links that were already there cost a `realpath`.
        Checked before mkdir: mkdir through a symlink would already create outside.
        """
        root = root.rstrip(os.sep) or os.sep
        missing: list[str] = []
        folder = parent
        while folder not in self._ready and folder != root:
            missing.append(folder)
            up = os.path.dirname(folder)
            if up == folder:
                break
            folder = up
        if folder == root and root not in self._ready:
            os.makedirs(root, exist_ok=True)  # a scheme folder may not exist yet (headers)
            self._check_link(root, root)
        self.made += len(missing)
        for folder in reversed(missing):
            try:
                os.mkdir(folder)
            except FileExistsError:
                if not os.path.isdir(folder):
                    raise
                self._check_link(root, folder)
            except FileNotFoundError:
                # An upper folder went away under a parallel uninstall: the slow way.
                os.makedirs(folder, exist_ok=True)
        with self._lock:
            self._ready.add(root)
            self._ready.update(missing)

    def _check_link(self, root: str, folder: str) -> None:
        if not os.path.islink(folder) and folder != root:
            return
        real_root = self._real_roots.get(root)
        if real_root is None:
            real_root = os.path.realpath(root)
            self._real_roots[root] = real_root
        if folder == root:
            return
        real = os.path.realpath(folder)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise InstallError(
                f"`{self._label}` would write into `{folder}` through a symbolic link that "
                f"points outside `{root}` (to `{real}`)",
                hint="remove the link, or install into an environment without it",
            )


def _copy(source: str, target: str) -> None:
    # O_EXCL, not shutil.copyfile: opening an existing target would write into its inode,
    # which may be a hard link into the cache.
    import shutil  # copies only: hard links, the usual case, need none of it

    mode = os.stat(source).st_mode & 0o777
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
