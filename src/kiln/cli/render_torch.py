"""Output of `kiln torch init` and `kiln torch doctor`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cli.console import Console
from kiln.commands.context import CommandContext

if TYPE_CHECKING:
    from kiln.commands.torch.doctor import DoctorReport, ImportCheck


def run_torch(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    if args.torch_verb == "init":
        return init(args, console)
    return doctor(ctx, args, console)


def init(args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.torch.init import TorchInitRequest, torch_init

    request = TorchInitRequest(
        backends=tuple(n.strip() for value in args.backends for n in value.split(",") if n.strip()),
        mode=args.mode,
        force=args.force,
        index_url=args.torch_index_url or os.environ.get("KILN_TORCH_INDEX_URL") or None,
        project=Path(args.project) if args.project else None,
    )
    result = torch_init(request)
    tables = result.tables
    for replaced in tables.replaced:
        console.warn(f"replaced {replaced}")
    for name, url in tables.indexes:
        console.info(f"index `{name}`: {url}")
    for package in tables.packages:
        for source in tables.sources:
            where = [f"extra `{source.extra}`"] if source.extra else []
            where += [f"`{source.marker}`"] if source.marker else []
            console.info(f"{package} from `{source.index}` where {' and '.join(where)}")
    if tables.extras:
        console.info(f"extras: {', '.join(tables.extras)} (pick one: `kiln sync --extra NAME`)")
    if result.changed:
        console.info(f"Wrote {result.path}")
    else:
        console.info(f"`{result.path}` already holds these tables")
    return 0


def doctor(ctx: CommandContext, args: argparse.Namespace, console: Console) -> int:
    from kiln.commands.torch.doctor import DoctorRequest, torch_doctor

    project = Path(args.project) if args.project else None
    report = torch_doctor(ctx, DoctorRequest(python=args.python, project=project))
    for line in doctor_lines(report):
        console.out(line)
    return 0 if report.ok else 1


def doctor_lines(report: DoctorReport) -> list[str]:
    lines = ["machine:", *(f"  {line}" for line in report.machine.describe())]
    env = report.environment
    if env.interpreter is None:
        lines.append(f"environment ({env.origin}): cannot be inspected: {env.problem}")
        lines.append("verdict: cannot tell which torch build is installed")
        lines.append("  fix that environment, or pass `--python` another one")
        return lines
    lines.append(f"environment ({env.origin}): {env.interpreter.description}")
    build = report.build
    if build is None:
        lines.append("torch: not installed")
        lines.append("verdict: torch is not installed")
        lines.append(f"  install the `{report.recommended.name}` build: {report.command}")
        return lines
    backend = build.backend.name if build.backend else "unknown"
    lines.append(f"torch: {build.version} (backend {backend}: {build.how})")
    if report.fit is not None:
        lines.append("fits: yes" if report.fit.ok else f"fits: no: {report.fit.reason}")
    lines.extend(_import_lines(report.import_check))
    if report.fit is None:
        lines.append(f"verdict: kiln cannot tell which backend torch {build.version} is built for")
        lines.append(f"  for the `{report.recommended.name}` build: {report.command}")
    elif report.fit.ok:
        lines.append(f"verdict: torch {build.version} fits this machine")
        if build.backend != report.recommended:
            lines.append(f"  the best build here is `{report.recommended.name}`: {report.command}")
    else:
        lines.append(
            f"verdict: torch {build.version} does not fit this machine: {report.fit.reason}"
        )
        lines.append(f"  use the `{report.recommended.name}` build: {report.command}")
    return lines


def _import_lines(check: ImportCheck | None) -> list[str]:
    if check is None:
        return []
    values = check.values
    if "version" not in values:
        return [f"import torch: failed: {check.problem}"]
    facts = [f"torch {values['version']}"]
    if values.get("cuda"):
        facts.append(f"CUDA {values['cuda']}")
    if values.get("hip"):
        facts.append(f"HIP {values['hip']}")
    if "available" in values:
        facts.append(f"cuda available: {'yes' if values['available'] else 'no'}")
    lines = [f"import torch: {', '.join(facts)}"]
    lines.extend(f"  device: {name}" for name in values.get("devices") or [])
    if check.ok:
        device = values.get("device", "cpu")
        lines.append(f"  on {device}: (torch.ones(2) * 2).sum() = {values.get('result')}")
    else:
        lines.append(f"  failed: {check.problem}")
    return lines
