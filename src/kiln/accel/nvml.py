"""Each NVIDIA GPU's name and compute capability from NVML, loaded with ctypes.

The fallback for drivers whose `nvidia-smi` cannot report `compute_cap` (R470) and whose GPU
name is not in the name table. NVML ships with every driver (`libnvidia-ml.so.1`,
`nvml.dll`) and answers without creating a CUDA context, so it is cheap; no GPU Python
library is imported. Any failure means "unknown", never an exception.
"""

from __future__ import annotations

import ctypes

from kiln.core.records import record

_NVML_SUCCESS = 0
_NAME_BUFFER = 96  # NVML_DEVICE_NAME_V2_BUFFER_SIZE
_MAX_DEVICES = 64


@record
class NvmlGpu:
    """One GPU as NVML reports it."""

    name: str
    cc: tuple[int, int]


def read_nvml(system: str) -> tuple[NvmlGpu, ...]:
    """The GPUs NVML reports, or () when NVML is absent or fails in any way."""
    library = "nvml.dll" if system == "windows" else "libnvidia-ml.so.1"
    try:
        lib = ctypes.CDLL(library)
        init = lib.nvmlInit_v2
        shutdown = lib.nvmlShutdown
    except (OSError, AttributeError):
        return ()
    init.restype = ctypes.c_int
    if init() != _NVML_SUCCESS:
        return ()
    try:
        return _devices(lib)
    except (OSError, AttributeError, ValueError):
        return ()
    finally:
        shutdown()


def _devices(lib: ctypes.CDLL) -> tuple[NvmlGpu, ...]:
    get_count = lib.nvmlDeviceGetCount_v2
    get_count.argtypes = [ctypes.POINTER(ctypes.c_uint)]
    get_handle = lib.nvmlDeviceGetHandleByIndex_v2
    get_handle.argtypes = [ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p)]
    get_cc = lib.nvmlDeviceGetCudaComputeCapability
    get_cc.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_int),
    ]
    get_name = lib.nvmlDeviceGetName
    get_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint]

    count = ctypes.c_uint(0)
    if get_count(ctypes.byref(count)) != _NVML_SUCCESS:
        return ()
    gpus = []
    for index in range(min(count.value, _MAX_DEVICES)):
        handle = ctypes.c_void_p()
        if get_handle(index, ctypes.byref(handle)) != _NVML_SUCCESS:
            continue
        major, minor = ctypes.c_int(0), ctypes.c_int(0)
        if get_cc(handle, ctypes.byref(major), ctypes.byref(minor)) != _NVML_SUCCESS:
            continue
        name = ctypes.create_string_buffer(_NAME_BUFFER)
        if get_name(handle, name, _NAME_BUFFER) != _NVML_SUCCESS:
            name.value = b""
        gpus.append(NvmlGpu(name.value.decode("utf-8", "replace"), (major.value, minor.value)))
    return tuple(gpus)
