"""Git repositories through the system `git`: a revision resolved to a commit, and that
commit checked out once into the cache, where every later lock and sync finds it.

Each repository is fetched into one bare clone (`git/db/<url digest>`); a checkout is a
folder per commit (`git/checkouts/<url digest>/<commit>`), made under a temporary name and
renamed when complete and marked so beside it, so an interrupted checkout is never taken
for a finished one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from kiln.cache.layout import Cache
from kiln.cache.locks import file_lock
from kiln.core.errors import KilnError
from kiln.core.records import record
from kiln.net.redact import redact_url

_COMMIT = re.compile(r"[0-9a-f]{40}")


class GitError(KilnError):
    """`git` is missing, or a repository or revision cannot be had."""


@record
class GitCheckout:
    """A git repository checked out at one commit."""

    url: str
    commit: str
    path: Path  # the repository's root at ``commit``


def _digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:24]


def _git(args: list[str], *, cwd: Path | None = None, what: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise GitError(
            f"cannot fetch {what}: `git` is not on PATH",
            hint="install git, or take the package from an index or a path instead",
        )
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            [git, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise GitError(f"cannot run `git` for {what}: {exc.strerror}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise GitError(
            f"`git {args[0]}` failed for {what}",
            causes=tuple(redact_url(line) for line in lines[-4:]),
            hint="check the URL and the revision, and that this machine can reach the repository",
        )
    return done.stdout


def _database(cache: Cache, url: str) -> Path:
    """The bare clone of ``url``, fetched now (every branch and tag)."""
    root = cache.bucket("git") / "db"
    db = root / _digest(url)
    what = f"`{redact_url(url)}`"
    with file_lock(root / f"{db.name}.lock"):
        if not (db / "HEAD").exists():
            scratch = Path(tempfile.mkdtemp(dir=root, prefix=f".{db.name}."))
            try:
                _git(["clone", "--quiet", "--bare", "--", url, str(scratch)], what=what)
                scratch.replace(db)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        else:
            _git(
                [
                    "fetch",
                    "--quiet",
                    "--force",
                    "--prune",
                    "--tags",
                    "--",
                    url,
                    "+refs/heads/*:refs/heads/*",
                ],
                cwd=db,
                what=what,
            )
    return db


def resolve_revision(cache: Cache, url: str, revision: str | None) -> str:
    """The commit ``revision`` (a branch, tag or commit; None: the default branch) names."""
    db = _database(cache, url)
    what = f"`{redact_url(url)}`" + (f" at `{revision}`" if revision else "")
    wanted = revision or "HEAD"
    try:
        out = _git(["rev-parse", "--verify", "--quiet", f"{wanted}^{{commit}}"], cwd=db, what=what)
    except GitError:
        raise GitError(
            f"`{revision}` is not a branch, tag or commit of `{redact_url(url)}`",
            hint="check `rev`, `tag` or `branch` in `[tool.uv.sources]`",
        ) from None
    commit = out.strip()
    if not _COMMIT.fullmatch(commit):
        raise GitError(f"`git rev-parse` gave `{commit}` for {what}, which is not a commit")
    return commit


def checkout(cache: Cache, url: str, commit: str) -> GitCheckout:
    """The tree of ``url`` at ``commit``, checked out once and kept in the cache."""
    if not _COMMIT.fullmatch(commit):
        raise GitError(
            f"`{commit}` is not a full commit id of `{redact_url(url)}`",
            hint="run `kiln lock` to pin the revision again",
        )
    root = cache.bucket("git") / "checkouts" / _digest(url)
    final = root / commit
    # Beside the tree, not in it: a file inside would end up in what the backend builds.
    complete = root / f"{commit}.complete"
    if complete.exists() and final.is_dir():
        return GitCheckout(url, commit, final)
    db = root.parent.parent / "db" / _digest(url)
    what = f"`{redact_url(url)}` at `{commit[:12]}`"
    root.mkdir(parents=True, exist_ok=True)
    with file_lock(root / f"{commit}.lock"):
        if complete.exists() and final.is_dir():
            return GitCheckout(url, commit, final)
        has_commit = (db / "HEAD").exists() and _has(db, commit)
        if not has_commit:
            db = _database(cache, url)
            if not _has(db, commit):
                raise GitError(
                    f"commit `{commit}` is not in `{redact_url(url)}`",
                    hint="the lock names a commit the repository no longer has: run "
                    "`kiln lock --upgrade` to pin a current one",
                )
        scratch = Path(tempfile.mkdtemp(dir=root, prefix=f".{commit}."))
        try:
            # `.git` stays: backends such as setuptools-scm and hatch-vcs read the version
            # from it.
            _git(["clone", "--quiet", "--no-checkout", "--", str(db), str(scratch)], what=what)
            _git(["checkout", "--quiet", "--detach", commit], cwd=scratch, what=what)
            _git(
                ["submodule", "update", "--init", "--recursive", "--quiet"],
                cwd=scratch,
                what=what,
            )
            shutil.rmtree(final, ignore_errors=True)
            scratch.replace(final)
            complete.write_text(commit + "\n", encoding="utf-8")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return GitCheckout(url, commit, final)


def _has(db: Path, commit: str) -> bool:
    try:
        _git(["cat-file", "-e", f"{commit}^{{commit}}"], cwd=db, what="a commit")
    except GitError:
        return False
    return True
