"""One paper exchange per paper folder, shared by every app session on it: start it or join it.

Why a separate process: the menu in one terminal and `balance` in another must trade on the same
account, and the engine keeps its state in one process's memory (the SQLite file is written, not
shared). So the first session that needs the exchange starts `paper-server --until-unused` as a
detached child (its own session: Ctrl-C in the terminal does not reach it), which writes
`exchange.json` (URL, pid, account id) once it serves; the others read it and sign with the
folder's paper key. Each session holds a lease (leases.py) while it runs. The last one to leave
stops the exchange and waits until it is gone; if sessions die instead (kill -9, a closed
terminal), the exchange sees no live lease for `IDLE_STOP_S` seconds and stops itself, so a crash
never leaves an orphan. Starting, joining and leaving happen under the folder's `start.lock`
(`flock`), so two sessions starting at once end with ONE exchange, and nobody joins one that is
stopping. A `paper-server` run by hand publishes itself the same way (`managed` false): sessions
join it and never stop it. Linux, standard library only.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from ..errors import ConfigError
from ..timeutil import to_iso_z, utc_now
from .auth import KEY_ID_FILE, PRIVATE_KEY_FILE
from .dir_lock import DataDirLock
from .leases import SUPPORTED, Lease, live_leases, process_alive, process_start

if TYPE_CHECKING:
    from .server import RunningExchange
    from .universe import MarketUniverse

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["ExchangeRecord", "SharedExchange", "IdleWatch", "attach_or_start", "embedded_exchange",
           "published_account_id", "start_lock", "RECORD_FILE",
           "START_LOCK", "LOG_FILE", "IDLE_STOP_S"]

logger = logging.getLogger(__name__)

RECORD_FILE = "exchange.json"     # written by the serving exchange, removed when it stops
START_LOCK = "start.lock"         # held while a session starts, joins or leaves
LOG_FILE = "exchange.log"         # the shared exchange's own output (its last run)
IDLE_STOP_S = 3.0                 # a shared exchange with no live lease this long stops itself
START_WAIT_S = 90.0               # how long a session waits to start (or for another to finish)
STOP_WAIT_S = 15.0                # how long the last session waits for the exchange to end
_POLL_S = 0.02
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]   # the folder holding `kalshi_trading`


@dataclass(frozen=True)
class ExchangeRecord:
    """What a serving exchange publishes in its folder (no key material: the key has its files)."""

    url: str
    pid: int
    pid_start: str | None
    account_id: str | None
    managed: bool                 # True: started for the sessions, stops when they are gone
    market_data: str
    started_time: str
    folder: str = ""              # the folder it serves (`_folder_id`): a copied record is stale

    @classmethod
    def read(cls, data_dir: Path) -> "ExchangeRecord | None":
        """The folder's record, or None (absent, torn by a crash mid-write, or written for another
        folder and copied here with it: then stale)."""
        try:
            raw = json.loads((Path(data_dir) / RECORD_FILE).read_text(encoding="utf-8"))
            record = cls(url=str(raw["url"]), pid=int(raw["pid"]), pid_start=raw.get("pid_start"),
                         account_id=raw.get("account_id"), managed=bool(raw.get("managed", True)),
                         market_data=str(raw.get("market_data", "")),
                         started_time=str(raw.get("started_time", "")), folder=str(raw.get("folder", "")))
            return record if record.folder in ("", _folder_id(data_dir)) else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @classmethod
    def publish(cls, data_dir: Path, *, url: str, account_id: str | None, managed: bool,
                market_data: str) -> "ExchangeRecord":
        """Write this process's record atomically (temp file + `os.replace`)."""
        pid = os.getpid()
        record = cls(url=url, pid=pid, pid_start=process_start(pid), account_id=account_id,
                     managed=managed, market_data=market_data, started_time=to_iso_z(utc_now()),
                     folder=_folder_id(data_dir))
        target = Path(data_dir) / RECORD_FILE
        temporary = target.with_name(f".{RECORD_FILE}.{pid}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(record), handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        return record

    def alive(self) -> bool:
        """True while the process that wrote this record runs."""
        return process_alive(self.pid, self.pid_start)

    def withdraw(self, data_dir: Path) -> None:
        """Remove the folder's record if it is still this one."""
        if ExchangeRecord.read(data_dir) == self:
            (Path(data_dir) / RECORD_FILE).unlink(missing_ok=True)


@contextmanager
def start_lock(data_dir: Path, *, timeout: float = START_WAIT_S,
               blocking: bool = True) -> Iterator[bool]:
    """Hold the folder's `start.lock`; yields False only when `blocking` is False and it is busy.
    A ConfigError after `timeout` seconds names the folder."""
    if fcntl is None:
        yield True
        return
    fd = os.open(Path(data_dir) / START_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield _lock(fd, data_dir, timeout if blocking else None)
    finally:
        os.close(fd)     # drops the lock


def _folder_id(data_dir: Path) -> str:
    """The folder itself (device and inode), whatever path reaches it; a copy is another folder."""
    status = os.stat(data_dir)
    return f"{status.st_dev}:{status.st_ino}"


def _lock(fd: int, data_dir: Path, timeout: float | None) -> bool:
    """Take the flock on `fd`: False at once if busy and `timeout` is None, else wait for it."""
    deadline = time.monotonic() + (timeout or 0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        if timeout is None:
            return False
        if time.monotonic() >= deadline:
            raise ConfigError(f"the paper folder {data_dir} stayed busy for {timeout:g} s "
                              "(another session is starting or stopping its exchange)")
        time.sleep(_POLL_S)


class IdleWatch:
    """The shared exchange's side: calls `on_idle` once no session has held a lease for `grace`
    seconds, holding `start.lock` from then on so nobody joins while it stops (the lock goes
    with the process)."""

    def __init__(self, data_dir: Path, *, grace: float, on_idle: Callable[[], None],
                 poll: float = 0.2) -> None:
        self._data_dir = Path(data_dir)
        self._grace = grace
        self._on_idle = on_idle
        self._poll = poll
        self._done = threading.Event()
        self._fd: int | None = None
        self._thread = threading.Thread(target=self._run, name="paper-idle-watch", daemon=True)

    def start(self) -> "IdleWatch":
        self._thread.start()
        return self

    def _run(self) -> None:
        idle_since: float | None = None
        while not self._done.wait(self._poll):
            try:
                if live_leases(self._data_dir):
                    idle_since = None
                    continue
                idle_since = idle_since if idle_since is not None else time.monotonic()
                if time.monotonic() - idle_since >= self._grace and self._claim():
                    self._on_idle()
                    return
            except OSError as exc:    # the watch must outlive a bad moment, or nothing stops us
                logger.warning("idle watch on %s: %s", self._data_dir, exc)

    def _claim(self) -> bool:
        """Take `start.lock` without waiting (a session leaving holds it and stops us itself) and
        confirm under it that still nobody holds a lease. A deleted paper folder is claimed at
        once: no session can find us through it any more."""
        if fcntl is None:
            return True
        try:
            fd = os.open(self._data_dir / START_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            return True
        try:
            if _lock(fd, self._data_dir, None) and not live_leases(self._data_dir):
                self._fd, fd = fd, None
                return True
            return False
        finally:
            if fd is not None:
                os.close(fd)

    def stop(self) -> None:
        """End the watch and let go of `start.lock` (call after the exchange has stopped)."""
        self._done.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


@dataclass(eq=False)
class SharedExchange:
    """This session's use of the folder's shared exchange; `leave()` ends it (idempotent)."""

    base_url: str
    data_dir: Path
    record: ExchangeRecord
    started: bool                 # this session started it (else it joined)
    others: int                   # other sessions using it when this one arrived
    key_id: str = field(repr=False, default="")
    private_key_path: Path | None = field(repr=False, default=None)
    _lease: Lease | None = field(repr=False, default=None)
    _process: subprocess.Popen | None = field(repr=False, default=None)

    @property
    def account_id(self) -> str | None:
        return self.record.account_id

    @property
    def pid(self) -> int:
        return self.record.pid

    def banner_line(self) -> str:
        """The banner's line: whether this session started the exchange or joined it (and whose)."""
        if not self.record.managed:
            return f"Paper exchange: joined the paper-server (pid {self.pid}); it runs on after you leave"
        if self.started:
            return f"Paper exchange: started by this session (pid {self.pid}); other sessions join it"
        others = f"{self.others} other session{'s' if self.others != 1 else ''}"
        return f"Paper exchange: joined, started by another session (pid {self.pid}; {others} on it)"

    def leave(self) -> None:
        """Give up this session's lease; the last session out stops a managed exchange and waits
        until its process is gone."""
        lease, self._lease = self._lease, None
        if lease is None:
            return
        try:
            with start_lock(self.data_dir, timeout=STOP_WAIT_S):
                lease.release()
                if self.record.managed and not live_leases(self.data_dir) \
                        and ExchangeRecord.read(self.data_dir) == self.record:
                    _stop(self.record, self.data_dir, self._process)
        except (ConfigError, OSError):   # busy, or the folder is gone: the exchange stops itself once idle
            pass
        finally:
            lease.release()              # whatever happened above (Ctrl-C included)
            if self._process is not None:
                self._process.poll()     # reap it if it has ended


def attach_or_start(data_dir: Path, *, market_data: str = "bundled",
                    timeout: float = START_WAIT_S) -> SharedExchange:
    """Join the exchange serving `data_dir`, or start one for the sessions on it.

    A stale record (its process is gone) and stale leases are cleaned first. An exchange that
    holds the folder without publishing itself (one running inside another program) is a
    ConfigError, as before sharing existed."""
    data_dir = Path(data_dir).expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with start_lock(data_dir, timeout=timeout):
            return _attach_or_start_locked(data_dir, market_data, timeout)
    except OSError as exc:   # not a folder, not writable, no room: one line that names it
        raise ConfigError(f"the paper folder {data_dir} cannot be used: "
                          f"{exc.strerror or type(exc).__name__}") from exc


def _attach_or_start_locked(data_dir: Path, market_data: str, timeout: float) -> SharedExchange:
    """`attach_or_start` under the folder's `start.lock`."""
    record = _serving_record(data_dir)
    if record is not None:
        others = len(live_leases(data_dir))
        return _session(data_dir, record, Lease.take(data_dir), started=False, others=others)
    if DataDirLock.is_held(data_dir):
        raise ConfigError(f"another paper exchange is already using {data_dir} (one that other "
                          "sessions cannot join); stop it first or give this one another data folder")
    live_leases(data_dir)       # sweeps leases left by sessions that died
    lease = Lease.take(data_dir)
    process = None
    try:
        process = _spawn(data_dir, market_data)
        record = _await_record(data_dir, process, timeout)
    except BaseException:
        lease.release()
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        raise
    return _session(data_dir, record, lease, started=True, others=0, process=process)


def embedded_exchange(data_dir: Path, *, market_data: str = "bundled",
                      universe: MarketUniverse | None = None) -> RunningExchange | SharedExchange:
    """The app's embedded exchange on `data_dir`: the folder's shared one (`attach_or_start`). A
    given `universe` (tests) cannot cross into another process, so that exchange runs inside this
    session, as it does where sharing is not supported (no `flock` or `/proc`)."""
    if universe is not None or not SUPPORTED:
        from .server import start_paper_exchange  # the engine and market data: only when needed

        return start_paper_exchange(data_dir, market_data=market_data, universe=universe)
    return attach_or_start(data_dir, market_data=market_data)


def published_account_id(data_dir: Path, base_url: str) -> str | None:
    """The paper account id of the exchange serving `data_dir` at `base_url`, if one publishes
    itself there (an app reaching a `paper-server` by URL is then on the same account)."""
    record = ExchangeRecord.read(Path(data_dir).expanduser())
    return record.account_id if record is not None and record.url == base_url and record.alive() else None


def _serving_record(data_dir: Path) -> ExchangeRecord | None:
    """The record of an exchange that serves now; a stale record is removed (its exchange died)."""
    record = ExchangeRecord.read(data_dir)
    if record is None:
        (data_dir / RECORD_FILE).unlink(missing_ok=True)
        return None
    if record.alive() and DataDirLock.is_held(data_dir):
        return record
    if record.alive():          # between removing its record and exiting: let it finish
        _wait_gone(record, None, STOP_WAIT_S)
    (data_dir / RECORD_FILE).unlink(missing_ok=True)
    return None


def _session(data_dir: Path, record: ExchangeRecord, lease: Lease, *, started: bool, others: int,
             process: subprocess.Popen | None = None) -> SharedExchange:
    try:
        key_id = (data_dir / KEY_ID_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        lease.release()
        raise ConfigError(f"the paper key id in {data_dir} cannot be read") from None
    return SharedExchange(base_url=record.url, data_dir=data_dir, record=record, started=started,
                          others=others, key_id=key_id, private_key_path=data_dir / PRIVATE_KEY_FILE,
                          _lease=lease, _process=process)


def _spawn(data_dir: Path, market_data: str) -> subprocess.Popen:
    """`python -m kalshi_trading paper-server` for the sessions, detached from this terminal."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")]))
    argv = [sys.executable, "-m", "kalshi_trading", "paper-server", "--data-dir", str(data_dir),
            "--port", "0", "--market-data", market_data, "--until-unused", f"{IDLE_STOP_S:g}"]
    fd = os.open(data_dir / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, cwd=data_dir,
                                env=env, start_new_session=True, close_fds=True)
    finally:
        os.close(fd)


def _await_record(data_dir: Path, process: subprocess.Popen, timeout: float) -> ExchangeRecord:
    """Wait until the child publishes its record; its own words if it ends first."""
    deadline = time.monotonic() + timeout
    while True:
        record = ExchangeRecord.read(data_dir)
        if record is not None and record.pid == process.pid:
            return record
        if process.poll() is not None:
            raise ConfigError(f"the paper exchange did not start: {_last_words(data_dir)}")
        if time.monotonic() >= deadline:
            raise ConfigError(f"the paper exchange did not start within {timeout:g} s "
                              f"(see {data_dir / LOG_FILE})")
        time.sleep(_POLL_S)


def _last_words(data_dir: Path) -> str:
    try:
        lines = (data_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        lines = []
    said = [line.strip() for line in lines if line.strip()]
    return said[-1][:300] if said else f"no output (see {data_dir / LOG_FILE})"


def _stop(record: ExchangeRecord, data_dir: Path, process: subprocess.Popen | None) -> None:
    """SIGTERM the exchange and wait until its process is gone; SIGKILL if it will not go."""
    for sig, wait in ((signal.SIGTERM, STOP_WAIT_S), (signal.SIGKILL, 5.0)):
        if not record.alive():
            break
        try:
            os.kill(record.pid, sig)
        except ProcessLookupError:
            break
        if _wait_gone(record, process, wait):
            break
    record.withdraw(data_dir)     # a killed exchange could not remove its own


def _wait_gone(record: ExchangeRecord, process: subprocess.Popen | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None:
            process.poll()           # our own child: reap it, or it lingers as a zombie
        if not record.alive():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
