"""Where `kiln.toml` and `uv.toml` are found, how their levels merge, and what they feed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kiln.core.errors import UsageError
from kiln.project.pyproject import parse_pyproject
from kiln.settings.config_files import ARGS_ATTRIBUTE, PersistentConfig, load_config
from kiln.settings.global_settings import GlobalSettings
from kiln.settings.index_settings import PYPI, IndexSettings, project_indexes


@pytest.fixture
def places(tmp_path: Path) -> SimpleNamespace:
    """A user folder, two system folders, a stand-in for /etc and a project, all empty."""
    root = SimpleNamespace(
        user=tmp_path / "xdg-home",
        sys1=tmp_path / "xdg-dir1",
        sys2=tmp_path / "xdg-dir2",
        etc=tmp_path / "etc",
        home=tmp_path / "home",
        project=tmp_path / "work" / "project",
    )
    for folder in vars(root).values():
        folder.mkdir(parents=True)
    root.env = {
        "XDG_CONFIG_HOME": str(root.user),
        "XDG_CONFIG_DIRS": f"{root.sys1}:{root.sys2}",
        "HOME": str(root.home),
    }
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(places: SimpleNamespace, env: dict[str, str] | None = None, **flags: object):  # type: ignore[no-untyped-def]
    return load_config(
        SimpleNamespace(**flags), {**places.env, **(env or {})}, places.project, etc=places.etc
    )


def urls(config: PersistentConfig) -> tuple[str, ...]:
    return IndexSettings.resolve(SimpleNamespace(**{ARGS_ATTRIBUTE: config}), {}).ordered()


# -- discovery --------------------------------------------------------------------------------


def test_nothing_anywhere_reads_nothing(places: SimpleNamespace) -> None:
    config = load(places)
    assert config.files == ()
    assert urls(config) == (PYPI,)


def test_the_nearest_uv_toml_above_the_project_is_the_project_level(
    places: SimpleNamespace,
) -> None:
    # A pyproject.toml without `[tool.uv]` does not stop the search, as in uv.
    write(places.project / "pyproject.toml", '[project]\nname = "p"\n')
    found = write(places.project.parent / "uv.toml", 'index-url = "https://up.example/simple"\n')
    config = load(places)
    assert config.files == (found,)
    assert urls(config) == ("https://up.example/simple",)


def test_a_pyproject_with_tool_uv_stops_the_search(places: SimpleNamespace) -> None:
    write(places.project.parent / "uv.toml", 'index-url = "https://up.example/simple"\n')
    pyproject = write(
        places.project / "pyproject.toml",
        '[tool.uv]\nextra-index-url = ["https://own.example/simple"]\n',
    )
    config = load(places)
    assert config.files == (pyproject,)
    assert config.project_is_pyproject and not config.masks_project
    assert urls(config) == ("https://own.example/simple", PYPI)


def test_uv_toml_beside_pyproject_hides_its_tool_uv_settings_and_says_so(
    places: SimpleNamespace,
) -> None:
    write(
        places.project / "pyproject.toml",
        '[tool.uv]\nindex-url = "https://hidden.example/simple"\n'
        '[tool.uv.sources]\nfoo = { path = "x" }\n',
    )
    write(places.project / "uv.toml", 'index-url = "https://shown.example/simple"\n')
    config = load(places)
    assert config.masks_project
    assert urls(config) == ("https://shown.example/simple",)
    (warning,) = config.warnings
    assert "index-url" in warning and "sources" not in warning


def test_user_level_follows_xdg_config_home_then_home(places: SimpleNamespace) -> None:
    write(places.user / "uv" / "uv.toml", 'index-url = "https://xdg.example/simple"\n')
    write(places.home / ".config" / "uv" / "uv.toml", 'index-url = "https://home.example/simple"\n')
    assert urls(load(places)) == ("https://xdg.example/simple",)
    # A relative XDG_CONFIG_HOME is not a base directory (XDG spec, and uv).
    assert urls(load(places, {"XDG_CONFIG_HOME": "relative"})) == ("https://home.example/simple",)


def test_system_level_is_the_first_xdg_config_dir_with_a_file_then_etc(
    places: SimpleNamespace,
) -> None:
    write(places.etc / "uv" / "uv.toml", 'index-url = "https://etc.example/simple"\n')
    assert urls(load(places)) == ("https://etc.example/simple",)
    write(places.sys2 / "uv" / "uv.toml", 'index-url = "https://two.example/simple"\n')
    assert urls(load(places)) == ("https://two.example/simple",)
    write(places.sys1 / "uv" / "uv.toml", 'index-url = "https://one.example/simple"\n')
    config = load(places)
    assert urls(config) == ("https://one.example/simple",)
    assert config.files == (places.sys1 / "uv" / "uv.toml",)


# -- merging ----------------------------------------------------------------------------------


def test_levels_merge_scalars_from_the_highest_and_lists_joined_highest_first(
    places: SimpleNamespace,
) -> None:
    write(
        places.project / "uv.toml",
        'extra-index-url = ["https://p-extra.example/simple"]\n'
        '[[index]]\nurl = "https://p-index.example/simple"\n',
    )
    write(
        places.user / "uv" / "uv.toml",
        'index-url = "https://u-default.example/simple"\n'
        'extra-index-url = ["https://u-extra.example/simple"]\n'
        'index-strategy = "unsafe-best-match"\n'
        '[[index]]\nurl = "https://u-index.example/simple"\n',
    )
    write(
        places.sys1 / "uv" / "uv.toml",
        'index-url = "https://s-default.example/simple"\n'
        'extra-index-url = ["https://s-extra.example/simple"]\n'
        'index-strategy = "unsafe-first-match"\n',
    )
    config = load(places)
    # The order uv 0.13 consults them in, seen on the wire.
    assert urls(config) == (
        "https://p-index.example/simple",
        "https://u-index.example/simple",
        "https://p-extra.example/simple",
        "https://u-extra.example/simple",
        "https://s-extra.example/simple",
        "https://u-default.example/simple",
    )
    settings = IndexSettings.resolve(SimpleNamespace(**{ARGS_ATTRIBUTE: config}), {})
    assert settings.strategy == "unsafe-best-match"


def test_kiln_toml_wins_over_uv_toml_at_the_same_level(places: SimpleNamespace) -> None:
    write(
        places.user / "uv" / "uv.toml",
        'index-url = "https://uv.example/simple"\nfind-links = ["https://uv.example/links"]\n',
    )
    write(
        places.user / "kiln" / "kiln.toml",
        'index-url = "https://kiln.example/simple"\nfind-links = ["https://kiln.example/links"]\n',
    )
    config = load(places)
    settings = IndexSettings.resolve(SimpleNamespace(**{ARGS_ATTRIBUTE: config}), {})
    assert settings.ordered() == ("https://kiln.example/simple",)
    assert settings.find_links == ("https://kiln.example/links", "https://uv.example/links")


def test_flags_and_variables_beat_the_files(places: SimpleNamespace) -> None:
    write(places.user / "uv" / "uv.toml", 'index-url = "https://file.example/simple"\n')
    config = load(places)
    args = SimpleNamespace(**{ARGS_ATTRIBUTE: config})
    env = {"UV_INDEX_URL": "https://uv-env.example/simple"}
    assert IndexSettings.resolve(args, env).ordered() == ("https://uv-env.example/simple",)
    env["KILN_INDEX_URL"] = "https://kiln-env.example/simple"
    assert IndexSettings.resolve(args, env).ordered() == ("https://kiln-env.example/simple",)
    args.index_url = "https://flag.example/simple"
    assert IndexSettings.resolve(args, env).ordered() == ("https://flag.example/simple",)


def test_pip_table_is_for_the_pip_verbs_and_beats_every_top_level_key(
    places: SimpleNamespace,
) -> None:
    write(places.project / "uv.toml", 'index-url = "https://top.example/simple"\n')
    write(places.user / "uv" / "uv.toml", '[pip]\nindex-url = "https://pip.example/simple"\n')
    config = load(places)
    assert urls(config) == ("https://pip.example/simple",)
    assert config.for_project().index_url == "https://top.example/simple"


def test_paths_in_a_file_are_relative_to_its_folder(places: SimpleNamespace) -> None:
    path = write(places.user / "uv" / "uv.toml", 'find-links = ["wheels"]\ncache-dir = "c"\n')
    config = load(places)
    args = SimpleNamespace(**{ARGS_ATTRIBUTE: config})
    assert IndexSettings.resolve(args, {}).find_links == (str(path.parent / "wheels"),)
    assert GlobalSettings.resolve(args, {}).cache_dir == path.parent / "c"


def test_global_settings_take_the_files_below_flags_and_variables(
    places: SimpleNamespace,
) -> None:
    write(places.user / "uv" / "uv.toml", 'offline = true\ncache-dir = "/files/cache"\n')
    args = SimpleNamespace(**{ARGS_ATTRIBUTE: load(places)})
    got = GlobalSettings.resolve(args, {})
    assert got.offline and got.cache_dir == Path("/files/cache")
    got = GlobalSettings.resolve(args, {"KILN_OFFLINE": "false", "UV_CACHE_DIR": "/env"})
    assert not got.offline and got.cache_dir == Path("/env")


# -- --config-file and --no-config ------------------------------------------------------------


def test_config_file_replaces_every_discovered_file(
    places: SimpleNamespace, tmp_path: Path
) -> None:
    write(places.project / "uv.toml", 'extra-index-url = ["https://project.example/simple"]\n')
    write(places.user / "uv" / "uv.toml", 'index-url = "https://user.example/simple"\n')
    other = write(tmp_path / "other.toml", 'index-url = "https://other.example/simple"\n')
    for config in (
        load(places, config_file=str(other)),
        load(places, {"KILN_CONFIG_FILE": str(other)}),
        load(places, {"UV_CONFIG_FILE": str(other)}),
        # As in uv: the named file is read even with --no-config.
        load(places, config_file=str(other), no_config=True),
    ):
        assert config.files == (other,)
        assert urls(config) == ("https://other.example/simple",)


def test_config_file_must_exist_and_not_be_a_pyproject(
    places: SimpleNamespace, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load(places, config_file=str(tmp_path / "missing.toml"))
    with pytest.raises(UsageError, match="is a folder"):
        load(places, config_file=str(tmp_path))
    write(tmp_path / "pyproject.toml", "[tool.uv]\n")
    with pytest.raises(UsageError, match=r"kiln\.toml` or `uv\.toml"):
        load(places, config_file=str(tmp_path / "pyproject.toml"))


def test_no_config_reads_nothing(places: SimpleNamespace) -> None:
    write(places.user / "uv" / "uv.toml", 'index-url = "https://user.example/simple"\n')
    for config in (
        load(places, no_config=True),
        load(places, {"KILN_NO_CONFIG": "1"}),
        load(places, {"UV_NO_CONFIG": "true"}),
    ):
        assert config.files == () and config.masks_project
        assert urls(config) == (PYPI,)
    assert load(places, {"KILN_NO_CONFIG": "0", "UV_NO_CONFIG": "1"}).files != ()


def test_masked_project_keeps_only_the_indexes_its_sources_name(places: SimpleNamespace) -> None:
    project = parse_pyproject(
        {
            "project": {"name": "p", "version": "0"},
            "tool": {
                "uv": {
                    "index": [
                        {"name": "cpu", "url": "https://cpu.example/simple"},
                        {"url": "https://plain.example/simple"},
                    ],
                    "index-url": "https://mirror.example/simple",
                    "sources": {"torch": {"index": "cpu"}},
                }
            },
        },
        Path("pyproject.toml"),
    )
    args = SimpleNamespace(**{ARGS_ATTRIBUTE: load(places, no_config=True)})
    got = project_indexes(args, project.uv, {})
    assert [(i.url, i.explicit) for i in got.indexes] == [
        ("https://cpu.example/simple", True),
        (PYPI, False),
    ]
    # Without --no-config the project's tables count, and the user's files below them.
    write(places.user / "uv" / "uv.toml", 'extra-index-url = ["https://user.example/simple"]\n')
    args = SimpleNamespace(**{ARGS_ATTRIBUTE: load(places)})
    assert project_indexes(args, project.uv, {}).ordered() == (
        "https://cpu.example/simple",
        "https://plain.example/simple",
        "https://user.example/simple",
        "https://mirror.example/simple",
    )


# -- what a file may hold ---------------------------------------------------------------------


def test_unknown_keys_warn_and_harmless_ones_pass(places: SimpleNamespace) -> None:
    path = write(
        places.user / "uv" / "uv.toml",
        'native-tls = true\nbogus = 1\nresolution = "highest"\n[pip]\nsomething = 2\n',
    )
    config = load(places)
    assert config.warnings == (
        f"unknown key `bogus` in `{path}` is ignored",
        f"unknown key `pip.something` in `{path}` is ignored",
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[sources]\nfoo = { path = "x" }\n', "`sources`"),
        ("no-build = true\n", "`no-build`"),
        ('resolution = "lowest"\n', "`resolution = 'lowest'`"),
        ('[pip]\nprerelease = "allow"\n', "`pip.prerelease = 'allow'`"),
        ('index-strategy = "sideways"\n', "`index-strategy` `sideways`"),
        ("[[index]]\nname = 1\n", "`index[0]` needs a `url`"),
        ("offline = 3\n", "`offline` must be true or false"),
    ],
)
def test_what_kiln_cannot_honour_is_an_error_naming_file_and_key(
    places: SimpleNamespace, text: str, named: str
) -> None:
    path = write(places.user / "uv" / "uv.toml", text)
    with pytest.raises(UsageError) as caught:
        load(places)
    rendered = caught.value.render()
    assert str(path) in rendered and named in rendered


def test_a_settings_file_that_is_not_toml_is_an_error_naming_it(places: SimpleNamespace) -> None:
    path = write(places.user / "kiln" / "kiln.toml", "index-url = \n")
    with pytest.raises(UsageError, match="not valid TOML") as caught:
        load(places)
    assert str(path) in caught.value.render()


def test_a_broken_pyproject_on_the_way_up_warns_and_the_search_goes_on(
    places: SimpleNamespace,
) -> None:
    write(places.project / "pyproject.toml", "[tool.uv\n")
    write(places.project.parent / "uv.toml", 'index-url = "https://up.example/simple"\n')
    config = load(places)
    assert urls(config) == ("https://up.example/simple",)
    assert any("could not be read" in w for w in config.warnings)
