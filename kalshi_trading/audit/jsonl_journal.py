"""The files under the audit trail: an append-only, fsynced JSONL journal that survives crashes,
daily rotation, retention, and two apps sharing one log folder.

`trades.jsonl` holds one JSON object per line, fsynced before an append returns, so a crash loses
at most the line being written; readers skip a torn line with a warning, and the next append
starts on a fresh line. Older days move to `trades-YYYY-MM-DD.jsonl`. Apps sharing the folder
take its lock file (`trades.lock`, `flock`) to write and first read what the other appended
(`catch_up`), so each sees every record once and one rotation happens per day. What the records
mean is the `TradeLogger`'s business; this module only keeps them safe.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

try:  # POSIX; elsewhere two apps sharing a log folder are not coordinated
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

from ..timeutil import parse_iso

__all__ = ["JsonlJournal", "JSONL_NAME", "LOCK_NAME", "TRADES_RETENTION_DAYS",
           "ERRORS_RETENTION_DAYS", "utc_date"]

log = logging.getLogger(__name__)

TRADES_RETENTION_DAYS = 30
ERRORS_RETENTION_DAYS = 90
JSONL_NAME = "trades.jsonl"
LOCK_NAME = "trades.lock"
_ROTATED_JSONL = re.compile(r"^trades-(\d{4}-\d{2}-\d{2})(?:\.(\d+))?\.jsonl$")
_ROTATED_LOG = re.compile(r"^(trades|errors)\.log\.(\d{4}-\d{2}-\d{2})$")


def utc_date(moment: datetime) -> date:
    """The UTC calendar day of `moment` (the unit of rotation and retention)."""
    return moment.astimezone(timezone.utc).date()


def _parse_line(raw: bytes) -> dict | None:
    """One JSONL line as a record, or None when it is not one (torn by a crash)."""
    if not raw.strip():
        return None
    try:
        rec = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return rec if isinstance(rec, dict) and isinstance(rec.get("event_type"), str) else None


def _first_day(path: Path) -> date | None:
    """The UTC day of the first readable record in `path` (None for a missing or empty file)."""
    try:
        with open(path, "rb") as reader:
            for raw in reader:
                rec = _parse_line(raw)
                if rec is not None:
                    try:
                        return utc_date(parse_iso(str(rec.get("logged_time") or rec["created_time"])))
                    except (KeyError, ValueError):
                        continue
    except FileNotFoundError:
        return None
    return None


class JsonlJournal:
    """The JSONL files of one log folder. `remember(rec)` is called once for every record that
    reaches the journal (ours, or another app's found by `catch_up`); `forget()` when another app
    rotated the file and everything is about to be read again."""

    def __init__(self, log_dir: Path, *, remember: Callable[[dict], None],
                 forget: Callable[[], None]) -> None:
        self.log_dir = log_dir
        self._remember = remember
        self._forget = forget
        self._lock = threading.RLock()
        self._lock_fd: int | None = None
        self._lock_depth = 0
        self._fh: Any = None
        self._needs_newline = False
        self._day: date | None = None
        self._seen: tuple[int, int] | None = None  # (inode, bytes) of trades.jsonl already remembered

    # --- sharing the folder with another app ---------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """This journal's lock, then the folder's lock file, so apps sharing it write in turn."""
        with self._lock:
            if self._lock_depth == 0 and fcntl is not None:
                if self._lock_fd is None:
                    self._lock_fd = os.open(self.log_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0 and fcntl is not None and self._lock_fd is not None:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def catch_up(self) -> None:
        """Remember the whole lines appended to `trades.jsonl` since we last looked (by another app
        sharing the folder). If another app rotated the file, everything is read again."""
        path = self.log_dir / JSONL_NAME
        try:
            inode = path.stat().st_ino
        except FileNotFoundError:
            self._seen = None
            return
        if self._seen is not None and self._seen[0] != inode:
            self._forget()
            self._seen = None
            for old in self.files()[:-1]:
                for rec in self.read_file(old):
                    self._remember(rec)
        offset = self._seen[1] if self._seen is not None else 0
        with open(path, "rb") as reader:
            reader.seek(offset)
            data = reader.read()
        whole = data.rfind(b"\n") + 1
        for raw in data[:whole].splitlines():
            rec = _parse_line(raw)
            if rec is not None:
                self._remember(rec)
        self._seen = (inode, offset + whole)
        # Bytes after the last newline can only be a line torn by a crash (writers hold the lock).
        self._needs_newline = whole < len(data)

    def load(self) -> None:
        """Remember every record on disk (at start-up)."""
        with self.exclusive():
            for path in self.files():
                if path.name != JSONL_NAME:
                    for rec in self.read_file(path):
                        self._remember(rec)
            self.catch_up()

    # --- writing -------------------------------------------------------------------------

    def append(self, rec: dict, today: date) -> None:
        """Write one record (rotating first on a new day), fsynced before returning."""
        line = json.dumps(rec, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"
        with self.exclusive():
            self._rotate_if_new_day(today)
            self.catch_up()
            path = self.log_dir / JSONL_NAME
            if self._fh is not None and (not path.exists()
                                         or os.fstat(self._fh.fileno()).st_ino != path.stat().st_ino):
                self._fh.close()  # another app rotated the file: append to the new one
                self._fh = None
            if self._fh is None:
                self._open()
            data = (b"\n" + line) if self._needs_newline else line
            self._fh.write(data)
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._needs_newline = False
            self._seen = (os.fstat(self._fh.fileno()).st_ino, self._fh.tell())
            self._remember(rec)

    def _open(self) -> None:
        path = self.log_dir / JSONL_NAME
        created = not path.exists()
        self._fh = open(path, "ab")
        if created:
            self._fsync_dir()
            self._seen, self._needs_newline = None, False

    def _fsync_dir(self) -> None:
        try:
            fd = os.open(self.log_dir, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    # --- rotation and retention ----------------------------------------------------------

    def _rotate_if_new_day(self, today: date) -> None:
        """Move `trades.jsonl` aside as `trades-<day of its first record>.jsonl` once it holds an
        earlier day's records (checked at the first record and at each new day; another app
        sharing the folder may have done it already)."""
        if self._day is not None and today <= self._day:  # same day, or the clock went back
            return
        self._day = today
        current = self.log_dir / JSONL_NAME
        self.catch_up()
        first = _first_day(current)
        if first is None or first >= today:
            return
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        target = self.log_dir / f"trades-{first.isoformat()}.jsonl"
        serial = 1
        while target.exists():
            target = self.log_dir / f"trades-{first.isoformat()}.{serial}.jsonl"
            serial += 1
        os.replace(current, target)
        self._fsync_dir()
        self._seen, self._needs_newline = None, False
        self.purge(today)

    def purge(self, today: date) -> None:
        """Delete rotated files older than the retention: trades 30 days, errors 90."""
        keep = {"trades": TRADES_RETENTION_DAYS, "errors": ERRORS_RETENTION_DAYS}
        for path in self.log_dir.iterdir():
            match_jsonl, match_log = _ROTATED_JSONL.match(path.name), _ROTATED_LOG.match(path.name)
            if match_jsonl:
                kind, day_text = "trades", match_jsonl.group(1)
            elif match_log:
                kind, day_text = match_log.group(1), match_log.group(2)
            else:
                continue
            try:
                day = date.fromisoformat(day_text)
            except ValueError:
                continue
            if day < today - timedelta(days=keep[kind]):
                try:
                    path.unlink()
                    log.info("deleted %s (older than %d days)", path.name, keep[kind])
                except OSError as exc:
                    log.warning("could not delete old log %s: %s", path.name, exc.strerror)

    # --- reading -------------------------------------------------------------------------

    def files(self) -> list[Path]:
        """Every JSONL file of the folder, oldest first, `trades.jsonl` last."""
        rotated = []
        for path in self.log_dir.iterdir():
            match = _ROTATED_JSONL.match(path.name)
            if match:
                rotated.append((match.group(1), int(match.group(2) or 0), path))
        files = [path for _, _, path in sorted(rotated)]
        current = self.log_dir / JSONL_NAME
        return files + [current] if current.exists() else files

    def read_file(self, path: Path) -> Iterator[dict]:
        """Records in one file; an unreadable (torn) line is skipped with a warning."""
        with open(path, "rb") as reader:
            for number, raw in enumerate(reader, start=1):
                if not raw.strip():
                    continue
                rec = _parse_line(raw)
                if rec is None:
                    log.warning("%s line %d is unreadable (torn by a crash?); skipped",
                                path.name, number)
                    continue
                yield rec

    def records(self) -> Iterator[dict]:
        """Every readable record of every file, in file order."""
        for path in self.files():
            yield from self.read_file(path)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
