"""Where one account's state lives: a folder per account under the log folder, THE place for it.

Why: one log folder serves every environment and key a trader uses (paper today, the demo
tomorrow, production later), and one trail mixing them would show paper fills in production's
history and hand one account's unanswered orders to another's retries. An account is an
environment + the exchange it talks to + the key it signs with, and its folder is named from those
(`<env>-<exchange>-<last four of the key id>`; never more of the key id). The embedded paper
exchange gets a new port every start, so it is named by its paper folder and the paper account's
own id instead: a restart finds the same folder, and a `paper-reset` (a new paper account) gets a
new one, while the superseded account's folder is archived (renamed `...-archived-<UTC time>`,
marked in its `account.json`), never deleted.

A home holds `account.json` (what it is, for people), `trail/` (the `TradeLogger`'s folder:
trades.jsonl and its rotations, trades.log, the trail's errors.log) and whatever later work keeps
per account: ask `home.file(NAME)` for a path, keep NAME in a constant beside the code that owns
the file, and add a row to ARCHITECTURE.md "Where state lives". App-wide logs (`app.log`,
`errors.log`) stay at the top of the log folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..timeutil import to_iso_z

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: homes are still kept apart, renames not locked
    fcntl = None  # type: ignore[assignment]

__all__ = ["AccountIdentity", "AccountHome", "AccountHomes", "ACCOUNTS_DIR", "ACCOUNT_FILE",
           "TRAIL_DIR", "ARCHIVED"]

ACCOUNTS_DIR = "accounts"        # under the log folder
ACCOUNT_FILE = "account.json"    # in each home
TRAIL_DIR = "trail"              # in each home: the audit trail
ARCHIVED = "-archived-"          # in an archived home's name, before its UTC time
_LOCK_FILE = ".lock"             # in ACCOUNTS_DIR, held while homes are created or renamed
_API_PATH = "/trade-api/v2"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _last4(key_id: str | None) -> str:
    """The key id's last four characters (letters and digits only), or `nokey`."""
    tail = _UNSAFE.sub("", key_id or "")[-4:]
    return tail or "nokey"


@dataclass(frozen=True)
class AccountIdentity:
    """Which account a session trades: enough to name its home, never the full key id."""

    environment: str                  # paper, demo or prod
    exchange: str                     # the folder-name part that names the exchange
    key_last4: str
    where: str                        # the exchange in words (its base URL, or the paper folder)
    paper_folder: str | None = None   # embedded paper only: the paper folder's short hash ...
    paper_account: str | None = None  # ... and the paper account's own id

    @property
    def name(self) -> str:
        """The home's folder name: `<env>-<exchange>-<last4>`."""
        return f"{self.environment}-{self.exchange}-{self.key_last4}"

    @classmethod
    def for_exchange(cls, environment: str, base_url: str, key_id: str | None) -> "AccountIdentity":
        """An exchange reached at `base_url`: named by its host and port (plus a short hash of the
        URL when its path is not the usual `/trade-api/v2`). A URL with no valid port (or host) is a
        ConfigError: it names no exchange, so no account either."""
        try:
            parts = urlsplit(base_url)
            host, port = parts.hostname, parts.port
        except ValueError as exc:     # "Port out of range 0-65535", "Invalid IPv6 URL"
            raise ConfigError(f"KALSHI_BASE_URL is not a valid URL ({exc})") from None
        place = _UNSAFE.sub("_", host or "") or "nohost"
        if port:
            place += f"_{port}"
        if parts.path.rstrip("/") != _API_PATH:
            place += f"-{_short_hash(base_url)}"
        if len(place) > 64:
            place = f"{place[:55]}-{_short_hash(base_url)}"
        return cls(environment, place, _last4(key_id), base_url)

    @classmethod
    def for_paper_folder(cls, paper_dir: Path, paper_account: str,
                         key_id: str | None) -> "AccountIdentity":
        """The embedded paper exchange: named by its folder and the paper account's id (its port
        changes every start; a reset makes a new account, so a new home)."""
        folder = _short_hash(str(Path(paper_dir).expanduser().resolve()))
        account = _UNSAFE.sub("", paper_account)[:8] or "noacct"
        return cls("paper", f"embedded-{folder}-{account}", _last4(key_id),
                   f"embedded paper exchange in {paper_dir}", paper_folder=folder,
                   paper_account=paper_account)


class AccountHome:
    """One account's folder (`path`); `trail_dir` is its audit trail, `file()` names the rest."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def trail_dir(self) -> Path:
        """The `TradeLogger`'s folder for this account."""
        return self.path / TRAIL_DIR

    @property
    def archived(self) -> bool:
        return ARCHIVED in self.path.name

    def file(self, name: str) -> Path:
        """The path of one more piece of this account's state: `name` is a plain file name that
        this module does not use itself (see the module docstring for how to add one)."""
        if (not name or name != Path(name).name or name.startswith(".")
                or name in (ACCOUNT_FILE, TRAIL_DIR)):
            raise ValueError(f"{name!r} is not a file name an account home can give out")
        return self.path / name

    def info(self) -> dict[str, Any]:
        """`account.json` as written ({} when missing or unreadable)."""
        try:
            data = json.loads((self.path / ACCOUNT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def archive(self, now: datetime, reason: str) -> "AccountHome":
        """Rename this home `<name>-archived-<UTC time>` and say why in its `account.json`; the
        files inside are kept as they are. Returns the archived home."""
        stamp = to_iso_z(now).replace("-", "").replace(":", "").split(".")[0] + "Z"
        target = self.path.with_name(f"{self.path.name}{ARCHIVED}{stamp}")
        os.rename(self.path, target)
        archived = AccountHome(target)
        _write_json(target / ACCOUNT_FILE, {**archived.info(), "archived_time": to_iso_z(now),
                                            "archived_reason": reason})
        return archived


class AccountHomes:
    """Every account home under one log folder (`<log_dir>/accounts/`)."""

    def __init__(self, log_dir: Path) -> None:
        self.root = Path(log_dir) / ACCOUNTS_DIR

    def home_of(self, identity: AccountIdentity) -> AccountHome:
        """Where `identity`'s home is (made or not)."""
        return AccountHome(self.root / identity.name)

    def open(self, identity: AccountIdentity, now: datetime) -> tuple[AccountHome, list[AccountHome]]:
        """The home of `identity`, made on first use; and the homes archived on the way (an
        embedded paper account replaced by a reset of the same paper folder)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self.locked():
            home = self.home_of(identity)
            home.trail_dir.mkdir(parents=True, exist_ok=True)
            if not (home.path / ACCOUNT_FILE).exists():
                _write_json(home.path / ACCOUNT_FILE, {
                    "name": identity.name, "environment": identity.environment,
                    "exchange": identity.where, "key_id_last4": identity.key_last4,
                    "paper_folder": identity.paper_folder, "paper_account": identity.paper_account,
                    "created_time": to_iso_z(now)})
            archived = [old.archive(now, f"the paper account was reset; {identity.name} replaced it")
                        for old in self._superseded_by(identity)]
        return home, archived

    def homes(self) -> list[AccountHome]:
        """Every home, archived ones included, by name."""
        if not self.root.is_dir():
            return []
        return [AccountHome(path) for path in sorted(self.root.iterdir())
                if path.is_dir() and not path.name.startswith(".")]

    def _superseded_by(self, identity: AccountIdentity) -> list[AccountHome]:
        if identity.paper_folder is None:
            return []
        found = []
        for home in self.homes():
            info = home.info()
            if (not home.archived and home.name != identity.name
                    and info.get("paper_folder") == identity.paper_folder
                    and info.get("paper_account") not in (None, identity.paper_account)):
                found.append(home)
        return found

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Homes are made, renamed and filled one session at a time (two may start at once)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            yield
            return
        fd = os.open(self.root / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` atomically (temp file in the same folder, then `os.replace`)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True, indent=1)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
