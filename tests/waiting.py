"""Bounded waits for tests that depend on a thread, a child process or a kill.

A test that waits must first prove the event it is waiting for (a counter moved, a file grew, a
child printed a line), then assert what follows. Neither helper sleeps a fixed time; both fail the
test with one line naming `what` when the deadline passes.

    wait_until(predicate, timeout, what)   poll `predicate()` until it returns something truthy
    read_line(proc, timeout, what)         the next line `proc` wrote to its stdout pipe
"""

from __future__ import annotations

import subprocess
import threading
import time
from typing import Callable, TypeVar

import pytest

T = TypeVar("T")

POLL = 0.01  # seconds between checks


def wait_until(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """Return `predicate()`'s first truthy value; fail the test if none comes within `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(POLL)


def read_line(proc: subprocess.Popen, timeout: float, what: str) -> str | bytes:
    """One line from `proc.stdout` (a pipe), read on a helper thread so a silent child can't hang
    the test. Fails on timeout, or with the child's stderr if it closed stdout (exited) first.

    Only one line is read, and the helper thread is finished when this returns, so a later
    `proc.communicate()` sees the rest of the output whole.
    """
    box: list[str | bytes | BaseException] = []

    def read() -> None:
        try:
            box.append(proc.stdout.readline())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread below
            box.append(exc)

    reader = threading.Thread(target=read, name="test-read-line", daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
    (line,) = box
    if isinstance(line, BaseException):
        raise line
    if not line:
        pytest.fail(f"the child closed its output before {what}: {_stderr_of(proc)}")
    return line


def _stderr_of(proc: subprocess.Popen) -> str:
    """What a child that has ended wrote to its stderr pipe, or a note why there is none."""
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return "(still running; stderr not read)"
    if proc.stderr is None:
        return f"exit status {proc.returncode}"
    err = proc.stderr.read()
    text = err.decode(errors="replace") if isinstance(err, bytes) else err
    return f"exit status {proc.returncode}; stderr: {text.strip() or '(empty)'}"
