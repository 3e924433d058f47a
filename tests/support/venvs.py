"""Reading what an environment has installed, the way any tool would see it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path


def python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def installed_versions(venv: Path) -> dict[str, str]:
    """name (lower-case) -> version of every distribution importlib.metadata sees in ``venv``."""
    out = subprocess.run(
        [
            str(python_of(venv)),
            "-c",
            "import json, importlib.metadata as m; "
            "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))
