"""Today's production markets, read once from Kalshi's public (unauthenticated) endpoints.

A bounded snapshot: one page of open markets, one page of open events, the series of those
markets and an orderbook for each market, fetched through the injected `requests.Session` with
short timeouts (a few requests at a time). If the first request fails the caller falls back to the
bundled data; a later failure (one series, one book) only loses that item, which is then filled in
as for recordings (synthesized series, a modest book around the market's best bid and ask).

Clock: the snapshot is taken `now`; live times stay where they are when `speed` is 1, and
otherwise keep their distance from `now` divided by `speed`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import requests

from ..errors import KalshiTradingError
from .market_data_dir import finish_universe
from .market_data_wire import ClockMap, normalize_event, normalize_market, normalize_series, read_book
from .universe import BookSnapshot, MarketUniverse

__all__ = ["LiveDataUnavailable", "DEFAULT_MAX_MARKETS", "DEFAULT_TIMEOUT", "MAX_SERIES", "load_live"]

DEFAULT_MAX_MARKETS = 100
DEFAULT_TIMEOUT = (3.05, 5.0)  # (connect, read) seconds per request
MAX_SERIES = 40
_WORKERS = 4
_RECORD_ERRORS = (KalshiTradingError, ValueError, TypeError, KeyError, AttributeError)


class LiveDataUnavailable(KalshiTradingError):
    """The public market endpoints could not be read; the message is one short line."""


class _Reader:
    """GETs JSON under `base_url`; every failure becomes LiveDataUnavailable (translated here only)."""

    def __init__(self, session: requests.Session, base_url: str, timeout: tuple[float, float]) -> None:
        self._session, self._base, self._timeout = session, base_url.rstrip("/"), timeout
        self.host = urlsplit(base_url).netloc or base_url

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        try:
            response = self._session.get(self._base + path, params=params, timeout=self._timeout,
                                         headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise LiveDataUnavailable(f"{type(exc).__name__} contacting {self.host}") from None
        if response.status_code != 200:
            where = urlsplit(self._base + path).path
            raise LiveDataUnavailable(f"HTTP {response.status_code} from {self.host}{where}")
        try:
            body = response.json()
        except ValueError:
            raise LiveDataUnavailable(f"non-JSON answer from {self.host}") from None
        if not isinstance(body, dict):
            raise LiveDataUnavailable(f"unexpected answer from {self.host}")
        return body

    def try_get(self, path: str, params: dict[str, Any] | None = None) -> dict | None:
        try:
            return self.get(path, params)
        except LiveDataUnavailable:
            return None


def load_live(session: requests.Session, base_url: str, *, start: datetime, now: datetime, speed: float,
              max_markets: int = DEFAULT_MAX_MARKETS,
              timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> MarketUniverse:
    """A universe of up to `max_markets` open production markets with their books.

    Raises LiveDataUnavailable when the market list itself cannot be read.
    """
    reader = _Reader(session, base_url, timeout)
    body = reader.get("/markets", {"status": "open", "limit": max_markets, "mve_filter": "exclude"})
    to_clock = ClockMap(now, now, speed)
    universe = MarketUniverse(source=f"live:{reader.host}")
    skipped = 0
    for raw in (body.get("markets") or [])[:max_markets]:
        try:
            market = normalize_market(raw, to_clock)
        except _RECORD_ERRORS:
            skipped += 1
            continue
        universe.markets[market["ticker"]] = market
    events = reader.try_get("/events", {"status": "open", "limit": 200}) or {}
    for raw in events.get("events") or []:
        if isinstance(raw, dict) and raw.get("event_ticker"):
            try:
                universe.events[raw["event_ticker"]] = normalize_event(raw, to_clock)
            except _RECORD_ERRORS:
                skipped += 1
    universe.events = {t: e for t, e in universe.events.items()
                       if any(m["event_ticker"] == t for m in universe.markets.values())}
    series_wanted = sorted({t.split("-")[0] for t in
                            (m["event_ticker"] for m in universe.markets.values())} |
                           {e["series_ticker"] for e in universe.events.values()})[:MAX_SERIES]
    books = _fetch_all(reader, universe, series_wanted)
    finish_universe(universe, start=start, recorded_books=books, keep_open=False)
    universe.notes.append(f"live snapshot of {len(universe.markets)} open markets from {reader.host}, "
                          f"{len(books)} books fetched" + (f", {skipped} unreadable records" if skipped else ""))
    return universe


def _fetch_all(reader: _Reader, universe: MarketUniverse, series_wanted: list[str]) -> dict[str, BookSnapshot]:
    """Series and orderbooks, a few requests at a time; each failure only loses that item."""
    tickers = list(universe.markets)

    def series(ticker: str) -> tuple[str, dict | None]:
        return ticker, reader.try_get(f"/series/{quote(ticker, safe='')}")

    def book(ticker: str) -> tuple[str, dict | None]:
        return ticker, reader.try_get(f"/markets/{quote(ticker, safe='')}/orderbook")

    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="live-market-data") as pool:
        series_results = list(pool.map(series, series_wanted))
        book_results = list(pool.map(book, tickers))
    for ticker, body in series_results:
        raw = (body or {}).get("series")
        if isinstance(raw, dict):
            _store(lambda: universe.series.__setitem__(ticker, normalize_series(raw)))
    books: dict[str, BookSnapshot] = {}
    for ticker, body in book_results:
        if body is not None:
            _store(lambda: books.__setitem__(ticker, read_book(body, ticker)))
    return books


def _store(action: Callable[[], None]) -> None:
    try:
        action()
    except _RECORD_ERRORS:
        pass
