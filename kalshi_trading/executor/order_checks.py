"""`OrderChecks`: what `TradeExecutor` checks and forecasts before anything is sent, beyond a new
order's own preview: the risk gate field by field while an order form is typed, and the checked
terms and previews of amends and decreases (the same forecast a new order gets, so an amend
through the book says it will fill, and a risk refusal comes before the `y`).

A mixin, as the paper engine's trading code is, so trade_executor.py stays readable; it relies on
the executor's client, logger, risk limits and lookups (`_resting`, `_market`, `_position`,
`_own_resting`, `_resting_count`, `fee_schedule`).
"""

from __future__ import annotations

from decimal import Decimal

from ..errors import RiskLimitExceeded, UserInputError
from ..models import Market, Order, Orderbook
from ..money import ONE, ZERO, fmt_count, fmt_dollars, parse_count, parse_dollars, trade_fee
from ..order_request import Action, OrderIntent, OutcomeSide, SelfTradePrevention, TimeInForce
from .change_preview import AMEND, DECREASE, ChangePreview, change_intent
from .fill_forecast import HALF, fee_carry, forecast_order
from .order_preview import (affordable_count, book_side_terms, check_cost_limit, check_open_orders,
                            check_position_limit, check_risk)

__all__ = ["OrderChecks"]


class OrderChecks:
    """Checks and previews of orders not yet sent; see `TradeExecutor` for the state they use."""

    def check_limits(self, market: Market, *, action: Action, outcome: OutcomeSide, count: Decimal,
                     price: Decimal | None = None, time_in_force: TimeInForce | None = None) -> None:
        """The risk gate as far as an order form knows the order, so a refusal comes while the
        failing field is being typed: the position limit once the count is known, the cost limit
        (naming the count that would pass) once the price is, the open-order limit for a GTC."""
        position = self._position(market.ticker)
        # the position limit does not depend on the price: any price stands in until it is known
        intent = OrderIntent(market.ticker, action, outcome, count, price if price is not None else HALF,
                             time_in_force=time_in_force or TimeInForce.IOC)
        check_position_limit(intent, self._risk, position=position)
        if price is not None:
            taker = self.fee_schedule(market).taker
            try:
                check_cost_limit(intent, self._risk, position=position,
                                 fee=trade_fee(count, price, taker))
            except RiskLimitExceeded as exc:
                fits = affordable_count(intent, self._risk, position=position, taker_rate=taker)
                raise RiskLimitExceeded(f"{exc}; at {fmt_dollars(price)} at most {fmt_count(fits)} "
                                        "contracts fit") from None
        if time_in_force is TimeInForce.GTC:
            check_open_orders(intent, self._risk, resting_orders=self._resting_count())

    def _amend_terms(self, order_id: str, price: Decimal | str | None, count: Decimal | str | None,
                     outcome: OutcomeSide | str) -> tuple[Order, Decimal, Decimal]:
        """The resting order and its checked new terms (YES price, new total), for the preview and
        the amend alike; the risk gate runs when the change grows the order or moves its price."""
        if price is None and count is None:
            raise UserInputError("give a new price, a new count, or both")
        order = self._resting(order_id)
        market = self._market(order.ticker)
        total = order.fill_count + order.remaining_count
        new_yes = self._amend_price(price, outcome, order, market)
        new_total = total if count is None else parse_count(count, "count")
        if new_total <= order.fill_count:
            raise UserInputError(f"the new total must be more than the {fmt_count(order.fill_count)} "
                                 "already filled (to stop the order, cancel it)")
        if new_yes == order.yes_price and new_total == total:
            raise UserInputError("that is the order as it stands; nothing to change")
        if new_total > total or new_yes != order.yes_price:
            self._gate_resting(order, market, new_yes, new_total - order.fill_count)
        return order, new_yes, new_total

    def preview_amend(self, order_id: str, *, price: Decimal | str | None = None,
                      count: Decimal | str | None = None,
                      outcome: OutcomeSide | str = OutcomeSide.YES) -> ChangePreview:
        """What `amend` with these terms will do, checked and risk-gated as it will be, before
        anything is sent: a new price or a larger size matches the order again (it may fill at
        once); a smaller size at the same price only shrinks it. Nothing is sent or logged."""
        order, new_yes, new_total = self._amend_terms(order_id, price, count, outcome)
        remaining = new_total - order.fill_count
        keeps_place = new_yes == order.yes_price and remaining <= order.remaining_count
        post_only, stp = self._placed_terms(order)
        return self._change_preview(AMEND, order, new_yes, remaining, takes=not keeps_place,
                                    post_only=post_only, stp=stp)

    def preview_decrease(self, order_id: str, *, reduce_by: Decimal | str | None = None,
                         reduce_to: Decimal | str | None = None) -> ChangePreview:
        """What `decrease` will leave resting (a decrease never trades); nothing is sent or logged."""
        order, to = self._decrease_terms(order_id, reduce_by, reduce_to)
        return self._change_preview(DECREASE, order, order.yes_price, to, takes=False, post_only=False)

    def _change_preview(self, kind: str, order: Order, yes_price: Decimal, remaining: Decimal, *,
                        takes: bool, post_only: bool,
                        stp: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS) -> ChangePreview:
        fees = self.fee_schedule(self._market(order.ticker))
        others = [o for o in self._own_resting(order.ticker) if o.order_id != order.order_id]
        book = (self._client.get_orderbook(order.ticker) if takes or post_only
                else Orderbook(order.ticker, (), ()))
        # the exchange rounds an amended order's new fills on from where its earlier ones left off
        carry = (fee_carry((f for f in self._client.iter_fills(order_id=order.order_id)
                            if f.order_id == order.order_id), fees)
                 if takes and order.fill_count > ZERO else ZERO)
        intent = change_intent(order, yes_price, remaining, post_only=post_only, stp=stp)
        forecast = forecast_order(intent, book, position=self._position(order.ticker), fees=fees,
                                  own_resting=others, takes=takes, carry=carry)
        return ChangePreview(kind, order, yes_price, remaining, forecast, fees.fee_type)

    def _placed_terms(self, order: Order) -> tuple[bool, SelfTradePrevention]:
        """Whether this app placed the order post-only, and its self-trade prevention (the
        exchange's `Order` says neither): an amend of a post-only order through the book is
        refused, and one that matches again meets own orders by its prevention type."""
        post_only, stp = False, SelfTradePrevention.TAKER_AT_CROSS
        for rec in self._logger.query(ticker=order.ticker, event_types="submission"):
            if rec.get("order_id") == order.order_id:
                post_only = post_only or bool(rec.get("post_only"))
                if rec.get("self_trade_prevention_type") in tuple(SelfTradePrevention):
                    stp = SelfTradePrevention(rec["self_trade_prevention_type"])
        return post_only, stp

    def _amend_price(self, price: Decimal | str | None, outcome: OutcomeSide | str, order: Order,
                     market: Market) -> Decimal:
        if price is None:
            return order.yes_price
        if isinstance(price, float):
            raise UserInputError(f"price must be an exact decimal, not {price!r}")
        value = parse_dollars(price)
        if not ZERO < value < ONE:
            raise UserInputError(f"price must be between 0 and 1 dollar, not {value}")
        side = OutcomeSide(outcome.lower() if isinstance(outcome, str) else outcome)
        yes = value if side is OutcomeSide.YES else ONE - value
        if not market.price_grid.contains(yes):
            raise UserInputError(f"price {value} is not on {market.ticker}'s price grid "
                                 f"({market.price_grid.describe()})")
        return yes

    def _gate_resting(self, order: Order, market: Market, yes_price: Decimal, remaining: Decimal) -> None:
        """The cost and position checks for what an amended order would leave resting."""
        action, outcome = book_side_terms(order.book_side)
        price = yes_price if outcome is OutcomeSide.YES else ONE - yes_price
        as_intent = OrderIntent(order.ticker, action, outcome, remaining, price)
        check_risk(as_intent, self._risk, position=self._position(order.ticker), resting_orders=0,
                   fee=trade_fee(remaining, price, self.fee_schedule(market).taker))

    def _decrease_terms(self, order_id: str, reduce_by: Decimal | str | None,
                        reduce_to: Decimal | str | None) -> tuple[Order, Decimal]:
        """The resting order and what would be left of it."""
        if (reduce_by is None) == (reduce_to is None):
            raise UserInputError("give exactly one of reduce by or reduce to")
        order = self._resting(order_id)
        remaining = order.remaining_count
        if reduce_by is not None:
            by = parse_count(reduce_by, "reduce by")
            if not ZERO < by <= remaining:
                raise UserInputError(f"reduce by must be between 0.01 and the {fmt_count(remaining)} resting")
            return order, remaining - by
        to = parse_count(reduce_to, "reduce to")
        if not ZERO <= to < remaining:
            raise UserInputError(f"reduce to must be at least 0 and below the {fmt_count(remaining)} resting")
        return order, to
