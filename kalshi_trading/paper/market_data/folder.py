"""A folder of recorded raw API responses (any wire era) as a `MarketUniverse`.

Every `*.json` file under the folder is read; what it holds is told by its keys (see
wire.classify), so file names do not matter except to name an orderbook's ticker. A
file that is not JSON, or not a response we use, is skipped and the rest still load.

Clock: the folder is dated by the latest `_metadata.recorded_at`, else by the latest creation,
update, open or trade time it contains; that moment lands on the replay `start` and all times
keep their distance from it, divided by `speed`. Recorded trades therefore land before `start`:
they are history (the trades list, the last price), replayed as prints the engine applies at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Callable

from ...errors import KalshiTradingError
from ...money import PriceGrid
from ...timeutil import parse_iso, to_iso_z
from ..universe import BookSnapshot, MarketUniverse, MarketUpdate, synthetic_series
from .books import MODEST_SIDE_DEPTH, book_from_top, top_of_book_fields
from .wire import (ClockMap, Recording, classify, normalize_event, normalize_market, normalize_series,
                   observed_times, read_book, read_trade, unwrap)

__all__ = ["STATIC_MIN_OPEN", "load_dir", "finish_universe"]

logger = logging.getLogger(__name__)

# Recorded markets that were trading stay open at least this long after `start` (replay clock),
# so an offline exchange always has something to trade; their close_time is moved if needed.
STATIC_MIN_OPEN = timedelta(days=30)
_READ_ERRORS = (KalshiTradingError, ValueError, TypeError, KeyError, AttributeError)


@dataclass
class _Folder:
    recordings: list[tuple[str, Recording]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _read_folder(folder: Path, on_notice: Callable[[str], None]) -> _Folder:
    result = _Folder()
    for path in sorted(p for p in folder.rglob("*.json") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            on_notice(f"skipped {name}: not readable JSON ({type(exc).__name__})")
            continue
        meta, body = unwrap(document)
        recording = classify(body, meta=meta, file_stem=path.stem)
        if recording.empty:
            result.skipped.append(name)
            continue
        result.recordings.append((name, recording))
    return result


def _origin(recordings: list[tuple[str, Recording]], start: datetime) -> datetime:
    stamped = [rec.recorded_at for _, rec in recordings if rec.recorded_at is not None]
    if stamped:
        return max(stamped)
    observed = [moment for _, rec in recordings for moment in observed_times(rec)]
    return max(observed) if observed else start


def load_dir(folder: Path, *, start: datetime, speed: float, on_notice: Callable[[str], None],
             source: str | None = None) -> MarketUniverse:
    """Load every recorded response under `folder`; raises FileNotFoundError if it is no folder."""
    if not folder.is_dir():
        raise FileNotFoundError(f"market data folder {folder} not found")
    read = _read_folder(folder, on_notice)
    recordings = sorted(read.recordings, key=lambda item: (item[1].recorded_at or start, item[0]))
    to_clock = ClockMap(_origin(recordings, start), start, speed)
    universe = MarketUniverse(source=source or f"dir:{folder}")
    recorded_books: dict[str, BookSnapshot] = {}
    trades: list[MarketUpdate] = []
    for name, rec in recordings:
        bad = _absorb(universe, rec, to_clock, recorded_books, trades)
        eras = f"era {rec.era}" if rec.era else "no prices"
        universe.notes.append(f"{name}: {len(rec.markets)} markets, {len(rec.events)} events, "
                              f"{len(rec.series)} series, {len(rec.books)} books, "
                              f"{len(rec.trades)} trades ({eras})")
        if bad:
            on_notice(f"{name}: skipped {bad} unreadable record(s)")
    if read.skipped:
        universe.notes.append(f"ignored {len(read.skipped)} file(s) holding nothing we use: "
                              + ", ".join(read.skipped[:8]) + (" ..." if len(read.skipped) > 8 else ""))
    universe.timeline.extend(u for u in trades if u.ticker in universe.markets)
    finish_universe(universe, start=start, recorded_books=recorded_books)
    return universe


def _absorb(universe: MarketUniverse, rec: Recording, to_clock: ClockMap,
            books: dict[str, BookSnapshot], trades: list[MarketUpdate]) -> int:
    """Normalize one file's records into `universe`; returns how many records were unreadable."""
    bad = 0
    steps: list[tuple[list, Callable]] = [
        (rec.series, lambda raw: universe.series.__setitem__(raw["ticker"], normalize_series(raw))),
        (rec.events, lambda raw: universe.events.__setitem__(raw["event_ticker"], normalize_event(raw, to_clock))),
        (rec.markets, lambda raw: universe.markets.__setitem__(raw["ticker"], normalize_market(raw, to_clock))),
        (rec.trades, lambda raw: _add_trade(trades, raw, to_clock)),
        (list(rec.books.items()), lambda item: books.__setitem__(item[0], read_book(item[1], item[0]))),
    ]
    for records, apply in steps:
        for raw in records:
            try:
                apply(raw)
            except _READ_ERRORS as exc:
                bad += 1
                logger.debug("unreadable record skipped: %s", exc)
    return bad


def _add_trade(trades: list[MarketUpdate], raw: dict, to_clock: ClockMap) -> None:
    when, ticker, prints = read_trade(raw, to_clock)
    trades.append(MarketUpdate(at=when or to_clock.start, ticker=ticker, trade=prints))


def finish_universe(universe: MarketUniverse, *, start: datetime,
                    recorded_books: dict[str, BookSnapshot] | None = None, keep_open: bool = True) -> None:
    """Fill the gaps recordings leave: parents, books, open windows; sort the timeline.

    - an event no file described is made from its markets; a series likewise (fee type quadratic);
    - an active market whose close_time falls before start + STATIC_MIN_OPEN is kept open that long
      (recordings only: `keep_open=False` for live data, whose close times are real);
    - books: a recorded orderbook wins; an active market without one gets a modest book around
      its recorded best bid and ask (MODEST_SIDE_DEPTH contracts a side); its top-of-book fields
      are then rewritten from the book so the two agree.
    """
    recorded_books = recorded_books or {}
    for market in universe.markets.values():
        if market["event_ticker"] not in universe.events:
            universe.events[market["event_ticker"]] = _event_for(market)
    for event in universe.events.values():
        if event["series_ticker"] not in universe.series:
            universe.series[event["series_ticker"]] = synthetic_series(
                event["series_ticker"], title=event.get("title") or event["series_ticker"],
                category=event.get("category") or "")
    moved = 0
    for ticker, market in universe.markets.items():
        if keep_open and market["status"] == "active":
            moved += _keep_open(market, start)
        book = recorded_books.get(ticker)
        if book is None and market["status"] == "active" and ticker not in universe.books:
            grid = PriceGrid.from_api(market.get("price_ranges"))
            book = book_from_top(Decimal(market["yes_bid_dollars"]), Decimal(market["yes_ask_dollars"]),
                                 grid, yes_depth=MODEST_SIDE_DEPTH, no_depth=MODEST_SIDE_DEPTH)
        if book is not None:
            universe.books[ticker] = book
            market.update(top_of_book_fields(book))
    if moved:
        universe.notes.append(f"kept {moved} recorded active market(s) open: close_time moved to "
                              f"{to_iso_z(start + STATIC_MIN_OPEN)}")
    universe.timeline.sort(key=lambda update: update.at)


def _keep_open(market: dict, start: datetime) -> int:
    floor = start + STATIC_MIN_OPEN
    if parse_iso(market["close_time"]) >= floor:
        return 0
    text = to_iso_z(floor)
    market["close_time"] = text
    for name in ("expected_expiration_time", "latest_expiration_time", "expiration_time"):
        if name in market and parse_iso(market[name]) < floor:
            market[name] = text
    if parse_iso(market["open_time"]) > start:
        market["open_time"] = to_iso_z(start)
    return 1


def _event_for(market: dict) -> dict:
    """An EventData for a market whose event no file described (series = the ticker's first part)."""
    event_ticker = market["event_ticker"]
    return {"event_ticker": event_ticker, "series_ticker": event_ticker.split("-")[0],
            "title": market.get("title") or event_ticker, "sub_title": "",
            "collateral_return_type": "", "mutually_exclusive": False, "settlement_sources": [],
            "strike_period": ""}
