"""The environment a `kiln pip` command acts on, and the one it resolves for."""

from __future__ import annotations

from pathlib import Path

from kiln.commands.context import CommandContext
from kiln.core.environment import Environment
from kiln.python.discovery import find_target_environment
from kiln.python.interpreter import Interpreter
from kiln.settings.global_settings import env_value
from kiln.settings.resolver_settings import TargetPython
from kiln.settings.target_platforms import TargetPlatform


def target_interpreter(ctx: CommandContext, python: str | None, system: bool) -> Interpreter:
    import os

    python = python or env_value(os.environ, "KILN_PYTHON")
    system = system or os.environ.get("KILN_SYSTEM_PYTHON", "").lower() in ("1", "true")
    return find_target_environment(python, system=system, cwd=Path.cwd(), cache=ctx.cache)


def target_environment(
    base: Environment, python: TargetPython | None, platform: TargetPlatform | None
) -> Environment:
    """The environment resolved for: ``base`` (the interpreter's), with `--python-version`
    and `--python-platform` in place of its own Python and platform, as uv resolves.

    Markers take the target's values and wheels are judged by the target's tags, so a
    `--python-version 3.11` resolution on a 3.9 interpreter accepts cp311 wheels and
    `Requires-Python: >=3.10`. Where neither is given, ``base`` is returned as it is.
    """
    if python is None and platform is None:
        return base
    from packaging import tags as ptags

    markers = dict(base.markers)
    if platform is not None:
        markers.update(platform.markers)
        plats = list(platform.platform_tags)
    else:
        plats = list(dict.fromkeys(t.platform for t in base.tags if t.platform != "any"))
    if python is not None:
        markers["python_version"] = f"3.{python.minor}"
        markers["python_full_version"] = python.full_version
        if markers.get("implementation_name") == "cpython":
            markers["implementation_version"] = python.full_version
        version = python.version
    else:
        major, minor = base.python_version.split(".")[:2]
        version = (int(major), int(minor))
    if markers.get("implementation_name", "cpython") == "cpython":
        interpreter = f"cp{version[0]}{version[1]}"
        found = [
            *ptags.cpython_tags(version, [interpreter], plats),
            *ptags.compatible_tags(version, interpreter, plats),
        ]
    else:
        found = list(ptags.compatible_tags(version, None, plats))
    return Environment(markers, tuple(dict.fromkeys(found)))
