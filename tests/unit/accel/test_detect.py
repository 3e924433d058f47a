from __future__ import annotations

import sys
import time

import pytest
from packaging.version import Version

from kiln.accel.errors import AcceleratorSettingError
from kiln.accel.machine import Machine, detect
from kiln.accel.nvidia import driver_text, parse_proc_driver_version
from kiln.accel.nvml import NvmlGpu
from kiln.accel.probe import SystemProbe
from tests.unit.accel.fake_probe import FakeProbe

SMI_CC = "nvidia-smi --query-gpu=compute_cap,name --format=csv,noheader"
SMI_NAME = "nvidia-smi --query-gpu=name --format=csv,noheader"
SMI_DRIVER = "nvidia-smi --query-gpu=driver_version --format=csv,noheader"
KFD = "/sys/class/kfd/kfd/topology/nodes"
PCI = "/sys/bus/pci/devices"

PROC_NEW = (
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.144.03  Release Build  "
    "(dvs-builder@U16-I3-D08-1-2)  Mon Dec 30 17:26:13 UTC 2024\n"
    "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n"
)
PROC_OLD = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  375.74  Wed Jun 14 01:39:39 PDT 2017\n"
    "GCC version:  gcc version 5.4.0 20160609 (Ubuntu 5.4.0-6ubuntu1~16.04.4)\n"
)


def test_nothing_present_is_a_bare_machine() -> None:
    probe = FakeProbe()
    machine = detect(probe)
    assert machine == Machine("linux", "x86_64")
    assert probe.nvml_asked == 0  # no driver, so NVML is never loaded
    assert machine.describe() == ["system: linux x86_64", "no GPU detected"]


def test_driver_from_sys_module_wins() -> None:
    probe = FakeProbe(
        files={
            "/sys/module/nvidia/version": "575.51.03\n",
            "/proc/driver/nvidia/version": PROC_NEW,
        },
        commands={SMI_CC: "8.6, NVIDIA GeForce RTX 3090\n"},
    )
    machine = detect(probe)
    assert machine.nvidia_driver == Version("575.51.03")
    assert machine.compute_capabilities == ((8, 6),)
    assert machine.gpu_names == ("NVIDIA GeForce RTX 3090",)
    assert SMI_DRIVER not in probe.ran


@pytest.mark.parametrize(("text", "driver"), [(PROC_NEW, "550.144.03"), (PROC_OLD, "375.74")])
def test_driver_from_proc(text: str, driver: str) -> None:
    assert parse_proc_driver_version(text) == Version(driver)
    machine = detect(FakeProbe(files={"/proc/driver/nvidia/version": text}))
    assert machine.nvidia_driver == Version(driver)


def test_driver_from_nvidia_smi_last() -> None:
    probe = FakeProbe(
        commands={SMI_DRIVER: "560.35.03\n560.35.03\n", SMI_CC: "9.0, H100\n9.0, H100\n"}
    )
    machine = detect(probe)
    assert machine.nvidia_driver == Version("560.35.03")
    assert machine.compute_capabilities == ((9, 0), (9, 0))


def test_r470_falls_back_to_the_name_table() -> None:
    # R470's nvidia-smi rejects compute_cap (exits non-zero), but reports names.
    probe = FakeProbe(
        files={"/sys/module/nvidia/version": "470.82.01"},
        commands={SMI_CC: None, SMI_NAME: "NVIDIA GeForce GTX 1080 Ti\nTesla V100-PCIE-16GB\n"},
    )
    machine = detect(probe)
    assert machine.compute_capabilities == ((6, 1), (7, 0))
    assert machine.gpu_names == ("NVIDIA GeForce GTX 1080 Ti", "Tesla V100-PCIE-16GB")
    assert probe.nvml_asked == 0


def test_unknown_names_ask_nvml() -> None:
    probe = FakeProbe(
        files={"/sys/module/nvidia/version": "470.82.01"},
        commands={SMI_CC: None, SMI_NAME: "Mystery GPU\n"},
        nvml=(NvmlGpu("Mystery GPU", (8, 7)),),
    )
    machine = detect(probe)
    assert machine.compute_capabilities == ((8, 7),)
    assert probe.nvml_asked == 1


def test_unknown_names_without_nvml_keep_known_first() -> None:
    probe = FakeProbe(
        files={"/sys/module/nvidia/version": "470.82.01"},
        commands={SMI_CC: None, SMI_NAME: "Mystery GPU\nTesla T4\n"},
    )
    machine = detect(probe)
    assert machine.compute_capabilities == ((7, 5),)
    assert machine.gpu_names == ("Tesla T4", "Mystery GPU")
    assert "GPU: Mystery GPU (compute capability unknown)" in machine.describe()


def test_no_nvidia_smi_uses_nvml() -> None:
    probe = FakeProbe(
        files={"/sys/module/nvidia/version": "580.65.06"},
        nvml=(NvmlGpu("NVIDIA B200", (10, 0)),),
    )
    machine = detect(probe)
    assert machine.compute_capabilities == ((10, 0),)
    assert machine.gpu_names == ("NVIDIA B200",)


def test_env_overrides_driver_and_capabilities(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_CUDA_DRIVER_VERSION", "535.104.05")
    monkeypatch.setenv("KILN_GPU_COMPUTE_CAPABILITY", "6.1, 8.6")
    probe = FakeProbe(
        files={"/sys/module/nvidia/version": "470.82.01"}, commands={SMI_CC: "7.5, T4\n"}
    )
    machine = detect(probe)
    assert machine.nvidia_driver == Version("535.104.05")
    assert machine.compute_capabilities == ((6, 1), (8, 6))
    assert SMI_CC not in probe.ran


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("KILN_CUDA_DRIVER_VERSION", "abc", "driver version"),
        ("KILN_CUDA_DRIVER_VERSION", "550.1.2.3.4", "driver version"),
        ("KILN_GPU_COMPUTE_CAPABILITY", "86", "MAJOR.MINOR"),
        ("KILN_GPU_COMPUTE_CAPABILITY", "8.6,", "MAJOR.MINOR"),
        ("KILN_AMD_GPU_ARCHITECTURE", "mi300", "gfx"),
        ("KILN_ACCELERATOR", "cuda", "`none` or `auto`"),
        ("KILN_ACCEL_SYSTEM", "beos", "`linux`, `windows` or `macos`"),
    ],
)
def test_malformed_env_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(AcceleratorSettingError) as caught:
        detect(FakeProbe())
    assert caught.value.message.startswith(f"{variable}={value} is not valid; expected ")
    assert expected in caught.value.message
    assert "\n" not in caught.value.message


def test_forced_none_still_reports_what_is_there(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_ACCELERATOR", "none")
    monkeypatch.setenv("KILN_CUDA_DRIVER_VERSION", "575.51.03")
    machine = detect(FakeProbe())
    assert machine.forced_none
    assert machine.nvidia_driver == Version("575.51.03")
    assert "accelerators: ignored (KILN_ACCELERATOR=none)" in machine.describe()


def test_macos_detects_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_ACCEL_SYSTEM", "macos")
    monkeypatch.setenv("KILN_ACCEL_MACHINE", "arm64")
    monkeypatch.setenv("KILN_CUDA_DRIVER_VERSION", "575.51.03")
    probe = FakeProbe(files={"/sys/module/nvidia/version": "575.51.03"})
    assert detect(probe) == Machine("macos", "arm64")
    assert probe.ran == []
    monkeypatch.delenv("KILN_ACCEL_SYSTEM")
    assert detect(FakeProbe(os_name="Darwin", arch="arm64")).system == "macos"
    assert detect(FakeProbe(os_name="FreeBSD")).system == "other"


def test_windows_skips_linux_files_and_uses_nvidia_smi() -> None:
    probe = FakeProbe(
        os_name="Windows",
        arch="AMD64",
        files={"/sys/module/nvidia/version": "470.82.01"},
        commands={SMI_DRIVER: "576.02\n", SMI_CC: "12.0, NVIDIA GeForce RTX 5090\n"},
    )
    machine = detect(probe)
    assert (machine.system, machine.machine, machine.arch) == ("windows", "AMD64", "x86_64")
    assert machine.nvidia_driver == Version("576.02")
    assert machine.compute_capabilities == ((12, 0),)


def kfd_node(version: int) -> str:
    return f"cpu_cores_count 0\nsimd_count 440\ngfx_target_version {version}\nvendor_id 4098\n"


def test_amd_from_kfd_topology() -> None:
    probe = FakeProbe(
        dirs={KFD: ("0", "1", "2", "10")},
        files={
            f"{KFD}/0/properties": kfd_node(0),  # the CPU node
            f"{KFD}/1/properties": kfd_node(90010),
            f"{KFD}/2/properties": kfd_node(110000),
            f"{KFD}/10/properties": kfd_node(90402),
        },
        commands={"rocm_agent_enumerator": "gfx000\ngfx1030\n"},
    )
    machine = detect(probe)
    assert machine.amd_gfx == ("gfx90a", "gfx1100", "gfx942")
    assert "rocm_agent_enumerator" not in probe.ran
    assert "AMD GPU: ROCm arch gfx90a (MI200 (MI210/MI250/MI250X))" in machine.describe()


def test_amd_from_rocm_agent_enumerator() -> None:
    probe = FakeProbe(commands={"rocm_agent_enumerator": "gfx000\ngfx1030\n\n"})
    assert detect(probe).amd_gfx == ("gfx1030",)


def test_amd_env_and_not_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_AMD_GPU_ARCHITECTURE", "GFX90A, gfx1100")
    assert detect(FakeProbe()).amd_gfx == ("gfx90a", "gfx1100")
    monkeypatch.delenv("KILN_AMD_GPU_ARCHITECTURE")
    probe = FakeProbe(os_name="Windows", commands={"rocm_agent_enumerator": "gfx1100\n"})
    assert detect(probe).amd_gfx == ()


def test_intel_display_device_on_linux() -> None:
    devices = ("0000:00:00.0", "0000:00:02.0", "0000:03:00.0")
    files = {
        f"{PCI}/0000:00:00.0/vendor": "0x8086\n",
        f"{PCI}/0000:00:00.0/class": "0x060000\n",  # host bridge
        f"{PCI}/0000:03:00.0/vendor": "0x10de\n",
        f"{PCI}/0000:03:00.0/class": "0x030000\n",  # NVIDIA display
    }
    assert not detect(FakeProbe(dirs={PCI: devices}, files=files)).intel_xpu
    files[f"{PCI}/0000:00:02.0/vendor"] = "0x8086\n"
    files[f"{PCI}/0000:00:02.0/class"] = "0x038000\n"  # display controller, "other"
    assert detect(FakeProbe(dirs={PCI: devices}, files=files)).intel_xpu


def test_intel_display_adapter_on_windows() -> None:
    amd = "PCI\\VEN_1002&DEV_744C&SUBSYS_0E3B1002&REV_C8\\6&1C0F1B&0&00000019"
    intel = "PCI\\VEN_8086&DEV_56A0&SUBSYS_10208086&REV_08\\6&2F6B1E&0&00080008"
    assert not detect(FakeProbe(os_name="Windows", adapters=(amd,))).intel_xpu
    assert detect(FakeProbe(os_name="Windows", adapters=(amd, intel))).intel_xpu


def test_describe_lists_gpus_driver_and_capabilities() -> None:
    machine = Machine(
        "linux",
        "x86_64",
        nvidia_driver=Version("470.82.01"),
        compute_capabilities=((8, 6), (6, 1)),
        gpu_names=("NVIDIA GeForce RTX 3090", "NVIDIA GeForce GTX 1080"),
    )
    assert machine.describe() == [
        "system: linux x86_64",
        "NVIDIA driver: 470.82.01",
        "GPU 0: NVIDIA GeForce RTX 3090 (compute capability 8.6)",
        "GPU 1: NVIDIA GeForce GTX 1080 (compute capability 6.1)",
    ]
    assert driver_text(Version("580")) == "580"


def test_real_detect_is_quick_and_quiet() -> None:
    start = time.perf_counter()
    machine = detect()
    elapsed = time.perf_counter() - start
    assert isinstance(machine, Machine)
    # No GPU here: a few file reads and PATH look-ups. With one, nvidia-smi may take longer.
    if machine.nvidia_driver is None and not machine.amd_gfx:
        assert elapsed < 0.25


def test_system_probe_reads_absent_things_as_absent() -> None:
    probe = SystemProbe()
    assert probe.read_text("/nonexistent/kiln/accel") is None
    assert probe.list_dir("/nonexistent/kiln/accel") == ()
    assert probe.run(["kiln-no-such-command-for-sure"]) is None
    assert probe.run([sys.executable, "-c", "import sys; sys.exit(3)"]) is None
    assert probe.run([sys.executable, "-c", "print('hi')"]) == "hi\n"


def test_system_probe_kills_a_hanging_command() -> None:
    start = time.perf_counter()
    out = SystemProbe().run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert out is None
    assert time.perf_counter() - start < 5
