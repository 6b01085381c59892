"""What happened on the account while the trader looked elsewhere: fills, orders that ended, settlements.

`ActivityFeed.poll()` asks the exchange for fills and settlements since its last look (two requests;
one more per order, once, when a resting order's expiry has passed or its market settled) and
returns each new one once, as an `Activity`. A fill the trade log
already holds is not news: the executor logs the fills of an order the trader just placed, and a
history screen logs what it lists. The feed itself writes nothing: it only remembers what it has
reported this session. The watch view prints the activities as lines; the menu folds them into one
notice (`notice_line`).
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable, Iterable

from ..errors import KalshiTradingError, NotFoundError
from ..kalshi_client import KalshiClient
from ..models import Fill, Settlement
from ..money import ZERO, fmt_cash, fmt_count, fmt_dollars
from ..timeutil import Clock, from_unix, to_unix
from ..trade_logger import TradeLogger

__all__ = ["ActivityKind", "Activity", "ActivityFeed", "notice_line", "short_count", "short_price",
           "signed_dollars"]

logger = logging.getLogger(__name__)

# How far back each look reaches before the previous one: the exchange's clock and ours differ a
# little, and a fill stamped just before our last look must not fall between two looks. Events
# seen twice are dropped (by fill id, or settlement), so the overlap costs nothing but bytes.
OVERLAP = timedelta(seconds=60)
MAX_SETTLEMENTS_NAMED = 3
RECENT = 50                 # activities the feed keeps for the watch view


class ActivityKind(enum.StrEnum):
    """What happened; the word that starts the event's line."""

    FILL = "fill"
    EXPIRED = "expired"
    CANCELED = "canceled"
    SETTLED = "settled"


@dataclass(frozen=True)
class Activity:
    """One thing that happened on the account, as the trader reads it."""

    at: datetime
    kind: ActivityKind
    ticker: str
    text: str                      # "bought 3 YES KX... @ 0.42"
    pnl: Decimal | None = None     # a settlement's payout less what its contracts cost, net of fees

    def line(self) -> str:
        """`12:01:05Z fill: bought 3 YES KX... @ 0.42` (UTC time of day); a settlement's text
        says `settled` itself: `12:05:00Z KX... settled NO: -$0.80`."""
        head = "" if self.kind is ActivityKind.SETTLED else f"{self.kind.value}: "
        return f"{self.at:%H:%M:%S}Z {head}{self.text}"


def short_count(count: Decimal) -> str:
    """Contracts without a `.00` tail: `3`, `2.50`."""
    text = fmt_count(count)
    return text[:-3] if text.endswith(".00") else text


def short_price(price: Decimal) -> str:
    """A price in as few places as it needs, at least two: `0.42`, `0.425`, `0.4255`. Exact: only
    trailing zeros go."""
    text = fmt_dollars(price, 6).rstrip("0")
    return text + "0" * max(0, 2 - len(text.partition(".")[2]))


def signed_dollars(amount: Decimal) -> str:
    """`+$4.21` / `-$0.30`, never rounded to the cent (see `fmt_cash`)."""
    return f"{'-' if amount < 0 else '+'}${fmt_cash(abs(amount))}"


class ActivityFeed:
    """Reports each fill, ended order and settlement of this session once (see the module)."""

    def __init__(self, client: KalshiClient, logger_: TradeLogger, *, clock: Clock) -> None:
        self._client = client
        self._log = logger_
        self._clock = clock
        self._started = clock()
        self._last_look = self._started
        self.recent: deque[Activity] = deque(maxlen=RECENT)   # what this session reported, oldest first
        self._fills_seen: set[str] = set()
        self._settlements_seen: set[tuple[str, str]] = set()
        self._ends_checked: set[str] = set()

    def poll(self, resting_now: set[str] | None = None) -> list[Activity]:
        """Everything new since the last look, oldest first. Nothing from before the session:
        the notice is about what happened while the trader used this app. `resting_now`, the
        ids of the orders the exchange lists as resting (the watch view has read them anyway),
        also catches orders that ended for another reason (the market closed, another session)."""
        now = self._clock()
        since = max(self._started, self._last_look - OVERLAP)
        resting = {rec["order_id"]: rec for rec in self._log.resting_orders()}
        events = self._new_fills(since, resting)
        settled = self._new_settlements(since)
        events += settled
        events += self._ended_orders(now, {a.ticker for a in settled}, resting_now)
        self._last_look = now
        events.sort(key=lambda a: a.at)
        self.recent.extend(events)
        return events

    def notice_line(self) -> str | None:
        """The menu's one line about what happened since the last screen; None when nothing did.

        It must never cost the trader the menu: a failed look is logged (app.log) and skipped,
        and the next look covers the same ground (the window overlaps)."""
        try:
            return notice_line(self.poll())
        except KeyboardInterrupt:
            return None
        except KalshiTradingError as exc:
            logger.warning("activity check failed: %s", exc)
        except Exception:  # noqa: BLE001 - a notice is a courtesy: a bug in it must not stop the menu
            logger.exception("activity check failed unexpectedly")
        return None

    # --- the three sources -----------------------------------------------------------------

    def _new_fills(self, since: datetime, resting: dict[str, dict]) -> list[Activity]:
        fills = [fill for fill in self._client.iter_fills(min_ts=to_unix(since))
                 if fill.fill_id not in self._fills_seen
                 and (fill.created_time is None or fill.created_time >= since)
                 and not self._log.known_fill(fill.fill_id)]
        self._fills_seen.update(fill.fill_id for fill in fills)
        return [Activity(fill.created_time or self._clock(), ActivityKind.FILL, fill.ticker,
                         fill_text(fill, resting.get(fill.order_id))) for fill in fills]

    def _new_settlements(self, since: datetime) -> list[Activity]:
        found = []
        for settlement in self._client.iter_settlements(min_ts=to_unix(since)):
            key = (settlement.ticker, str(settlement.settled_time))
            when = settlement.settled_time or self._clock()
            if key in self._settlements_seen or when < since:
                continue
            self._settlements_seen.add(key)
            pnl = settlement_pnl(settlement)
            found.append(Activity(when, ActivityKind.SETTLED, settlement.ticker,
                                  f"{settlement.ticker} {settled_as(settlement)}: {signed_dollars(pnl)}", pnl))
        return found

    def _ended_orders(self, now: datetime, settled: set[str], resting_now: set[str] | None) -> list[Activity]:
        """Orders the log thinks rest, read back (one request each, once a session) only when
        one's expiry has passed, its market just settled (the exchange cancels resting orders
        then) or the exchange no longer lists it as resting. Read, not recorded: menu 6's sync
        records how each ended."""
        believed = {rec["order_id"]: rec for rec in self._log.resting_orders()}
        due = [oid for oid, rec in believed.items() if oid not in self._ends_checked
               and (_expired(rec, now) or rec.get("ticker") in settled
                    or (resting_now is not None and oid not in resting_now))]
        events = []
        for oid in due:
            try:
                order = self._client.get_order(oid)
            except NotFoundError:
                order = None
            if order is not None and order.status == "resting":
                continue          # not ended after all (the exchange had not expired it yet): look again later
            self._ends_checked.add(oid)
            if order is None or order.status != "canceled":
                continue          # executed: its fills were the news
            ended = order.last_update_time or now
            if ended < self._started:
                continue          # it ended before this session
            expired = order.expiration_time is not None and order.expiration_time <= ended
            events.append(Activity(ended, ActivityKind.EXPIRED if expired else ActivityKind.CANCELED,
                                   order.ticker, order_text(believed[oid])))
        return events


# --- wording ---------------------------------------------------------------------------------

def fill_text(fill: Fill, placed: dict | None) -> str:
    """`bought 3 YES KX... @ 0.42`, in the terms the order was placed in when the log knows them;
    otherwise the book side read as a buy (under netting an ask fill buys NO or sells YES)."""
    action = str(placed.get("action")) if placed else "buy"
    outcome = str(placed.get("outcome_side")) if placed else fill.outcome_side.value
    price = fill.no_price if outcome == "no" else fill.yes_price
    verb = "sold" if action == "sell" else "bought"
    return f"{verb} {short_count(fill.count)} {outcome.upper()} {fill.ticker} @ {short_price(price)}"


def order_text(rec: dict) -> str:
    """`buy 5 YES KX... @ 0.40` from the order's submission record."""
    outcome = str(rec.get("outcome_side") or "yes")
    price = _logged(rec.get("no_price_dollars" if outcome == "no" else "yes_price_dollars"), short_price)
    count = _logged(rec.get("count_fp"), short_count)
    return f"{rec.get('action') or 'order'} {count} {outcome.upper()} {rec.get('ticker')} @ {price}"


def _logged(value: object, fmt: Callable[[Decimal], str]) -> str:
    """A number from a log record in the screen's short form; as written when it is not one."""
    try:
        return fmt(Decimal(str(value)))
    except ArithmeticError:
        return str(value)


def settled_as(settlement: Settlement) -> str:
    """`settled YES`, `settled NO`, `settled at 0.46` (scalar)."""
    if settlement.market_result in ("yes", "no"):
        return f"settled {settlement.market_result.upper()}"
    value = f" at {short_price(settlement.value)}" if settlement.value is not None else ""
    return f"settled {settlement.market_result}{value}"


def settlement_pnl(settlement: Settlement) -> Decimal:
    """What the market made in the end, as `pnl` counts it: the payout less what the contracts
    cost and less their trading fees (the settlement record's `fee_cost`)."""
    return settlement.revenue - settlement.yes_total_cost - settlement.no_total_cost - settlement.fee_cost


def _expiry(rec: dict) -> datetime | None:
    value = rec.get("expiration_time")
    return from_unix(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _expired(rec: dict, now: datetime) -> bool:
    expiry = _expiry(rec)
    return expiry is not None and expiry <= now


def notice_line(events: Iterable[Activity]) -> str | None:
    """`Since the last screen: 2 fills, 1 order expired, KX... settled YES: +$4.21`; None if nothing."""
    events = list(events)
    if not events:
        return None
    parts = []
    for kind, word in ((ActivityKind.FILL, "fill"), (ActivityKind.EXPIRED, "expired"),
                       (ActivityKind.CANCELED, "canceled")):
        n = sum(1 for e in events if e.kind is kind)
        if n and kind is ActivityKind.FILL:
            parts.append(f"{n} fill{'s' if n != 1 else ''}")
        elif n:
            parts.append(f"{n} order{'s' if n != 1 else ''} {word}")
    settled = [e for e in events if e.kind is ActivityKind.SETTLED]
    parts += [e.text for e in settled[:MAX_SETTLEMENTS_NAMED]]
    if len(settled) > MAX_SETTLEMENTS_NAMED:
        rest = settled[MAX_SETTLEMENTS_NAMED:]
        total = sum((e.pnl or ZERO for e in rest), ZERO)
        parts.append(f"{len(rest)} more settled: {signed_dollars(total)}")
    return "Since the last screen: " + ", ".join(parts)
