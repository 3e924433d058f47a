"""PEP 723 inline script metadata: the `# /// script` block at the top of a `.py` file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from kiln.core.errors import KilnError
from kiln.core.records import record

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

# The reference regular expression from PEP 723.
_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")


@record
class ScriptMetadata:
    """A script's inline metadata (PEP 723)."""

    dependencies: tuple[Requirement, ...]
    requires_python: SpecifierSet | None


def read_script_metadata(path: Path) -> ScriptMetadata | None:
    """The script's metadata, or None when it has no `script` block."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    blocks = [m for m in _BLOCK.finditer(text) if m.group("type") == "script"]
    if not blocks:
        return None
    if len(blocks) > 1:
        raise KilnError(f"`{path}` has more than one `# /// script` block", hint="keep one")
    content = "".join(
        line[2:] if line.startswith("# ") else line[1:]
        for line in blocks[0].group("content").splitlines(keepends=True)
    )
    try:
        data = tomllib.loads(content)
        listed = data.get("dependencies", [])
        if not isinstance(listed, list) or not all(isinstance(d, str) for d in listed):
            raise InvalidRequirement("`dependencies` must be a list of requirement strings")
        deps = tuple(Requirement(d) for d in listed)
        spec = data.get("requires-python")
        if spec is not None and not isinstance(spec, str):
            raise InvalidSpecifier('`requires-python` must be a string, e.g. ">=3.11"')
        requires_python = SpecifierSet(spec) if spec else None
    except (tomllib.TOMLDecodeError, InvalidRequirement, InvalidSpecifier) as exc:
        raise KilnError(
            f"the inline metadata of `{path}` is not valid",
            causes=[str(exc)],
            hint="see PEP 723 for the `# /// script` block's format",
        ) from None
    return ScriptMetadata(deps, requires_python)
