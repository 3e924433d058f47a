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
