"""What each audit record says, in the trader's terms: the fields of order events and settlements.

The exchange describes an order by its YES book side (`bid` / `ask`) and YES price; a trader who
typed "sell NO 5 @ 0.95" must read that back, not "bid 5 @ 0.05". So every order record names the
action and outcome side the trader chose, the price of the side traded (`price_dollars`: the NO
price for a NO order) beside both book prices, and the order's state once the event happened:
`order_status` (resting / partially_filled / executed / canceled) with its filled and resting counts.
`count_fp` is always the contracts the event itself is about (ordered, filled, canceled, the new
total of an amend, or removed by a decrease).
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from ..errors import UserInputError
from ..models import Order, Settlement
from ..money import ONE, ZERO, fmt_count, fmt_dollars, fmt_dollars_fine, to_decimal
from ..timeutil import to_iso_z

__all__ = ["OrderStatus", "order_state", "side_price", "order_fields", "settlement_fields",
           "settlement_key", "default_terms"]


class OrderStatus(enum.StrEnum):
    """The values of `order_status`: Kalshi's three, with `partially_filled` for a resting order
    that has already traded some of its size."""

    RESTING = "resting"
    PARTIALLY_FILLED = "partially_filled"
    EXECUTED = "executed"
    CANCELED = "canceled"


def order_state(total: Decimal | None, filled: Decimal, remaining: Decimal) -> dict[str, str]:
    """`order_status`, `fill_count_fp` and `remaining_count_fp` of an order with `total` contracts
    (filled + resting + canceled; None when unknown), `filled` traded and `remaining` resting."""
    if remaining > ZERO:
        status = OrderStatus.PARTIALLY_FILLED if filled > ZERO else OrderStatus.RESTING
    elif total is not None and filled < total:
        status = OrderStatus.CANCELED        # nothing rests, and not all of it traded
    else:
        status = OrderStatus.EXECUTED
    return {"order_status": status.value, "fill_count_fp": fmt_count(filled),
            "remaining_count_fp": fmt_count(remaining)}


def side_price(outcome: object, yes_price: object, no_price: object) -> object:
    """The price of the side traded: the NO price for a NO order, else the YES price (from the
    other side's, 1 - it, when only that one is given)."""
    wanted, other = (no_price, yes_price) if str(outcome) == "no" else (yes_price, no_price)
    if wanted is not None or other is None:
        return wanted
    try:
        return fmt_dollars(ONE - to_decimal(other, "price"))
    except UserInputError:
        return None


def default_terms(book_side: object) -> tuple[str, str]:
    """An order the log did not place, read as a buy: a bid buys YES, an ask buys NO (the same
    thing on the exchange's netted book as selling the other side)."""
    return ("yes", "buy") if str(book_side) == "bid" else ("no", "buy")


def order_fields(order: Order, terms: tuple[str, str] | None, *, yes_price: Decimal | None = None,
                 total: Decimal | None = None, filled: Decimal | None = None,
                 remaining: Decimal | None = None) -> dict[str, Any]:
    """An order's record fields: the trader's terms (`terms` = (outcome, action) as submitted, else
    read as a buy), its prices (`yes_price` when an amend changed it) and its state. Without
    `filled` / `remaining` the state is the order's as the exchange last reported it."""
    outcome, action = terms or default_terms(order.book_side)
    yes = order.yes_price if yes_price is None else yes_price
    no = order.no_price if yes_price is None else ONE - yes
    if total is None:   # the order's size as the exchange reports it; a canceled one keeps its initial size
        total = max(order.initial_count, order.fill_count + order.remaining_count)
    filled = order.fill_count if filled is None else filled
    remaining = order.remaining_count if remaining is None else remaining
    return {"ticker": order.ticker, "action": action, "outcome_side": outcome,
            "book_side": order.book_side, "price_dollars": fmt_dollars(side_price(outcome, yes, no)),
            "yes_price_dollars": fmt_dollars(yes), "no_price_dollars": fmt_dollars(no),
            "order_id": order.order_id, "client_order_id": order.client_order_id or None,
            **order_state(total, filled, remaining)}


def settlement_key(settlement: Settlement) -> str:
    """What identifies one settlement across syncs (the API gives it no id): market + settled time."""
    when = to_iso_z(settlement.settled_time) if settlement.settled_time else "unknown time"
    return f"{settlement.ticker} {when}"


def _payout(settlement: Settlement) -> Decimal | None:
    """The YES payout per contract: 1 or 0, or a scalar's value (whole cents in the record)."""
    if settlement.market_result == "yes":
        return ONE
    if settlement.market_result == "no":
        return ZERO
    return settlement.value


def settlement_fields(settlement: Settlement) -> dict[str, Any]:
    """A settlement's record fields. `fees_paid_dollars` is Kalshi's `fee_cost`: the trading fees
    of the position, already charged on (and logged with) its fills, so it is kept out of
    `fee_cost`, which would otherwise count them twice. What the settlement paid is `revenue_dollars`."""
    yes_held, no_held = settlement.yes_count, settlement.no_count
    outcome = "yes" if yes_held > ZERO else "no" if no_held > ZERO else None
    value = _payout(settlement)
    prices: dict[str, Any] = {}
    if value is not None:
        prices = {"yes_price_dollars": fmt_dollars(value), "no_price_dollars": fmt_dollars(ONE - value)}
        if outcome is not None:
            prices["price_dollars"] = fmt_dollars(value if outcome == "yes" else ONE - value)
    return {
        "created_time": settlement.settled_time, "ticker": settlement.ticker,
        "event_ticker": settlement.event_ticker or None, "market_result": settlement.market_result,
        "outcome_side": outcome, "count_fp": fmt_count(yes_held + no_held),
        "yes_count_fp": fmt_count(yes_held), "no_count_fp": fmt_count(no_held),
        "yes_total_cost_dollars": fmt_dollars_fine(settlement.yes_total_cost),
        "no_total_cost_dollars": fmt_dollars_fine(settlement.no_total_cost),
        "revenue_dollars": fmt_dollars_fine(settlement.revenue),
        "fees_paid_dollars": fmt_dollars_fine(settlement.fee_cost),
        "status": "settled", "settlement_key": settlement_key(settlement), **prices,
        "message": (f"result {settlement.market_result}: paid ${fmt_dollars(settlement.revenue, 2)} for "
                    f"YES {fmt_count(yes_held)} / NO {fmt_count(no_held)}; this market's trading fees "
                    f"(${fmt_dollars_fine(settlement.fee_cost)}) are in its fill rows"),
    }
