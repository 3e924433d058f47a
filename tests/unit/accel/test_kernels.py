from __future__ import annotations

import pytest

from kiln.accel.kernels import ArchList, coverage

TORCH_27_CU128 = ArchList.parse(["7.5", "8.0", "8.6", "9.0", "10.0", "12.0+PTX"])
TORCH_28_CU126 = ArchList.parse(["5.0", "6.0", "7.0", "7.5", "8.0", "8.6", "9.0"])
WINDOWS_CU118 = ArchList.parse(["3.7+PTX", "5.0", "6.0", "6.1", "7.0", "7.5", "8.0", "8.6", "9.0"])


def test_parse_sorts_and_separates_ptx() -> None:
    archs = ArchList.parse(["5.0", "8.6", "3.7", "9.0+PTX"])
    assert archs.sass == ((3, 7), (5, 0), (8, 6), (9, 0))
    assert archs.ptx == ((9, 0),)
    assert archs.forward_ptx == (9, 0)
    assert archs.words() == "3.7, 5.0, 8.6, 9.0"


@pytest.mark.parametrize(
    ("archs", "cc", "expected"),
    [
        # Same major, equal or higher minor: the SASS runs.
        (TORCH_28_CU126, (6, 1), "sass"),  # GTX 1080 runs sm_60
        (TORCH_28_CU126, (8, 9), "sass"),  # RTX 4090 runs sm_86
        (TORCH_27_CU128, (12, 1), "sass"),  # GB10 runs sm_120
        # No SASS of that major and no PTX: nothing runs.
        (TORCH_28_CU126, (12, 0), None),  # RTX 5090 on a cu126 wheel
        (TORCH_28_CU126, (10, 0), None),
        (TORCH_27_CU128, (7, 0), None),  # V100 after sm_70 was dropped
        (TORCH_27_CU128, (6, 1), None),
        # The newest arch's PTX JITs forward onto newer majors.
        (TORCH_27_CU128, (13, 0), "ptx"),
        # A lower minor of the same major never runs a higher minor's SASS.
        (ArchList.parse(["8.6"]), (8, 0), None),
        # PTX attached to an old arch is not trusted forward.
        (WINDOWS_CU118, (12, 0), None),
        (WINDOWS_CU118, (6, 1), "sass"),
    ],
)
def test_coverage(archs: ArchList, cc: tuple[int, int], expected: str | None) -> None:
    assert coverage(archs, cc) == expected


def test_old_ptx_is_not_forward_ptx() -> None:
    assert WINDOWS_CU118.ptx == ((3, 7),)
    assert WINDOWS_CU118.forward_ptx is None
    assert TORCH_28_CU126.forward_ptx is None
