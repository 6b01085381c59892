"""Typed, exact records for what the API returns, parsed from any of Kalshi's three wire eras.

Each record is a frozen dataclass with a `from_api(raw)` classmethod. Money and counts are
`Decimal` (see money.py); unknown fields are ignored; a missing required field raises
`ResponseFormatError` naming it. Parsers prefer the current fixed-point fields (`*_dollars`,
`*_fp`) and fall back to the transitional `*_fixed` strings and to legacy integer cents/counts,
because recordings and older accounts still carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping

from .errors import ResponseFormatError, UserInputError
from .money import ONE, ZERO, PriceGrid, cents_to_dollars, parse_count, parse_dollars
from .order_request import BookSide, OutcomeSide
from .timeutil import from_unix, parse_iso

__all__ = [
    "Market", "Orderbook", "BookLevel", "Order", "Fill", "MarketPosition", "Settlement",
    "Balance", "Trade", "Series", "Event", "ExchangeStatus", "CreateOrderResult",
    "CancelOrderResult", "AmendOrderResult", "DecreaseOrderResult", "AccountLimits",
    "Candlestick", "HistoricalCutoff", "BatchCreateItem", "BatchCancelItem",
]

Raw = Mapping[str, Any]


# --- field readers ------------------------------------------------------------------------

def _missing(record: str, name: str) -> ResponseFormatError:
    return ResponseFormatError(f"{record}: required field {name!r} is missing")


def _str(raw: Raw, record: str, name: str, default: str | None = None) -> str:
    value = raw.get(name)
    if value is None:
        if default is not None:
            return default
        raise _missing(record, name)
    if not isinstance(value, str):
        raise ResponseFormatError(f"{record}: field {name!r} should be a string, got {type(value).__name__}")
    return value


def _opt_str(raw: Raw, name: str) -> str | None:
    value = raw.get(name)
    return value if isinstance(value, str) and value != "" else None


def _dollars(raw: Raw, record: str, name: str, *, cents: str | None = None,
             fixed: str | None = None, required: bool = True) -> Decimal | None:
    """Read `name` (dollar string); else `fixed` (transitional string); else `cents` (legacy int)."""
    try:
        if raw.get(name) is not None:
            return parse_dollars(raw[name], f"{record}.{name}")
        if fixed and raw.get(fixed) is not None:
            return parse_dollars(raw[fixed], f"{record}.{fixed}")
        if cents and raw.get(cents) is not None:
            value = raw[cents]
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise ResponseFormatError(f"{record}: field {cents!r} should be integer cents")
            return cents_to_dollars(int(value))
    except UserInputError as exc:
        raise ResponseFormatError(f"{record}: {exc}") from None
    if required:
        raise _missing(record, name)
    return None


def _count(raw: Raw, record: str, name: str, *, legacy: str | None = None,
           required: bool = True) -> Decimal | None:
    """Read a `*_fp` count; else the legacy integer (or float) count field."""
    try:
        if raw.get(name) is not None:
            return parse_count(raw[name], f"{record}.{name}")
        if legacy and raw.get(legacy) is not None:
            value = raw[legacy]
            if isinstance(value, float):  # near-raw recordings carry float counts
                value = repr(value)
            return parse_count(value, f"{record}.{legacy}")
    except UserInputError as exc:
        raise ResponseFormatError(f"{record}: {exc}") from None
    if required:
        raise _missing(record, name)
    return None


def _time(raw: Raw, name: str, *, unix: str | None = None) -> datetime | None:
    value = raw.get(name)
    if isinstance(value, str) and value:
        try:
            return parse_iso(value)
        except ValueError:
            raise ResponseFormatError(f"field {name!r} is not an ISO 8601 time: {value!r}") from None
    if unix and isinstance(raw.get(unix), (int, float)) and not isinstance(raw.get(unix), bool):
        return from_unix(raw[unix])
    return None


def _direction(raw: Raw, record: str) -> BookSide:
    """The YES-book side of an order or fill, from `book_side`, `outcome_side` or legacy side/action."""
    if raw.get("book_side") in ("bid", "ask"):
        return BookSide(raw["book_side"])
    if raw.get("outcome_side") in ("yes", "no"):
        return BookSide.BID if raw["outcome_side"] == "yes" else BookSide.ASK
    side, action = raw.get("side"), raw.get("action")
    if side in ("yes", "no") and action in ("buy", "sell"):
        return BookSide.BID if (side == "yes") == (action == "buy") else BookSide.ASK
    raise _missing(record, "book_side")


# --- market data ---------------------------------------------------------------------------

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

    @classmethod
    def from_api(cls, raw: Raw) -> "Market":
        r = "market"
        yes_bid = _dollars(raw, r, "yes_bid_dollars", cents="yes_bid", required=False) or ZERO
        yes_ask = _dollars(raw, r, "yes_ask_dollars", cents="yes_ask", required=False) or ZERO
        return cls(
            ticker=_str(raw, r, "ticker"),
            event_ticker=_str(raw, r, "event_ticker"),
            status=_str(raw, r, "status"),
            market_type=_str(raw, r, "market_type", "binary"),
            title=_str(raw, r, "title", "") or _str(raw, r, "yes_sub_title", ""),
            yes_sub_title=_str(raw, r, "yes_sub_title", ""),
            no_sub_title=_str(raw, r, "no_sub_title", ""),
            open_time=_time(raw, "open_time"),
            close_time=_time(raw, "close_time"),
            yes_bid=yes_bid,
            yes_ask=yes_ask,
            no_bid=_dollars(raw, r, "no_bid_dollars", cents="no_bid", required=False)
            or ((ONE - yes_ask) if yes_ask else ZERO),
            no_ask=_dollars(raw, r, "no_ask_dollars", cents="no_ask", required=False)
            or ((ONE - yes_bid) if yes_bid else ZERO),
            yes_bid_size=_count(raw, r, "yes_bid_size_fp", required=False) or ZERO,
            yes_ask_size=_count(raw, r, "yes_ask_size_fp", required=False) or ZERO,
            last_price=_dollars(raw, r, "last_price_dollars", cents="last_price", required=False) or ZERO,
            volume=_count(raw, r, "volume_fp", legacy="volume", required=False) or ZERO,
            volume_24h=_count(raw, r, "volume_24h_fp", legacy="volume_24h", required=False) or ZERO,
            open_interest=_count(raw, r, "open_interest_fp", legacy="open_interest", required=False) or ZERO,
            result=raw.get("result") or "",
            settlement_value=_dollars(raw, r, "settlement_value_dollars", cents="settlement_value",
                                      required=False),
            price_grid=PriceGrid.from_api(raw.get("price_ranges")),
            price_level_structure=raw.get("price_level_structure") or "linear_cent",
            rules_primary=raw.get("rules_primary") or "",
            rules_secondary=raw.get("rules_secondary") or "",
            can_close_early=bool(raw.get("can_close_early", False)),
            exchange_index=int(raw.get("exchange_index") or 0),
            notional_value=_dollars(raw, r, "notional_value_dollars", cents="notional_value",
                                    required=False) or ONE,
        )

    @property
    def is_open(self) -> bool:
        return self.status in ("active", "open")

    @property
    def is_settled(self) -> bool:
        return self.status in ("determined", "finalized", "settled") and self.result != ""


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
                parse_count(count if not isinstance(count, float) else repr(count), "book count")))
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
        raise _missing(r, "orderbook_fp")

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

    def cost_to_trade(self, outcome: OutcomeSide, buying: bool,
                      count: Decimal) -> tuple[Decimal, Decimal, Decimal | None]:
        """(contracts available up to `count`, total value, average price) of trading now."""
        filled, value = ZERO, ZERO
        for level in self.levels_to_take(outcome, buying):
            take = min(level.count, count - filled)
            filled += take
            value += take * level.price
            if filled >= count:
                break
        return filled, value, (value / filled if filled else None)


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
        yes_price = _dollars(raw, r, "yes_price_dollars", fixed="yes_price_fixed", cents="yes_price")
        taker = raw.get("taker_outcome_side") or raw.get("taker_side") or ""
        return cls(
            trade_id=_str(raw, r, "trade_id"),
            ticker=_str(raw, r, "ticker"),
            count=_count(raw, r, "count_fp", legacy="count"),
            yes_price=yes_price,
            no_price=_dollars(raw, r, "no_price_dollars", fixed="no_price_fixed", cents="no_price",
                              required=False) or ONE - yes_price,
            taker_outcome_side=taker,
            created_time=_time(raw, "created_time", unix="ts"),
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
        return cls(
            ticker=_str(raw, r, "ticker"),
            title=_str(raw, r, "title", ""),
            category=_str(raw, r, "category", ""),
            frequency=_str(raw, r, "frequency", ""),
            fee_type=_str(raw, r, "fee_type", "quadratic"),
            fee_multiplier=Decimal(str(multiplier if multiplier is not None else 1)),
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
            event_ticker=_str(raw, r, "event_ticker"),
            series_ticker=_str(raw, r, "series_ticker", ""),
            title=_str(raw, r, "title", ""),
            sub_title=_str(raw, r, "sub_title", ""),
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
            raise _missing("exchange_status", "exchange_active")
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
            return _dollars(block, r, "close_dollars", cents="close", required=False)

        if not isinstance(raw.get("end_period_ts"), int):
            raise _missing(r, "end_period_ts")
        return cls(raw["end_period_ts"], close("yes_bid"), close("yes_ask"), close("price"),
                   _count(raw, r, "volume_fp", legacy="volume", required=False) or ZERO)


# --- portfolio -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Balance:
    """`GET /portfolio/balance`: available cash, exact where `balance_dollars` is given."""

    balance: Decimal
    balance_cents: int
    portfolio_value: Decimal
    updated_ts: int | None

    @classmethod
    def from_api(cls, raw: Raw) -> "Balance":
        r = "balance"
        if not isinstance(raw.get("balance"), int):
            raise _missing(r, "balance")
        exact = _dollars(raw, r, "balance_dollars", cents="balance")
        value = raw.get("portfolio_value")
        return cls(exact, raw["balance"], cents_to_dollars(value) if isinstance(value, int) else ZERO,
                   raw.get("updated_ts"))


@dataclass(frozen=True)
class Order:
    """`GET /portfolio/orders[/{id}]`: an order, priced in YES dollars."""

    order_id: str
    client_order_id: str
    ticker: str
    status: str
    book_side: BookSide
    yes_price: Decimal
    no_price: Decimal
    initial_count: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    taker_fill_cost: Decimal
    maker_fill_cost: Decimal
    taker_fees: Decimal
    maker_fees: Decimal
    created_time: datetime | None
    last_update_time: datetime | None
    expiration_time: datetime | None
    time_in_force: str

    @classmethod
    def from_api(cls, raw: Raw) -> "Order":
        r = "order"
        yes_price = _dollars(raw, r, "yes_price_dollars", fixed="yes_price_fixed", cents="yes_price")
        remaining = _count(raw, r, "remaining_count_fp", legacy="remaining_count")
        filled = _count(raw, r, "fill_count_fp", legacy="fill_count", required=False) or ZERO
        initial = _count(raw, r, "initial_count_fp", legacy="initial_count", required=False)
        return cls(
            order_id=_str(raw, r, "order_id"),
            client_order_id=raw.get("client_order_id") or "",
            ticker=_str(raw, r, "ticker"),
            status=_str(raw, r, "status"),
            book_side=_direction(raw, r),
            yes_price=yes_price,
            no_price=_dollars(raw, r, "no_price_dollars", fixed="no_price_fixed", cents="no_price",
                              required=False) or ONE - yes_price,
            initial_count=initial if initial is not None else filled + remaining,
            fill_count=filled,
            remaining_count=remaining,
            taker_fill_cost=_dollars(raw, r, "taker_fill_cost_dollars", cents="taker_fill_cost", required=False) or ZERO,
            maker_fill_cost=_dollars(raw, r, "maker_fill_cost_dollars", cents="maker_fill_cost", required=False) or ZERO,
            taker_fees=_dollars(raw, r, "taker_fees_dollars", cents="taker_fees", required=False) or ZERO,
            maker_fees=_dollars(raw, r, "maker_fees_dollars", cents="maker_fees", required=False) or ZERO,
            created_time=_time(raw, "created_time"),
            last_update_time=_time(raw, "last_update_time"),
            expiration_time=_time(raw, "expiration_time"),
            time_in_force=raw.get("time_in_force") or "",
        )

    @property
    def outcome_side(self) -> OutcomeSide:
        return OutcomeSide.YES if self.book_side is BookSide.BID else OutcomeSide.NO

    @property
    def fees(self) -> Decimal:
        return self.taker_fees + self.maker_fees


@dataclass(frozen=True)
class Fill:
    """`GET /portfolio/fills`: one execution of one of your orders, at one YES price."""

    fill_id: str
    order_id: str
    ticker: str
    book_side: BookSide
    count: Decimal
    yes_price: Decimal
    no_price: Decimal
    is_taker: bool
    fee_cost: Decimal
    created_time: datetime | None
    action: str   # deprecated on the wire; kept for display of legacy records
    side: str     # deprecated on the wire; kept for display of legacy records

    @classmethod
    def from_api(cls, raw: Raw) -> "Fill":
        r = "fill"
        fill_id = raw.get("fill_id") or raw.get("trade_id")
        if not isinstance(fill_id, str):
            raise _missing(r, "fill_id")
        yes_price = _dollars(raw, r, "yes_price_dollars", fixed="yes_price_fixed", cents="yes_price")
        ticker = raw.get("ticker") or raw.get("market_ticker")
        if not isinstance(ticker, str):
            raise _missing(r, "ticker")
        return cls(
            fill_id=fill_id,
            order_id=_str(raw, r, "order_id"),
            ticker=ticker,
            book_side=_direction(raw, r),
            count=_count(raw, r, "count_fp", legacy="count"),
            yes_price=yes_price,
            no_price=_dollars(raw, r, "no_price_dollars", fixed="no_price_fixed", cents="no_price",
                              required=False) or ONE - yes_price,
            is_taker=bool(raw.get("is_taker", False)),
            # fee_cost arrived in Jan 2026; older records carry none and are treated as fee-free.
            fee_cost=_dollars(raw, r, "fee_cost", required=False) or ZERO,
            created_time=_time(raw, "created_time", unix="ts"),
            action=raw.get("action") or "",
            side=raw.get("side") or "",
        )

    @property
    def outcome_side(self) -> OutcomeSide:
        return OutcomeSide.YES if self.book_side is BookSide.BID else OutcomeSide.NO

    @property
    def signed_yes_delta(self) -> Decimal:
        """+count for a bid fill (toward YES), -count for an ask fill (toward NO)."""
        return self.count if self.book_side is BookSide.BID else -self.count


@dataclass(frozen=True)
class MarketPosition:
    """`GET /portfolio/positions` `market_positions[]`: signed net position (YES > 0, NO < 0)."""

    ticker: str
    position: Decimal
    market_exposure: Decimal
    total_traded: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    last_updated: datetime | None

    @classmethod
    def from_api(cls, raw: Raw) -> "MarketPosition":
        r = "market_position"
        return cls(
            ticker=_str(raw, r, "ticker"),
            position=_count(raw, r, "position_fp", legacy="position"),
            market_exposure=_dollars(raw, r, "market_exposure_dollars", cents="market_exposure", required=False) or ZERO,
            total_traded=_dollars(raw, r, "total_traded_dollars", cents="total_traded", required=False) or ZERO,
            realized_pnl=_dollars(raw, r, "realized_pnl_dollars", cents="realized_pnl", required=False) or ZERO,
            fees_paid=_dollars(raw, r, "fees_paid_dollars", cents="fees_paid", required=False) or ZERO,
            last_updated=_time(raw, "last_updated_ts"),
        )


@dataclass(frozen=True)
class Settlement:
    """`GET /portfolio/settlements`: a market that paid out; `revenue` came in as integer cents."""

    ticker: str
    event_ticker: str
    market_result: str
    yes_count: Decimal
    yes_total_cost: Decimal
    no_count: Decimal
    no_total_cost: Decimal
    revenue: Decimal
    value: Decimal | None   # payout per YES contract in dollars (from integer cents)
    fee_cost: Decimal
    settled_time: datetime | None

    @classmethod
    def from_api(cls, raw: Raw) -> "Settlement":
        r = "settlement"
        revenue = raw.get("revenue")
        if isinstance(revenue, bool) or not isinstance(revenue, int):
            raise _missing(r, "revenue")
        value = raw.get("value")
        return cls(
            ticker=_str(raw, r, "ticker"),
            event_ticker=_str(raw, r, "event_ticker", ""),
            market_result=_str(raw, r, "market_result"),
            yes_count=_count(raw, r, "yes_count_fp", legacy="yes_count", required=False) or ZERO,
            yes_total_cost=_dollars(raw, r, "yes_total_cost_dollars", cents="yes_total_cost", required=False) or ZERO,
            no_count=_count(raw, r, "no_count_fp", legacy="no_count", required=False) or ZERO,
            no_total_cost=_dollars(raw, r, "no_total_cost_dollars", cents="no_total_cost", required=False) or ZERO,
            revenue=cents_to_dollars(revenue),
            value=cents_to_dollars(value) if isinstance(value, int) and not isinstance(value, bool) else None,
            fee_cost=_dollars(raw, r, "fee_cost", required=False) or ZERO,
            settled_time=_time(raw, "settled_time"),
        )


# --- order writes (V2) ---------------------------------------------------------------------

@dataclass(frozen=True)
class CreateOrderResult:
    """`POST /portfolio/events/orders` (201)."""

    order_id: str
    client_order_id: str
    fill_count: Decimal
    remaining_count: Decimal
    average_fill_price: Decimal | None
    average_fee_paid: Decimal | None
    ts_ms: int | None

    @classmethod
    def from_api(cls, raw: Raw) -> "CreateOrderResult":
        r = "create_order"
        return cls(
            order_id=_str(raw, r, "order_id"),
            client_order_id=raw.get("client_order_id") or "",
            fill_count=_count(raw, r, "fill_count", required=False) or ZERO,
            remaining_count=_count(raw, r, "remaining_count", required=False) or ZERO,
            average_fill_price=_dollars(raw, r, "average_fill_price", required=False),
            average_fee_paid=_dollars(raw, r, "average_fee_paid", required=False),
            ts_ms=raw.get("ts_ms"),
        )

    @classmethod
    def from_order(cls, order: Order) -> "CreateOrderResult":
        """The same facts read back from `GET /portfolio/orders` (after an ambiguous failure)."""
        filled = order.fill_count
        cost = order.taker_fill_cost + order.maker_fill_cost
        return cls(order.order_id, order.client_order_id, filled, order.remaining_count,
                   (cost / filled).quantize(Decimal("0.000001")) if filled else None,
                   (order.fees / filled).quantize(Decimal("0.000001")) if filled else None, None)


@dataclass(frozen=True)
class CancelOrderResult:
    """`DELETE /portfolio/events/orders/{id}`."""

    order_id: str
    client_order_id: str
    reduced_by: Decimal
    ts_ms: int | None

    @classmethod
    def from_api(cls, raw: Raw) -> "CancelOrderResult":
        r = "cancel_order"
        return cls(_str(raw, r, "order_id"), raw.get("client_order_id") or "",
                   _count(raw, r, "reduced_by", legacy="reduced_by_fp", required=False) or ZERO,
                   raw.get("ts_ms"))


@dataclass(frozen=True)
class AmendOrderResult:
    """`POST /portfolio/events/orders/{id}/amend`."""

    order_id: str
    client_order_id: str
    remaining_count: Decimal | None
    fill_count: Decimal | None
    average_fill_price: Decimal | None
    average_fee_paid: Decimal | None
    ts_ms: int | None

    @classmethod
    def from_api(cls, raw: Raw) -> "AmendOrderResult":
        r = "amend_order"
        return cls(_str(raw, r, "order_id"), raw.get("client_order_id") or "",
                   _count(raw, r, "remaining_count", required=False),
                   _count(raw, r, "fill_count", required=False),
                   _dollars(raw, r, "average_fill_price", required=False),
                   _dollars(raw, r, "average_fee_paid", required=False), raw.get("ts_ms"))


@dataclass(frozen=True)
class DecreaseOrderResult:
    """`POST /portfolio/events/orders/{id}/decrease`."""

    order_id: str
    client_order_id: str
    remaining_count: Decimal
    ts_ms: int | None

    @classmethod
    def from_api(cls, raw: Raw) -> "DecreaseOrderResult":
        r = "decrease_order"
        return cls(_str(raw, r, "order_id"), raw.get("client_order_id") or "",
                   _count(raw, r, "remaining_count"), raw.get("ts_ms"))


@dataclass(frozen=True)
class BatchCreateItem:
    """One entry of a batch create: a result, or the error that item got."""

    result: CreateOrderResult | None
    client_order_id: str
    error_code: str | None
    error_message: str | None

    @classmethod
    def from_api(cls, raw: Raw) -> "BatchCreateItem":
        error = raw.get("error")
        if isinstance(error, Mapping) and error:
            return cls(None, raw.get("client_order_id") or "", error.get("code"), error.get("message"))
        return cls(CreateOrderResult.from_api(raw), raw.get("client_order_id") or "", None, None)


@dataclass(frozen=True)
class BatchCancelItem:
    """One entry of a batch cancel."""

    result: CancelOrderResult | None
    order_id: str
    error_code: str | None
    error_message: str | None

    @classmethod
    def from_api(cls, raw: Raw) -> "BatchCancelItem":
        error = raw.get("error")
        if isinstance(error, Mapping) and error:
            return cls(None, raw.get("order_id") or "", error.get("code"), error.get("message"))
        return cls(CancelOrderResult.from_api(raw), raw.get("order_id") or "", None, None)


# --- account -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountLimits:
    """`GET /account/limits`: the usage tier and its token buckets."""

    usage_tier: str
    read_refill_rate: int
    read_capacity: int
    write_refill_rate: int
    write_capacity: int

    @classmethod
    def from_api(cls, raw: Raw) -> "AccountLimits":
        r = "account_limits"
        read, write = raw.get("read"), raw.get("write")
        if not isinstance(read, Mapping) or not isinstance(write, Mapping):
            raise _missing(r, "read")
        return cls(_str(raw, r, "usage_tier"), int(read["refill_rate"]), int(read["bucket_capacity"]),
                   int(write["refill_rate"]), int(write["bucket_capacity"]))


@dataclass(frozen=True)
class HistoricalCutoff:
    """`GET /historical/cutoff`: records older than these live under `/historical/*`."""

    market_settled_ts: datetime | None
    trades_created_ts: datetime | None
    orders_updated_ts: datetime | None
    market_positions_last_updated_ts: datetime | None

    @classmethod
    def from_api(cls, raw: Raw) -> "HistoricalCutoff":
        def read(name: str) -> datetime | None:
            value = raw.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return from_unix(value)
            return _time(raw, name)
        return cls(read("market_settled_ts"), read("trades_created_ts"), read("orders_updated_ts"),
                   read("market_positions_last_updated_ts"))
