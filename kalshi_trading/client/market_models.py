"""Market data records: markets, order books, public trades, series, events, candles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping

from ..errors import ResponseFormatError, UserInputError
from ..money import (ONE, ZERO, FeeRounding, PriceGrid, cents_to_dollars, parse_count, parse_dollars,
                     to_decimal, trade_fee)
from ..order_request import OutcomeSide
from .wire_fields import Raw, missing_field, read_count, read_dollars, read_str, read_time

__all__ = ["Market", "BookLevel", "Orderbook", "BookWalk", "Trade", "Series", "Event",
           "ExchangeStatus", "Candlestick"]


@dataclass(frozen=True)
class Market:
    """`GET /markets[/{ticker}]`: one market, prices in YES dollars."""

    ticker: str
    event_ticker: str
    status: str
    market_type: str
    title: str
    yes_sub_title: str
    no_sub_title: str
    open_time: datetime | None
    close_time: datetime | None
    yes_bid: Decimal
    yes_ask: Decimal
    no_bid: Decimal
    no_ask: Decimal
    yes_bid_size: Decimal
    yes_ask_size: Decimal
    last_price: Decimal
    volume: Decimal
    volume_24h: Decimal
    open_interest: Decimal
    result: str
    settlement_value: Decimal | None
    price_grid: PriceGrid
    price_level_structure: str
    rules_primary: str
    rules_secondary: str
    can_close_early: bool
    exchange_index: int
    notional_value: Decimal
    floor_strike: Decimal | None = None   # the strike a market of a ladder is about (`At least 50`)
    cap_strike: Decimal | None = None

    @classmethod
    def from_api(cls, raw: Raw) -> "Market":
        r = "market"
        yes_bid = read_dollars(raw, r, "yes_bid_dollars", cents="yes_bid", required=False) or ZERO
        yes_ask = read_dollars(raw, r, "yes_ask_dollars", cents="yes_ask", required=False) or ZERO
        return cls(
            ticker=read_str(raw, r, "ticker"),
            event_ticker=read_str(raw, r, "event_ticker"),
            status=read_str(raw, r, "status"),
            market_type=read_str(raw, r, "market_type", "binary"),
            title=read_str(raw, r, "title", "") or read_str(raw, r, "yes_sub_title", ""),
            yes_sub_title=read_str(raw, r, "yes_sub_title", ""),
            no_sub_title=read_str(raw, r, "no_sub_title", ""),
            open_time=read_time(raw, "open_time"),
            close_time=read_time(raw, "close_time"),
            yes_bid=yes_bid,
            yes_ask=yes_ask,
            no_bid=read_dollars(raw, r, "no_bid_dollars", cents="no_bid", required=False)
            or ((ONE - yes_ask) if yes_ask else ZERO),
            no_ask=read_dollars(raw, r, "no_ask_dollars", cents="no_ask", required=False)
            or ((ONE - yes_bid) if yes_bid else ZERO),
            yes_bid_size=read_count(raw, r, "yes_bid_size_fp", required=False) or ZERO,
            yes_ask_size=read_count(raw, r, "yes_ask_size_fp", required=False) or ZERO,
            last_price=read_dollars(raw, r, "last_price_dollars", cents="last_price", required=False) or ZERO,
            volume=read_count(raw, r, "volume_fp", legacy="volume", required=False) or ZERO,
            volume_24h=read_count(raw, r, "volume_24h_fp", legacy="volume_24h", required=False) or ZERO,
            open_interest=read_count(raw, r, "open_interest_fp", legacy="open_interest", required=False) or ZERO,
            result=raw.get("result") or "",
            settlement_value=read_dollars(raw, r, "settlement_value_dollars", cents="settlement_value",
                                      required=False),
            price_grid=PriceGrid.from_api(raw.get("price_ranges")),
            price_level_structure=raw.get("price_level_structure") or "linear_cent",
            rules_primary=raw.get("rules_primary") or "",
            rules_secondary=raw.get("rules_secondary") or "",
            can_close_early=bool(raw.get("can_close_early", False)),
            exchange_index=int(raw.get("exchange_index") or 0),
            notional_value=read_dollars(raw, r, "notional_value_dollars", cents="notional_value",
                                    required=False) or ONE,
            floor_strike=_strike(raw.get("floor_strike")),
            cap_strike=_strike(raw.get("cap_strike")),
        )

    @property
    def is_open(self) -> bool:
        return self.status in ("active", "open")

    @property
    def is_settled(self) -> bool:
        return self.status in ("determined", "finalized", "settled") and self.result != ""


def _strike(value: Any) -> Decimal | None:
    """A strike as the API sends it (a JSON number, not money); None when absent or unreadable:
    it only orders a ladder of markets on screen."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return to_decimal(value, "strike", floats=True)
    except UserInputError:
        return None


@dataclass(frozen=True)
class BookLevel:
    """One price level: a price in dollars and the contracts resting there."""

    price: Decimal
    count: Decimal


def _levels(side: Any, record: str, *, cents: bool) -> tuple[BookLevel, ...]:
    if side is None:
        return ()
    if not isinstance(side, list):
        raise ResponseFormatError(f"{record}: a book side should be a list of [price, count]")
    levels = []
    for item in side:
        if not isinstance(item, (list, tuple)) or len(item) < 2:
            raise ResponseFormatError(f"{record}: a book level should be [price, count], got {item!r}")
        price, count = item[0], item[1]
        try:
            levels.append(BookLevel(
                cents_to_dollars(int(price)) if cents else parse_dollars(price, "book price"),
                parse_count(count, "book count", floats=True)))
        except (UserInputError, ValueError) as exc:
            raise ResponseFormatError(f"{record}: {exc}") from None
    return tuple(sorted(levels, key=lambda lvl: lvl.price))


@dataclass(frozen=True)
class Orderbook:
    """`GET /markets/{t}/orderbook`: YES bids and NO bids, each ascending (best bid last).

    Asks are implied: a NO bid at q is a YES ask at 1-q, and a YES bid at p is a NO ask at 1-p.
    """

    ticker: str
    yes_bids: tuple[BookLevel, ...]
    no_bids: tuple[BookLevel, ...]

    @classmethod
    def from_api(cls, raw: Raw, ticker: str = "") -> "Orderbook":
        r = "orderbook"
        if isinstance(raw.get("orderbook_fp"), Mapping):
            book = raw["orderbook_fp"]
            return cls(ticker, _levels(book.get("yes_dollars"), r, cents=False),
                       _levels(book.get("no_dollars"), r, cents=False))
        if isinstance(raw.get("orderbook"), Mapping):
            book = raw["orderbook"]
            if "yes_dollars" in book or "no_dollars" in book:
                if book.get("yes_dollars") is not None or book.get("no_dollars") is not None:
                    return cls(ticker, _levels(book.get("yes_dollars"), r, cents=False),
                               _levels(book.get("no_dollars"), r, cents=False))
            return cls(ticker, _levels(book.get("yes"), r, cents=True),
                       _levels(book.get("no"), r, cents=True))
        raise missing_field(r, "orderbook_fp")

    @property
    def yes_asks(self) -> tuple[BookLevel, ...]:
        """Implied YES asks (from NO bids), best (lowest) first."""
        return tuple(BookLevel(ONE - lvl.price, lvl.count) for lvl in reversed(self.no_bids))

    @property
    def no_asks(self) -> tuple[BookLevel, ...]:
        """Implied NO asks (from YES bids), best (lowest) first."""
        return tuple(BookLevel(ONE - lvl.price, lvl.count) for lvl in reversed(self.yes_bids))

    @property
    def best_yes_bid(self) -> Decimal | None:
        return self.yes_bids[-1].price if self.yes_bids else None

    @property
    def best_yes_ask(self) -> Decimal | None:
        return ONE - self.no_bids[-1].price if self.no_bids else None

    @property
    def spread(self) -> Decimal | None:
        bid, ask = self.best_yes_bid, self.best_yes_ask
        return ask - bid if bid is not None and ask is not None else None

    def levels_to_take(self, outcome: OutcomeSide, buying: bool) -> tuple[BookLevel, ...]:
        """The levels an immediate order would consume, in the order it consumes them,
        priced in `outcome`'s own terms (a NO buyer sees NO prices)."""
        if outcome is OutcomeSide.YES:
            return self.yes_asks if buying else tuple(reversed(self.yes_bids))
        return self.no_asks if buying else tuple(reversed(self.no_bids))

    def walk(self, outcome: OutcomeSide, buying: bool, count: Decimal, *, limit: Decimal | None = None,
             taker_rate: Decimal = ZERO, rounding: FeeRounding | None = None) -> "BookWalk":
        """What an immediate order for `count` would take now, level by level, in `outcome`'s
        terms: stopping where the book runs out or, given a `limit` price, at the first level
        worse than it; the taker fee is charged per level, as the exchange charges each fill, and
        with `rounding` (one order's `FeeRounding`) it is the fee_cost the exchange then books.

        The one book walk: the book screen's cost of trading N and the order preview's fill
        estimate are both this.
        """
        filled, value, fee = ZERO, ZERO, ZERO
        for level in self.levels_to_take(outcome, buying):
            if limit is not None and (level.price > limit if buying else level.price < limit):
                break
            take = min(level.count, count - filled)
            filled += take
            value += take * level.price
            level_fee = trade_fee(take, level.price, taker_rate)
            if rounding is not None:
                revenue = take * level.price
                level_fee = rounding.fill_fee(-revenue if buying else revenue, level_fee)
            fee += level_fee
            if filled >= count:
                break
        return BookWalk(filled, value, value / filled if filled else None, fee)


@dataclass(frozen=True)
class BookWalk:
    """The result of `Orderbook.walk`: contracts available, what they cost (or bring in, when
    selling), their average price (None when nothing is available) and the taker fee."""

    count: Decimal
    cost: Decimal
    average_price: Decimal | None
    taker_fee: Decimal


@dataclass(frozen=True)
class Trade:
    """`GET /markets/trades`: one public trade print."""

    trade_id: str
    ticker: str
    count: Decimal
    yes_price: Decimal
    no_price: Decimal
    taker_outcome_side: str
    created_time: datetime | None

    @classmethod
    def from_api(cls, raw: Raw) -> "Trade":
        r = "trade"
        yes_price = read_dollars(raw, r, "yes_price_dollars", fixed="yes_price_fixed", cents="yes_price")
        taker = raw.get("taker_outcome_side") or raw.get("taker_side") or ""
        return cls(
            trade_id=read_str(raw, r, "trade_id"),
            ticker=read_str(raw, r, "ticker"),
            count=read_count(raw, r, "count_fp", legacy="count"),
            yes_price=yes_price,
            no_price=read_dollars(raw, r, "no_price_dollars", fixed="no_price_fixed", cents="no_price",
                              required=False) or ONE - yes_price,
            taker_outcome_side=taker,
            created_time=read_time(raw, "created_time", unix="ts"),
        )


@dataclass(frozen=True)
class Series:
    """`GET /series[/{s}]`: a series and the fee rule its markets use."""

    ticker: str
    title: str
    category: str
    frequency: str
    fee_type: str
    fee_multiplier: Decimal
    tags: tuple[str, ...]

    @classmethod
    def from_api(cls, raw: Raw) -> "Series":
        r = "series"
        multiplier = raw.get("fee_multiplier", 1)
        try:
            fee_multiplier = to_decimal(multiplier if multiplier is not None else 1, "fee_multiplier",
                                        floats=True)
        except UserInputError:   # "abc", NaN
            raise ResponseFormatError(f"series: field 'fee_multiplier' is not a number: {multiplier!r}") from None
        return cls(
            ticker=read_str(raw, r, "ticker"),
            title=read_str(raw, r, "title", ""),
            category=read_str(raw, r, "category", ""),
            frequency=read_str(raw, r, "frequency", ""),
            fee_type=read_str(raw, r, "fee_type", "quadratic"),
            fee_multiplier=fee_multiplier,
            tags=tuple(raw.get("tags") or ()),
        )


@dataclass(frozen=True)
class Event:
    """`GET /events[/{e}]`: an event, with its markets when nested."""

    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str
    mutually_exclusive: bool
    markets: tuple[Market, ...]

    @classmethod
    def from_api(cls, raw: Raw, markets: Any = None) -> "Event":
        r = "event"
        nested = raw.get("markets") if raw.get("markets") is not None else markets
        return cls(
            event_ticker=read_str(raw, r, "event_ticker"),
            series_ticker=read_str(raw, r, "series_ticker", ""),
            title=read_str(raw, r, "title", ""),
            sub_title=read_str(raw, r, "sub_title", ""),
            mutually_exclusive=bool(raw.get("mutually_exclusive", False)),
            markets=tuple(Market.from_api(m) for m in nested or ()),
        )


@dataclass(frozen=True)
class ExchangeStatus:
    """`GET /exchange/status`."""

    exchange_active: bool
    trading_active: bool

    @classmethod
    def from_api(cls, raw: Raw) -> "ExchangeStatus":
        if "exchange_active" not in raw:
            raise missing_field("exchange_status", "exchange_active")
        return cls(bool(raw["exchange_active"]), bool(raw.get("trading_active", False)))


@dataclass(frozen=True)
class Candlestick:
    """One candle of `.../candlesticks`: close prices (None where there was no trade)."""

    end_period_ts: int
    yes_bid_close: Decimal | None
    yes_ask_close: Decimal | None
    price_close: Decimal | None
    volume: Decimal

    @classmethod
    def from_api(cls, raw: Raw) -> "Candlestick":
        r = "candlestick"

        def close(part: str) -> Decimal | None:
            block = raw.get(part)
            if not isinstance(block, Mapping):
                return None
            return read_dollars(block, r, "close_dollars", cents="close", required=False)

        if not isinstance(raw.get("end_period_ts"), int):
            raise missing_field(r, "end_period_ts")
        return cls(raw["end_period_ts"], close("yes_bid"), close("yes_ask"), close("price"),
                   read_count(raw, r, "volume_fp", legacy="volume", required=False) or ZERO)
