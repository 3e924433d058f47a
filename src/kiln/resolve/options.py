"""How the resolver chooses among versions and files: uv's `--prerelease`, `--resolution`
and binary/build options, as one frozen value made at the command's edge.

Pre-releases (``--prerelease``):

- ``allow``: every pre-release counts, ranked by version with the final releases;
- ``disallow``: none does, even where a specifier names one;
- ``explicit``: final releases first; pre-releases of a project only where one of the
  user's own requirements or constraints names a pre-release of it;
- ``if-necessary`` and ``if-necessary-or-explicit`` (uv's default): final releases first,
  then the pre-releases in range, so a pre-release is chosen only where every final release
  in range is ruled out (none exists, the specifiers leave none, or the rest of the graph
  rejects each, also after backtracking). uv now keeps a final release first even for a
  specifier that names a pre-release, so the two modes choose alike.

So ``a>=1.0b1`` takes ``1.0`` when it exists and ``1.0b2`` only when it does not.
Resolution (``--resolution``): ``highest`` tries the newest version first, ``lowest`` the
oldest, ``lowest-direct`` the oldest for the user's own requirements and the newest for the
rest; pre-releases keep their place after the final releases in every one.
"""

from __future__ import annotations

from typing import Literal

from packaging.utils import NormalizedName

from kiln.core.records import field, record

PrereleaseMode = Literal[
    "disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"
]
PRERELEASE_MODES: tuple[PrereleaseMode, ...] = (
    "disallow",
    "allow",
    "if-necessary",
    "explicit",
    "if-necessary-or-explicit",
)
ResolutionMode = Literal["highest", "lowest", "lowest-direct"]
RESOLUTION_MODES: tuple[ResolutionMode, ...] = ("highest", "lowest", "lowest-direct")


@record
class PackageSet:
    """Every package (``:all:``) or the packages named; where each came from, for messages."""

    every: bool = False
    names: frozenset[NormalizedName] = frozenset()
    # The option that set it, as the user wrote it (`--no-binary`, `tool.uv.no-build`, ...).
    origin: str = ""

    def __contains__(self, name: object) -> bool:
        return self.every or name in self.names

    def __bool__(self) -> bool:
        return self.every or bool(self.names)


@record
class BuildChoices:
    """Which packages may use wheels and which may be built from source."""

    # Packages installed from their sdist even where a wheel fits (`--no-binary`).
    no_binary: PackageSet = field(default_factory=PackageSet)
    # Packages never built from source (`--no-build`, `--only-binary`).
    no_build: PackageSet = field(default_factory=PackageSet)

    def wheels_allowed(self, name: NormalizedName) -> bool:
        return name not in self.no_binary

    def builds_allowed(self, name: NormalizedName) -> bool:
        return name not in self.no_build


@record
class ResolverOptions:
    """The choices that change what the resolver picks."""

    prerelease: PrereleaseMode = "if-necessary-or-explicit"
    resolution: ResolutionMode = "highest"
    builds: BuildChoices = field(default_factory=BuildChoices)
    # For `lowest-direct`: the projects that count as direct. None: those the user's own
    # requirements name where they apply in the region solved (a lock's rule); a universal
    # `pip compile` names those whose markers hold on the interpreter it runs with, as uv.
    direct: frozenset[NormalizedName] | None = None

    def fingerprint(self) -> dict[str, object]:
        """What a lock made with these options depends on."""
        out: dict[str, object] = {}
        if self.prerelease != "if-necessary-or-explicit":
            out["prerelease"] = self.prerelease
        if self.resolution != "highest":
            out["resolution"] = self.resolution
        for key, chosen in (
            ("no-binary", self.builds.no_binary),
            ("no-build", self.builds.no_build),
        ):
            if chosen:
                out[key] = ":all:" if chosen.every else sorted(chosen.names)
        return out


DEFAULT_OPTIONS = ResolverOptions()
