"""The audit trail: every order event, in Kalshi's terms, kept where a crash cannot lose it.

Records go to the crash-safe JSONL journal (audit/jsonl_journal.py: fsynced appends, torn-line
tolerance, daily rotation, retention, a folder shared by two apps) and are mirrored to the
human logs `trades.log` and `errors.log`, which rotate at midnight UTC through the stdlib.
Fills come from the exchange and are deduplicated by `fill_id`, across restarts too, so the
history shows what really traded; submissions are followed from `sending` to their outcome so an
unanswered one is never forgotten. The logger never sees keys; callers pass it messages of our
own exception types, which carry no secrets.
"""

from __future__ import annotations

import csv
import enum
import json
import logging
import logging.handlers
import os
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from .audit.jsonl_journal import (ERRORS_RETENTION_DAYS, JSONL_NAME, TRADES_RETENTION_DAYS, JsonlJournal,
                                  utc_date)
from .errors import UserInputError
from .models import Fill
from .money import fmt_count, to_decimal
from .order_request import Action, OutcomeSide
from .timeutil import Clock, parse_iso, to_iso_z, utc_now

__all__ = ["TradeLogger", "EventType", "CSV_COLUMNS", "TRADES_RETENTION_DAYS",
           "ERRORS_RETENTION_DAYS", "JSONL_NAME"]

log = logging.getLogger(__name__)

CSV_COLUMNS = ("created_time", "event_type", "ticker", "outcome_side", "book_side", "action",
               "count_fp", "yes_price_dollars", "no_price_dollars", "fee_cost", "order_id",
               "client_order_id", "fill_id", "status", "message")

# `error` statuses after which a submission certainly placed no order.
SETTLED_ERRORS = ("rejected", "not_sent", "not_placed")
_FORMULA_START = ("=", "+", "@", "\t", "\r")


class EventType(enum.StrEnum):
    SUBMISSION = "submission"
    FILL = "fill"
    CANCELLATION = "cancellation"
    AMEND = "amend"
    ERROR = "error"


def _plain(value: Any) -> Any:
    """A JSON-safe value: Decimals as fixed-point strings, times as UTC `Z`, enums as values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return to_iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    raise TypeError(f"cannot log a {type(value).__name__} (money and counts must be Decimal)")


def _bound(value: datetime | date | str | None, *, end: bool) -> datetime | None:
    """A query bound as an aware UTC datetime; naive means UTC; a date `end` includes that day."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except ValueError:
            raise UserInputError(f"{value!r} is not a date or time (use YYYY-MM-DD)") from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        day = value + timedelta(days=1) if end else value
        return datetime.combine(day, time.min, tzinfo=timezone.utc)
    raise TypeError(f"a date range bound must be a datetime or date, not {type(value).__name__}")


def _event_filter(event_types: str | Iterable[str] | None) -> set[str] | None:
    if event_types is None:
        return None
    items = [event_types] if isinstance(event_types, str) else list(event_types)
    try:
        return {EventType(str(item).strip().lower()).value for item in items}
    except ValueError:
        allowed = ", ".join(e.value for e in EventType)
        raise UserInputError(f"event type must be one of {allowed}; got {items!r}") from None


def _count(value: Any) -> Decimal | None:
    try:
        return to_decimal(value, "count_fp", floats=True) if value not in (None, "") else None
    except UserInputError:   # a hand-edited log: the count is not tracked, the record still reads
        return None


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) \
        else str(value).lower() if isinstance(value, bool) else str(value)
    # A cell a spreadsheet would run as a formula is quoted, so an exported message stays text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _human_line(rec: dict) -> str:
    """One readable line: what happened, to which market, in the trader's terms."""
    parts = [rec["logged_time"], rec["event_type"].upper()]
    for key in ("ticker", "action", "outcome_side"):
        if rec.get(key):
            parts.append(str(rec[key]))
    if rec.get("count_fp"):
        price = rec.get("yes_price_dollars")
        parts.append(f"{rec['count_fp']}" + (f" @ yes {price}" if price else ""))
    for key in ("status", "order_id", "client_order_id", "fill_id", "fee_cost"):
        if rec.get(key):
            parts.append(f"{key}={rec[key]}")
    if rec.get("message"):
        parts.append(f"- {rec['message']}")
    return " ".join(str(part) for part in parts).replace("\r", " ").replace("\n", " ")


def _rotating_handler(path: Path, level: int) -> logging.Handler:
    handler = logging.handlers.TimedRotatingFileHandler(
        path, when="midnight", utc=True, backupCount=0, encoding="utf-8", delay=True)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


class TradeLogger:
    """Append-only order history in `log_dir`: record, import fills, query, export CSV."""

    def __init__(self, log_dir: Path | str = Path("logs"), *, clock: Clock = utc_now) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._journal = JsonlJournal(self.log_dir, remember=self._remember, forget=self._reset_state)
        self._fill_ids: set[str] = set()
        self._order_terms: dict[str, tuple[str, str]] = {}
        self._unanswered: dict[str, dict] = {}  # client_order_id -> its "sending" record
        self._placed: dict[str, tuple[Decimal, dict]] = {}  # order_id -> (total count, its record)
        self._filled: dict[str, Decimal] = {}               # order_id -> contracts filled (logged)
        # Our own Logger object, not registered with logging.getLogger: each TradeLogger writes
        # only to its own files, and nothing propagates to the root logger's handlers.
        self._human = logging.Logger("kalshi_trading.trade_log", logging.INFO)
        self._human.propagate = False
        self._human.addHandler(_rotating_handler(self.log_dir / "trades.log", logging.INFO))
        self._human.addHandler(_rotating_handler(self.log_dir / "errors.log", logging.ERROR))
        self._journal.load()
        self._journal.purge(utc_date(self._clock()))

    # --- writing -------------------------------------------------------------------------

    def record(self, event_type: EventType | str, **fields: Any) -> dict:
        """Append one event; returns the record as written (fsynced before this returns).

        `created_time` defaults to now (a fill passes the exchange's time); None fields are left out.
        """
        kind = EventType(event_type)
        now = self._clock()
        created = fields.pop("created_time", None) or now
        rec: dict[str, Any] = {"event_type": kind.value, "created_time": _plain(created),
                               "logged_time": to_iso_z(now)}
        rec.update({key: _plain(value) for key, value in fields.items() if value is not None})
        self._journal.append(rec, utc_date(now))
        self._human.log(logging.ERROR if kind is EventType.ERROR else logging.INFO, _human_line(rec))
        return rec

    def import_fills(self, fills: Iterable[Fill]) -> int:
        """Record fills not seen before (by `fill_id`); returns how many were new."""
        new = 0
        for fill in fills:
            if fill.fill_id in self._fill_ids:
                continue
            with self._journal.exclusive():  # another app sharing this folder may have logged it meanwhile
                self._journal.catch_up()
                if fill.fill_id in self._fill_ids:
                    continue
                outcome, action = self._terms_of(fill)
                self.record(EventType.FILL, created_time=fill.created_time, ticker=fill.ticker,
                            outcome_side=outcome, book_side=fill.book_side, action=action,
                            count_fp=fmt_count(fill.count), yes_price_dollars=fill.yes_price,
                            no_price_dollars=fill.no_price, fee_cost=fill.fee_cost,
                            order_id=fill.order_id, fill_id=fill.fill_id, is_taker=fill.is_taker,
                            status="filled")
            new += 1
        return new

    def resting_orders(self) -> list[dict]:
        """Orders this log placed that rest as far as the log knows: no cancellation recorded and
        fewer fills logged than their size. Each is its submission record, `count_fp` its current
        total. The exchange may have ended them since (market closed, expiry, another session)."""
        with self._journal.exclusive():
            self._journal.catch_up()
            return [{**rec, "count_fp": fmt_count(total)} for oid, (total, rec) in self._placed.items()
                    if total > self._filled.get(oid, Decimal(0))]

    def import_cancellation(self, order_id: str, *, filled: Decimal, created_time: datetime | None,
                            message: str) -> bool:
        """Record, once, that the exchange canceled a resting order this log placed (what was not
        `filled` is what was canceled). False when the log already shows it ended (another app
        sharing the folder may have recorded it)."""
        with self._journal.exclusive():
            self._journal.catch_up()
            placed = self._placed.get(order_id)
            if placed is None:
                return False
            total, rec = placed
            fields = {key: rec.get(key) for key in ("ticker", "outcome_side", "book_side", "action",
                                                    "yes_price_dollars", "no_price_dollars",
                                                    "client_order_id")}
            self.record(EventType.CANCELLATION, created_time=created_time, order_id=order_id,
                        count_fp=fmt_count(max(total - filled, Decimal(0))), status="canceled",
                        message=message, **fields)
            return True

    def known_fill(self, fill_id: str) -> bool:
        """True when this fill is already in the log (by this app or another sharing the folder)."""
        if fill_id not in self._fill_ids:
            with self._journal.exclusive():
                self._journal.catch_up()
        return fill_id in self._fill_ids

    def _terms_of(self, fill: Fill) -> tuple[str, str]:
        """The fill in the trader's terms: the submitted order's, else the legacy fields, else
        the book side read as a buy (under netting, selling YES is buying NO)."""
        if fill.order_id in self._order_terms:
            return self._order_terms[fill.order_id]
        if fill.side in ("yes", "no") and fill.action in ("buy", "sell"):
            return fill.side, fill.action
        return fill.outcome_side.value, Action.BUY.value

    def _remember(self, rec: dict) -> None:
        if rec["event_type"] == EventType.FILL and isinstance(rec.get("fill_id"), str):
            self._fill_ids.add(rec["fill_id"])
        order_id, outcome, action = rec.get("order_id"), rec.get("outcome_side"), rec.get("action")
        if (rec["event_type"] == EventType.SUBMISSION and isinstance(order_id, str)
                and outcome in tuple(OutcomeSide) and action in tuple(Action)):
            self._order_terms[order_id] = (outcome, action)
        self._track_outcome(rec)
        self._track_order(rec)

    def _track_order(self, rec: dict) -> None:
        """Follow each order this log placed while it rests: its size (amends change it), the
        fills logged against it, and whether a cancellation was recorded."""
        kind, order_id = rec["event_type"], rec.get("order_id")
        if not isinstance(order_id, str) or not order_id:
            return
        count = _count(rec.get("count_fp"))
        if kind == EventType.FILL:
            self._filled[order_id] = self._filled.get(order_id, Decimal(0)) + (count or Decimal(0))
        elif kind == EventType.SUBMISSION and rec.get("status") == "resting" and count is not None:
            self._placed[order_id] = (count, rec)
        elif kind == EventType.CANCELLATION:
            self._placed.pop(order_id, None)
        elif kind == EventType.AMEND and count is not None:
            placed = self._placed.pop(str(rec.get("replaced_order_id") or order_id), None)
            if placed is not None:
                total = placed[0] - count if rec.get("status") == "decreased" else count
                self._placed[order_id] = (total, placed[1])

    def _track_outcome(self, rec: dict) -> None:
        """Follow each submission from `sending` to its outcome. A submission with an order id
        settles it; so does an `error` without an order id whose status says nothing was placed.
        What is left (an `unknown` outcome, or a crash mid-request) is unanswered."""
        coid, kind, status = rec.get("client_order_id"), rec["event_type"], rec.get("status")
        if not isinstance(coid, str) or not coid:
            return
        if kind == EventType.SUBMISSION and status == "sending":
            self._unanswered[coid] = rec
        elif ((kind == EventType.SUBMISSION and rec.get("order_id"))
              or (kind == EventType.ERROR and not rec.get("order_id") and status in SETTLED_ERRORS)):
            self._unanswered.pop(coid, None)

    def unanswered_submissions(self, ticker: str | None = None) -> list[dict]:
        """Submissions whose outcome the exchange never told us (oldest first): they may or may not
        have placed an order, so the executor looks them up before sending anything like them."""
        with self._journal.exclusive():
            self._journal.catch_up()  # another app sharing this folder may have sent (or settled) some
            pending = list(self._unanswered.values())
        return [rec for rec in pending if ticker is None or rec.get("ticker") == ticker]

    def _reset_state(self) -> None:
        for state in (self._fill_ids, self._order_terms, self._unanswered, self._placed, self._filled):
            state.clear()

    # --- reading -------------------------------------------------------------------------

    def query(self, *, start: datetime | date | str | None = None,
              end: datetime | date | str | None = None, ticker: str | None = None,
              event_types: str | Iterable[str] | None = None) -> list[dict]:
        """Records with `start <= created_time < end` (a date `end` includes that day), oldest first."""
        low, high = _bound(start, end=False), _bound(end, end=True)
        kinds = _event_filter(event_types)
        wanted = ticker.strip().upper() if ticker else None
        matches: list[tuple[datetime, int, dict]] = []
        for sequence, rec in enumerate(self._journal.records()):
            try:
                created = parse_iso(str(rec.get("created_time")))
            except ValueError:
                log.warning("record without a readable created_time skipped: %s", rec.get("event_type"))
                continue
            if (low and created < low) or (high and created >= high):
                continue
            if kinds is not None and rec["event_type"] not in kinds:
                continue
            if wanted and str(rec.get("ticker", "")).upper() != wanted:
                continue
            matches.append((created, sequence, rec))
        matches.sort(key=lambda item: (item[0], item[1]))
        return [rec for _, _, rec in matches]

    def export_csv(self, path: Path | str, **filters: Any) -> int:
        """Write the matching records as CSV, atomically (temp file + `os.replace`); returns rows."""
        rows = self.query(**filters)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile("w", dir=target.parent, prefix=f".{target.name}.",
                                             suffix=".tmp", newline="", encoding="utf-8",
                                             delete=False)
        try:
            with handle:
                writer = csv.writer(handle)
                writer.writerow(CSV_COLUMNS)
                for rec in rows:
                    writer.writerow([_csv_cell(rec.get(column)) for column in CSV_COLUMNS])
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, target)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
        return len(rows)

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the JSONL and the human logs (every record is already on disk)."""
        self._journal.close()
        for handler in list(self._human.handlers):
            handler.close()
            self._human.removeHandler(handler)

    def __enter__(self) -> "TradeLogger":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
