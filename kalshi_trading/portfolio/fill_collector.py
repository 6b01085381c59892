"""Streaming fills into the FIFO ledger: a million raw API dicts in, one ledger per market out.

The API lists fills newest first and a market's fills are spread over many pages, so nothing can
be booked until everything is in. `FillCollector` keeps five ledger values per fill in a flat
per-market list (integers in fifo_ledger.py's units, shared through caches), drops duplicates by
`fill_id`, notes whether the stream really was newest first in one timestamp format, and then
replays each market oldest first: reading backwards is enough in the usual case; anything else
is sorted by the parsed time. This is the hot path of `benchmarks/pnl.py` (a million fills).
"""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter
from typing import Any, Callable, Iterable, Mapping

from ..errors import ResponseFormatError, UserInputError
from ..models import Fill
from ..money import parse_count, parse_dollars
from ..order_request import BookSide
from ..timeutil import parse_iso
from .fifo_ledger import Compact, MarketLedger, to_c2, to_m8, to_p6

__all__ = ["FillCollector"]

_FAST_FIELDS = itemgetter("fill_id", "ticker", "book_side", "count_fp", "yes_price_dollars",
                          "fee_cost", "created_time")
_Z_MICROS = "%Y-%m-%dT%H:%M:%S.%fZ"


def _reader(parse: Callable[[Any, str], Decimal], scale: Callable[[Decimal], int],
            name: str, places: int, unit_places: int) -> Callable[[Any], int]:
    """Text -> ledger integer (`unit_places` implied decimals), validated once per distinct text
    (the caller caches). Plain texts like `"12.34"` with at most `places` decimals are split by
    hand; anything else goes through the money parser."""
    def read(text: Any) -> int:
        if type(text) is str:
            whole, dot, fraction = text.partition(".")
            if dot and 0 < len(fraction) <= places and whole.isdecimal() and fraction.isdecimal():
                return int(whole + fraction) * 10 ** (unit_places - len(fraction))
        try:
            return scale(parse(text, f"fill.{name}"))
        except (UserInputError, ValueError) as exc:
            raise ResponseFormatError(str(exc)) from None
    return read


_read_count = _reader(parse_count, to_c2, "count_fp", 2, 2)
_read_price = _reader(parse_dollars, to_p6, "yes_price_dollars", 6, 6)
_read_fee = _reader(parse_dollars, to_m8, "fee_cost", 6, 8)


class FillCollector:
    """Collects fills from any number of pages and sources, then replays each market in order.

    Raw era-3 dicts take the fast path (one `itemgetter`, cached integers, one tuple per fill);
    anything else is parsed by `Fill.from_api`, so legacy and transitional records work too. A
    fill that cannot be read is skipped and counted in `unreadable`, with a message in `problems`.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()
        # per ticker, one flat list: fee, price, count, is_bid, when, fee, price, ... (a record's
        # fields stored backwards, so reading the list backwards yields `Compact` records oldest
        # first; flat lists cost a third of the memory of a tuple per fill, and read faster)
        self._by_ticker: dict[str, list[Any]] = {}
        self._counts: dict[Any, int] = {}
        self._prices: dict[Any, int] = {}
        self._fees: dict[Any, int] = {}
        self._newest_first = True        # every time so far no newer than the one before it,
        self._last_time = "\U0010ffff"   # (above any time, before the first fill)
        self._width = 0                  # and all of this width, ending in Z (0: none yet; -1: no)
        self.duplicates = 0
        self.unreadable = 0
        self.problems: list[str] = []

    def add_raw(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Add raw API fill dicts (a page, or a whole stream); returns how many were new."""
        seen, by_ticker = self._seen, self._by_ticker
        remember, ticker_list = seen.add, by_ticker.get
        counts, prices, fees = self._counts, self._prices, self._fees
        count_of, price_of, fee_of = counts.get, prices.get, fees.get
        before = len(seen)
        last, width = self._last_time, self._width
        try:
            for raw in items:
                try:
                    fill_id, ticker, side, count_text, price_text, fee_text, when = _FAST_FIELDS(raw)
                    unusual_time = when > last or len(when) != width
                    duplicate = fill_id in seen
                except (KeyError, TypeError):   # not the current shape: parse it the long way
                    self._add_slow(raw)
                    continue
                if duplicate:
                    self.duplicates += 1
                    continue
                try:
                    count = count_of(count_text)
                    if count is None:
                        count = counts[count_text] = _read_count(count_text)
                    price = price_of(price_text)
                    if price is None:
                        price = prices[price_text] = _read_price(price_text)
                    fee = fee_of(fee_text)
                    if fee is None:
                        fee = fees[fee_text] = _read_fee(fee_text)
                except (ResponseFormatError, TypeError) as exc:
                    self._unreadable(fill_id, exc)
                    continue
                if side == "bid":
                    is_bid = True
                elif side == "ask":
                    is_bid = False
                else:
                    self._add_slow(raw)
                    continue
                flat = ticker_list(ticker)
                if flat is None:    # a new market: check its ticker once, not on every fill
                    if type(ticker) is not str or not ticker:
                        self._add_slow(raw)
                        continue
                    flat = by_ticker[ticker] = []
                if unusual_time:
                    width = self._note_time(when, width)
                last = when
                remember(fill_id)
                flat += fee, price, count, is_bid, when
        finally:
            self._last_time, self._width = last, width
        return len(seen) - before

    def _note_time(self, when: str, width: int) -> int:
        """The first time sets the expected width (-1 unless it ends in Z); after that, a newer
        time or another width ends the fast (reverse-only) ordering. Returns the width."""
        if width == 0:
            width = len(when) if when.endswith("Z") else -1
        if width < 0 or len(when) != width or self._seen:
            self._newest_first = False
        return width

    def add_fills(self, fills: Iterable[Fill]) -> int:
        """Add typed `Fill` records; returns how many were new."""
        added = 0
        for fill in fills:
            if fill.fill_id in self._seen:
                self.duplicates += 1
                continue
            try:
                record = (fill.created_time.strftime(_Z_MICROS) if fill.created_time else "",
                          fill.book_side is BookSide.BID, to_c2(fill.count), to_p6(fill.yes_price),
                          to_m8(fill.fee_cost))
            except ValueError as exc:
                self._unreadable(fill.fill_id, exc)
                continue
            self._seen.add(fill.fill_id)
            self._newest_first = False    # typed fills take the general (sorting) path
            self._by_ticker.setdefault(fill.ticker, []).extend(reversed(record))
            added += 1
        return added

    def _add_slow(self, raw: Any) -> int:
        try:
            fill = Fill.from_api(raw)
        except (ResponseFormatError, AttributeError, TypeError) as exc:
            fill_id = raw.get("fill_id") if isinstance(raw, Mapping) else None
            self._unreadable(fill_id, exc)
            return 0
        return self.add_fills([fill])

    def _unreadable(self, fill_id: Any, exc: Exception) -> None:
        self.unreadable += 1
        if len(self.problems) < 20:
            self.problems.append(f"fill {fill_id or '?'} skipped: {exc}")

    @property
    def fills(self) -> int:
        """Distinct fills collected so far."""
        return len(self._seen)

    @property
    def tickers(self) -> list[str]:
        return list(self._by_ticker)

    def ledgers(self) -> dict[str, MarketLedger]:
        """Replay every market's fills oldest first and return its ledger, by ticker."""
        trusted = self._newest_first and self._width > 0
        result = {}
        for ticker, flat in self._by_ticker.items():
            ledger = MarketLedger(ticker)
            backwards = reversed(flat)
            records = zip(backwards, backwards, backwards, backwards, backwards)
            ledger.replay(records if trusted else self._in_time_order(ticker, records))
            result[ticker] = ledger
        return result

    def _in_time_order(self, ticker: str, fills: Iterable[Compact]) -> list[Compact]:
        """Oldest first, for fills that did not arrive newest first in one `Z` format. The sort
        is stable, so equal times keep their reversed arrival (API) order; times are rewritten in
        one `Z` form so the ledger can read the UTC day from the first 10 characters. A fill
        whose time cannot be read cannot be placed: it is skipped and reported."""
        normalized = []
        for when, *rest in fills:
            if when:
                try:
                    when = parse_iso(when).strftime(_Z_MICROS)
                except ValueError:
                    self._unreadable(None, ValueError(f"{ticker}: created_time {when!r} is not a time"))
                    continue
            normalized.append((when, *rest))
        return sorted(normalized, key=itemgetter(0))
