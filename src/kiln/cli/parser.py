"""The command line, spelled as uv spells it.

Only argparse is imported here (a few milliseconds); each verb's implementation is imported
when that verb runs, so `kiln --version` and `kiln help` start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from kiln import __version__
from kiln.cli.parser_build import add_build_verb, add_isolation_options
from kiln.cli.parser_project import add_project_verbs
from kiln.cli.parser_resolver import add_resolver_options, add_target_options
from kiln.cli.parser_tools import add_cache_verbs, add_pip_tool_verbs, add_python_verbs
from kiln.cli.parser_torch import add_torch_verbs


def _untranslated(message: str) -> str:
    return message


def _untranslated_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


# kiln speaks English, as uv does, and so does argparse for it: CPython ships no translation
# of argparse's messages, yet each one asked for looks a catalogue up, and the first imports
# `locale`, 1-2 ms of every run.
argparse._ = _untranslated  # type: ignore[attr-defined]
argparse.ngettext = _untranslated_plural  # type: ignore[attr-defined]


def _add_global(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Global flags work before and after the verb, as in uv.

    On subcommands they default to SUPPRESS: otherwise argparse would overwrite a value given
    before the verb with the subcommand's default.
    """

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument("-q", "--quiet", action="count", default=default(0), help="print less")
    group.add_argument("-v", "--verbose", action="count", default=default(0), help="print more")
    group.add_argument(
        "-n",
        "--no-cache",
        action="store_true",
        default=default(False),
        help="use a temporary cache",
    )
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=default(None),
        help="where the cache lives (KILN_CACHE_DIR)",
    )
    group.add_argument(
        "--offline", action="store_true", default=default(False), help="use only the cache"
    )
    group.add_argument(
        "--config-file",
        metavar="PATH",
        default=default(None),
        help="read settings from this kiln.toml or uv.toml alone (KILN_CONFIG_FILE)",
    )
    group.add_argument(
        "--no-config",
        action="store_true",
        default=default(False),
        help="read no kiln.toml, uv.toml nor [tool.uv] settings (KILN_NO_CONFIG)",
    )


def _add_python(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "-p", "--python", metavar="PYTHON", help=f"the interpreter or environment {what}"
    )


def _add_constraints(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--constraint",
        "--constraints",
        dest="constraints",
        action="append",
        default=[],
        metavar="FILE",
    )


def _add_install_options(parser: argparse.ArgumentParser) -> None:
    """What `pip install` and `pip sync` share about changing an environment."""
    parser.add_argument("--reinstall", "--force-reinstall", dest="reinstall", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="resolve and plan, change nothing")
    parser.add_argument("--system", action="store_true", help="change the system Python")
    parser.add_argument("--compile-bytecode", action="store_true", help="write .pyc files")
    parser.add_argument("--link-mode", choices=["hardlink", "copy"], default=None)
    parser.add_argument(
        "--require-hashes",
        action="store_true",
        help="every package needs a `--hash` in the requirements files (env: KILN_REQUIRE_HASHES)",
    )
    parser.add_argument(
        "--verify-hashes",
        dest="verify_hashes",
        action="store_true",
        default=None,
        help="check the `--hash` values the requirements files give (the default)",
    )
    parser.add_argument(
        "--no-verify-hashes",
        dest="verify_hashes",
        action="store_false",
        help="ignore `--hash` values (env: KILN_NO_VERIFY_HASHES)",
    )
    _add_torch_backend(parser)


def _add_torch_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--torch-backend",
        metavar="BACKEND",
        help="take torch, torchvision, … from this PyTorch index: `auto` (by this machine's "
        "GPU), `cpu`, `cu126`, `rocm6.3`, `xpu`, … (env: KILN_TORCH_BACKEND)",
    )


def _add_index(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("index options")
    group.add_argument(
        "--index",
        dest="index",
        metavar="[NAME=]URL",
        action="append",
        default=[],
        help="an index consulted before the default, in the order given (KILN_INDEX)",
    )
    group.add_argument(
        "--default-index",
        dest="default_index",
        metavar="[NAME=]URL",
        help="the default index, consulted last (KILN_DEFAULT_INDEX; default: PyPI)",
    )
    group.add_argument(
        "-i",
        "--index-url",
        dest="index_url",
        metavar="URL",
        help="pip's spelling of --default-index (KILN_INDEX_URL)",
    )
    group.add_argument(
        "--extra-index-url",
        dest="extra_index_url",
        metavar="URL",
        action="append",
        default=[],
        help="pip's spelling of --index (KILN_EXTRA_INDEX_URL)",
    )
    group.add_argument(
        "-f",
        "--find-links",
        metavar="LOCATION",
        action="append",
        default=[],
        help="a directory or page of distribution files (KILN_FIND_LINKS)",
    )
    group.add_argument(
        "--no-index", action="store_true", help="consult no index, only --find-links"
    )
    group.add_argument(
        "--index-strategy",
        choices=["first-index", "unsafe-first-match", "unsafe-best-match"],
        default=None,
        help="how to pick among indexes that have the same project (KILN_INDEX_STRATEGY)",
    )
    group.add_argument(
        "--exclude-newer",
        metavar="DATE",
        default=None,
        help="ignore files uploaded at or after this date or RFC 3339 time (KILN_EXCLUDE_NEWER)",
    )
    group.add_argument(
        "--refresh",
        action="store_true",
        help="revalidate cached index pages even when they are still fresh",
    )


def _add_compile(pip_verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    compile_ = pip_verbs.add_parser(
        "compile", help="resolve requirements into pinned requirements.txt or pylock.toml"
    )
    compile_.add_argument(
        "src_files",
        nargs="+",
        metavar="SRC",
        help="requirements.in, requirements.txt or pyproject.toml",
    )
    compile_.add_argument("-o", "--output-file", metavar="FILE", help="write here, not to stdout")
    compile_.add_argument(
        "--universal", action="store_true", help="one output for every platform and Python"
    )
    compile_.add_argument(
        "--format", metavar="FORMAT", help="requirements.txt (default) or pylock.toml"
    )
    _add_constraints(compile_)
    compile_.add_argument(
        "--python-version",
        metavar="X.Y[.Z]",
        help="the Python to resolve for (the floor, universally); --python only runs builds",
    )
    compile_.add_argument("--extra", action="append", default=[], metavar="EXTRA")
    compile_.add_argument("--all-extras", action="store_true")
    compile_.add_argument("--no-header", action="store_true", help="leave out the header comment")
    compile_.add_argument("-U", "--upgrade", action="store_true", help="ignore earlier pins")
    compile_.add_argument("-P", "--upgrade-package", action="append", default=[], metavar="NAME")
    _add_torch_backend(compile_)
    add_resolver_options(compile_, pip=True)
    add_target_options(compile_)
    _add_python(compile_, "to resolve for")
    _add_index(compile_)
    add_isolation_options(compile_)
    _add_global(compile_)


# Global flags that take a value, so the word after them is not the verb.
_VALUED_GLOBALS = frozenset({"--cache-dir", "--config-file"})


def verb_of(argv: list[str]) -> str | None:
    """The verb `argv` asks for, or None when it asks for no single one (help, a bare `kiln`)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in ("-h", "--help", "--"):
            return None
        elif word.startswith("-"):
            skip = word in _VALUED_GLOBALS
        else:
            return None if word == "help" else word
    return None


class _Unbuilt:
    """Stands in for the parser of a verb that was not asked for: every call is a no-op."""

    def __getattr__(self, name: str) -> object:
        return lambda *args, **kwargs: self


def _help_width() -> int:
    """What argparse would take from `shutil.get_terminal_size` (less its margin of two),
    read without importing `shutil`: argparse makes a help formatter for every argument
    added, and `shutil` with the compression modules it imports cost ~2 ms of each run."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("width", _help_width())
        super().__init__(prog, **kwargs)


class _Parser(argparse.ArgumentParser):
    """argparse's parser with `_Formatter`; subparsers are made of the same class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        # As uv: `--extra` must not quietly mean `--extra-index-url`.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


if TYPE_CHECKING:
    _Verbs = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time
    _Verbs = argparse._SubParsersAction


class _OnlyVerbs(_Verbs):
    """Builds one verb's parser, not all of them: most of a start-up is otherwise spent on
    the arguments of verbs that are not run."""

    only: str | None = None
    built = False

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if self.only is not None and name != self.only:
            return _Unbuilt()  # type: ignore[return-value]
        self.built = True
        return super().add_parser(name, **kwargs)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """With ``only``, just that verb's arguments are built (the whole parser when no verb has
    that name, so argparse can list the verbs that exist)."""
    parser = _Parser(
        prog="kiln",
        description="A fast Python package and project manager that gets PyTorch right.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"kiln {__version__}")
    _add_global(parser, top=True)
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", action=_OnlyVerbs)
    assert isinstance(verbs, _OnlyVerbs)
    verbs.only = only

    help_ = verbs.add_parser("help", help="show help for a command")
    help_.add_argument("topic", nargs="*")

    venv = verbs.add_parser("venv", help="create a virtual environment")
    venv.add_argument("path", nargs="?", default=None, help="where (default: .venv)")
    _add_python(venv, "to base it on")
    venv.add_argument("--seed", action="store_true", help="install pip into it")
    venv.add_argument("--prompt", help="the prompt shown when it is active")
    venv.add_argument(
        "-c",
        "--clear",
        action="store_true",
        help="replace a virtual environment already at PATH (env: KILN_VENV_CLEAR)",
    )
    venv.add_argument(
        "--allow-existing",
        action="store_true",
        help="keep what is already at PATH, packages included, and update the environment",
    )
    _add_global(venv)

    pip = verbs.add_parser("pip", help="pip-compatible commands")
    pip_verbs = pip.add_subparsers(dest="pip_verb", metavar="COMMAND")

    install = pip_verbs.add_parser("install", help="install packages into an environment")
    install.add_argument("packages", nargs="*", metavar="PACKAGE")
    install.add_argument(
        "-e",
        "--editable",
        dest="editables",
        action="append",
        default=[],
        metavar="PATH",
        help="install the project in this folder editable",
    )
    install.add_argument(
        "-r",
        "--requirement",
        "--requirements",
        dest="requirements",
        action="append",
        default=[],
        metavar="FILE",
    )
    _add_constraints(install)
    install.add_argument("--no-deps", action="store_true", help="install only what is named")
    install.add_argument("-U", "--upgrade", action="store_true", help="prefer the newest versions")
    install.add_argument("-P", "--upgrade-package", action="append", default=[], metavar="NAME")
    _add_install_options(install)
    add_resolver_options(install, pip=True)
    install.add_argument(
        "--python-version",
        metavar="X.Y[.Z]",
        help="resolve for this Python, not the environment's own (the install may not run)",
    )
    add_target_options(install)
    _add_python(install, "to install into")
    _add_index(install)
    add_isolation_options(install)
    _add_global(install)

    sync = pip_verbs.add_parser(
        "sync", help="make an environment hold exactly what requirements files list"
    )
    sync.add_argument("src_files", nargs="+", metavar="SRC", help="requirements.txt files")
    _add_constraints(sync)
    _add_install_options(sync)
    _add_python(sync, "to sync")
    _add_index(sync)
    add_isolation_options(sync)
    _add_global(sync)

    uninstall = pip_verbs.add_parser("uninstall", help="remove packages from an environment")
    uninstall.add_argument("packages", nargs="*", metavar="PACKAGE")
    uninstall.add_argument("-r", "--requirement", dest="requirements", action="append", default=[])
    uninstall.add_argument(
        "-y", "--yes", action="store_true", help="accepted for pip compatibility"
    )
    uninstall.add_argument("--system", action="store_true")
    uninstall.add_argument("--dry-run", action="store_true")
    _add_python(uninstall, "to remove from")
    _add_global(uninstall)

    for verb, what in (
        ("list", "list installed packages"),
        ("freeze", "print installed packages as requirements"),
    ):
        sub = pip_verbs.add_parser(verb, help=what)
        sub.add_argument("--system", action="store_true")
        sub.add_argument("--exclude-editable", action="store_true")
        if verb == "list":
            sub.add_argument("--format", choices=["columns", "freeze", "json"], default="columns")
        _add_python(sub, "to read")
        _add_global(sub)

    show = pip_verbs.add_parser("show", help="show installed packages")
    show.add_argument("packages", nargs="+", metavar="PACKAGE")
    show.add_argument("-f", "--files", action="store_true", help="list the installed files")
    show.add_argument("--system", action="store_true")
    _add_python(show, "to read")
    _add_global(show)
    _add_compile(pip_verbs)
    add_pip_tool_verbs(pip_verbs, _add_global, _add_python)
    add_project_verbs(verbs, _add_global, _add_index)
    add_build_verb(verbs, _add_global, _add_index)
    add_torch_verbs(verbs, _add_global)
    add_python_verbs(verbs, _add_global)
    add_cache_verbs(verbs, _add_global)
    if only is not None and not verbs.built:
        return build_parser()
    return parser
