from __future__ import annotations

import pytest

ACCEL_ENV = (
    "KILN_ACCELERATOR",
    "KILN_CUDA_DRIVER_VERSION",
    "KILN_GPU_COMPUTE_CAPABILITY",
    "KILN_AMD_GPU_ARCHITECTURE",
    "KILN_ACCEL_SYSTEM",
    "KILN_ACCEL_MACHINE",
)


@pytest.fixture(autouse=True)
def _no_accel_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment with no accelerator overrides."""
    for name in ACCEL_ENV:
        monkeypatch.delenv(name, raising=False)
