"""Console scripts: entry points turned into launchers, and ``#!python`` shebangs rewritten."""

from __future__ import annotations

import os
import re
from pathlib import Path

from kiln.core.errors import InstallError
from kiln.core.records import record

_ENTRY_POINT = re.compile(
    r"^(?P<module>[\w.]+)\s*(?::\s*(?P<attr>[\w.]+))?\s*(?P<extras>\[[^\]]*\])?\s*$"
)
# Linux allows 127 bytes after "#!" on older kernels; longer lines are cut silently.
_MAX_SHEBANG = 127


@record
class EntryPoint:
    """One console or GUI script a wheel declares."""

    name: str
    module: str
    attr: str
    gui: bool


def parse_entry_points(text: str, origin: str) -> list[EntryPoint]:
    """The ``console_scripts`` and ``gui_scripts`` of an ``entry_points.txt``."""
    import configparser  # only a wheel with entry points needs it: 2 ms of imports

    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # names are case-sensitive
    try:
        parser.read_string(text, source=origin)
    except configparser.Error as exc:
        raise InstallError(
            f"`{origin}` cannot be parsed",
            causes=[str(exc).splitlines()[0]],
            hint="the wheel is malformed; report this to the package's maintainers",
        ) from exc
    found: list[EntryPoint] = []
    for section, gui in (("console_scripts", False), ("gui_scripts", True)):
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            match = _ENTRY_POINT.match(value.strip())
            if match is None or not match["attr"]:
                raise InstallError(
                    f"the script `{name}` in `{origin}` has an invalid entry point `{value}`",
                    hint="an entry point must look like `module:function`; report this to the "
                    "package's maintainers",
                )
            found.append(EntryPoint(name.strip(), match["module"], match["attr"], gui))
    return found


def shebang(python: Path) -> bytes:
    """The first line(s) that make a script run with ``python``.

    A path with spaces, or too long for the kernel, cannot go on a ``#!`` line: then the
    script starts as a shell script that re-executes itself with Python, a form that is
    also a valid Python string literal (the trick pip and installer use).
    """
    executable = os.path.abspath(python)  # never resolved: a venv's python is a symlink
    encoded = executable.encode("utf-8")
    if b" " not in encoded and len(encoded) + 2 <= _MAX_SHEBANG:
        return b"#!" + encoded + b"\n"
    import shlex  # the rare long or spaced path only

    quoted = shlex.quote(executable).encode("utf-8")
    return b"#!/bin/sh\n'''exec' " + quoted + b' "$0" "$@"\n' + b"' '''\n"


def launcher(entry: EntryPoint, python: Path) -> bytes:
    import_name = entry.attr.split(".", 1)[0]
    body = (
        "# -*- coding: utf-8 -*-\n"
        "import re\n"
        "import sys\n"
        f"from {entry.module} import {import_name}\n"
        'if __name__ == "__main__":\n'
        '    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])\n'
        f"    sys.exit({entry.attr}())\n"
    )
    return shebang(python) + body.encode("utf-8")


def rewrite_shebang(script: bytes, python: Path) -> bytes | None:
    """``script`` with its ``#!python`` line pointing at ``python``; None when it has none."""
    if not script.startswith(b"#!python"):
        return None
    newline = script.find(b"\n")
    rest = b"" if newline < 0 else script[newline + 1 :]
    return shebang(python) + rest
