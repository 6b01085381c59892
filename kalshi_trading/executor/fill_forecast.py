"""What the exchange will do with an order as the book stands: refuse it, or fill some of it now and
rest or cancel the rest, and how that moves the position, the balance and the fees.

A preview a trader can trust has to follow the exchange, not a rough walk of the book: the paper
exchange (`paper/trading.py`) and Kalshi check post-only first (an order that would cross is
refused), then cap a reduce-only order at what it can close (refused when that is nothing), then
refuse a fill-or-kill the book cannot fill whole. The walk takes the best price first, one fill per
level, up to the limit, and stops at the trader's own resting order on the other side (self-trade
prevention `taker_at_cross`: the rest is cancelled, even for a GTC order). Each fill pays
`money.trade_fee` and then `money.FeeRounding` (the balance moves in whole cents), so the fee and
the balance move shown are the exchange's to the cent for a book that holds still. New orders,
amends and decreases are all forecast here; nothing here touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Iterable

from ..models import BookWalk, Order, Orderbook
from ..money import CENT, ONE, ZERO, FeeRounding, FeeSchedule, ceil_to, fmt_count, fmt_dollars, trade_fee
from ..order_request import BookSide, OrderIntent, OutcomeSide, TimeInForce

__all__ = ["ForecastFill", "Forecast", "forecast_order", "held_to_close", "outcome_price", "HALF"]

HALF = Decimal("0.5")
MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class ForecastFill:
    """One fill the order would get now: its YES price and size, its net fee, the balance move."""

    yes_price: Decimal
    count: Decimal
    fee: Decimal      # trade fee + rounding to the cent - rebate (the exchange's `fee_cost`)
    cash: Decimal     # proceeds of the closing part - cost of the opening part - fee


@dataclass(frozen=True)
class Forecast:
    """The exchange's answer to one order (or to an amend's new terms), computed in advance."""

    intent: OrderIntent          # as the exchange takes it: a reduce-only count is capped
    asked: Decimal               # the count the trader asked for
    position: Decimal            # signed (YES > 0) before the order
    refusal: str | None          # why the exchange will refuse it; None when it will take it
    fills: tuple[ForecastFill, ...] = ()
    resting: Decimal = ZERO      # left on the book (GTC)
    cancelled: Decimal = ZERO    # cancelled at once: IOC remainder, or stopped at an own order
    stopped_at: Decimal | None = None   # YES price of the own resting order that stops it
    rest_fee: Decimal = ZERO     # maker fee at the limit if the resting part fills later
    worst_case_loss: Decimal = ZERO

    @property
    def filled(self) -> Decimal:
        return sum((f.count for f in self.fills), ZERO)

    @property
    def fee_now(self) -> Decimal:
        return sum((f.fee for f in self.fills), ZERO)

    @property
    def cash_now(self) -> Decimal:
        """How the balance moves for the part that fills now (negative: it costs)."""
        return sum((f.cash for f in self.fills), ZERO)

    @property
    def cost_now(self) -> Decimal:
        """Contracts x price of the fills now, in the order's own terms (a NO buyer's NO prices)."""
        return sum((f.count * outcome_price(self.intent.outcome, f.yes_price) for f in self.fills), ZERO)

    @property
    def average_price(self) -> Decimal | None:
        """The fills' average price in the order's own terms, to the micro-dollar."""
        return (self.cost_now / self.filled).quantize(MICRO) if self.fills else None

    @property
    def capped(self) -> Decimal:
        """What reduce-only cuts off the order at once."""
        return self.asked - self.intent.count if self.refusal is None else ZERO

    @property
    def position_now(self) -> Decimal:
        return self.position + _signed(self.intent.book_side, self.filled)

    @property
    def position_if_filled(self) -> Decimal:
        """The position once the resting part fills too (IOC / FOK: the same as now)."""
        return self.position_now + _signed(self.intent.book_side, self.resting)

    def as_book_walk(self) -> BookWalk:
        """The fills now in `Orderbook.walk`'s shape (count, cost, average, fee)."""
        return BookWalk(self.filled, self.cost_now, self.average_price, self.fee_now)


def outcome_price(outcome: OutcomeSide, yes_price: Decimal) -> Decimal:
    return yes_price if outcome is OutcomeSide.YES else ONE - yes_price


def held_to_close(side: BookSide, position: Decimal) -> Decimal:
    """Contracts an order on `side` closes before it opens any: a bid closes NO, an ask YES."""
    if side is BookSide.BID:
        return -position if position < ZERO else ZERO
    return position if position > ZERO else ZERO


def _signed(side: BookSide, count: Decimal) -> Decimal:
    return count if side is BookSide.BID else -count


def forecast_order(intent: OrderIntent, book: Orderbook, *, position: Decimal, fees: FeeSchedule,
                   own_resting: Iterable[Order] = (), takes: bool = True) -> Forecast:
    """What the exchange does with `intent` against `book`, for a trader holding `position`.

    `own_resting` are the trader's other resting orders on this market: those on the same side
    already intend to close part of the position (the reduce-only cap), those on the other side stop
    the walk (self-trade prevention). `takes=False` is an amend that keeps its queue place or a
    decrease: nothing executes, the order just rests at its new size.
    """
    own = [o for o in own_resting if o.status == "resting"]
    refusal, count = _refusal(intent, book, position, own)
    if refusal is not None:
        return Forecast(intent, intent.count, position, refusal)
    taken = replace(intent, count=count)
    fills, stopped_at = (_walk(taken, book, position, fees.taker, own) if takes else ((), None))
    filled = sum((f.count for f in fills), ZERO)
    if intent.time_in_force is TimeInForce.FOK and filled < count and stopped_at is None:
        return Forecast(intent, intent.count, position,
                        f"fill-or-kill: the book holds only {fmt_count(filled)} at "
                        f"{fmt_dollars(intent.price)} or better, not {fmt_count(count)}; the exchange "
                        "refuses it whole")
    rests = intent.time_in_force is TimeInForce.GTC and stopped_at is None
    left = count - filled
    resting, cancelled = (left, ZERO) if rests else (ZERO, left)
    forecast = Forecast(taken, intent.count, position, None, fills, resting, cancelled, stopped_at,
                        trade_fee(resting, intent.yes_price, fees.maker))
    return replace(forecast, worst_case_loss=_worst_case(forecast, fees))


def _refusal(intent: OrderIntent, book: Orderbook, position: Decimal,
             own: list[Order]) -> tuple[str | None, Decimal]:
    """The exchange's refusals in its own order (post-only, then reduce-only), and the count it takes."""
    side, limit = intent.book_side, intent.yes_price
    if intent.post_only:
        best = book.best_yes_ask if side is BookSide.BID else book.best_yes_bid
        if best is not None and (best <= limit if side is BookSide.BID else best >= limit):
            return (f"post-only, but it would trade at once: {_quote(intent, best)} "
                    f"is {'at or below' if _buys_outcome(intent) else 'at or above'} your "
                    f"{fmt_dollars(intent.price)}; the exchange refuses post-only orders that cross "
                    "the book"), intent.count
    if not intent.reduce_only:
        return None, intent.count
    held = held_to_close(side, position)
    committed = sum((o.remaining_count for o in own if o.book_side is side), ZERO)
    closable = max(ZERO, held - committed)
    if closable == ZERO:
        holding = _position_words(position)
        also = (f", and your resting orders already close {fmt_count(min(held, committed))}"
                if held > ZERO else "")
        return (f"reduce-only, but it has nothing to reduce: you hold {holding}{also}; the exchange "
                "refuses reduce-only orders that would open a position"), intent.count
    return None, min(intent.count, closable)


def _buys_outcome(intent: OrderIntent) -> bool:
    return (intent.book_side is BookSide.BID) == (intent.outcome is OutcomeSide.YES)


def _quote(intent: OrderIntent, best_yes: Decimal) -> str:
    """The price on the other side of the book, in the order's own terms (`the NO ask 0.5800`)."""
    buying = _buys_outcome(intent)
    word = "ask" if buying else "bid"
    return f"the best {intent.outcome.value.upper()} {word} {fmt_dollars(outcome_price(intent.outcome, best_yes))}"


def _position_words(position: Decimal) -> str:
    if position == ZERO:
        return "nothing in this market"
    return f"{fmt_count(abs(position))} {'YES' if position > ZERO else 'NO'}"


def _walk(intent: OrderIntent, book: Orderbook, position: Decimal, taker_rate: Decimal,
          own: list[Order]) -> tuple[tuple[ForecastFill, ...], Decimal | None]:
    """The taker fills, best price first, up to the limit or the trader's own resting order."""
    side, limit = intent.book_side, intent.yes_price
    bid = side is BookSide.BID
    levels = book.yes_asks if bid else tuple(reversed(book.yes_bids))
    own_prices = {o.yes_price for o in own if o.book_side is not side}
    rounding = FeeRounding()
    closable, left = held_to_close(side, position), intent.count
    fills: list[ForecastFill] = []
    for level in levels:
        if left == ZERO or (level.price > limit if bid else level.price < limit):
            break
        if level.price in own_prices:
            return tuple(fills), level.price
        take = min(level.count, left)
        closing = min(take, closable)
        closable, left = closable - closing, left - take
        price = level.price
        open_unit, close_unit = (price, ONE - price) if bid else (ONE - price, price)
        revenue = closing * close_unit - (take - closing) * open_unit
        fee = rounding.fill_fee(revenue, trade_fee(take, price, taker_rate))
        fills.append(ForecastFill(price, take, fee, revenue - fee))
    return tuple(fills), None


def _worst_case(forecast: Forecast, fees: FeeSchedule) -> Decimal:
    """The most cash this order can lose: the contracts it can open bought at the limit and
    expiring worthless, plus the largest fees its fills can pay, up to the cent the balance moves
    by. Closing what is held only brings money in, so it adds its fee and nothing else.

    An IOC or FOK order may take its whole count (the book can move before it arrives); a GTC one
    takes what fills now and pays the maker fee on what rests (post-only: everything rests).
    """
    intent = forecast.intent
    side, limit = intent.book_side, intent.yes_price
    held = held_to_close(side, forecast.position)
    taking = forecast.filled if intent.time_in_force is TimeInForce.GTC else intent.count
    closing_taken = min(taking, held)
    opening = max(ZERO, intent.count - held)
    open_unit = limit if side is BookSide.BID else ONE - limit
    # A closing fill pays the most fee at the price nearest 0.50 it can get (bids fill at or below
    # their limit, asks at or above), which is how the exchange holds collateral for fees too.
    fee_worst = min(limit, HALF) if side is BookSide.BID else max(limit, HALF)
    loss = (opening * open_unit + trade_fee(taking - closing_taken, limit, fees.taker)
            + trade_fee(closing_taken, fee_worst, fees.taker) + forecast.rest_fee)
    return ceil_to(loss, CENT)   # the balance moves in whole cents: fee rounding takes the rest
