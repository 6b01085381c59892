"""How much cash each fill and settlement moved, replayed from the log so the rows add up to the P&L.

A fill's cash is not simply count x price: on Kalshi's netted book, a bid that meets a NO position
closes it (each YES + NO pair returns $1) and only the rest opens YES. So the log's fills are
replayed per market, oldest first, from a flat position, the way the exchange books them: the
closing part returns what closing pays, the opening part costs the side's price, the fee comes
off. A settlement pays its revenue and leaves the market flat. Once a market is closed or settled,
its rows' `cash_change_dollars` add up to its realized P&L (net of fees) and to the balance move,
exactly, provided the log holds the market's fills from its first trade (the history sync imports
the last 30 days, or from the start date asked for).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from ..errors import UserInputError
from ..money import ONE, ZERO, fmt_dollars, to_decimal

__all__ = ["add_cash_changes", "CASH_FIELD"]

CASH_FIELD = "cash_change_dollars"


def _number(rec: dict, key: str) -> Decimal | None:
    value = rec.get(key)
    if value in (None, ""):
        return None
    try:
        return to_decimal(value, key, floats=True)
    except UserInputError:
        return None


def _fill_cash(rec: dict, position: Decimal) -> tuple[Decimal, Decimal] | None:
    """(cash moved, new signed YES position) for one logged fill; None when it cannot be read."""
    count, yes_price = _number(rec, "count_fp"), _number(rec, "yes_price_dollars")
    side = rec.get("book_side")
    if count is None or yes_price is None or side not in ("bid", "ask"):
        return None
    fee = _number(rec, "fee_cost") or ZERO
    is_bid = side == "bid"
    if is_bid:
        closable = -position if position < ZERO else ZERO     # a bid closes NO held
    else:
        closable = position if position > ZERO else ZERO      # an ask closes YES held
    closing = min(count, closable)
    open_unit, close_unit = (yes_price, ONE - yes_price) if is_bid else (ONE - yes_price, yes_price)
    cash = closing * close_unit - (count - closing) * open_unit - fee
    return cash, position + (count if is_bid else -count)


def add_cash_changes(records: Iterable[dict]) -> None:
    """Set `cash_change_dollars` (6 places, signed: money in is positive) on every fill and
    settlement of `records`, which must be the whole log, oldest first (a fill's cash depends on
    the position before it)."""
    positions: dict[str, Decimal] = {}
    for rec in records:
        kind, ticker = rec.get("event_type"), str(rec.get("ticker") or "")
        if kind == "fill":
            booked = _fill_cash(rec, positions.get(ticker, ZERO))
            if booked is not None:
                cash, positions[ticker] = booked
                rec[CASH_FIELD] = fmt_dollars(cash, 6)
        elif kind == "settlement":
            revenue = _number(rec, "revenue_dollars")
            if revenue is not None:
                rec[CASH_FIELD] = fmt_dollars(revenue, 6)
            positions[ticker] = ZERO
