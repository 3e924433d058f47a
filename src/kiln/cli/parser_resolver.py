"""The resolver's options, as uv spells them: pre-releases, the resolution strategy, binary
and build choices, and (for the pip verbs) the target Python and platform."""

from __future__ import annotations

import argparse

_PRERELEASE = ["disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"]
_RESOLUTION = ["highest", "lowest", "lowest-direct"]


def add_resolver_options(parser: argparse.ArgumentParser, *, pip: bool) -> None:
    """``pip``: the pip verbs, which also take `--no-binary PKG|:all:`, `--only-binary` and
    `--no-binary-package`. A lock is installed by `kiln sync`, which builds from source only
    where no wheel fits, so the project verbs do not offer to refuse wheels."""
    group = parser.add_argument_group("resolver options")
    group.add_argument(
        "--prerelease",
        choices=_PRERELEASE,
        default=None,
        help="when pre-releases are chosen (KILN_PRERELEASE; default: if-necessary-or-explicit)",
    )
    group.add_argument(
        "--resolution",
        choices=_RESOLUTION,
        default=None,
        help="prefer the newest versions, the lowest, or the lowest of direct requirements "
        "(KILN_RESOLUTION; default: highest)",
    )
    group.add_argument(
        "--no-build",
        action="store_true",
        help="never build a source distribution (KILN_NO_BUILD)",
    )
    group.add_argument(
        "--no-build-package",
        action="append",
        default=[],
        metavar="PKG",
        help="never build this package from source (KILN_NO_BUILD_PACKAGE)",
    )
    if not pip:
        return
    group.add_argument(
        "--no-binary",
        action="append",
        default=[],
        metavar="PKG|:all:|:none:",
        help="build these packages from source, never from a wheel (KILN_NO_BINARY: all)",
    )
    group.add_argument(
        "--only-binary",
        action="append",
        default=[],
        metavar="PKG|:all:|:none:",
        help="install these packages only from wheels, never built from source",
    )
    group.add_argument(
        "--no-binary-package",
        action="append",
        default=[],
        metavar="PKG",
        help="build this package from source, never from a wheel (KILN_NO_BINARY_PACKAGE)",
    )


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """`--python-platform` for the pip verbs that resolve (`--python-version` is added by
    each, with its own words)."""
    parser.add_argument(
        "--python-platform",
        metavar="PLATFORM",
        default=None,
        help="resolve for this platform, not this machine's: `linux`, `macos`, `windows`, "
        "`x86_64-manylinux_2_28`, `aarch64-apple-darwin`, `x86_64-pc-windows-msvc`, …",
    )
