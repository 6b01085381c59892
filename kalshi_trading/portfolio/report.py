"""What the portfolio screen and `pnl --json` show: frozen records built by `PortfolioTracker`.

All prices are YES prices (a NO holder's average cost of 0.7000 means NO bought at 0.30); the
position is signed (YES > 0, NO < 0). Realized P&L is net of every fee that belongs to a closed
piece; the opening fees of lots still open are part of their cost, so they sit in unrealized P&L.
Once everything is closed or settled, total realized P&L is the change in cash.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..money import fmt_count, fmt_dollars_fine
from ..timeutil import to_iso_z

__all__ = ["MarkSource", "MarketLine", "DailyPnl", "PortfolioReport"]


class MarkSource(enum.StrEnum):
    """Where a mark came from (shown on screen)."""

    MID = "mid"
    LAST = "last"
    SETTLEMENT = "settlement"
    NONE = "no price"
    FLAT = ""


@dataclass(frozen=True)
class MarketLine:
    """One market's row: position, cost, mark and P&L."""

    ticker: str
    position: Decimal               # signed contracts: YES > 0, NO < 0
    average_cost: Decimal | None    # average YES price of the open position, fees excluded
    exposure: Decimal               # what the open position cost, in its own side's prices
    mark: Decimal | None            # YES price the position is valued at
    mark_source: str
    unrealized: Decimal | None      # None when there is no price (excluded from the total)
    realized: Decimal               # net of fees
    fees: Decimal                   # every fee paid in this market
    settled: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "ticker": self.ticker,
            "position_fp": fmt_count(self.position),
            "average_cost_dollars": _opt(self.average_cost),
            "mark_dollars": _opt(self.mark),
            "realized_pnl_dollars": fmt_dollars_fine(self.realized),
            "unrealized_pnl_dollars": _opt(self.unrealized),
            "fees_paid_dollars": fmt_dollars_fine(self.fees),
            "settled": self.settled,
        }


@dataclass(frozen=True)
class DailyPnl:
    """Realized P&L booked on one UTC day, and the running total at its end."""

    day: date
    realized: Decimal
    cumulative: Decimal


@dataclass(frozen=True)
class PortfolioReport:
    """Everything `build_report()` found, plus every reason to doubt it."""

    generated_at: datetime
    markets: tuple[MarketLine, ...]
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    daily: tuple[DailyPnl, ...]     # the last 30 days, oldest first
    warnings: tuple[str, ...]
    fills_read: int = 0

    @property
    def open_markets(self) -> tuple[MarketLine, ...]:
        return tuple(line for line in self.markets if line.position)

    def to_json(self) -> dict[str, Any]:
        """The `pnl --json` document: dollars as fixed-point strings with 4 places, or 6 where a
        fractional count at a sub-penny price needs them (as the API writes portfolio money);
        counts with 2 places. A figure finer than $0.000001 (a pro-rata fee split) is rounded."""
        return {
            "realized_pnl_dollars": fmt_dollars_fine(self.realized),
            "unrealized_pnl_dollars": fmt_dollars_fine(self.unrealized),
            "fees_paid_dollars": fmt_dollars_fine(self.fees),
            "markets": [line.to_json() for line in self.markets],
            "warnings": list(self.warnings),
        }

    def describe_time(self) -> str:
        return to_iso_z(self.generated_at)


def _opt(value: Decimal | None) -> str | None:
    return fmt_dollars_fine(value) if value is not None else None
