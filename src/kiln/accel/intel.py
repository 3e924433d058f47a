"""Whether an Intel GPU is present, by uv's rule: any Intel PCI device of the display class.

No model, driver or Level Zero check is made, so an old integrated GPU counts too; that is
uv's behaviour, kept so `--torch-backend auto` agrees between the two tools.
"""

from __future__ import annotations

from kiln.accel.probe import Probe

PCI_DEVICES = "/sys/bus/pci/devices"
_INTEL_VENDOR = 0x8086
_BASE_CLASS_MASK = 0xFF0000
_DISPLAY_CLASS = 0x030000


def detect_intel_gpu(probe: Probe, system: str) -> bool:
    if system == "linux":
        return any(_is_intel_display(probe, device) for device in probe.list_dir(PCI_DEVICES))
    if system == "windows":
        return any(_intel_device_id(device) for device in probe.windows_display_adapters())
    return False


def _is_intel_display(probe: Probe, device: str) -> bool:
    # Vendor first: most devices are not Intel's, and then the class need not be read.
    vendor = _hex(probe.read_text(f"{PCI_DEVICES}/{device}/vendor"))
    if vendor != _INTEL_VENDOR:
        return False
    pci_class = _hex(probe.read_text(f"{PCI_DEVICES}/{device}/class"))
    return pci_class is not None and pci_class & _BASE_CLASS_MASK == _DISPLAY_CLASS


def _intel_device_id(device_id: str) -> bool:
    # "PCI\VEN_8086&DEV_56A0&SUBSYS_..."
    segments = device_id.replace("&", "\\").split("\\")
    return any(segment.upper() == "VEN_8086" for segment in segments)


def _hex(text: str | None) -> int | None:
    try:
        return int((text or "").strip(), 16)
    except ValueError:
        return None
