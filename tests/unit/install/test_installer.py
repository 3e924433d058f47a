from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from kiln.cache.layout import Cache
from kiln.core.errors import InstallError
from kiln.core.records import replace
from kiln.install.installer import InstallOptions, install_wheel
from kiln.install.record import read_record
from kiln.install.wheel_cache import unpack_wheel

from .conftest import Venv, WheelFactory, files_under, make_venv

DEMO_FILES = {
    "demo/__init__.py": "VALUE = 'demo works'\n",
    "demo/cli.py": "def main():\n    print('hello from demo')\n    return 0\n",
    "demo/gui.py": "def run():\n    print('gui entry')\n",
    "demo/data.txt": "payload\n",
    "demo-1.0.data/scripts/demo-tool": "#!python\nimport demo\nprint('tool', demo.VALUE)\n",
    "demo-1.0.data/scripts/plain.sh": "#!/bin/sh\necho plain\n",
    "demo-1.0.data/data/share/demo/readme.txt": "shared\n",
    "demo-1.0.data/headers/demo.h": "#define DEMO 1\n",
}
DEMO_ENTRY_POINTS = (
    "[console_scripts]\ndemo = demo.cli:main\n\n[gui_scripts]\ndemo-gui = demo.gui:run\n"
)


def install_demo(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, **options: object
) -> tuple[Path, Path]:
    wheel = wheel_factory("demo", files=DEMO_FILES, entry_points=DEMO_ENTRY_POINTS)
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    opts = replace(InstallOptions(python_executable=venv.python), **options)  # type: ignore[arg-type]
    dist = install_wheel(folder, venv.scheme, opts)
    return folder, dist.dist_info


def test_installed_module_imports_in_the_venv(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    _, dist_info = install_demo(venv, cache, wheel_factory)
    assert dist_info == venv.scheme.purelib / "demo-1.0.dist-info"
    done = venv.run("-c", "import demo; print(demo.VALUE)")
    assert done.stdout.strip() == "demo works", done.stderr


def test_console_and_gui_scripts_become_runnable_launchers(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    install_demo(venv, cache, wheel_factory)
    demo = venv.root / "bin" / "demo"
    assert demo.read_text().startswith(f"#!{venv.python}\n")
    assert os.access(demo, os.X_OK)
    done = subprocess.run([str(demo)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "hello from demo\n"), done.stderr
    gui = subprocess.run(
        [str(venv.root / "bin" / "demo-gui")], capture_output=True, text=True, check=False
    )
    assert gui.stdout == "gui entry\n", gui.stderr


def test_data_scripts_get_the_environments_shebang(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    install_demo(venv, cache, wheel_factory)
    tool = venv.root / "bin" / "demo-tool"
    assert tool.read_text().splitlines()[0] == f"#!{venv.python}"
    done = subprocess.run([str(tool)], capture_output=True, text=True, check=False)
    assert done.stdout == "tool demo works\n", done.stderr
    plain = venv.root / "bin" / "plain.sh"
    assert plain.read_text() == "#!/bin/sh\necho plain\n"
    assert (
        subprocess.run([str(plain)], capture_output=True, text=True, check=True).stdout == "plain\n"
    )


def test_data_and_headers_go_to_their_scheme_folders(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    install_demo(venv, cache, wheel_factory)
    assert (venv.root / "share" / "demo" / "readme.txt").read_text() == "shared\n"
    # The venv's sysconfig include is the base interpreter's: headers stay inside the venv.
    assert (venv.root / "include" / "site" / "python3.12" / "demo" / "demo.h").exists()


def test_files_are_hard_links_of_the_cache_and_generated_files_are_not(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    folder, dist_info = install_demo(venv, cache, wheel_factory)
    site = venv.scheme.purelib
    for rel in ("demo/__init__.py", "demo/data.txt", "demo-1.0.dist-info/METADATA"):
        assert os.stat(site / rel).st_ino == os.stat(folder / rel).st_ino
    assert (
        os.stat(venv.root / "bin" / "plain.sh").st_ino
        == os.stat(folder / "demo-1.0.data" / "scripts" / "plain.sh").st_ino
    )
    for generated in ("RECORD", "INSTALLER", "REQUESTED"):
        assert os.stat(dist_info / generated).st_nlink == 1
    for script in ("demo", "demo-gui", "demo-tool"):
        assert os.stat(venv.root / "bin" / script).st_nlink == 1
    cached_record = (folder / "demo-1.0.dist-info" / "RECORD").read_text()
    assert cached_record != (dist_info / "RECORD").read_text()


def test_copy_mode_shares_no_inode_with_the_cache(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    folder, _ = install_demo(venv, cache, wheel_factory, link_mode="copy")
    site = venv.scheme.purelib
    assert os.stat(site / "demo/__init__.py").st_ino != os.stat(folder / "demo/__init__.py").st_ino
    assert (site / "demo/__init__.py").read_text() == DEMO_FILES["demo/__init__.py"]


def test_record_lists_every_installed_file_with_correct_hashes(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    before = files_under(venv.root)
    _, dist_info = install_demo(venv, cache, wheel_factory)
    added = files_under(venv.root) - before
    site = venv.scheme.purelib
    entries = read_record(dist_info / "RECORD")
    listed = {Path(os.path.normpath(site / e.path)) for e in entries}
    assert listed == added
    assert "../../../bin/demo" in {e.path for e in entries}
    for entry in entries:
        path = site / entry.path
        if entry.path.endswith("/RECORD"):
            assert (entry.hash, entry.size) == ("", None)
            continue
        data = path.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert entry.hash == f"sha256={digest}", entry.path
        assert entry.size == len(data), entry.path


def test_installer_requested_and_direct_url_are_recorded(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    wheel = wheel_factory("demo", files={"demo/__init__.py": ""})
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    url = {"url": "https://example.test/demo-1.0-py3-none-any.whl", "archive_info": {}}
    dist = install_wheel(
        folder, venv.scheme, InstallOptions(venv.python), requested=False, direct_url=url
    )
    assert (dist.dist_info / "INSTALLER").read_text() == "kiln\n"
    assert dist.installer == "kiln"
    assert not (dist.dist_info / "REQUESTED").exists()
    assert not dist.requested
    assert json.loads((dist.dist_info / "direct_url.json").read_text()) == url
    assert dist.url == url["url"]
    assert (dist.name, str(dist.version), dist.display_name) == ("demo", "1.0", "demo")


def test_platform_wheel_goes_to_platlib(
    tmp_path: Path, cache: Cache, wheel_factory: WheelFactory
) -> None:
    venv = make_venv(tmp_path / "venv")
    platlib = venv.root / "lib64-site"
    scheme = dataclasses.replace(venv.scheme, platlib=platlib)
    wheel = wheel_factory(
        "native",
        files={"native/__init__.py": "", "native-1.0.data/purelib/pure_part.py": ""},
        root_is_purelib=False,
        tag="cp312-cp312-linux_x86_64",
    )
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    dist = install_wheel(folder, scheme, InstallOptions(venv.python))
    assert dist.dist_info == platlib / "native-1.0.dist-info"
    assert (platlib / "native" / "__init__.py").exists()
    assert (venv.scheme.purelib / "pure_part.py").exists()
    paths = {e.path for e in read_record(dist.dist_info / "RECORD")}
    assert "native/__init__.py" in paths
    assert os.path.relpath(venv.scheme.purelib / "pure_part.py", platlib) in paths


def test_launcher_for_a_python_path_with_spaces_runs_through_sh(
    tmp_path: Path, cache: Cache, wheel_factory: WheelFactory
) -> None:
    venv = make_venv(tmp_path / "my env")
    wheel = wheel_factory("demo", files=DEMO_FILES, entry_points=DEMO_ENTRY_POINTS)
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    install_wheel(folder, venv.scheme, InstallOptions(venv.python))
    demo = venv.root / "bin" / "demo"
    assert demo.read_text().startswith("#!/bin/sh\n'''exec' ")
    done = subprocess.run([str(demo), "x"], capture_output=True, text=True, check=False)
    assert done.stdout == "hello from demo\n", done.stderr
    tool = subprocess.run(
        [str(venv.root / "bin" / "demo-tool")], capture_output=True, text=True, check=False
    )
    assert tool.stdout == "tool demo works\n", tool.stderr


def test_symlink_out_of_the_scheme_is_never_followed(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (venv.scheme.purelib / "demo").symlink_to(outside)
    wheel = wheel_factory("demo", files={"demo/__init__.py": "X = 1\n"})
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    with pytest.raises(InstallError, match="symbolic link"):
        install_wheel(folder, venv.scheme, InstallOptions(venv.python))
    assert list(outside.iterdir()) == []


def test_existing_file_is_replaced_not_written_through(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (venv.scheme.purelib / "demo").mkdir()
    (venv.scheme.purelib / "demo" / "__init__.py").symlink_to(victim)
    os.link(victim, venv.root / "bin" / "demo")  # a hard link where a launcher goes
    wheel = wheel_factory("demo", files=DEMO_FILES, entry_points=DEMO_ENTRY_POINTS)
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    install_wheel(folder, venv.scheme, InstallOptions(venv.python))
    assert victim.read_text() == "keep me\n"
    assert (venv.scheme.purelib / "demo" / "__init__.py").read_text() == DEMO_FILES[
        "demo/__init__.py"
    ]
    assert "hello" not in victim.read_text()


def test_another_projects_file_is_overwritten(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    first = wheel_factory("first", files={"shared/thing.py": "OWNER = 'first'\n"})
    second = wheel_factory("second", files={"shared/thing.py": "OWNER = 'second'\n"})
    for wheel in (first, second):
        install_wheel(
            unpack_wheel(wheel.path, wheel.sha256, cache), venv.scheme, InstallOptions(venv.python)
        )
    assert "second" in (venv.scheme.purelib / "shared" / "thing.py").read_text()
    # The first wheel's cache entry is untouched by the overwrite.
    assert "first" in (cache.wheels / first.sha256 / "shared" / "thing.py").read_text()


def test_unknown_data_folder_is_rejected(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    wheel = wheel_factory("demo", files={"demo-1.0.data/elsewhere/x.txt": ""})
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    with pytest.raises(InstallError, match=re.escape("outside the known `.data` folders")):
        install_wheel(folder, venv.scheme, InstallOptions(venv.python))


def test_invalid_entry_point_is_a_user_error(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    wheel = wheel_factory(
        "demo", files={"demo/__init__.py": ""}, entry_points="[console_scripts]\ndemo = demo\n"
    )
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    with pytest.raises(InstallError, match="invalid entry point"):
        install_wheel(folder, venv.scheme, InstallOptions(venv.python))


def test_compile_bytecode_writes_pyc_and_records_them(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    wheel = wheel_factory(
        "demo", files={"demo/__init__.py": "X = 1\n", "demo/broken.py": "def (:\n"}
    )
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    dist = install_wheel(folder, venv.scheme, InstallOptions(venv.python, compile_bytecode=True))
    pyc = venv.scheme.purelib / "demo" / "__pycache__" / "__init__.cpython-312.pyc"
    assert pyc.exists()
    paths = {e.path for e in read_record(dist.dist_info / "RECORD")}
    assert "demo/__pycache__/__init__.cpython-312.pyc" in paths
    assert not any("broken" in p and p.endswith(".pyc") for p in paths)


def test_installs_into_the_scheme_the_python_layer_reports(
    tmp_path: Path, cache: Cache, wheel_factory: WheelFactory
) -> None:
    interpreter = pytest.importorskip("kiln.python.interpreter")
    from kiln.install.installed import installed_distributions

    venv = make_venv(tmp_path / "venv")
    inspected = interpreter.inspect_interpreter(venv.python)
    wheel = wheel_factory("demo", files=DEMO_FILES, entry_points=DEMO_ENTRY_POINTS)
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    install_wheel(folder, inspected.scheme, InstallOptions(inspected.executable))
    assert [d.name for d in installed_distributions(inspected.site_packages())] == ["demo"]
    done = subprocess.run(
        [str(venv.root / "bin" / "demo")], capture_output=True, text=True, check=False
    )
    assert done.stdout == "hello from demo\n", done.stderr
    headers = list(venv.root.glob("include/**/demo.h"))
    assert len(headers) == 1, "headers must land inside the environment"
