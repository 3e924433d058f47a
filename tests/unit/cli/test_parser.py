from __future__ import annotations

import subprocess
import sys

from kiln.cli.parser import build_parser


def test_global_flags_work_before_and_after_the_verb() -> None:
    parser = build_parser()
    before = parser.parse_args(["-q", "--offline", "pip", "install", "x"])
    after = parser.parse_args(["pip", "install", "x", "-q", "--offline"])
    assert before.quiet == after.quiet == 1
    assert before.offline is after.offline is True


def test_default_globals_are_present_without_flags() -> None:
    parsed = build_parser().parse_args(["pip", "list"])
    assert parsed.quiet == 0 and parsed.offline is False and parsed.cache_dir is None


def test_version_starts_without_importing_the_network_stack() -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['kiln', '--version']\n"
        "try:\n    runpy.run_module('kiln', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('urllib3', 'ssl', 'rich', 'resolvelib', 'tomlkit') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert out.stdout.startswith("kiln ")


def test_the_verb_is_found_past_global_flags_and_their_values() -> None:
    from kiln.cli.parser import verb_of

    assert verb_of(["-q", "--cache-dir", "sync", "run", "x"]) == "run"
    assert verb_of(["--config-file", "a.toml", "-v", "lock"]) == "lock"
    assert verb_of(["--help"]) is None and verb_of([]) is None
    assert verb_of(["help", "sync"]) is None


def test_one_verbs_parser_parses_as_the_whole_parser_does() -> None:
    argv = ["run", "--extra", "a", "-q", "--with", "x", "python", "-c", "pass"]
    assert vars(build_parser("run").parse_args(argv)) == vars(build_parser().parse_args(argv))
    argv = ["pip", "install", "-r", "r.txt", "--offline"]
    assert vars(build_parser("pip").parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_an_unknown_verb_still_lists_every_verb() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kiln", "snyc"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "invalid choice: 'snyc'" in done.stderr and "'sync'" in done.stderr


def test_parsing_looks_up_no_translation_and_says_it_in_english() -> None:
    code = (
        "import sys\n"
        "from kiln.cli.parser import build_parser, verb_of\n"
        "words = ['sync', '--extra', 'cpu', '-q']\n"
        "build_parser(verb_of(words)).parse_args(words)\n"
        "print('locale' in sys.modules)\n"
        "build_parser(verb_of(['sync'])).parse_args(['sync', '--bogus', '--frob'])\n"
    )
    env = {"PATH": "/usr/bin:/bin", "LANG": "de_DE.UTF-8", "LANGUAGE": "de"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert out.returncode == 2
    assert out.stdout.strip() == "False"
    assert "error: unrecognized arguments: --bogus --frob" in out.stderr
    assert out.stderr.startswith("usage: kiln ")
