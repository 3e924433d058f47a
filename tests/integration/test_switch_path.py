"""`kiln sync` back to a selection synced before, answered from the record of that sync: the
same environment, the same report, as the full path; and the full path wherever the record
cannot answer."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from kiln.commands.project.noop import STAMP_NAME
from tests.conftest import kiln_env
from tests.integration.test_lock_scenarios import S4, project
from tests.integration.test_sync import installed, sync
from tests.support.exactness import tree_snapshot
from tests.support.index_server import IndexServer


def targets(root: Path) -> list[dict[str, object]]:
    data = json.loads((root / ".venv" / STAMP_NAME).read_text())
    return list(data["targets"])


def synced_both_ways(kiln, root: Path, server: IndexServer) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """cpu, then cu124 and cpu by the full path (each recorded); what those two did."""
    sync(kiln, root, server, "--extra", "cpu")  # makes `.venv`: nothing is recorded
    to_cu = sync(kiln, root, server, "--extra", "cu124")
    cu = tree_snapshot(root / ".venv")
    to_cpu = sync(kiln, root, server, "--extra", "cpu")
    assert len(targets(root)) == 2
    return {
        "to_cu": to_cu.stderr,
        "cu": cu,
        "to_cpu": to_cpu.stderr,
        "cpu": tree_snapshot(root / ".venv"),
    }


def sync_cu124_through(
    script: str, root: Path, server: IndexServer, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """`sync --extra cu124` run by ``script`` (source that ends by calling kiln's `main`)."""
    path = tmp_path / "sync_through.py"
    path.write_text(script)
    args = ["sync", "--project", str(root), "--default-index", server.index_url("pypi")]
    return subprocess.run(
        [sys.executable, str(path), *args, "--python", "3.12", "--extra", "cu124"],
        env=kiln_env(tmp_path / "kiln-cache"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_switching_back_installs_what_the_full_path_installed(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    full = synced_both_ways(kiln, root, torch_server)
    fetched = len(torch_server.requests)

    to_cu = sync(kiln, root, torch_server, "--extra", "cu124")
    assert tree_snapshot(root / ".venv") == full["cu"]
    assert to_cu.stderr == full["to_cu"]
    to_cpu = sync(kiln, root, torch_server, "--extra", "cpu")
    assert tree_snapshot(root / ".venv") == full["cpu"]
    assert to_cpu.stderr == full["to_cpu"]
    assert "- torch==2.5.1+cu124" in to_cpu.stderr and "+ torch==2.5.1+cpu" in to_cpu.stderr
    assert len(torch_server.requests) == fetched
    # Nothing to change is audited, as the full path says it.
    assert "Audited" in sync(kiln, root, torch_server, "--extra", "cpu").stderr


def test_the_record_is_what_answers(kiln, torch_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    synced_both_ways(kiln, root, torch_server)
    # A record that leaves torchvision out can be told apart from the full path's answer.
    stamp = root / ".venv" / STAMP_NAME
    data = json.loads(stamp.read_text())
    for target in data["targets"]:
        if '"cu124"' in target["key"]:
            target["wanted"] = [w for w in target["wanted"] if w["name"] != "torchvision"]
    stamp.write_text(json.dumps(data))
    sync(kiln, root, torch_server, "--extra", "cu124")
    got = installed(root)
    assert got["torch"] == "2.5.1+cu124" and "torchvision" not in got
    # A changed lock is another input: the full path, which installs torchvision again.
    lock = root / "pylock.toml"
    lock.write_text(lock.read_text() + "\n")
    sync(kiln, root, torch_server, "--extra", "cu124")
    assert installed(root)["torchvision"] == "0.20.1+cu124"


def test_a_wheel_gone_from_the_cache_is_fetched_by_the_full_path(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    synced_both_ways(kiln, root, torch_server)
    (cu124,) = (t for t in targets(root) if '"cu124"' in str(t["key"]))
    wanted = cu124["wanted"]
    assert isinstance(wanted, list)
    (torch,) = (w for w in wanted if w["name"] == "torch")
    wheels = next((tmp_path / "kiln-cache").glob("wheels-v*"))
    shutil.rmtree(wheels / torch["sha256"])
    before = len(torch_server.requests)
    done = sync(kiln, root, torch_server, "--extra", "cu124")
    assert installed(root)["torch"] == "2.5.1+cu124", done.stderr
    assert any(r.filename == torch["filename"] for r in torch_server.requests[before:])
    assert (wheels / torch["sha256"]).is_dir()


def test_a_record_that_does_not_parse_goes_the_full_way(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    synced_both_ways(kiln, root, torch_server)
    stamp = root / ".venv" / STAMP_NAME
    data = json.loads(stamp.read_text())
    for target in data["targets"]:
        target["wanted"] = [{"name": "torch", "version": "not a version"}]
    stamp.write_text(json.dumps(data))
    done = sync(kiln, root, torch_server, "--extra", "cu124")
    assert "Traceback" not in done.stderr
    got = installed(root)
    assert got["torch"] == "2.5.1+cu124" and got["torchvision"] == "0.20.1+cu124"


def test_an_install_cut_short_is_repaired_from_the_record(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    full = synced_both_ways(kiln, root, torch_server)
    (dist_info,) = (root / ".venv").glob("lib/python*/site-packages/torch-*.dist-info")
    (dist_info / "KILN_INCOMPLETE").write_text("")  # what a killed install or uninstall leaves
    (dist_info.parent / "torch" / "__init__.py").unlink()
    done = sync(kiln, root, torch_server, "--extra", "cpu")
    assert "+ torch==2.5.1+cpu" in done.stderr
    assert tree_snapshot(root / ".venv") == full["cpu"]


# Ctrl-C once the replay has removed the old build, as the first new wheel is linked; the
# full path's module cannot be imported, so only the replay can get that far.
_INTERRUPTED = """
import sys
import kiln.install.executor as executor

def interrupted(*args, **kwargs):
    raise KeyboardInterrupt

executor.install_wheel = interrupted
sys.modules["kiln.commands.project.sync"] = None
from kiln.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_in_a_replayed_sync_is_reported_and_the_next_sync_repairs(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    full = synced_both_ways(kiln, root, torch_server)
    done = sync_cu124_through(_INTERRUPTED, root, torch_server, tmp_path)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "error: interrupted"
    assert installed(root).get("torch") != "2.5.1+cu124"
    sync(kiln, root, torch_server, "--extra", "cu124")
    assert tree_snapshot(root / ".venv") == full["cu"]


# What a replayed sync loaded, printed after it ran.
_LOADED = """
import sys
from kiln.cli.main import main
code = main(sys.argv[1:])
print(sorted(m for m in ("_hashlib", "kiln.commands.project.sync") if m in sys.modules))
sys.exit(code)
"""


def test_a_replayed_sync_loads_no_openssl_and_records_true_hashes(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import base64
    import hashlib

    root = project(tmp_path, S4, torch_server)
    synced_both_ways(kiln, root, torch_server)
    done = sync_cu124_through(_LOADED, root, torch_server, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "+ torch==2.5.1+cu124" in done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    # The files the install wrote itself are listed in RECORD with their true sha256.
    (record,) = (root / ".venv").glob("lib/python*/site-packages/torch-*.dist-info/RECORD")
    site = record.parent.parent
    rows = [line.split(",") for line in record.read_text().splitlines()]
    generated = [r for r in rows if r[0].endswith(("/INSTALLER", "/REQUESTED"))]
    assert generated
    for path, digest, size in generated:
        data = (site / path).read_bytes()
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        assert digest == "sha256=" + expected.decode() and int(size) == len(data)
