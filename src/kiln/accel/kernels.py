"""Whether a wheel's compiled CUDA code runs on a GPU of a given compute capability.

A wheel's TORCH_CUDA_ARCH_LIST (`"7.5;8.0;8.6;9.0;10.0;12.0+PTX"`) names the archs it carries
machine code (SASS) for, and `+PTX` marks the one it also carries portable code for. NVIDIA's
rule: SASS for sm_XY runs on GPUs of the same major X with minor >= Y; PTX is compiled by the
driver at load time for any GPU at least that new. The Tegra exceptions (5.3, 6.2, 7.2, 8.7
run only their own code) are ignored: PyTorch publishes no Tegra wheels on its index.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from kiln.accel.tables import parse_cc
from kiln.core.records import record

CC = tuple[int, int]


@record
class ArchList:
    """The GPU architectures a CUDA build carries kernels for: binary (SASS) and PTX."""

    sass: tuple[CC, ...]  # ascending
    ptx: tuple[CC, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> ArchList:
        sass: set[CC] = set()
        ptx: set[CC] = set()
        for entry in entries:
            arch, _, suffix = entry.strip().partition("+")
            cc = parse_cc(arch)
            sass.add(cc)
            if suffix.upper() == "PTX":
                ptx.add(cc)
        return cls(tuple(sorted(sass)), tuple(sorted(ptx)))

    @property
    def forward_ptx(self) -> CC | None:
        """The PTX counted as running on newer GPUs: only that of the newest arch listed.

        Windows lists of the 2.x era carry `3.7+PTX` beside SASS up to 9.0; that old PTX is
        not trusted forward, because the CUDA libraries of those toolkits ship no code for
        much newer GPUs either.
        """
        newest = self.sass[-1] if self.sass else None
        return newest if newest is not None and newest in self.ptx else None

    def words(self) -> str:
        """`"7.5, 8.0, 8.6, 9.0, 10.0, 12.0"`, the way a user reads a capability list."""
        return ", ".join(f"{major}.{minor}" for major, minor in self.sass)


def coverage(archs: ArchList, cc: CC) -> Literal["sass", "ptx"] | None:
    """How a GPU of capability `cc` runs this code: natively, by PTX JIT, or not at all."""
    if any(major == cc[0] and minor <= cc[1] for major, minor in archs.sass):
        return "sass"
    ptx = archs.forward_ptx
    if ptx is not None and ptx <= cc:
        return "ptx"
    return None
