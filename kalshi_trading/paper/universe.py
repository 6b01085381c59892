"""The market data the paper exchange trades on, in one shape whatever its source.

Loaders (market_data.py) build a `MarketUniverse`; the engine consumes it: the markets as they
stand at the start, the crowd's resting liquidity, and a timeline of later changes (new books,
trade prints, status changes, results) already placed on the replay clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from ..money import fmt_count, fmt_dollars
from ..timeutil import to_iso_z

__all__ = ["Level", "BookSnapshot", "TradePrint", "MarketUpdate", "MarketUniverse",
           "synthetic_market", "synthetic_series"]

Level = tuple[Decimal, Decimal]  # (price in dollars, count in contracts)


@dataclass(frozen=True)
class BookSnapshot:
    """The crowd's resting bids: YES bids and NO bids, each ascending by price (best last)."""

    yes_bids: tuple[Level, ...] = ()
    no_bids: tuple[Level, ...] = ()


@dataclass(frozen=True)
class TradePrint:
    """A public trade at a YES price; it may cross and fill resting user orders."""

    yes_price: Decimal
    count: Decimal
    taker_outcome_side: str  # "yes" | "no"


@dataclass(frozen=True)
class MarketUpdate:
    """One change to one market at time `at` (UTC, on the replay clock)."""

    at: datetime
    ticker: str
    book: BookSnapshot | None = None
    trade: TradePrint | None = None
    status: str | None = None            # "active", "closed", "determined", "finalized"...
    result: str | None = None            # "yes" | "no" | "scalar"
    settlement_value: Decimal | None = None  # YES payout in dollars (1, 0 or the scalar value)


@dataclass
class MarketUniverse:
    """Everything the exchange trades on. JSON dicts are in today's (era 3) wire shapes."""

    series: dict[str, dict] = field(default_factory=dict)    # series ticker -> Series JSON
    events: dict[str, dict] = field(default_factory=dict)    # event ticker -> EventData JSON, no markets
    markets: dict[str, dict] = field(default_factory=dict)   # market ticker -> Market JSON at start
    books: dict[str, BookSnapshot] = field(default_factory=dict)
    timeline: list[MarketUpdate] = field(default_factory=list)  # sorted by `at`
    source: str = "synthetic"
    notes: list[str] = field(default_factory=list)


def synthetic_series(ticker: str, *, fee_type: str = "quadratic", fee_multiplier: float | int = 1,
                     title: str | None = None, category: str = "Test") -> dict:
    """A Series JSON for tests and synthetic universes."""
    return {
        "ticker": ticker, "title": title or f"{ticker} series", "category": category,
        "frequency": "daily", "tags": [], "settlement_sources": [], "contract_url": "",
        "contract_terms_url": "", "fee_type": fee_type, "fee_multiplier": fee_multiplier,
        "additional_prohibitions": [],
    }


def synthetic_market(ticker: str, event_ticker: str, *, now: datetime, status: str = "active",
                     title: str | None = None, close_in: timedelta = timedelta(days=1),
                     price_ranges: list[dict] | None = None,
                     last_price: Decimal = Decimal("0")) -> dict:
    """A Market JSON (era 3) with empty top of book; the engine fills in bids and asks."""
    zero = fmt_dollars(Decimal(0))
    return {
        "ticker": ticker, "event_ticker": event_ticker, "market_type": "binary",
        "title": title or ticker, "subtitle": "", "yes_sub_title": "Yes", "no_sub_title": "No",
        "created_time": to_iso_z(now - timedelta(days=1)), "updated_time": to_iso_z(now),
        "open_time": to_iso_z(now - timedelta(hours=1)), "close_time": to_iso_z(now + close_in),
        "expected_expiration_time": to_iso_z(now + close_in),
        "latest_expiration_time": to_iso_z(now + close_in), "settlement_timer_seconds": 0,
        "status": status, "result": "", "can_close_early": False, "expiration_value": "",
        "yes_bid_dollars": zero, "yes_bid_size_fp": fmt_count(Decimal(0)), "yes_ask_dollars": zero,
        "yes_ask_size_fp": fmt_count(Decimal(0)), "no_bid_dollars": zero, "no_ask_dollars": zero,
        "last_price_dollars": fmt_dollars(last_price), "previous_yes_bid_dollars": zero,
        "previous_yes_ask_dollars": zero, "previous_price_dollars": zero,
        "volume_fp": "0.00", "volume_24h_fp": "0.00", "open_interest_fp": "0.00",
        "notional_value_dollars": "1.0000", "liquidity_dollars": zero,
        "rules_primary": f"Resolves Yes if {ticker} happens.", "rules_secondary": "",
        "price_level_structure": "linear_cent",
        "price_ranges": price_ranges or [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
        "exchange_index": 0,
    }
