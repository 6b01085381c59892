"""Turning what a trader typed (or a strategy proposed) into an `OrderIntent` a typo cannot break.

The menu's order form and the `order` subcommand both build their intent here, so the price grid
and time-in-force rules are checked once, in the trader's own terms, before any preview.
"""

from __future__ import annotations

from decimal import Decimal

from ..errors import UserInputError
from ..models import Market
from ..money import fmt_dollars
from ..order_request import Action, OrderIntent, OutcomeSide, TimeInForce, to_yes_price

__all__ = ["price_on_grid", "build_intent"]


def price_on_grid(market: Market, outcome: OutcomeSide, price: Decimal, what: str = "price") -> Decimal:
    """`price` (in the outcome's terms) if its YES equivalent is on the market's grid; otherwise
    the error names the nearest valid prices, in the same terms the trader typed."""
    yes = to_yes_price(outcome, price)
    grid = market.price_grid
    if not grid.contains(yes):
        terms = f" (YES {fmt_dollars(yes)})" if outcome is OutcomeSide.NO else ""
        near = sorted({to_yes_price(outcome, grid.snap(yes, up=up)) for up in (False, True)})
        raise UserInputError(f"{what} {fmt_dollars(price)}{terms} is not on {market.ticker}'s price "
                             f"grid; nearest: {' or '.join(fmt_dollars(n) for n in near)} "
                             f"(grid {grid.describe()})")
    return price


def build_intent(market: Market, *, action: Action, outcome: OutcomeSide, count: Decimal,
                 price: Decimal, tif: TimeInForce, expiration_time: int | None = None,
                 post_only: bool = False, reduce_only: bool = False, source: str = "menu") -> OrderIntent:
    """An `OrderIntent` after the checks a typo would fail (grid, TIF combinations)."""
    price_on_grid(market, outcome, price)
    if expiration_time is not None and tif is not TimeInForce.GTC:
        raise UserInputError("an expiry needs time in force gtc")
    if post_only and tif is not TimeInForce.GTC:
        raise UserInputError("post-only needs time in force gtc (it must rest, not take)")
    return OrderIntent(ticker=market.ticker, action=action, outcome=outcome, count=count, price=price,
                       time_in_force=tif, expiration_time=expiration_time, post_only=post_only,
                       reduce_only=reduce_only, tags=(source,))
