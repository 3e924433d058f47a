"""Each AMD GPU's gfx target (`gfx90a`), which is what ROCm wheels are compiled for.

Order: `KILN_AMD_GPU_ARCHITECTURE`, then the KFD topology in sysfs, which needs only the
amdgpu kernel driver, then `rocm_agent_enumerator` (uv's source), which needs the ROCm
userspace. Linux only: PyTorch publishes no ROCm wheels elsewhere.
"""

from __future__ import annotations

import re

from kiln.accel.errors import AcceleratorSettingError
from kiln.accel.probe import Probe

GFX_ENV = "KILN_AMD_GPU_ARCHITECTURE"

KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"
_GFX = re.compile(r"gfx[0-9][0-9a-f]{2,4}")
_TARGET_VERSION = re.compile(r"^gfx_target_version\s+(\d+)\s*$", re.M)


def gfx_from_env(probe: Probe) -> tuple[str, ...] | None:
    raw = probe.env(GFX_ENV)
    if raw is None or not raw.strip():
        return None
    names = tuple(part.strip().lower() for part in raw.split(","))
    if not all(_GFX.fullmatch(name) for name in names):
        raise AcceleratorSettingError(
            GFX_ENV, raw, "gfx targets, comma-separated (`gfx90a` or `gfx90a,gfx1100`)"
        )
    return names


def detect_gfx(probe: Probe) -> tuple[str, ...]:
    """One gfx target per GPU, or () without an AMD GPU."""
    found = _from_kfd(probe)
    if found:
        return found
    out = probe.run(["rocm_agent_enumerator"])
    agents = [line.strip().lower() for line in (out or "").splitlines()]
    # gfx000 is the CPU agent.
    return tuple(name for name in agents if _GFX.fullmatch(name) and name != "gfx000")


def gfx_from_target_version(value: int) -> str | None:
    """KFD's decimal `gfx_target_version` as a gfx name: 90010 -> gfx90a, 110000 -> gfx1100."""
    major, minor, stepping = value // 10000, (value // 100) % 100, value % 100
    if major == 0 or minor > 15 or stepping > 15:
        return None
    return f"gfx{major}{minor:x}{stepping:x}"


def _from_kfd(probe: Probe) -> tuple[str, ...]:
    found = []
    nodes = probe.list_dir(KFD_NODES)
    for node in sorted(nodes, key=lambda name: int(name) if name.isdigit() else -1):
        text = probe.read_text(f"{KFD_NODES}/{node}/properties")
        match = _TARGET_VERSION.search(text or "")
        # CPU nodes report 0.
        name = gfx_from_target_version(int(match.group(1))) if match else None
        if name is not None:
            found.append(name)
    return tuple(found)
