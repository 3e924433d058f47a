"""Helper processes: a job's answer comes back as the job made it, a job that fails answers
nothing, and a helper that cannot start or dies costs nothing but the work done here."""

from __future__ import annotations

import io
import marshal
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiln.core import helper_processes
from kiln.core.helper_processes import Arg, HelperPool, serve

JOB = f"{__name__}:echoed"


def echoed(args: tuple[Arg, ...], payload: bytes) -> bytes:
    """A job: its arguments and payload as one answer; ``("fail",)`` raises, ``("die",)``
    ends the helper, ``("sleep", s)`` takes that long, ``("print",)`` writes to stdout."""
    if args == ("fail",):
        raise ValueError("asked to fail")
    if args == ("die",):
        os._exit(3)
    if args[:1] == ("sleep",):
        assert isinstance(args[1], float)
        time.sleep(args[1])
    if args == ("print",):
        print("noise on stdout", flush=True)
    return marshal.dumps((args, payload))


def _frames(*data: bytes) -> io.BytesIO:
    out = io.BytesIO()
    for item in data:
        helper_processes._write_frame(out, item)
    out.seek(0)
    return out


def _answers(out: io.BytesIO) -> list[bytes]:
    out.seek(0)
    frames = []
    while (frame := helper_processes._read_frame(out)) is not None:
        frames.append(frame)
    return frames


def _about(target: str, *args: Arg) -> bytes:
    return marshal.dumps((target, args))


def test_a_helper_answers_each_job_and_fails_only_the_job_that_failed() -> None:
    requests = _frames(
        _about(JOB, "a", 1), b"payload",
        _about(JOB, "fail"), b"",
        _about("kiln.core.helper_processes:no_such_job"), b"",
        _about("kiln.no_such_module:job"), b"",
        b"not marshal at all", b"",
        _about(JOB, "after"), b"",
    )  # fmt: skip
    out = io.BytesIO()
    serve(__name__, requests, out)
    answers = _answers(out)
    assert answers[0] == b"ready"
    assert marshal.loads(answers[1]) == (("a", 1), b"payload")
    assert answers[2:6] == [b""] * 4  # each failure is an empty answer
    assert marshal.loads(answers[6]) == (("after",), b"")


def test_a_request_cut_short_ends_the_helper_quietly() -> None:
    whole = _frames(_about(JOB, "x"), b"{}").getvalue()
    for cut in (1, 8 + 1, len(whole) - 8):  # in the payload, its length, the first frame
        out = io.BytesIO()
        serve("", io.BytesIO(whole[:-cut]), out)
        assert _answers(out) == [b"ready"]


@pytest.fixture(autouse=True)
def _closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[HelperPool]]:
    """Every pool a test makes is closed when it ends."""
    made: list[HelperPool] = []
    real = HelperPool.__init__

    def track(self: HelperPool, size: int, preload: tuple[str, ...] = ()) -> None:
        real(self, size, preload)
        made.append(self)

    monkeypatch.setattr(HelperPool, "__init__", track)
    yield made
    for pool in made:
        for helper in pool._idle:
            helper.close()
            helper.process.wait(timeout=30)


def _eventually(pool: HelperPool, *args: Arg) -> bytes:
    # The first jobs are done here while a helper starts (about 0.15 s).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = pool.ask(JOB, args, b"body")
        if answer is not None:
            return answer
        time.sleep(0.02)
    raise AssertionError("no helper answered within 30 s")


def test_a_pool_answers_once_a_helper_runs() -> None:
    pool = HelperPool(1, preload=(__name__,))
    assert pool.ask(JOB, ("first",), b"body") is None  # none has started yet
    assert marshal.loads(_eventually(pool, "x")) == (("x",), b"body")
    assert pool.ask(JOB, ("fail",)) is None  # the caller does this one itself
    assert marshal.loads(_eventually(pool, "y")) == (("y",), b"body")  # still running
    assert pool._started == 1


def test_a_helper_that_died_is_not_asked_again() -> None:
    pool = HelperPool(1, preload=(__name__,))
    _eventually(pool, "x")
    (helper,) = pool._idle
    helper.process.kill()
    helper.process.wait()
    assert pool.ask(JOB, ("x",)) is None
    assert pool.ask(JOB, ("x",)) is None
    assert pool._started == 1 and pool._broken


def _broken_soon(pool: HelperPool) -> None:
    deadline = time.monotonic() + 30
    while not pool._broken and time.monotonic() < deadline:
        assert pool.ask(JOB, ("x",)) is None
        time.sleep(0.02)
    assert pool._broken and pool._running == 0
    assert pool.ask(JOB, ("x",)) is None


def test_a_helper_that_cannot_start_leaves_the_work_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    not_a_program = tmp_path / "not-a-program"
    not_a_program.write_text("just text\n")
    for executable in (str(tmp_path / "no-python"), str(not_a_program), ""):
        monkeypatch.setattr(sys, "executable", executable)
        _broken_soon(HelperPool(1))


def test_a_helper_whose_preload_fails_is_not_waited_for() -> None:
    _broken_soon(HelperPool(1, preload=("kiln.no_such_module",)))


def _in_thread(pool: HelperPool, *args: Arg) -> tuple[threading.Thread, list[bytes | None]]:
    got: list[bytes | None] = []
    thread = threading.Thread(target=lambda: got.append(pool.ask(JOB, args, b"")), daemon=True)
    thread.start()
    return thread, got


def test_a_job_waits_for_the_busy_helper_rather_than_being_done_here() -> None:
    pool = HelperPool(1, preload=(__name__,))
    _eventually(pool, "x")
    slow, slow_got = _in_thread(pool, "sleep", 0.5)
    time.sleep(0.1)
    waiting, waiting_got = _in_thread(pool, "after")
    for thread in (slow, waiting):
        thread.join(timeout=30)
    assert slow_got and marshal.loads(slow_got[0] or b"") == (("sleep", 0.5), b"")
    assert waiting_got and marshal.loads(waiting_got[0] or b"") == (("after",), b"")


def test_callers_waiting_for_a_helper_that_dies_are_released() -> None:
    pool = HelperPool(1, preload=(__name__,))
    _eventually(pool, "x")
    dying, dying_got = _in_thread(pool, "die")
    time.sleep(0.05)
    waiting, waiting_got = _in_thread(pool, "after")
    for thread in (dying, waiting):
        thread.join(timeout=30)
        assert not thread.is_alive()
    assert dying_got == [None] and waiting_got == [None] and pool._broken


def test_an_interrupted_request_ends_its_helper_and_frees_the_waiters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = HelperPool(1, preload=(__name__,))
    _eventually(pool, "x")
    (helper,) = pool._idle

    def interrupted(about: bytes, payload: bytes) -> bytes | None:
        raise KeyboardInterrupt

    monkeypatch.setattr(helper, "ask", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pool.ask(JOB, ("x",))
    waiting, waiting_got = _in_thread(pool, "after")
    waiting.join(timeout=30)
    assert not waiting.is_alive() and waiting_got == [None]
    assert helper.process.poll() is not None  # ended, not left holding an unread answer


def test_what_a_job_prints_does_not_reach_the_frames() -> None:
    pool = HelperPool(1, preload=(__name__,))
    _eventually(pool, "x")
    assert marshal.loads(pool.ask(JOB, ("print",)) or b"") == (("print",), b"")
    assert marshal.loads(pool.ask(JOB, ("y",)) or b"") == (("y",), b"")
