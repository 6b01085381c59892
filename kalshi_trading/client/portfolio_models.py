"""Portfolio and account records: balance, orders, fills, positions, settlements, limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Mapping

from ..money import ONE, ZERO, cents_to_dollars
from ..order_request import BookSide, OutcomeSide
from .wire_fields import Raw, missing_field, read_count, read_direction, read_dollars, read_str, read_time

__all__ = ["Balance", "Order", "Fill", "MarketPosition", "Settlement", "AccountLimits",
           "HistoricalCutoff"]


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
            raise missing_field(r, "balance")
        exact = read_dollars(raw, r, "balance_dollars", cents="balance")
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
        yes_price = read_dollars(raw, r, "yes_price_dollars", fixed="yes_price_fixed", cents="yes_price")
        remaining = read_count(raw, r, "remaining_count_fp", legacy="remaining_count")
        filled = read_count(raw, r, "fill_count_fp", legacy="fill_count", required=False) or ZERO
        initial = read_count(raw, r, "initial_count_fp", legacy="initial_count", required=False)
        return cls(
            order_id=read_str(raw, r, "order_id"),
            client_order_id=raw.get("client_order_id") or "",
            ticker=read_str(raw, r, "ticker"),
            status=read_str(raw, r, "status"),
            book_side=read_direction(raw, r),
            yes_price=yes_price,
            no_price=read_dollars(raw, r, "no_price_dollars", fixed="no_price_fixed", cents="no_price",
                              required=False) or ONE - yes_price,
            initial_count=initial if initial is not None else filled + remaining,
            fill_count=filled,
            remaining_count=remaining,
            taker_fill_cost=read_dollars(raw, r, "taker_fill_cost_dollars", cents="taker_fill_cost", required=False) or ZERO,
            maker_fill_cost=read_dollars(raw, r, "maker_fill_cost_dollars", cents="maker_fill_cost", required=False) or ZERO,
            taker_fees=read_dollars(raw, r, "taker_fees_dollars", cents="taker_fees", required=False) or ZERO,
            maker_fees=read_dollars(raw, r, "maker_fees_dollars", cents="maker_fees", required=False) or ZERO,
            created_time=read_time(raw, "created_time"),
            last_update_time=read_time(raw, "last_update_time"),
            expiration_time=read_time(raw, "expiration_time"),
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
            raise missing_field(r, "fill_id")
        yes_price = read_dollars(raw, r, "yes_price_dollars", fixed="yes_price_fixed", cents="yes_price")
        ticker = raw.get("ticker") or raw.get("market_ticker")
        if not isinstance(ticker, str):
            raise missing_field(r, "ticker")
        return cls(
            fill_id=fill_id,
            order_id=read_str(raw, r, "order_id"),
            ticker=ticker,
            book_side=read_direction(raw, r),
            count=read_count(raw, r, "count_fp", legacy="count"),
            yes_price=yes_price,
            no_price=read_dollars(raw, r, "no_price_dollars", fixed="no_price_fixed", cents="no_price",
                              required=False) or ONE - yes_price,
            is_taker=bool(raw.get("is_taker", False)),
            # fee_cost arrived in Jan 2026; older records carry none and are treated as fee-free.
            fee_cost=read_dollars(raw, r, "fee_cost", required=False) or ZERO,
            created_time=read_time(raw, "created_time", unix="ts"),
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
            ticker=read_str(raw, r, "ticker"),
            position=read_count(raw, r, "position_fp", legacy="position"),
            market_exposure=read_dollars(raw, r, "market_exposure_dollars", cents="market_exposure", required=False) or ZERO,
            total_traded=read_dollars(raw, r, "total_traded_dollars", cents="total_traded", required=False) or ZERO,
            realized_pnl=read_dollars(raw, r, "realized_pnl_dollars", cents="realized_pnl", required=False) or ZERO,
            fees_paid=read_dollars(raw, r, "fees_paid_dollars", cents="fees_paid", required=False) or ZERO,
            last_updated=read_time(raw, "last_updated_ts"),
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
            raise missing_field(r, "revenue")
        value = raw.get("value")
        return cls(
            ticker=read_str(raw, r, "ticker"),
            event_ticker=read_str(raw, r, "event_ticker", ""),
            market_result=read_str(raw, r, "market_result"),
            yes_count=read_count(raw, r, "yes_count_fp", legacy="yes_count", required=False) or ZERO,
            yes_total_cost=read_dollars(raw, r, "yes_total_cost_dollars", cents="yes_total_cost", required=False) or ZERO,
            no_count=read_count(raw, r, "no_count_fp", legacy="no_count", required=False) or ZERO,
            no_total_cost=read_dollars(raw, r, "no_total_cost_dollars", cents="no_total_cost", required=False) or ZERO,
            revenue=cents_to_dollars(revenue),
            value=cents_to_dollars(value) if isinstance(value, int) and not isinstance(value, bool) else None,
            fee_cost=read_dollars(raw, r, "fee_cost", required=False) or ZERO,
            settled_time=read_time(raw, "settled_time"),
        )


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
            raise missing_field(r, "read")
        return cls(read_str(raw, r, "usage_tier"), int(read["refill_rate"]), int(read["bucket_capacity"]),
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
            return read_time(raw, name, unix=name)   # an ISO string, or Unix seconds
        return cls(read("market_settled_ts"), read("trades_created_ts"), read("orders_updated_ts"),
                   read("market_positions_last_updated_ts"))
