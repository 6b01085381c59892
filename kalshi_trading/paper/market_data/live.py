"""Today's production markets, read once from Kalshi's public (unauthenticated) endpoints.

A bounded snapshot: one page of open markets, one page of open events, the series of those
markets and an orderbook for each market, fetched through the injected `requests.Session` with
short timeouts (a few requests at a time). If the first request fails the caller falls back to the
bundled data; a later failure (one series, one book) only loses that item, which is then filled in
as for recordings (synthesized series, a modest book around the market's best bid and ask).

Clock: the snapshot is taken `now`; live times stay where they are when `speed` is 1, and
otherwise keep their distance from `now` divided by `speed`.

`LiveRefresher` then keeps the snapshot from going stale where it matters: a background thread
owned by the running exchange polls `GET /markets/{t}/orderbook` and `GET /markets/{t}` for the
markets users care about (every market with a resting user order or an open user position, then
the most recently read ones), at most `max_per_cycle` markets every `interval` seconds (oldest-polled
first), and feeds the changes to `engine.apply_updates` as the replay's `MarketUpdate`s: a new book
(which may fill resting user orders), a status that is no longer open (which cancels them), and a
`finalized` result (which settles). Not refreshed: markets nobody touches, the market list itself
(no new markets appear), prices and volumes in the market records, and public trade prints (live
has none; the only fills come from books crossing user orders). A failing host is logged once per
outage at WARNING; the last books stay and the next cycle retries.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote, urlsplit

import requests

from ...errors import KalshiTradingError
from ...money import ONE, ZERO, parse_dollars
from ..universe import BookSnapshot, MarketUniverse, MarketUpdate
from .folder import finish_universe
from .wire import ClockMap, normalize_event, normalize_market, normalize_series, read_book

if TYPE_CHECKING:  # annotations only; the engine is loaded lazily (the CLI's --help)
    from ..engine import PaperEngine

__all__ = ["LiveDataUnavailable", "DEFAULT_MAX_MARKETS", "DEFAULT_TIMEOUT", "MAX_SERIES", "load_live",
           "LiveRefresher", "REFRESH_INTERVAL", "REFRESH_MAX_PER_CYCLE", "REFRESH_RECENT"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_MARKETS = 100
DEFAULT_TIMEOUT = (3.05, 5.0)  # (connect, read) seconds per request
MAX_SERIES = 40
_WORKERS = 4
REFRESH_INTERVAL = 5.0      # seconds between refresh cycles
REFRESH_MAX_PER_CYCLE = 8   # markets per cycle, 2 GETs each: <= 3.2 requests/s at the default interval
REFRESH_RECENT = 16         # most recently read markets kept fresh besides the users' own
_RECORD_ERRORS = (KalshiTradingError, ValueError, TypeError, KeyError, AttributeError, ArithmeticError)


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


_SETTLED = ("finalized", "settled")
_CLOSING = ("closed", "determined", "disputed", "amended") + _SETTLED   # a pause is not mirrored


@dataclass(frozen=True)
class _Polled:
    """One market as live showed it; `result` only when finalized with a usable result."""

    ticker: str
    book: BookSnapshot
    status: str
    result: str | None
    value: Decimal | None


class LiveRefresher:
    """Polls live books, statuses and results of the markets users care about (module docstring).

    `start()` runs `run_once()` every `interval` seconds on a daemon thread until `stop()`;
    `note_read(ticker)` (the engine's `on_market_read` hook) marks a market as recently wanted.
    """

    def __init__(self, engine: PaperEngine, session: requests.Session, base_url: str, *,
                 clock: Callable[[], datetime], interval: float = REFRESH_INTERVAL,
                 max_per_cycle: int = REFRESH_MAX_PER_CYCLE, recent: int = REFRESH_RECENT,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, own_session: bool = False) -> None:
        if not interval > 0 or max_per_cycle < 1:
            raise ValueError("interval must be positive and max_per_cycle at least 1")
        self._engine, self._clock, self._interval = engine, clock, interval
        self._max, self._recent_max = max_per_cycle, recent
        self._session, self._own_session = session, own_session
        self._reader = _Reader(session, base_url, timeout)
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._polled: dict[str, int] = {}       # ticker -> cycle it was last polled in
        self._books: dict[str, BookSnapshot] = {}  # the last book applied per ticker
        self._cycle = 0
        self._rounds = 0
        self._outage = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    @property
    def rounds(self) -> int:
        """Refresh rounds the background thread has finished, whether they polled, failed or found
        nothing to poll. Only observed (tests wait for it to move instead of sleeping); a round counts
        once `run_once()` has returned or raised, so its polls and updates are already applied."""
        return self._rounds

    def note_read(self, ticker: str) -> None:
        with self._recent_lock:
            self._recent[ticker] = None
            self._recent.move_to_end(ticker)
            while len(self._recent) > self._recent_max:
                self._recent.popitem(last=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="paper-live-refresh", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """End the thread; an update it is about to apply is dropped (checked under the engine lock).
        A request in flight may outlive `timeout`; the daemon thread then ends on its own and closes
        the session itself (closing it under a running request would let its next GET open a new
        connection that nobody closes)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if thread is None or not thread.is_alive():
            self._close_session()

    def _close_session(self) -> None:
        if self._own_session:
            self._session.close()

    def _run(self) -> None:
        failed_before = False
        try:
            while not self._stop.wait(self._interval):
                try:
                    self.run_once()
                    failed_before = False
                except Exception:  # noqa: BLE001 - a refresh bug must never take the exchange down
                    if not failed_before:
                        logger.warning("live market data refresh failed; retrying every %gs",
                                       self._interval, exc_info=True)
                    failed_before = True
                self._rounds += 1   # only this thread writes it
        finally:
            self._close_session()   # stop() leaves it to us when we outlived its join

    def choose(self) -> list[str]:
        """This cycle's markets: users' first, then recent reads; least recently polled first."""
        watched = sorted(self._engine.watched_tickers())
        with self._recent_lock:
            recent = list(reversed(self._recent))
        with self._engine.lock:
            known, settled = set(self._engine.markets), set(self._engine.settled)
        wanted = [t for t in dict.fromkeys(watched + recent) if t in known and t not in settled]
        wanted.sort(key=lambda ticker: self._polled.get(ticker, -1))   # stable: users' stay first
        return wanted[:self._max]

    def run_once(self) -> int:
        """One cycle: poll the chosen markets and apply what changed. Returns markets polled OK."""
        self._cycle += 1
        chosen = self.choose()
        polled: list[_Polled] = []
        problem = None
        for ticker in chosen:
            if self._stop.is_set():
                return 0
            self._polled[ticker] = self._cycle
            try:
                polled.append(self._poll(ticker))
            except _RECORD_ERRORS as exc:
                problem = problem or str(exc)
                logger.debug("live refresh of %s failed: %s", ticker, exc)
        self._note_health(len(chosen), len(polled), problem)
        if polled:
            self._apply(polled)
        return len(polled)

    def _poll(self, ticker: str) -> _Polled:
        quoted = quote(ticker, safe="")
        book = read_book(self._reader.get(f"/markets/{quoted}/orderbook"), ticker)
        raw = self._reader.get(f"/markets/{quoted}").get("market")
        if not isinstance(raw, dict):
            raise LiveDataUnavailable(f"no market record for {ticker} from {self._reader.host}")
        market = normalize_market(raw, lambda moment: moment)
        status, result = market["status"], market["result"]
        value = parse_dollars(market["settlement_value_dollars"], "settlement_value_dollars") \
            if market.get("settlement_value_dollars") else None
        usable = result in ("yes", "no") or (result == "scalar" and value is not None and ZERO <= value <= ONE)
        if status not in _SETTLED or not usable:
            result, value = None, None
        return _Polled(ticker, book, status, result, value)

    def _note_health(self, tried: int, ok: int, problem: str | None) -> None:
        if tried and not ok and not self._outage:
            self._outage = True
            logger.warning("live market data refresh failing (%s); keeping the last books, "
                           "retrying every %gs", problem, self._interval)
        elif ok and self._outage:
            self._outage = False
            logger.info("live market data refresh recovered")

    def _apply(self, polled: list[_Polled]) -> None:
        engine = self._engine
        with engine.lock:
            if self._stop.is_set():
                return
            at = self._clock()
            updates = [u for u in (self._update(at, item) for item in polled) if u is not None]
            if updates:
                engine.apply_updates(updates)
            for item in polled:
                self._books[item.ticker] = item.book

    def _update(self, at: datetime, polled: _Polled) -> MarketUpdate | None:
        """What changed since the last book applied and the engine's status, or None."""
        current = self._engine.markets.get(polled.ticker)
        if current is None:
            return None
        book = polled.book if self._books.get(polled.ticker) != polled.book else None
        status = polled.status if polled.status in _CLOSING else None
        if status == current.status and polled.result is None:
            status = None
        if book is None and status is None:
            return None
        return MarketUpdate(at=at, ticker=polled.ticker, book=book, status=status, result=polled.result,
                            settlement_value=polled.value)
