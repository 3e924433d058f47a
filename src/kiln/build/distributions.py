"""`kiln build`: a project's sdist and wheel, written to an output folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kiln.build.builder import Frontend
from kiln.core.build import BuildError, BuildRequest


def build_distributions(
    source: Path,
    out_dir: Path,
    *,
    sdist: bool,
    wheel: bool,
    frontend: Frontend,
    python: Path,
    isolation: bool = True,
    extra_build_requirements: tuple[str, ...] = (),
    config_settings: Mapping[str, str] | None = None,
) -> list[Path]:
    """Build what is asked into ``out_dir``; the files made, sdist first.

    Neither flag means both, as `uv build` without `--sdist` or `--wheel`. With both, the
    wheel is built from the new sdist rather than from the folder, so a file the sdist
    forgets to include breaks the build here and not on a user's machine. ``source`` may
    itself be an sdist, of which only a wheel can be built.
    """
    if not sdist and not wheel:
        sdist = wheel = True

    def request(path: Path) -> BuildRequest:
        return BuildRequest(
            source=path,
            python=python,
            isolation=isolation,
            extra_build_requirements=extra_build_requirements,
            config_settings=config_settings or {},
        )

    made: list[Path] = []
    wheel_source = source
    if sdist:
        if request(source).is_sdist:
            raise BuildError(
                f"cannot build a source distribution from `{source}`",
                causes=["it is a source distribution already"],
                hint="pass `--wheel` to build a wheel from it",
            )
        built_sdist = frontend.build_to(request(source), "sdist", out_dir)
        made.append(built_sdist)
        wheel_source = built_sdist
    if wheel:
        made.append(frontend.build_to(request(wheel_source), "wheel", out_dir))
    return made
