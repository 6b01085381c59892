"""Amends and decreases previewed like new orders: what the changed order will do the moment the
exchange takes it (an amend to a price through the book fills at once), its fees, worst case and
resulting position, all from the same `fill_forecast` a new order's preview uses.

The exchange reads an amend as the order's new terms: `count` is the new total (filled plus what
should rest), and a new price, or a larger size, takes the order out of its queue and matches it
again as a taker; a smaller size at the same price only shrinks it in place (so does a decrease).
An order that has already filled carries a fee-rounding accumulator the exchange does not show;
the preview reads it back from the order's fills (`fill_forecast.fee_carry`), so the fee of the
amend's fills is the exchange's to the cent too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..models import Order
from ..money import ONE, ZERO, fmt_count, fmt_dollars
from ..order_request import Action, BookSide, OrderIntent, OutcomeSide, SelfTradePrevention
from .fill_forecast import Forecast
from .forecast_lines import forecast_lines, position_words

__all__ = ["ChangePreview", "change_intent", "AMEND", "DECREASE"]

AMEND, DECREASE = "amend", "decrease"


def change_intent(order: Order, yes_price: Decimal, remaining: Decimal, *, post_only: bool,
                  stp: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS) -> OrderIntent:
    """A resting order's new terms as an intent: a bid buys YES, an ask buys NO (the same order
    under netting), for what would be left to fill, with the order's own self-trade prevention."""
    outcome = OutcomeSide.YES if order.book_side is BookSide.BID else OutcomeSide.NO
    price = yes_price if outcome is OutcomeSide.YES else ONE - yes_price
    return OrderIntent(order.ticker, Action.BUY, outcome, remaining, price, post_only=post_only,
                       self_trade_prevention_type=stp)


@dataclass(frozen=True)
class ChangePreview:
    """Everything a trader confirms before an amend or a decrease is sent."""

    kind: str                   # AMEND | DECREASE
    order: Order                # as it rests now
    yes_price: Decimal          # the new YES price (a decrease keeps the old one)
    remaining: Decimal          # what would be left to fill
    forecast: Forecast
    fee_type: str
    warnings: tuple[str, ...] = ()

    @property
    def refusal(self) -> str | None:
        return self.forecast.refusal

    @property
    def new_total(self) -> Decimal:
        return self.order.fill_count + self.remaining

    def lines(self) -> list[str]:
        """The change in full, then what the exchange will do with it."""
        o = self.order
        side = f"{o.book_side.value} (buy {'YES' if o.book_side is BookSide.BID else 'NO'})"
        if self.kind == AMEND:
            head = (f"AMEND order {o.order_id}: {side} at YES {fmt_dollars(o.yes_price)} -> "
                    f"{fmt_dollars(self.yes_price)} (NO {fmt_dollars(ONE - self.yes_price)}), total "
                    f"{fmt_count(o.fill_count + o.remaining_count)} -> {fmt_count(self.new_total)} "
                    f"({fmt_count(o.fill_count)} filled, {fmt_count(self.remaining)} left to fill)")
        else:
            head = (f"DECREASE order {o.order_id}: {side} at YES {fmt_dollars(o.yes_price)}, resting "
                    f"{fmt_count(o.remaining_count)} -> {fmt_count(self.remaining)}")
        if self.remaining == ZERO:
            return [head, "Nothing is left on the book: this cancels the order; the position stays "
                          f"{position_words(self.forecast.position)}."]
        return ([head] + forecast_lines(self.forecast, self.fee_type, named=True)
                + [f"Warning: {w}" for w in self.warnings])
