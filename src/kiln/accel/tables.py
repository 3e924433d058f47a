"""The accelerator tables under `data/`, read once and looked up by name.

The numbers live in JSON, not code, so a new torch release or driver floor is a data edit.
Every value keeps the status the facts gave it (`verified-from-source` or `inferred`) and its
source, so a report or the docs can say how sure kiln is of each rule it applied.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any, Generic, Literal, TypeVar

from packaging.version import Version

from kiln.core.records import record

T = TypeVar("T")

ArchPlatform = Literal["linux_x86_64", "linux_aarch64", "windows"]


@record
class Sourced(Generic[T]):
    """A fact of the accelerator tables with where it came from and how sure it is."""

    value: T
    status: str  # "verified-from-source" | "inferred"
    source: str

    @property
    def verified(self) -> bool:
        return self.status == "verified-from-source"


@record
class GpuPattern:
    """A GPU name pattern and the compute capability it means."""

    regex: re.Pattern[str]
    cc: tuple[int, int]
    status: str
    source: str


@functools.cache
def _load(name: str) -> Any:
    text = (resources.files("kiln.accel") / "data" / name).read_text(encoding="utf-8")
    return json.loads(text)


def _variants() -> dict[str, Any]:
    data: dict[str, Any] = _load("variants.json")
    return data


def _releases() -> dict[str, Any]:
    data: dict[str, Any] = _load("releases.json")["releases"]
    return data


def parse_cc(text: str) -> tuple[int, int]:
    """`"8.6"` -> `(8, 6)`; raises ValueError on anything else."""
    major, sep, minor = text.strip().partition(".")
    if not sep or not major.isdigit() or not minor.isdigit():
        raise ValueError(f"not a compute capability: {text!r}")
    return int(major), int(minor)


def cuda_names() -> tuple[str, ...]:
    return tuple(_variants()["cuda"])


def rocm_names() -> tuple[str, ...]:
    return tuple(_variants()["rocm"])


def cuda_min_driver(name: str, system: str) -> Sourced[Version] | None:
    """The oldest driver that runs `name` on `system` ("linux" or "windows")."""
    return _driver(name, system, "min_driver")


def cuda_ga_driver(name: str, system: str) -> Sourced[Version] | None:
    """The driver shipped with that toolkit: the one that can JIT its PTX."""
    return _driver(name, system, "ga_driver")


def _driver(name: str, system: str, field: str) -> Sourced[Version] | None:
    entry = _variants()["cuda"].get(name, {}).get(field)
    if entry is None or system not in entry:
        return None
    return Sourced(Version(entry[system]), entry["status"], entry["source"])


def rocm_gfx(name: str) -> Sourced[tuple[str, ...]] | None:
    """The gfx targets the `name` index serves, across the releases it carries."""
    entry = _variants()["rocm"].get(name, {}).get("gfx")
    if entry is None:
        return None
    return Sourced(tuple(entry["value"]), entry["status"], entry["source"])


def gfx_label(gfx: str) -> str | None:
    """A product name for a gfx target ("gfx90a" -> "MI200 ..."), for humans only."""
    label: str | None = _variants()["gfx_names"]["value"].get(gfx)
    return label


def release_key(torch_version: Version) -> str:
    return f"{torch_version.major}.{torch_version.minor}"


def release_variants(torch_version: Version) -> tuple[str, ...] | None:
    """The index variants that torch release was published for (cpu included), or None when
    the tables do not know the release."""
    release = _releases().get(release_key(torch_version))
    if release is None:
        return None
    xpu = ("xpu",) if release.get("xpu") else ()
    return ("cpu", *release["cuda_variants"], *release["rocm_variants"], *xpu)


def release_cuda_archs(
    torch_version: Version, name: str, platform: ArchPlatform
) -> Sourced[tuple[str, ...]] | None:
    """TORCH_CUDA_ARCH_LIST of that release's `name` wheel, or None when the tables lack it."""
    release = _releases().get(release_key(torch_version))
    entry = None if release is None else release["cuda_arch"].get(name, {}).get(platform)
    if entry is None:
        return None
    return Sourced(tuple(entry["value"]), entry["status"], entry["source"])


def release_rocm_gfx(torch_version: Version, name: str) -> Sourced[tuple[str, ...]] | None:
    """PYTORCH_ROCM_ARCH of that release's `name` wheel, or None when the tables lack it."""
    release = _releases().get(release_key(torch_version))
    entry = None if release is None else release["rocm_gfx"].get(name)
    if entry is None:
        return None
    return Sourced(tuple(entry["value"]), entry["status"], entry["source"])


@functools.cache
def _gpu_patterns() -> tuple[GpuPattern, ...]:
    out = []
    for entry in _load("gpu_names.json")["gpus"]:
        # Whole words only: "A10" must not match "A100", nor "L4" match "L40".
        regex = re.compile(rf"(?<![A-Za-z0-9])(?:{entry['pattern']})(?![A-Za-z0-9])", re.I)
        out.append(GpuPattern(regex, parse_cc(entry["cc"]), entry["status"], entry["source"]))
    return tuple(out)


def gpu_name_cc(name: str) -> Sourced[tuple[int, int]] | None:
    """The compute capability of a GPU known by product name, or None."""
    for pattern in _gpu_patterns():
        if pattern.regex.search(name):
            return Sourced(pattern.cc, pattern.status, pattern.source)
    return None
