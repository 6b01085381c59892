"""The audit trail: every order event, in Kalshi's terms, kept where a crash cannot lose it.

Records go to the crash-safe JSONL journal (audit/jsonl_journal.py: fsynced appends, torn-line
tolerance, daily rotation, retention, a folder shared by two apps) and are mirrored to the
human logs `trades.log` and `errors.log`, which rotate at midnight UTC through the stdlib.
Every order record says what the trader did and the order's state (audit/record_fields.py).
Fills and settlements come from the exchange and are deduplicated (by `fill_id`; by market and
settled time), across restarts too, so the history shows what really traded and paid, and its
`cash_change_dollars` add up to the P&L (audit/cash_flow.py); submissions are followed from
`sending` to their outcome so an unanswered one is never forgotten. The logger never sees keys;
callers pass it messages of our own exception types, which carry no secrets.
"""

from __future__ import annotations

import enum
import logging
import logging.handlers
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from .audit.cash_flow import add_cash_changes
from .audit.csv_export import CSV_COLUMNS, write_csv
from .audit.jsonl_journal import (ERRORS_RETENTION_DAYS, JSONL_NAME, TRADES_RETENTION_DAYS, JsonlJournal,
                                  utc_date)
from .audit.known_orders import KnownOrders
from .audit.record_fields import order_fields, settlement_fields, settlement_key, side_price
from .errors import UserInputError
from .models import Fill, Order, Settlement
from .money import ZERO, fmt_count
from .timeutil import Clock, parse_iso, to_iso_z, utc_now

__all__ = ["TradeLogger", "EventType", "CSV_COLUMNS", "TRADES_RETENTION_DAYS",
           "ERRORS_RETENTION_DAYS", "JSONL_NAME"]

log = logging.getLogger(__name__)

# `error` statuses after which a submission certainly placed no order.
SETTLED_ERRORS = ("rejected", "not_sent", "not_placed")


class EventType(enum.StrEnum):
    """What a record is about; `settlement` is a market paying out a position (from the exchange)."""

    SUBMISSION = "submission"
    FILL = "fill"
    CANCELLATION = "cancellation"
    AMEND = "amend"
    ERROR = "error"
    SETTLEMENT = "settlement"


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
        given = ", ".join(str(item) for item in items)[:60]
        raise UserInputError(f"event type must be one of {allowed}, not {given!r}") from None


def _human_line(rec: dict) -> str:
    """One readable line: what happened, to which market, in the trader's terms (`sell NO 5.00 @
    0.9500`: the price of the side traded), and where the order stands."""
    parts = [rec["logged_time"], rec["event_type"].upper()]
    for key in ("ticker", "action"):
        if rec.get(key):
            parts.append(str(rec[key]))
    if rec.get("outcome_side"):
        parts.append(str(rec["outcome_side"]).upper())
    if rec.get("count_fp"):
        price, yes = rec.get("price_dollars"), rec.get("yes_price_dollars")
        book = f" (yes {yes})" if yes and price != yes else ""
        parts.append(f"{rec['count_fp']}" + (f" @ {price}{book}" if price else ""))
    for key in ("status", "order_status", "fill_count_fp", "remaining_count_fp", "order_id",
                "client_order_id", "fill_id", "fee_cost", "market_result", "revenue_dollars"):
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
    """Append-only order history in `log_dir`: record, import fills and settlements, query, export CSV."""

    def __init__(self, log_dir: Path | str = Path("logs"), *, clock: Clock = utc_now) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._journal = JsonlJournal(self.log_dir, remember=self._remember, forget=self._reset_state)
        self._fill_ids: set[str] = set()
        self._settlement_keys: set[str] = set()
        self._unanswered: dict[str, dict] = {}  # client_order_id -> its "sending" record
        self._orders = KnownOrders()            # terms, size, fills and end of each order logged
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
        A record with an outcome side and its prices gets `price_dollars`, the price of the side
        traded (the NO price for a NO order), unless it gives one.
        """
        kind = EventType(event_type)
        now = self._clock()
        created = fields.pop("created_time", None) or now
        outcome = fields.get("outcome_side")
        if fields.get("price_dollars") is None and outcome is not None:
            fields["price_dollars"] = side_price(_plain(outcome), fields.get("yes_price_dollars"),
                                                 fields.get("no_price_dollars"))
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
                            status="filled", **self._orders.state_after_fill(fill.order_id, fill.count))
            new += 1
        return new

    def import_settlements(self, settlements: Iterable[Settlement]) -> int:
        """Record settlements not seen before (by market and settled time: the API gives them no
        id); returns how many were new. Each row carries the revenue paid, the result, the counts
        held and the market's trading fees (see audit/record_fields.py)."""
        new = 0
        for settlement in settlements:
            key = settlement_key(settlement)
            if key in self._settlement_keys:
                continue
            with self._journal.exclusive():  # another app sharing this folder may have logged it meanwhile
                self._journal.catch_up()
                if key in self._settlement_keys:
                    continue
                self.record(EventType.SETTLEMENT, **settlement_fields(settlement))
            new += 1
        return new

    def describe_order(self, order: Order, **state: Any) -> dict[str, Any]:
        """An exchange order's record fields in the trader's terms (as this log placed it, else
        read as a buy) with its state; `state` as `order_fields` takes it (a new `yes_price`,
        `total`, `filled`, `remaining`)."""
        terms = self._orders.terms(order.order_id)
        if terms is None:
            with self._journal.exclusive():  # another app sharing this folder may have placed it
                self._journal.catch_up()
            terms = self._orders.terms(order.order_id)
        return order_fields(order, terms, **state)

    def resting_orders(self) -> list[dict]:
        """Orders this log placed that rest as far as the log knows: no cancellation recorded and
        fewer fills logged than their size. Each is its submission record with the order's current
        id (amends may change it) and, as `count_fp`, its current total. The exchange may have
        ended them since (market closed, expiry, another session)."""
        with self._journal.exclusive():
            self._journal.catch_up()
            return self._orders.resting()

    def import_cancellation(self, order: Order, *, message: str) -> bool:
        """Record, once, that the exchange canceled `order` (as it reads now), a resting order this
        log placed: its current price and ids, the trader's terms, and as `count_fp` what was left
        unfilled. False when the log already shows it ended (another app sharing the folder may
        have recorded it)."""
        with self._journal.exclusive():
            self._journal.catch_up()
            if order.order_id not in {rec["order_id"] for rec in self._orders.resting()}:
                return False
            total = self._orders.total(order.order_id) or order.initial_count
            total = max(total, order.fill_count)
            self.record(EventType.CANCELLATION, created_time=order.last_update_time,
                        count_fp=fmt_count(total - order.fill_count), status="canceled", message=message,
                        **order_fields(order, self._orders.terms(order.order_id), total=total,
                                       filled=order.fill_count, remaining=ZERO))
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
        terms = self._orders.terms(fill.order_id)
        if terms is not None:
            return terms
        if fill.side in ("yes", "no") and fill.action in ("buy", "sell"):
            return fill.side, fill.action
        return fill.outcome_side.value, "buy"

    def _remember(self, rec: dict) -> None:
        kind = rec["event_type"]
        if kind == EventType.FILL and isinstance(rec.get("fill_id"), str):
            self._fill_ids.add(rec["fill_id"])
        if kind == EventType.SETTLEMENT and isinstance(rec.get("settlement_key"), str):
            self._settlement_keys.add(rec["settlement_key"])
        self._track_outcome(rec)
        self._orders.remember(rec)

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
        for state in (self._fill_ids, self._settlement_keys, self._unanswered, self._orders):
            state.clear()

    # --- reading -------------------------------------------------------------------------

    def query(self, *, start: datetime | date | str | None = None,
              end: datetime | date | str | None = None, ticker: str | None = None,
              event_types: str | Iterable[str] | None = None) -> list[dict]:
        """Records with `start <= created_time < end` (a date `end` includes that day), oldest first.

        Fills and settlements carry `cash_change_dollars`, replayed over the whole log (a fill's
        cash depends on the position before it, even one older than `start`).
        """
        low, high = _bound(start, end=False), _bound(end, end=True)
        kinds = _event_filter(event_types)
        wanted = ticker.strip().upper() if ticker else None
        timed: list[tuple[datetime, int, dict]] = []
        for sequence, rec in enumerate(self._journal.records()):
            try:
                timed.append((parse_iso(str(rec.get("created_time"))), sequence, rec))
            except ValueError:
                log.warning("record without a readable created_time skipped: %s", rec.get("event_type"))
        timed.sort(key=lambda item: (item[0], item[1]))
        add_cash_changes(rec for _, _, rec in timed)
        return [rec for created, _, rec in timed
                if not ((low and created < low) or (high and created >= high))
                and (kinds is None or rec["event_type"] in kinds)
                and not (wanted and str(rec.get("ticker", "")).upper() != wanted)]

    def export_csv(self, path: Path | str, **filters: Any) -> int:
        """Write the matching records as CSV (audit/csv_export.py: one number format per column),
        atomically (temp file + `os.replace`); returns rows."""
        return write_csv(path, self.query(**filters))

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
