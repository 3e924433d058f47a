"""`--hash` in requirements files, `--require-hashes` and `--no-verify-hashes`, as uv reads them.

By default (uv's `--verify-hashes`) every requirement that lists hashes must resolve to a
file with one of them; with `--require-hashes` every requirement, dependencies included,
must list them and be pinned with `==` (or be a direct URL). A file is held to a hash the user
gave by making that hash the one its download is checked against, so a listed hash is never
only compared with what the index claims.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.dist import Candidate
from kiln.core.errors import HashMismatchError, UsageError
from kiln.core.hashes import Hashes
from kiln.core.records import record, replace

_STRENGTH = ("sha512", "sha384", "sha256", "sha224", "sha1", "md5")


@record
class HashPolicy:
    """Whether hashes must be given, and whether given ones are checked."""

    require: bool = False  # --require-hashes (KILN_REQUIRE_HASHES, UV_REQUIRE_HASHES)
    verify: bool = True  # off with --no-verify-hashes (KILN_NO_VERIFY_HASHES, ...)


def user_hashes(raw: Mapping[str, Sequence[str]]) -> dict[NormalizedName, set[tuple[str, str]]]:
    """``--hash=algo:digest`` options per project, as (algo, lower-case digest)."""
    out: dict[NormalizedName, set[tuple[str, str]]] = {}
    for name, values in raw.items():
        for value in values:
            algo, sep, digest = value.replace("=", ":", 1).partition(":")
            if not sep or algo.lower() not in _STRENGTH or not digest:
                raise UsageError(
                    f"`--hash={value}` of `{name}` is not a hash kiln can check",
                    hint="write it as `--hash=sha256:<hex digest>`",
                )
            out.setdefault(canonicalize_name(name), set()).add((algo.lower(), digest.lower()))
    return out


def check_pins(requirements: Sequence[Requirement], policy: HashPolicy) -> None:
    """With `--require-hashes`, every requirement names one version or one file."""
    if not policy.require:
        return
    for req in requirements:
        specs = list(req.specifier)
        pinned = len(specs) == 1 and specs[0].operator in ("==", "===")
        if req.url is None and not (pinned and not specs[0].version.endswith(".*")):
            raise UsageError(
                f"`{req}` is not pinned to one version, which `--require-hashes` needs",
                hint=f"pin it, e.g. `{req.name}==<version> --hash=sha256:…`",
            )


def hold_to_hashes(
    candidates: Sequence[Candidate],
    hashes: Mapping[NormalizedName, set[tuple[str, str]]],
    policy: HashPolicy,
) -> list[Candidate]:
    """``candidates`` with each file's expected hash taken from the user's list."""
    if not policy.verify and not policy.require:
        return list(candidates)
    out: list[Candidate] = []
    for candidate in candidates:
        allowed = hashes.get(candidate.name)
        if not allowed:
            if policy.require:
                raise UsageError(
                    f"`{candidate.name}=={candidate.version}` has no `--hash`, which "
                    "`--require-hashes` needs for every package, dependencies included",
                    hint=f"add `{candidate.name}=={candidate.version} --hash=sha256:…` to the "
                    "requirements file, or drop `--require-hashes`",
                )
            out.append(candidate)
            continue
        out.append(_held(candidate, allowed))
    return out


def _held(candidate: Candidate, allowed: set[tuple[str, str]]) -> Candidate:
    file = candidate.file
    listed = {(algo, digest.lower()) for algo, digest in file.hashes.items}
    # The strongest algorithm the user gave decides; the download is checked against it.
    algo = next(a for a in _STRENGTH if any(a == u for u, _ in allowed))
    wanted = sorted(d for a, d in allowed if a == algo)
    index_digest = next((d for a, d in listed if a == algo), None)
    if index_digest is not None and index_digest not in wanted:
        raise HashMismatchError(
            f"hash mismatch for `{file.filename}`",
            causes=(
                f"the requirements file allows {', '.join(f'{algo}:{d}' for d in wanted)}",
                f"the index lists {algo}:{index_digest}",
            ),
            hint="the file is not the one the requirements file was written for; regenerate "
            "the hashes if the change is expected",
        )
    if index_digest is None and len(wanted) > 1:
        raise UsageError(
            f"the index lists no {algo} hash of `{file.filename}`, and the requirements file "
            f"allows {len(wanted)} of them",
            hint=f"list the one {algo} hash of the file this machine installs",
        )
    digest = index_digest or wanted[0]
    # Only the user's hash is kept: the download is checked against it, not the index's word.
    held = replace(file, hashes=Hashes(((algo, digest),)))
    return replace(candidate, file=held)
