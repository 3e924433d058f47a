"""Errors of the accelerator layer."""

from __future__ import annotations

from kiln.core.errors import UsageError


class AcceleratorSettingError(UsageError):
    """An accelerator override (`KILN_CUDA_DRIVER_VERSION=abc`) is not in its expected form."""

    def __init__(self, variable: str, value: str, expected: str) -> None:
        super().__init__(
            f"{variable}={value} is not valid; expected {expected}",
            hint=f"fix or unset {variable}",
        )
        self.variable = variable
        self.value = value
