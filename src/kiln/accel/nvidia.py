"""The NVIDIA driver version and each GPU's compute capability, read without torch.

Driver, in uv's order: `KILN_CUDA_DRIVER_VERSION`, `/sys/module/nvidia/version`,
`/proc/driver/nvidia/version`, `nvidia-smi`. Compute capability: `KILN_GPU_COMPUTE_CAPABILITY`,
then `nvidia-smi --query-gpu=compute_cap,name`; R470 drivers reject that field, so then the
GPU names go through the name table, and NVML answers for names the table does not know.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

from kiln.accel import tables
from kiln.accel.errors import AcceleratorSettingError
from kiln.accel.probe import Probe
from kiln.core.records import record

DRIVER_ENV = "KILN_CUDA_DRIVER_VERSION"
CC_ENV = "KILN_GPU_COMPUTE_CAPABILITY"

_SMI = "nvidia-smi"
_PROC_VERSION = re.compile(r"\s(\d+\.\d+(?:\.\d+)?)\s")


@record
class NvidiaGpus:
    """The NVIDIA GPUs found: their compute capabilities and names."""

    compute_capabilities: tuple[tuple[int, int], ...]  # one per GPU whose capability is known
    names: tuple[str, ...]


def driver_from_env(probe: Probe) -> Version | None:
    raw = probe.env(DRIVER_ENV)
    if raw is None or not raw.strip():
        return None
    version = _driver(raw)
    if version is None:
        raise AcceleratorSettingError(DRIVER_ENV, raw, "a driver version such as 550.144.03")
    return version


def detect_driver(probe: Probe, system: str) -> Version | None:
    """The driver version from the machine (not the environment), or None without one."""
    if system == "linux":
        text = probe.read_text("/sys/module/nvidia/version")
        version = _driver(text) if text else None
        if version is not None:
            return version
        text = probe.read_text("/proc/driver/nvidia/version")
        version = parse_proc_driver_version(text) if text else None
        if version is not None:
            return version
    out = probe.run([_SMI, "--query-gpu=driver_version", "--format=csv,noheader"])
    lines = _lines(out)
    return _driver(lines[0]) if lines else None


def parse_proc_driver_version(text: str) -> Version | None:
    # "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.144.03  Release Build ..."
    first = text.splitlines()[0] if text else ""
    match = _PROC_VERSION.search(first)
    return _driver(match.group(1)) if match else None


def compute_capabilities_from_env(probe: Probe) -> tuple[tuple[int, int], ...] | None:
    raw = probe.env(CC_ENV)
    if raw is None or not raw.strip():
        return None
    try:
        return tuple(tables.parse_cc(part) for part in raw.split(","))
    except ValueError:
        raise AcceleratorSettingError(
            CC_ENV, raw, "MAJOR.MINOR per GPU, comma-separated (`8.6` or `6.1,8.6`)"
        ) from None


def detect_gpus(probe: Probe, system: str) -> NvidiaGpus:
    """Each GPU's compute capability and name; empty when nothing answers."""
    out = probe.run([_SMI, "--query-gpu=compute_cap,name", "--format=csv,noheader"])
    parsed = _parse_cc_and_names(_lines(out))
    if parsed is not None:
        return parsed
    names = tuple(_lines(probe.run([_SMI, "--query-gpu=name", "--format=csv,noheader"])))
    known = [tables.gpu_name_cc(name) for name in names]
    if names and all(cc is not None for cc in known):
        return NvidiaGpus(tuple(cc.value for cc in known if cc is not None), names)
    nvml = probe.nvml_gpus(system)
    if nvml:
        return NvidiaGpus(tuple(gpu.cc for gpu in nvml), tuple(gpu.name for gpu in nvml))
    # Names whose capability is known first, so the two tuples line up index by index.
    pairs = [(cc.value, name) for cc, name in zip(known, names, strict=True) if cc is not None]
    unknown = tuple(name for cc, name in zip(known, names, strict=True) if cc is None)
    return NvidiaGpus(tuple(cc for cc, _ in pairs), (*(name for _, name in pairs), *unknown))


def _parse_cc_and_names(lines: list[str]) -> NvidiaGpus | None:
    # "8.6, NVIDIA GeForce RTX 3090" per GPU; a field the driver rejects fails the whole query.
    ccs, names = [], []
    for line in lines:
        cc_text, _, name = line.partition(",")
        try:
            ccs.append(tables.parse_cc(cc_text))
        except ValueError:
            return None
        names.append(name.strip())
    return NvidiaGpus(tuple(ccs), tuple(names)) if ccs else None


def _lines(out: str | None) -> list[str]:
    return [line.strip() for line in (out or "").splitlines() if line.strip()]


def _driver(text: str) -> Version | None:
    text = text.strip()
    if not re.fullmatch(r"\d+(\.\d+){0,3}", text):
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def driver_text(version: Version) -> str:
    """A driver as NVIDIA writes it: `470.82.01`, not packaging's `470.82.1`."""
    first, *rest = version.release
    return ".".join([str(first), *(f"{part:02d}" for part in rest)])
