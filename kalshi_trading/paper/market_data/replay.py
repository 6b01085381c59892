"""Recorded 15-minute XRP markets replayed on the replay clock, from open to settlement.

The bundle (`data/xrp15m_replay.json`, made by `data/build_bundle.py`) holds each recorded
market's top-of-book path, its recorded trades and its result. They are laid out in *slots*: slot k
opens `(k - LEAD_SLOTS) * SLOT_SPACING` (recorded time) after `start`, so at `start` two markets are
already trading (opened 10 and 5 minutes before) and one more opens every 5 minutes; each trades
15 minutes, closes, and is finalized `SETTLE_AFTER` later. All of it runs `speed` times faster.
Slot k replays recorded market k mod M; after the first pass (cycle c = k // M >= 1) the tickers
get an `R<c>` suffix on the event part (`KXXRP15M-26AUG170145R1-45`) so every slot is unique.
Only slots near `now` are built: from those finalized less than KEEP_BEHIND ago to those opening
within HORIZON (both wall time), at most MAX_SLOTS.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from ...money import ONE, ZERO, PriceGrid, fmt_dollars
from ...timeutil import to_iso_z
from ..universe import (BookSnapshot, MarketUniverse, MarketUpdate, TradePrint, synthetic_market,
                        synthetic_series)
from .books import TAPERED_DECI_CENT, book_from_top, top_of_book_fields

__all__ = ["REPLAY_FILE", "SLOT_SPACING", "LEAD_SLOTS", "SETTLE_AFTER", "KEEP_BEHIND", "HORIZON",
           "MAX_SLOTS", "load_replay"]

REPLAY_FILE = Path(__file__).resolve().parent.parent / "data" / "xrp15m_replay.json"
SLOT_SPACING = timedelta(minutes=5)
LEAD_SLOTS = 2
SETTLE_AFTER = timedelta(seconds=60)
KEEP_BEHIND = timedelta(hours=1)
HORIZON = timedelta(hours=24)
MAX_SLOTS = 1200
_GRID = PriceGrid(TAPERED_DECI_CENT)


@dataclass(frozen=True)
class _Recorded:
    """One recorded market: its book path (offset, book) and trades (offset, print)."""

    ticker: str
    event_ticker: str
    result: str
    duration: timedelta
    path: tuple[tuple[timedelta, BookSnapshot], ...]
    trades: tuple[tuple[timedelta, TradePrint], ...]


@lru_cache(maxsize=4)
def _load_bundle(path: Path) -> tuple[str, tuple[_Recorded, ...]]:
    """The recorded markets with their books built once (BookSnapshots are shared by all slots)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    default_depth = Decimal(data["default_side_depth"])
    duration = timedelta(seconds=data["market_seconds"])
    books: dict[tuple, BookSnapshot] = {}
    markets = []
    for raw in data["markets"]:
        path_points = []
        for offset_ms, bid, ask, yes_depth, no_depth in raw["path"]:
            key = (bid, ask, yes_depth, no_depth)
            if key not in books:
                books[key] = book_from_top(Decimal(bid), Decimal(ask), _GRID,
                                           yes_depth=Decimal(yes_depth) or default_depth,
                                           no_depth=Decimal(no_depth) or default_depth)
            path_points.append((timedelta(milliseconds=offset_ms), books[key]))
        trades = tuple((timedelta(milliseconds=offset_ms),
                        TradePrint(_GRID.snap(Decimal(price), up=taker == "yes"), Decimal(count), taker))
                       for offset_ms, price, count, taker in raw["trades"])
        markets.append(_Recorded(raw["ticker"], raw["event_ticker"], raw["result"], duration,
                                 tuple(path_points), trades))
    return data["series_ticker"], tuple(markets)


def _slot_range(start: datetime, now: datetime, speed: float, duration: timedelta) -> range:
    spacing = SLOT_SPACING / speed
    life = (duration + SETTLE_AFTER) / speed
    first = LEAD_SLOTS + math.ceil((now - KEEP_BEHIND - life - start) / spacing)
    last = LEAD_SLOTS + math.floor((now + HORIZON - start) / spacing)
    first = max(first, 0)
    return range(first, max(first, min(last + 1, first + MAX_SLOTS)))


def load_replay(*, start: datetime, speed: float, now: datetime | None = None,
                path: Path = REPLAY_FILE) -> MarketUniverse:
    """The replayed crypto markets around `now` (default: `start`), as a universe of their own."""
    now = now or start
    series_ticker, recorded = _load_bundle(path)
    universe = MarketUniverse(source="bundled")
    universe.series[series_ticker] = _series(series_ticker)
    slots = _slot_range(start, now, speed, recorded[0].duration)
    for k in slots:
        _add_slot(universe, recorded[k % len(recorded)], k // len(recorded), k, start, speed)
    universe.notes.append(
        f"{series_ticker}: {len(recorded)} recorded markets replayed in slots {slots.start}..{slots.stop - 1}, "
        f"one opening every {SLOT_SPACING / speed} (speed {speed:g}), cycling with R<n> tickers")
    return universe


def _series(ticker: str) -> dict:
    series = synthetic_series(ticker, fee_type="quadratic", fee_multiplier=1,
                              title="XRP price up or down in 15 minutes", category="Crypto")
    series.update({"frequency": "fifteen_min", "tags": ["XRP"]})
    return series


def _add_slot(universe: MarketUniverse, rec: _Recorded, cycle: int, k: int, start: datetime,
              speed: float) -> None:
    opens = start + (k - LEAD_SLOTS) * SLOT_SPACING / speed
    closes = opens + rec.duration / speed
    settles = closes + SETTLE_AFTER / speed
    event_ticker = rec.event_ticker if cycle == 0 else f"{rec.event_ticker}R{cycle}"
    ticker = event_ticker + rec.ticker[len(rec.event_ticker):]
    times = [(opens + offset / speed, book) for offset, book in rec.path]
    times[0] = (opens, times[0][1])  # the first recorded book stands from the open
    status, book = "initialized", BookSnapshot()
    if settles <= start:
        status = "finalized"
    elif closes <= start:
        status = "closed"
    elif opens <= start:
        status = "active"
        book = [b for at, b in times if at <= start][-1]
    market = _market_json(rec, ticker, event_ticker, opens, closes, start, speed, status)
    market.update(top_of_book_fields(book))
    universe.markets[ticker] = market
    universe.books[ticker] = book
    universe.events[event_ticker] = _event_json(event_ticker, universe, closes)
    timeline = universe.timeline
    if opens > start:
        timeline.append(MarketUpdate(at=opens, ticker=ticker, status="active", book=times[0][1]))
    timeline.extend(MarketUpdate(at=at, ticker=ticker, book=b) for at, b in times[1:]
                    if start < at < closes)
    timeline.extend(MarketUpdate(at=opens + offset / speed, ticker=ticker, trade=prints)
                    for offset, prints in rec.trades if start < opens + offset / speed < closes)
    if closes > start:
        timeline.append(MarketUpdate(at=closes, ticker=ticker, status="closed", book=BookSnapshot()))
    if settles > start:
        timeline.append(MarketUpdate(at=settles, ticker=ticker, status="finalized", result=rec.result,
                                     settlement_value=ONE if rec.result == "yes" else ZERO))


def _market_json(rec: _Recorded, ticker: str, event_ticker: str, opens: datetime, closes: datetime,
                 start: datetime, speed: float, status: str) -> dict:
    market = synthetic_market(ticker, event_ticker, now=start, status=status,
                              title="XRP price up in next 15 mins?")
    market.update({
        "created_time": to_iso_z(opens - timedelta(hours=1) / speed), "updated_time": to_iso_z(start),
        "open_time": to_iso_z(opens), "close_time": to_iso_z(closes),
        "expected_expiration_time": to_iso_z(closes), "latest_expiration_time": to_iso_z(closes),
        "settlement_timer_seconds": int(SETTLE_AFTER.total_seconds() / speed),
        "yes_sub_title": "Up", "no_sub_title": "Up",
        "rules_primary": ("If the XRP price at close is above the price at open, the market resolves "
                          f"to Yes. Replayed from the recorded Kalshi market {rec.ticker}."),
        "price_level_structure": "tapered_deci_cent", "price_ranges": _GRID.to_api(),
    })
    if status == "finalized":
        market.update({"result": rec.result,
                       "settlement_value_dollars": fmt_dollars(ONE if rec.result == "yes" else ZERO)})
    return market


def _event_json(event_ticker: str, universe: MarketUniverse, closes: datetime) -> dict:
    series_ticker = next(iter(universe.series))
    return {"event_ticker": event_ticker, "series_ticker": series_ticker,
            "title": "XRP price in the next 15 minutes", "sub_title": f"Until {closes:%H:%M} UTC",
            "collateral_return_type": "", "mutually_exclusive": False, "settlement_sources": [],
            "strike_date": to_iso_z(closes), "strike_period": "", "category": "Crypto"}

