"""Closing a market's lots at settlement, and deciding whom to believe when the records disagree.

A settlement record carries the exchange's own totals for the position it paid out: the counts
held, their cost, the revenue (integer cents) and the fees. When those agree with the lots built
from fills, the lots are closed at the settlement value and the revenue actually paid is booked
(it can be a fraction of a cent below the exact payout, because revenue is whole cents). When they
disagree, usually because fills from before the history window are missing, the settlement's
totals win for that market and a warning names the market and the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..models import Settlement
from ..money import CENT, ONE, ZERO, fmt_count, fmt_dollars
from .fifo_ledger import MarketLedger, SettlementClose

__all__ = ["SettlementCheck", "settlement_value", "reconcile_settlement", "COST_TOLERANCE"]

# Kalshi's own totals are written to $0.0001 (sometimes $0.000001); revenue is whole cents.
FEE_TOLERANCE = Decimal("0.0001")
COST_TOLERANCE = Decimal("0.0001")


@dataclass(frozen=True)
class SettlementCheck:
    """The outcome of settling one market."""

    ticker: str
    value: Decimal | None            # YES payout per contract used, when known
    close: SettlementClose | None    # what the lots produced (None when no value was known)
    agreed: bool                     # True when the settlement matched the lots
    difference: Decimal              # realized P&L change forced by the settlement's totals
    warning: str | None


def settlement_value(settlement: Settlement, market_value: Decimal | None = None) -> Decimal | None:
    """YES payout per contract: 1 or 0 for yes/no; for scalar, the market's exact
    `settlement_value_dollars` when known, else the record's `value` (whole cents, so a sub-cent
    scalar value arrives truncated)."""
    if settlement.market_result == "yes":
        return ONE
    if settlement.market_result == "no":
        return ZERO
    return market_value if market_value is not None else settlement.value


def _mismatches(close: SettlementClose, settlement: Settlement, fill_fees: Decimal) -> list[str]:
    problems = []
    if close.yes_count != settlement.yes_count or close.no_count != settlement.no_count:
        problems.append(f"held YES {fmt_count(close.yes_count)} / NO {fmt_count(close.no_count)} per fills, "
                        f"{fmt_count(settlement.yes_count)} / {fmt_count(settlement.no_count)} per settlement")
    if abs(close.payout - settlement.revenue) >= CENT:
        problems.append(f"payout {fmt_dollars(close.payout)} per fills, revenue "
                        f"{fmt_dollars(settlement.revenue)} per settlement")
    their_cost = settlement.yes_total_cost + settlement.no_total_cost
    if abs(close.cost - their_cost) > COST_TOLERANCE:
        problems.append(f"cost {fmt_dollars(close.cost)} per fills, {fmt_dollars(their_cost)} per settlement")
    if abs(fill_fees - settlement.fee_cost) > FEE_TOLERANCE:
        problems.append(f"fees {fmt_dollars(fill_fees)} per fills, {fmt_dollars(settlement.fee_cost)} "
                        f"per settlement")
    return problems


def reconcile_settlement(ledger: MarketLedger, settlement: Settlement,
                         market_value: Decimal | None = None) -> SettlementCheck:
    """Close `ledger`'s open lots for `settlement`; the ledger is updated in place.

    Agreement: realized P&L = FIFO over the fills + lots closed at the value, with the payout
    replaced by the revenue actually paid. Disagreement: realized P&L = the gross P&L of pieces
    the fills closed before settlement + revenue - the settlement's cost - the settlement's fees
    (each fee counted once), and the market's fees become the settlement's `fee_cost`.
    """
    when = _iso(settlement)
    gross_before = ledger.realized_gross
    fill_fees = ledger.fees
    value = settlement_value(settlement, market_value)
    if value is not None:
        close = ledger.settle(value, when)
        problems = _mismatches(close, settlement, fill_fees)
    else:
        close = None
        ledger.discard_lots()   # unpriceable: the settlement's totals replace them below
        problems = [f"settled '{settlement.market_result}' without a settlement value"]
    if not problems:
        paid_less = settlement.revenue - close.payout     # sub-cent truncation of the revenue
        if paid_less:
            ledger.book_adjustment(paid_less, when)
        return SettlementCheck(ledger.ticker, value, close, True, paid_less, None)
    their_cost = settlement.yes_total_cost + settlement.no_total_cost
    settled_realized = gross_before + settlement.revenue - their_cost - settlement.fee_cost
    difference = settled_realized - ledger.realized
    ledger.book_adjustment(difference, when, gross=False)
    ledger.override(realized_gross=gross_before + settlement.revenue - their_cost,
                    fees=settlement.fee_cost)
    warning = (f"{ledger.ticker}: settlement disagrees with the fills ({'; '.join(problems)}); "
               f"using the settlement's totals, realized P&L {difference:+.4f} "
               f"to {fmt_dollars(settled_realized)} (fills before the history window missing?)")
    return SettlementCheck(ledger.ticker, value, close, False, difference, warning)


def _iso(settlement: Settlement) -> str:
    moment = settlement.settled_time
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment is not None else ""
