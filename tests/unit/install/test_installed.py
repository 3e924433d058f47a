from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kiln.core.errors import InstallError
from kiln.install.installed import InstalledDist, find_installed, installed_distributions


def dist_info(site: Path, name: str, version: str, **files: str) -> Path:
    folder = site / f"{name}-{version}.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\n"
    )
    for filename, content in files.items():
        (folder / filename.replace("_json", ".json")).write_text(content)
    return folder


def test_listing_reads_dist_info_and_both_egg_info_forms_sorted(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist_info(site, "Zeta_Pkg", "2.0", INSTALLER="uv\n", REQUESTED="")
    egg_dir = site / "alpha-1.0-py3.12.egg-info"
    egg_dir.mkdir()
    (egg_dir / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: Alpha\nVersion: 1.0\n")
    (site / "beta-0.1-py3.12.egg-info").write_text(
        "Metadata-Version: 1.0\nName: beta\nVersion: 0.1\n"
    )

    dists = installed_distributions([site])
    assert [(d.name, d.display_name, str(d.version)) for d in dists] == [
        ("alpha", "Alpha", "1.0"),
        ("beta", "beta", "0.1"),
        ("zeta-pkg", "Zeta_Pkg", "2.0"),
    ]
    zeta = dists[-1]
    assert (zeta.installer, zeta.requested, zeta.direct_url) == ("uv", True, None)
    assert dists[0].installer is None and not dists[0].requested
    assert dists[1].metadata().name == "beta"


def test_broken_entries_are_skipped_without_raising(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist_info(site, "good", "1.0")
    (site / "nometa-1.0.dist-info").mkdir()
    bad_version = site / "badver-1.0.dist-info"
    bad_version.mkdir()
    (bad_version / "METADATA").write_text("Name: badver\nVersion: not a version!\n")
    (site / "noname-1.0.dist-info").mkdir()
    (site / "noname-1.0.dist-info" / "METADATA").write_text("Version: 1.0\n")
    assert [d.name for d in installed_distributions([site, tmp_path / "missing"])] == ["good"]


def test_first_site_dir_wins_for_a_project_installed_twice(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    dist_info(first, "dup", "2.0")
    dist_info(second, "dup", "1.0")
    dist_info(second, "other", "1.0")
    dists = installed_distributions([first, second, first])
    assert [(d.name, str(d.version)) for d in dists] == [("dup", "2.0"), ("other", "1.0")]
    found = find_installed([first, second], "DUP")
    assert found is not None and found.dist_info.parent == first
    assert find_installed([first, second], "absent") is None


def test_direct_url_makes_editable_and_url_visible(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist_info(
        site,
        "edit",
        "0.1",
        direct_url_json=json.dumps({"url": "file:///src/edit", "dir_info": {"editable": True}}),
    )
    dist_info(
        site,
        "arch",
        "0.1",
        direct_url_json=json.dumps({"url": "https://x.test/arch.whl", "archive_info": {}}),
    )
    dist_info(site, "junk", "0.1", direct_url_json="{not json")
    by_name: dict[str, InstalledDist] = {d.name: d for d in installed_distributions([site])}
    assert by_name["edit"].editable and by_name["edit"].url == "file:///src/edit"
    assert not by_name["arch"].editable and by_name["arch"].url == "https://x.test/arch.whl"
    assert by_name["junk"].direct_url is None and not by_name["junk"].editable


def test_unreadable_metadata_raises_a_user_error(tmp_path: Path) -> None:
    site = tmp_path / "site"
    folder = dist_info(site, "gone", "1.0")
    dist = find_installed([site], "gone")
    assert dist is not None
    (folder / "METADATA").unlink()
    with pytest.raises(InstallError, match=re.escape("metadata of gone==1.0")):
        dist.metadata()
