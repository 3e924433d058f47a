"""requirements.txt and constraints files, as pip and uv read them.

Supported: one requirement per line, comments, ``\\`` continuations, ``${VAR}`` expansion,
nested ``-r`` / ``-c`` (relative to the including file), ``-i/--index-url``,
``--extra-index-url``, ``-f/--find-links``, ``--no-index``, ``--hash`` (recorded), paths or
URLs of wheels, and project folders, sdist files and git URLs (``-e`` for editable ones).
Anything else is an error that names the file and line.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from kiln.core.errors import KilnError, NotFoundError, undecodable_error
from kiln.core.records import field, record

_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_OPTION_ARG = {
    "-r": "requirement", "--requirement": "requirement",
    "-c": "constraint", "--constraint": "constraint",
    "-i": "index_url", "--index-url": "index_url",
    "--extra-index-url": "extra_index_url",
    "-f": "find_links", "--find-links": "find_links",
}  # fmt: skip


class RequirementsFileError(KilnError):
    """A requirements file has a line kiln cannot read."""


@record
class LocalRequirement:
    """A project folder, an sdist file or a git URL given without a name (`./lib`,
    `-e ../lib`, `git+https://…@v1`): its name comes from its metadata."""

    text: str
    editable: bool
    base: Path  # what a relative path is relative to: the file's folder, or the cwd
    where: str  # for messages: `file:line` or `the command line`


def is_local_location(text: str) -> bool:
    """Whether ``text`` names a place (a folder, an sdist file, a git URL) rather than a
    requirement; wheels are requirements already (named by their file name)."""
    if text.endswith(".whl"):
        return False
    if text in (".", "..") or text.startswith(("./", "../", "/", "~", "git+", "file://")):
        return True
    return text.endswith((".tar.gz", ".zip")) and " @ " not in text and Path(text).exists()


@record(frozen=False)
class RequirementsFile:
    """Everything a requirements file says, its includes read."""

    locations: list[LocalRequirement] = field(default_factory=list)
    requirements: list[Requirement] = field(default_factory=list)
    constraints: list[Requirement] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False
    hashes: dict[str, list[str]] = field(default_factory=dict)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not buffer:
            start = number
        line = raw
        if line.lstrip().startswith("#"):
            line = ""
        elif " #" in line or "\t#" in line:
            line = re.split(r"\s+#", line, maxsplit=1)[0]
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            lines.append(
                (
                    start,
                    _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), m.group(0)), buffer.strip()),
                )
            )
        buffer = ""
    if buffer.strip():
        lines.append((start, buffer.strip()))
    return lines


def parse_requirement_text(text: str, where: str) -> Requirement:
    """One requirement: PEP 508, or a path/URL to a wheel (named from its filename)."""
    candidate = text.strip()
    if candidate.endswith(".whl") and " @ " not in candidate:
        from packaging.utils import parse_wheel_filename

        if "://" in candidate:
            url = candidate
        else:
            path = Path(candidate).expanduser()
            if not path.exists():
                raise NotFoundError(f"wheel `{candidate}` does not exist", causes=[where])
            url = path.resolve().as_uri()
        name = parse_wheel_filename(url.rsplit("/", 1)[-1])[0]
        return Requirement(f"{name} @ {url}")
    try:
        return Requirement(candidate)
    except InvalidRequirement as exc:
        raise RequirementsFileError(
            f"`{candidate}` is not a valid requirement",
            causes=[where, str(exc)],
            hint="write it as PEP 508 describes, e.g. `name>=1.0` or `name @ https://…/file.whl`",
        ) from None


def read_requirements(
    path: Path,
    *,
    into: RequirementsFile | None = None,
    constraint: bool = False,
    _seen: frozenset[Path] = frozenset(),
) -> RequirementsFile:
    result = into if into is not None else RequirementsFile()
    resolved = path.resolve()
    if resolved in _seen:
        return result
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(
            f"requirements file `{path}` does not exist", hint="check the path given to `-r` / `-c`"
        ) from None
    except UnicodeDecodeError as exc:
        raise undecodable_error(exc, path) from None
    for number, line in _logical_lines(text):
        where = f"{path}:{number}"
        if line.startswith("-"):
            _apply_option(line, where, path, result, constraint, _seen | {resolved})
            continue
        requirement_text, _, option_text = line.partition(" --")
        if is_local_location(requirement_text.strip()) and not constraint:
            result.locations.append(
                LocalRequirement(requirement_text.strip(), False, path.parent, where)
            )
            continue
        requirement = parse_requirement_text(requirement_text, where)
        if option_text:
            for token in _split("--" + option_text, where):
                if token.startswith("--hash="):
                    result.hashes.setdefault(requirement.name, []).append(token.split("=", 1)[1])
        (result.constraints if constraint else result.requirements).append(requirement)
    return result


def _split(line: str, where: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:  # an unclosed quote or a trailing escape
        raise RequirementsFileError(
            f"a line of a requirements file cannot be read: {exc}",
            causes=[f"{where}: {line}"],
            hint="close the quote, or remove the line",
        ) from None


def _apply_option(
    line: str,
    where: str,
    path: Path,
    result: RequirementsFile,
    constraint: bool,
    seen: frozenset[Path],
) -> None:
    tokens = _split(line, where)
    option, rest = tokens[0], tokens[1:]
    if "=" in option and option.startswith("--"):
        option, value = option.split("=", 1)
        rest = [value, *rest]
    if option == "--no-index":
        result.no_index = True
        return
    if option in ("-e", "--editable"):
        if not rest:
            raise RequirementsFileError(
                "`-e` needs a project folder", causes=[f"{where}: {line}"], hint="write `-e ./lib`"
            )
        result.locations.append(LocalRequirement(rest[0], True, path.parent, where))
        return
    kind = _OPTION_ARG.get(option)
    if kind is None or not rest:
        raise RequirementsFileError(
            f"unsupported option `{option}` in a requirements file",
            causes=[f"{where}: {line}"],
            hint="remove the line, or pass the option on the command line",
        )
    value = rest[0]
    if kind in ("requirement", "constraint"):
        nested = (path.parent / value) if not Path(value).is_absolute() else Path(value)
        read_requirements(
            nested, into=result, constraint=constraint or kind == "constraint", _seen=seen
        )
    elif kind == "index_url":
        result.index_url = value
    elif kind == "extra_index_url":
        result.extra_index_urls.append(value)
    else:
        result.find_links.append(value if "://" in value else str((path.parent / value).resolve()))
