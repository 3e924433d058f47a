"""Runs inside the interpreter being inspected and prints its facts as one line of JSON.

This file is never imported by kiln: its source is passed to the target with ``-c``. It uses
the standard library only (the target may have nothing else) and Python 3.8 syntax (the
oldest interpreter kiln supports). Where it decides wheel tags it follows
``packaging.tags`` (26.3) step by step, so that the tags kiln computes from these facts are
the ones ``packaging.tags.sys_tags()`` would give inside the target.
"""

from __future__ import annotations

import json
import os
import platform
import re
import struct
import sys
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES

_IS_32_BIT = struct.calcsize("P") == 4


def _normalize(string: str) -> str:
    return string.replace(".", "_").replace("-", "_").replace(" ", "_")


def _version_nodot(version: tuple[int, ...]) -> str:
    return "".join(map(str, version))


def markers() -> dict[str, str]:
    """``packaging.markers.default_environment()``, computed here."""
    info = sys.implementation.version
    iver = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        iver += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": iver,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def cpython_abis() -> list[str]:
    version = _version_nodot(sys.version_info[:2])
    threading = debug = ""
    with_debug = sysconfig.get_config_var("Py_DEBUG")
    has_refcount = hasattr(sys, "gettotalrefcount")
    # Windows doesn't set Py_DEBUG; a debug build loads `_d.pyd` extension modules.
    has_ext = "_d.pyd" in EXTENSION_SUFFIXES
    if with_debug or (with_debug is None and (has_refcount or has_ext)):
        debug = "d"
    if sys.version_info >= (3, 13) and sysconfig.get_config_var("Py_GIL_DISABLED"):
        threading = "t"
    abis = [f"cp{version}{threading}{debug}"]
    if debug:
        # Debug builds can also load extension modules built for the normal ABI.
        abis.append(f"cp{version}{threading}")
    return abis


def generic_abis() -> list[str]:
    ext_suffix = sysconfig.get_config_var("EXT_SUFFIX")
    if not isinstance(ext_suffix, str) or not ext_suffix.startswith("."):
        return []
    parts = ext_suffix.split(".")
    if len(parts) < 3:
        return cpython_abis()
    soabi = parts[1]
    if soabi.startswith("cpython"):
        abi = "cp" + soabi.split("-")[1]
    elif soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    elif soabi:
        abi = soabi
    else:
        return []
    return [_normalize(abi)]


class _Elf:
    """The few fields of an ELF header that decide manylinux and musllinux support."""

    def __init__(self, path: str) -> None:
        self.capacity = self.encoding = self.machine = self.flags = 0
        self.interpreter: str | None = None
        with open(path, "rb") as f:
            ident = f.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF":
                raise ValueError("not an ELF file")
            self.capacity, self.encoding = ident[4], ident[5]
            e_fmt, p_fmt, p_idx = {
                (1, 1): ("<HHIIIIIHHH", "<IIIIIIII", (0, 1, 4)),
                (1, 2): (">HHIIIIIHHH", ">IIIIIIII", (0, 1, 4)),
                (2, 1): ("<HHIQQQIHHH", "<IIQQQQQQ", (0, 2, 5)),
                (2, 2): (">HHIQQQIHHH", ">IIQQQQQQ", (0, 2, 5)),
            }[(self.capacity, self.encoding)]
            header = struct.unpack(e_fmt, f.read(struct.calcsize(e_fmt)))
            self.machine, phoff, self.flags = header[1], header[4], header[6]
            phentsize, phnum = header[8], header[9]
            for index in range(phnum):
                f.seek(phoff + phentsize * index)
                raw = f.read(struct.calcsize(p_fmt))
                if len(raw) < struct.calcsize(p_fmt):
                    continue
                data = struct.unpack(p_fmt, raw)
                if data[p_idx[0]] == 3:  # PT_INTERP
                    f.seek(data[p_idx[1]])
                    self.interpreter = os.fsdecode(f.read(data[p_idx[2]])).strip("\0")
                    break


def _elf(path: str) -> _Elf | None:
    try:
        return _Elf(path)
    except (OSError, KeyError, ValueError, struct.error):
        return None


def _glibc_version() -> tuple[int, int]:
    version: str | None = None
    try:
        confstr = os.confstr("CS_GNU_LIBC_VERSION")
        if confstr is not None:
            version = confstr.rsplit()[1]
    except (AttributeError, OSError, ValueError, IndexError):
        version = None
    if version is None:
        try:
            import ctypes

            getter = ctypes.CDLL(None).gnu_get_libc_version
            getter.restype = ctypes.c_char_p
            raw = getter()
            version = raw.decode("ascii") if isinstance(raw, bytes) else str(raw)
        except (ImportError, OSError, AttributeError):
            return (-1, -1)
    match = re.match(r"(?P<major>[0-9]+)\.(?P<minor>[0-9]+)", version)
    if not match:
        return (-1, -1)
    return (int(match.group("major")), int(match.group("minor")))


def _manylinux_compatible(arch: str, version: tuple[int, int], glibc: tuple[int, int]) -> bool:
    if glibc < version:
        return False
    # A distribution may veto manylinux support with a `_manylinux` module (PEP 600).
    try:
        module = __import__("_manylinux")
    except ImportError:
        return True
    if hasattr(module, "manylinux_compatible"):
        result = module.manylinux_compatible(version[0], version[1], arch)
        return True if result is None else bool(result)
    legacy = {(2, 5): "manylinux1", (2, 12): "manylinux2010", (2, 17): "manylinux2014"}
    name = legacy.get(version)
    if name and hasattr(module, f"{name}_compatible"):
        return bool(getattr(module, f"{name}_compatible"))
    return True


def manylinux_platforms(archs: list[str]) -> list[str]:
    elf = _elf(sys.executable)
    if "armv7l" in archs:
        ok = (
            elf is not None
            and (elf.capacity, elf.encoding, elf.machine) == (1, 1, 40)
            and elf.flags & 0xFF000000 == 0x05000000
            and elf.flags & 0x00000400 == 0x00000400
        )
    elif "i686" in archs:
        ok = elf is not None and (elf.capacity, elf.encoding, elf.machine) == (1, 1, 3)
    else:
        allowed = {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64"}
        ok = any(arch in allowed for arch in archs)
    if not ok:
        return []
    too_old = (2, 4) if set(archs) & {"x86_64", "i686"} else (2, 16)
    glibc = _glibc_version()
    # glibc keeps compatibility across major versions; assume 50 minors for a past major.
    maxima = [glibc] + [(major, 50) for major in range(glibc[0] - 1, 1, -1)]
    legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
    tags = []
    for arch in archs:
        for major, max_minor in maxima:
            min_minor = too_old[1] if major == too_old[0] else -1
            for minor in range(max_minor, min_minor, -1):
                if _manylinux_compatible(arch, (major, minor), glibc):
                    tags.append(f"manylinux_{major}_{minor}_{arch}")
                    if (major, minor) in legacy:
                        tags.append(f"{legacy[(major, minor)]}_{arch}")
    return tags


def musllinux_platforms(archs: list[str]) -> list[str]:
    elf = _elf(sys.executable)
    loader = elf.interpreter if elf is not None else None
    if loader is None or "musl" not in loader:
        return []
    import subprocess  # only on musl: importing it cost every probe 3-4 ms

    try:
        stderr = subprocess.run([loader], stderr=subprocess.PIPE, text=True).stderr
    except OSError:
        return []
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].startswith("musl"):
        return []
    match = re.match(r"Version (\d+)\.(\d+)", lines[1])
    if not match:
        return []
    major, minor = int(match.group(1)), int(match.group(2))
    return [f"musllinux_{major}_{m}_{arch}" for arch in archs for m in range(minor, -1, -1)]


def linux_platforms() -> list[str]:
    linux = _normalize(sysconfig.get_platform())
    if not linux.startswith("linux_"):
        return [linux]
    if _IS_32_BIT:
        linux = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(linux, linux)
    arch = linux.split("_", 1)[1]
    archs = {"armv8l": ["armv8l", "armv7l"]}.get(arch, [arch])
    return [f"linux_{a}" for a in archs] + manylinux_platforms(archs) + musllinux_platforms(archs)


def _mac_binary_formats(version: tuple[int, int], arch: str) -> list[str]:
    formats = [arch]
    if arch == "x86_64":
        if version < (10, 4):
            return []
        formats.extend(["intel", "fat64", "fat3"])
    elif arch == "i386":
        if version < (10, 4):
            return []
        formats.extend(["intel", "fat3", "fat"])
    elif arch == "ppc64":
        if version > (10, 5) or version < (10, 4):
            return []
        formats.append("fat64")
    elif arch == "ppc":
        if version > (10, 6):
            return []
        formats.extend(["fat3", "fat"])
    if arch in {"arm64", "x86_64"}:
        formats.append("universal2")
    if arch in {"x86_64", "i386", "ppc64", "ppc", "intel"}:
        formats.append("universal")
    return formats


def _major_minor(release: str) -> tuple[int, int]:
    parts = [int(part) for part in release.strip().split(".")[:2]]
    return (parts[0], parts[1] if len(parts) > 1 else 0)


def mac_platforms() -> list[str]:
    release, _, machine = platform.mac_ver()
    version = _major_minor(release)
    if version == (10, 16):
        # Built against an old SDK, Python reports 10.16; ask without the compatibility shim.
        import subprocess

        release = subprocess.run(
            [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
            check=True,
            env={"SYSTEM_VERSION_COMPAT": "0"},
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        version = _major_minor(release)
    arch = machine
    if _IS_32_BIT:
        arch = "ppc" if machine.startswith("ppc") else "i386"
    tags = []
    if (10, 0) <= version < (11, 0):
        for minor in range(version[1], -1, -1):
            for fmt in _mac_binary_formats((10, minor), arch):
                tags.append(f"macosx_10_{minor}_{fmt}")
    if version >= (11, 0):
        for major in range(version[0], 10, -1):
            for fmt in _mac_binary_formats((major, 0), arch):
                tags.append(f"macosx_{major}_0_{fmt}")
        # macOS 11 on x86_64 runs binaries of earlier releases; arm64 only universal2 ones.
        for minor in range(16, 3, -1):
            formats = _mac_binary_formats((10, minor), arch) if arch == "x86_64" else ["universal2"]
            for fmt in formats:
                tags.append(f"macosx_10_{minor}_{fmt}")
    return tags


def platforms() -> list[str]:
    system = platform.system()
    if system == "Darwin":
        return mac_platforms()
    if system == "Linux":
        return linux_platforms()
    generic = [_normalize(sysconfig.get_platform())]
    if system == "Emscripten":
        version = sysconfig.get_config_var("PYEMSCRIPTEN_PLATFORM_VERSION")
        if version:
            return [f"pyemscripten_{version}_wasm32", *generic]
    return generic


def _paths(scheme: str | None, base: str | None) -> dict[str, str]:
    bases = {"base": base, "platbase": base} if base is not None else None
    paths = sysconfig.get_paths(scheme, bases) if scheme else sysconfig.get_paths()
    return {key: paths[key] for key in ("purelib", "platlib", "scripts", "data", "include")}


def venv_scheme_name() -> str:
    """The scheme a virtual environment made from this interpreter installs into."""
    if "venv" in sysconfig.get_scheme_names():
        return "venv"
    return "nt" if os.name == "nt" else "posix_prefix"


def base_executable() -> str:
    in_venv = sys.prefix != sys.base_prefix
    base = getattr(sys, "_base_executable", None) or sys.executable
    # Before 3.11 a virtual environment reports its own python as the base on posix.
    if in_venv and os.path.dirname(os.path.dirname(os.path.abspath(base))) == sys.prefix:
        base = sys.executable
    return os.path.realpath(base)


def main() -> None:
    name = sys.implementation.name
    short = {"cpython": "cp", "pypy": "pp"}.get(name, name)
    # The marker to substitute with a new virtual environment's root.
    venv_root = "@KILN_VENV@"
    facts = {
        "version": list(sys.version_info[:3]),
        "implementation": name,
        "executable": sys.executable,
        "base_executable": base_executable(),
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "markers": markers(),
        "scheme": _paths(None, None),
        "venv_root": venv_root,
        "venv_scheme": _paths(venv_scheme_name(), venv_root),
        "interpreter": short,
        "interpreter_version": str(
            sysconfig.get_config_var("py_version_nodot") or _version_nodot(sys.version_info[:2])
        ),
        "abis": cpython_abis() if short == "cp" else generic_abis(),
        "platforms": platforms(),
    }
    sys.stdout.write("\n" + json.dumps(facts) + "\n")


if __name__ == "__main__":
    main()
