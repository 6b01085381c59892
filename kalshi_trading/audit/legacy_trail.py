"""The trade log earlier versions kept at the top of the log folder, moved once into its account.

Why: before account homes, every account's records went to `<log_dir>/trades.jsonl`. Moving them
into the wrong account would be worse than leaving them, so they move only when it can be known
whose they are: the exchange of the account now in use knows an order they placed (looked up by
`order_id`; an order id belongs to one account). A log that placed no order, or whose orders this
account does not know, stays where it is and the trader is told once; each account is asked once
(`accounts/legacy-trail.json` remembers). The app-wide `errors.log` and `app.log` stay at the top.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable

from .account_home import ACCOUNTS_DIR, AccountHome, AccountHomes
from .jsonl_journal import JSONL_NAME, LOCK_NAME

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["adopt_legacy_trail", "legacy_files", "MARKER_FILE"]

MARKER_FILE = "legacy-trail.json"      # in <log_dir>/accounts/
_LEGACY = re.compile(r"^(trades(-\d{4}-\d{2}-\d{2}(\.\d+)?)?\.jsonl|trades\.log(\.\d{4}-\d{2}-\d{2})?)$")
_ORDERS_ASKED = 3                       # the most recent order ids looked up


def legacy_files(log_dir: Path) -> list[Path]:
    """The trail files an earlier version left at the top of `log_dir`."""
    try:
        return sorted(path for path in Path(log_dir).iterdir() if path.is_file() and _LEGACY.match(path.name))
    except FileNotFoundError:
        return []


def adopt_legacy_trail(log_dir: Path, home: AccountHome,
                       knows_order: Callable[[str], bool]) -> str | None:
    """Move the earlier version's trail into `home` if this account's exchange knows one of its
    orders; returns the one line to tell the trader (moved, or left and why), or None.

    `knows_order(order_id)` asks the exchange; if it raises, nothing is decided and the next
    start asks again."""
    if not legacy_files(log_dir):
        return None
    with AccountHomes(log_dir).locked():     # two sessions starting at once: one of them moves it
        return _adopt(log_dir, home, knows_order)


def _adopt(log_dir: Path, home: AccountHome, knows_order: Callable[[str], bool]) -> str | None:
    files = legacy_files(log_dir)
    marker_path = Path(log_dir) / ACCOUNTS_DIR / MARKER_FILE
    marker = _read(marker_path)
    if not files or home.name in marker.get("checked", []):
        return None
    order_ids = _recent_order_ids([path for path in files if path.suffix == ".jsonl"])
    mine = any(knows_order(order_id) for order_id in order_ids[-_ORDERS_ASKED:])
    if mine and _move_into(files, home.trail_dir):
        _write(marker_path, {**marker, "moved_to": home.name})
        return (f"Moved the trade log of an earlier version from {log_dir} into this account's "
                f"folder {home.trail_dir}")
    marker = {**marker, "checked": [*marker.get("checked", []), home.name]}
    said_before = bool(marker.get("told"))
    _write(marker_path, {**marker, "told": True})
    if said_before:
        return None
    why = ("it placed no order, so whose it is cannot be told" if not order_ids else
           "this account's exchange does not know its orders" if not mine else
           "this account already has a trail of its own")
    return (f"Note: {log_dir / JSONL_NAME} is from an earlier version and was left where it is "
            f"({why}); each account now keeps its own under {log_dir / ACCOUNTS_DIR}")


def _move_into(files: list[Path], trail_dir: Path) -> bool:
    """Move `files` into `trail_dir` unless it has a trail of its own (then False, nothing moved).
    Under the trail's journal lock, so a session of this account writing its first record
    meanwhile is neither overwritten nor mixed in; a file of the trail is never replaced."""
    trail_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(trail_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        if any(trail_dir.glob("trades*.jsonl")) or any((trail_dir / path.name).exists() for path in files):
            return False
        for path in files:
            os.replace(path, trail_dir / path.name)
        return True
    finally:
        os.close(fd)


def _recent_order_ids(paths: list[Path]) -> list[str]:
    """Order ids the records name, oldest first, each once (the journal's files in date order)."""
    seen: dict[str, None] = {}
    for path in sorted(paths, key=lambda p: (p.name == JSONL_NAME, p.name)):
        with open(path, "rb") as reader:
            for raw in reader:
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue     # a torn line
                order_id = rec.get("order_id") if isinstance(rec, dict) else None
                if isinstance(order_id, str) and order_id:
                    seen.pop(order_id, None)
                    seen[order_id] = None
    return list(seen)


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)
