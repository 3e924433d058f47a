"""The no-op shortcut of `kiln run` and `kiln sync`: a full check that found nothing to do,
remembered together with everything it read, so that the same check on the same inputs is
answered without importing the lock, resolver or installer code.

The full check is a function of files (`pyproject.toml` and the config files that may apply,
`pylock.toml`, `.python-version`, `.venv`'s interpreter and what is installed in it), of
environment variables and of the command line. Each of those is captured here as cheaply as
it can be read (a `stat`, a folder listing), before the full check runs. When that check
changed nothing and said nothing but its summary, its key (the verb and its options) is
stored beside the captured state in `.venv`. The next call with the same key whose captured
state is equal takes the result from there. Anything that differs, however harmless (an
edited file saved unchanged, a package installed and removed again), only means the full
check runs again.

Only the standard library is imported here: this module is the whole no-op path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

STAMP_NAME = ".kiln-noop.json"
# Where dispatch leaves the check on the parsed arguments, for the command to record.
ARGS_ATTRIBUTE = "noop_check"
# Variables the check (or what it calls) may read; everything else cannot change its outcome.
_ENV_PREFIXES = ("KILN_", "UV_", "XDG_")
_ENV_NAMES = ("HOME", "PATH", "VIRTUAL_ENV", "CONDA_PREFIX")
_KEPT_ENTRIES = 8
_FORMAT = 1


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _chain(start: str) -> list[str]:
    folders = [start]
    while True:
        parent = os.path.dirname(folders[-1])
        if parent == folders[-1]:
            return folders
        folders.append(parent)


def project_root(start: str) -> str | None:
    """The folder of the nearest `pyproject.toml`, as project discovery finds it."""
    for folder in _chain(os.path.realpath(start)):
        if os.path.isfile(os.path.join(folder, "pyproject.toml")):
            return folder
    return None


def _config_candidates(start: str, environ: Mapping[str, str]) -> list[str]:
    """Every file the settings could be read from, present or not (a superset)."""
    folders = dict.fromkeys([*_chain(os.path.abspath(start)), *_chain(os.path.realpath(start))])
    paths = [
        os.path.join(folder, name)
        for folder in folders
        for name in ("pyproject.toml", "kiln.toml", "uv.toml")
    ]
    homes = [environ.get("XDG_CONFIG_HOME", ""), os.path.join(environ.get("HOME", ""), ".config")]
    systems = [*(environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":"), "/etc"]
    for base in (*homes, *systems):
        if base:
            paths += [os.path.join(base, "kiln", "kiln.toml"), os.path.join(base, "uv", "uv.toml")]
    for name in ("KILN_CONFIG_FILE", "UV_CONFIG_FILE"):
        if environ.get(name):
            paths.append(os.path.expanduser(environ[name]))
    return paths


def _installed_state(venv: str) -> list[object]:
    """Each site-packages folder with its entries' names and times: an install, removal or
    upgrade by any tool adds, removes or rewrites a `.dist-info` folder or a `.pth` file."""
    state: list[object] = []
    for lib in ("lib", "Lib"):
        base = os.path.join(venv, lib)
        try:
            children = sorted(os.listdir(base))
        except OSError:
            continue
        for child in children:
            site = os.path.join(base, child, "site-packages") if lib == "lib" else base
            try:
                entries = sorted(os.scandir(site), key=lambda e: e.name)
            except OSError:
                continue
            listing = [
                [e.name, e.stat(follow_symlinks=False).st_mtime_ns]
                for e in entries
                if e.name.endswith((".dist-info", ".egg-info", ".pth", ".egg-link"))
            ]
            state.append([site, _stat(site), listing])
            if lib == "Lib":
                break
    return state


class NoopCheck:
    """One no-op check's key and the state it reads, captured before it runs."""

    __slots__ = ("inputs", "key", "root", "state", "venv", "verb")

    def __init__(self, verb: str, root: str, key: str, state: str) -> None:
        self.verb = verb
        self.root = root
        self.venv = os.path.join(root, ".venv")
        self.key = key
        self.state = state
        # Everything the check reads but what is installed: a sync's outcome, the set of
        # wheels it wants, is a function of this alone.
        self.inputs = _inputs_of(state)

    @classmethod
    def capture(
        cls,
        verb: str,
        options: Mapping[str, object],
        project: str | None,
        environ: Mapping[str, str] | None = None,
    ) -> NoopCheck | None:
        environ = os.environ if environ is None else environ
        cwd = os.getcwd()
        start = os.path.join(cwd, project) if project else cwd
        root = project_root(start)
        if root is None:
            return None
        key = json.dumps([verb, dict(sorted(options.items()))], default=str)
        return cls(verb, root, key, _state(root, start, cwd, environ))

    def _read(self, kind: str = "entries") -> list[dict[str, object]]:
        try:
            with open(os.path.join(self.venv, STAMP_NAME), encoding="utf-8") as stamp:
                data = json.load(stamp)
        except (OSError, ValueError):
            return []
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return []
        entries = data.get(kind)
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    def recorded(self) -> dict[str, object] | None:
        """What the full check found when it last ran on exactly these inputs, if it did."""
        for entry in self._read():
            same = entry.get("key") == self.key and entry.get("state") == self.state
            if same and _unchanged(entry.get("watch")):
                return entry
        return None

    def recorded_target(self) -> dict[str, object] | None:
        """What the last full sync with this key and these inputs wanted installed, whatever
        is installed now (`switch`)."""
        for entry in self._read("targets"):
            same = entry.get("key") == self.key and entry.get("inputs") == self.inputs
            if same and _unchanged(entry.get("watch")):
                return entry
        return None

    def inputs_unchanged(self, environ: Mapping[str, str] | None = None) -> bool:
        """Whether everything but what is installed still reads as it did at capture."""
        return _inputs_of(self._now(environ)) == self.inputs

    def _now(self, environ: Mapping[str, str] | None) -> str:
        start_state = json.loads(self.state)
        environ = os.environ if environ is None else environ
        return _state(self.root, start_state[0], start_state[1], environ)

    def record(
        self,
        root: object,
        environ: Mapping[str, str] | None = None,
        watch: Sequence[str] = (),
        **facts: object,
    ) -> None:
        """Remember that the full check of the project at ``root`` found nothing to do, if
        nothing it read has changed since it started (an install it made, or another
        process, would show here). ``watch`` names more files the check depends on (the
        project's path sources), checked by `stat` before the record is used.

        A workspace is never recorded: its members' files are inputs that need not lie
        above the current folder. Neither is a project other than the nearest one.
        """
        if os.path.realpath(str(root)) != self.root or _names_workspace(self.root):
            return
        if self._now(environ) != self.state or not os.path.isdir(self.venv):
            return
        kept = [
            e for e in self._read() if e.get("state") == self.state and e.get("key") != self.key
        ]
        watched = [[f, _stat(f)] for f in watch]
        entry = {"key": self.key, "state": self.state, "watch": watched, **facts}
        entries = [entry, *kept][:_KEPT_ENTRIES]
        self._write(entries, self._kept_targets())

    def record_target(
        self,
        root: object,
        facts: Mapping[str, object],
        watch: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Remember what the full sync of the project at ``root`` wanted installed (``facts``),
        if nothing but what is installed changed while it ran: a sync that re-locked, or
        another process editing the project, leaves no record. The same guards as `record`."""
        if os.path.realpath(str(root)) != self.root or _names_workspace(self.root):
            return
        now = self._now(environ)
        if _inputs_of(now) != self.inputs or not os.path.isdir(self.venv):
            return
        watched = [[f, _stat(f)] for f in watch]
        entry = {"key": self.key, "inputs": self.inputs, "watch": watched, **facts}
        targets = [entry, *(t for t in self._kept_targets() if t.get("key") != self.key)]
        # No-op records of the state before this sync changed it can never match again.
        entries = [e for e in self._read() if e.get("state") == now]
        self._write(entries, targets[:_KEPT_ENTRIES])

    def _kept_targets(self) -> list[dict[str, object]]:
        return [t for t in self._read("targets") if t.get("inputs") == self.inputs]

    def _write(self, entries: list[dict[str, object]], targets: list[dict[str, object]]) -> None:
        from pathlib import Path

        from kiln.cache.atomic import write_text

        data = {"format": _FORMAT, "entries": entries, "targets": targets}
        try:
            write_text(Path(self.venv) / STAMP_NAME, json.dumps(data, sort_keys=True))
        except OSError:  # a read-only environment just keeps taking the full check
            return


def _unchanged(watched: object) -> bool:
    return isinstance(watched, list) and all(
        isinstance(w, list) and len(w) == 2 and _stat(str(w[0])) == w[1] for w in watched
    )


def _inputs_of(state: str) -> str:
    # The state's last part is what is installed (`_state`).
    return json.dumps(json.loads(state)[:-1])


def _names_workspace(root: str) -> bool:
    try:
        with open(os.path.join(root, "pyproject.toml"), "rb") as pyproject:
            return b"workspace" in pyproject.read()
    except OSError:
        return True


def _state(root: str, start: str, cwd: str, environ: Mapping[str, str]) -> str:
    venv = os.path.join(root, ".venv")
    python = (
        os.path.join(venv, "Scripts", "python.exe")
        if os.name == "nt"
        else os.path.join(venv, "bin", "python")
    )
    try:
        link: object = os.readlink(python)
    except OSError:
        link = None
    files = [
        *_config_candidates(start, environ),
        *(os.path.join(root, n) for n in ("pylock.toml", "uv.lock", ".python-version")),
        os.path.join(venv, "pyvenv.cfg"),
        python,
    ]
    env = sorted(
        (k, v) for k, v in environ.items() if k.startswith(_ENV_PREFIXES) or k in _ENV_NAMES
    )
    state = [
        start,
        cwd,
        env,
        [[f, _stat(f)] for f in files],
        link,
        _installed_state(venv),
    ]
    return json.dumps(state)


def environment_vars(bin_dirs: Sequence[str], venv: str) -> dict[str, str]:
    """The variables a command run in the project's environment sees."""
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = venv
    env["PATH"] = os.pathsep.join([*bin_dirs, env.get("PATH", "")])
    env.pop("PYTHONHOME", None)
    return env
