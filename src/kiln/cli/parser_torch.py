"""`kiln torch init` and `kiln torch doctor` on the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_torch_verbs(
    verbs: argparse._SubParsersAction,  # type: ignore[type-arg]
    add_global: Callable[[argparse.ArgumentParser], None],
) -> None:
    torch = verbs.add_parser("torch", help="configure and check the project's PyTorch builds")
    torch_verbs = torch.add_subparsers(dest="torch_verb", metavar="COMMAND", required=True)

    init = torch_verbs.add_parser(
        "init", help="write the PyTorch indexes and sources for some backends into pyproject.toml"
    )
    init.add_argument(
        "--backends",
        "--backend",
        dest="backends",
        action="append",
        required=True,
        metavar="B[,B...]",
        help="the torch backends to configure, e.g. `cpu,cu124` (cpu, cuXYZ, rocmX.Y, xpu)",
    )
    init.add_argument(
        "--mode",
        choices=["platform", "extras"],
        default="platform",
        help="pick the build by platform markers (default), or by an extra per backend",
    )
    init.add_argument(
        "--force", action="store_true", help="replace torch indexes, sources and extras that exist"
    )
    init.add_argument(
        "--torch-index-url",
        metavar="URL",
        help="where the PyTorch indexes live (KILN_TORCH_INDEX_URL; default: download.pytorch.org/whl)",
    )
    init.add_argument("--project", "--directory", dest="project", metavar="DIR")
    add_global(init)

    doctor = torch_verbs.add_parser(
        "doctor", help="check that the installed torch build runs on this machine"
    )
    doctor.add_argument(
        "-p",
        "--python",
        metavar="PYTHON",
        help="the interpreter or environment to check (default: the project's .venv, "
        "else the active one, else the first python on PATH)",
    )
    doctor.add_argument("--project", "--directory", dest="project", metavar="DIR")
    add_global(doctor)
