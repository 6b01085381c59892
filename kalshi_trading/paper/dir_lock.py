"""One paper exchange per data dir: an advisory lock held for as long as the exchange runs.

Why: the engine keeps its state in memory and writes what each request changed; two exchanges
(say `paper-server` and the app's embedded one, both on the default dir) sharing one SQLite file
would overwrite each other's account rows, and a restart would load a mix of both. `flock` is
released by the kernel when the process dies, kill -9 included, so a crash never leaves a stale
lock. Where `fcntl` does not exist (Windows) the lock is a no-op.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["DataDirLock", "LOCK_FILE"]

LOCK_FILE = "paper.lock"


class DataDirLock:
    """An exclusive, non-blocking lock on `DATA_DIR/paper.lock`."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> "DataDirLock":
        """Take the lock, or raise ConfigError naming the folder when another exchange holds it."""
        if fcntl is None:
            return cls(None)
        fd = os.open(Path(data_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ConfigError(f"another paper exchange is already using {data_dir}; stop it first "
                              "or give this one another data folder") from None
        return cls(fd)

    @staticmethod
    def is_held(data_dir: Path) -> bool:
        """True when an exchange holds the folder's lock now (this process's own included)."""
        if fcntl is None:
            return False
        try:
            fd = os.open(Path(data_dir) / LOCK_FILE, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)   # closing drops the lock if we got it
        return False

    def release(self) -> None:
        """Drop the lock; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
