"""Requirements given on the command line (`kiln add X`, `kiln run --with X`), read as PEP 508
or refused with a usage error naming what was typed."""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement

from kiln.core.errors import UsageError


def requirement_or_usage_error(text: str, *, option: str | None = None) -> Requirement:
    """``option`` (`--with`): the flag the text came with, named in the error."""
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        shown = f"{option} {text}" if option else text
        raise UsageError(
            f"`{shown}` is not a valid requirement",
            causes=[str(exc)],
            hint="write it as PEP 508 describes, e.g. `torch>=2.5` or `torch[opt]`, or give a "
            "path (`./lib`) or a git URL (`git+https://…`)",
        ) from None
