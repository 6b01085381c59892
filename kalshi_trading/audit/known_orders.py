"""What the trade log knows about each order, rebuilt from its own records on every start.

The exchange describes an order by its YES book side; only the log remembers what the trader
asked for (sell NO, not "bid"), the order's size as amends and decreases change it, the fills
logged against it and whether it ended. Records written later about the same order (a fill, a
cancellation the exchange made, an amend) take the trader's terms and the order's state from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import UserInputError
from ..money import ZERO, fmt_count, to_decimal
from .record_fields import order_state

__all__ = ["KnownOrders", "KnownOrder"]

_SIDES, _ACTIONS = ("yes", "no"), ("buy", "sell")
_ENDED = ("executed", "canceled")


def _count(value: Any) -> Decimal | None:
    try:
        return to_decimal(value, "count_fp", floats=True) if value not in (None, "") else None
    except UserInputError:   # a hand-edited log: the count is not tracked, the record still reads
        return None


@dataclass
class KnownOrder:
    """One order as the log knows it."""

    terms: tuple[str, str] | None = None   # (outcome side, action) as the trader gave them
    total: Decimal | None = None           # filled + resting (+ canceled), amends included
    filled: Decimal = ZERO                 # contracts of the fills logged against it
    ended: bool = False                    # executed or canceled, as far as the log knows
    submission: dict | None = field(default=None, repr=False)   # its submission record, when placed here


class KnownOrders:
    """Orders by id, fed every record oldest first (`remember`)."""

    def __init__(self) -> None:
        self._orders: dict[str, KnownOrder] = {}

    def clear(self) -> None:
        self._orders.clear()

    def remember(self, rec: dict) -> None:
        """Follow one record: a submission places (or finds) an order, a fill adds to what traded,
        a cancellation ends it, an amend changes its size and may move it to a new id."""
        kind, order_id = rec["event_type"], rec.get("order_id")
        if not isinstance(order_id, str) or not order_id:
            return
        count = _count(rec.get("count_fp"))
        if kind == "fill":
            order = self._orders.setdefault(order_id, KnownOrder())
            order.filled += count or ZERO
        elif kind == "submission":
            order = self._orders.setdefault(order_id, KnownOrder())
            order.terms = _terms(rec) or order.terms
            order.total = count if count is not None else order.total
            order.ended = rec.get("status") in _ENDED
            order.submission = rec
        elif kind == "cancellation":
            self._orders.setdefault(order_id, KnownOrder()).ended = True
        elif kind == "amend" and count is not None:
            previous = str(rec.get("replaced_order_id") or order_id)
            order = self._orders.pop(previous, None) or KnownOrder()
            if rec.get("status") != "decreased":
                order.total = count                      # an amend's count is the new total
            elif order.total is not None:
                order.total -= count                     # a decrease's count is what it took off
            order.terms = _terms(rec) or order.terms
            self._orders[order_id] = order

    def terms(self, order_id: str) -> tuple[str, str] | None:
        """(outcome side, action) the trader placed this order with, if the log placed it."""
        order = self._orders.get(order_id)
        return order.terms if order is not None else None

    def total(self, order_id: str) -> Decimal | None:
        order = self._orders.get(order_id)
        return order.total if order is not None else None

    def state_after_fill(self, order_id: str, count: Decimal) -> dict[str, str]:
        """The order's state once a fill of `count` more is logged (empty for an order the log
        did not place: it does not know the order's size)."""
        order = self._orders.get(order_id)
        if order is None or order.total is None:
            return {}
        filled = order.filled + count
        remaining = ZERO if order.ended else max(order.total - filled, ZERO)
        return order_state(order.total, filled, remaining)

    def resting(self) -> list[dict]:
        """Orders placed through this log that rest as far as it knows: not ended, fewer fills
        logged than their size. Each is its submission record with the order's current id and
        its current total as `count_fp`."""
        return [{**order.submission, "order_id": order_id, "count_fp": fmt_count(order.total)}
                for order_id, order in self._orders.items()
                if order.submission is not None and not order.ended and order.total is not None
                and order.total > order.filled]


def _terms(rec: dict) -> tuple[str, str] | None:
    outcome, action = rec.get("outcome_side"), rec.get("action")
    return (outcome, action) if outcome in _SIDES and action in _ACTIONS else None
