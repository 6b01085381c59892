"""Who is using a paper folder's shared exchange: one lease file per app session, locked while it lives.

Why a lock and not only a pid: `flock` is dropped by the kernel when its holder dies (kill -9
included), so a lease file that someone else can lock is stale even if its pid now belongs to
another program. The file name (`<pid>-<process start>-<token>.lease`) only says whose it was, for
people and for "in use by" messages. A lease is created under a temporary name, locked, then
renamed into place, so a lease that can be seen is already locked. Linux only (it reads
`/proc/<pid>/stat` for a process's start time); elsewhere `SUPPORTED` is False and the app keeps
its exchange to itself.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["Lease", "LeaseInfo", "LEASES_DIR", "SUPPORTED", "live_leases", "process_start",
           "process_alive"]

LEASES_DIR = "leases"
_SUFFIX = ".lease"
_NEW = ".new-"
SUPPORTED = fcntl is not None and Path("/proc/self/stat").exists()


def _stat_fields(pid: int) -> list[str] | None:
    """`/proc/<pid>/stat` after the command name (which may hold spaces and parentheses)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError, OSError):
        return None
    return text[text.rfind(")") + 2:].split()


def process_start(pid: int) -> str | None:
    """When `pid` started (clock ticks since boot, as text), or None if there is no such process.
    With the pid it names one process for good: a reused pid has another start time."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def process_alive(pid: int, start: str | None = None) -> bool:
    """True when `pid` runs (a zombie does not) and, if `start` is given, is the process that
    started then."""
    fields = _stat_fields(pid)
    if not fields or fields[0] == "Z":
        return False
    return start is None or (len(fields) > 19 and fields[19] == start)


@dataclass(frozen=True)
class LeaseInfo:
    """A live lease as others see it: its file and the pid its name gives."""

    path: Path
    pid: int | None


class Lease:
    """This session's lease: the file stays locked (shared) until `release()` or death."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def take(cls, data_dir: Path) -> "Lease":
        """Create and lock a new lease file in `data_dir/leases/`."""
        folder = Path(data_dir) / LEASES_DIR
        folder.mkdir(mode=0o700, exist_ok=True)
        pid = os.getpid()
        name = f"{pid}-{process_start(pid) or 0}-{secrets.token_hex(4)}"
        temporary = folder / f"{_NEW}{name}"
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_SH)
            final = folder / f"{name}{_SUFFIX}"
            os.rename(temporary, final)    # the lock belongs to the file, so it moves with it
        except BaseException:
            os.close(fd)
            temporary.unlink(missing_ok=True)
            raise
        return cls(final, fd)

    def release(self) -> None:
        """Remove the lease; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(fd)


def live_leases(data_dir: Path, *, ignore: Path | None = None) -> list[LeaseInfo]:
    """The leases whose holders live, oldest name first; stale ones found on the way are deleted."""
    folder = Path(data_dir) / LEASES_DIR
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    live: list[LeaseInfo] = []
    for name in names:
        path = folder / name
        if name.startswith(_NEW):        # a crash between create and rename
            _remove_if_dead_creator(path, name[len(_NEW):])
            continue
        if not name.endswith(_SUFFIX) or path == ignore:
            continue
        if _held(path):
            live.append(LeaseInfo(path, _pid_of(name)))
    return live


def _held(path: Path) -> bool:
    """True when the lease's owner still holds its lock; a stale lease is deleted."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:             # its owner just left
        return False
    try:
        if fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        path.unlink(missing_ok=True)      # nobody holds it: its owner died without leaving
        return False
    finally:
        os.close(fd)


def _pid_of(name: str) -> int | None:
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _remove_if_dead_creator(path: Path, name: str) -> None:
    pid = _pid_of(name)
    if pid is not None and not process_alive(pid):
        path.unlink(missing_ok=True)
