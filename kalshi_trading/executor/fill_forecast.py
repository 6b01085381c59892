"""What the exchange will do with an order as the book stands: refuse it, or fill some of it now and
rest or cancel the rest, and how that moves the position, the balance and the fees.

A preview a trader can trust has to follow the exchange, not a rough walk of the book: the paper
exchange (`paper/trading.py`) and Kalshi check post-only first (an order that would cross is
refused), then cap a reduce-only order at what it can close (refused when that is nothing), then
refuse a fill-or-kill the book cannot fill whole. The walk takes the best price first, one fill per
level, up to the limit. Where the trader's own order rests on the other side, self-trade
prevention decides: `taker_at_cross` fills the size queued ahead of that order and stops there (the
rest is cancelled, even for a GTC order); `maker` cancels the trader's orders it meets and goes on
through everyone else's size. The book does not say where in the queue an own order stands, so
the forecast counts all the other size at its price as ahead of it, which is the paper exchange's
queue unless more size joined that price after the order did. Each fill pays
`money.trade_fee` and then `money.FeeRounding` (the balance moves in whole cents), so the fee and
the balance move shown are the exchange's to the cent for a book that holds still (where `maker`
cancels an own order, the exchange fills the size on either side of it as two fills, so the fee
there may round a cent apart). An amended order goes on with the fee rounding its earlier fills
left (`fee_carry`), as the exchange's does. New orders, amends and decreases are all forecast
here; nothing here touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Iterable, NamedTuple

from ..models import BookLevel, BookWalk, Fill, Order, Orderbook
from ..money import (CENT, ONE, ZERO, FeeRounding, FeeSchedule, ceil_to, fmt_count, fmt_dollars, quadratic_fee,
                     trade_fee)
from ..order_request import BookSide, OrderIntent, OutcomeSide, SelfTradePrevention, TimeInForce

__all__ = ["ForecastFill", "Forecast", "forecast_order", "fee_carry", "held_to_close", "outcome_price",
           "HALF"]

HALF = Decimal("0.5")


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
    # taker_at_cross: the fills at an own order's price (stopped_at, or the last level), taken as
    # the size queued ahead of it; whatever of it queued behind the own order does not fill
    queue_ahead: Decimal = ZERO
    queue_price: Decimal | None = None
    # maker: own resting orders the walk passes (cancelled), and those at its last level, which
    # are cancelled only if they queue ahead of where the order's count runs out
    own_cancelled: tuple[BookLevel, ...] = ()
    own_may_cancel: tuple[BookLevel, ...] = ()
    # what the exchange holds from the available balance while the resting part rests: each
    # contract it would open, at its cost at the limit plus the most its taker fee could be
    held: Decimal = ZERO

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
        """The fills' average price in the order's own terms, unrounded: the exchange rounds its
        `average_fill_price` once, to 4 places, and a screen must round it once too."""
        return self.cost_now / self.filled if self.fills else None

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
                   own_resting: Iterable[Order] = (), takes: bool = True,
                   carry: Decimal = ZERO) -> Forecast:
    """What the exchange does with `intent` against `book`, for a trader holding `position`.

    `own_resting` are the trader's other resting orders on this market: those on the same side
    already intend to close part of the position (the reduce-only cap), those on the other side meet
    self-trade prevention. `takes=False` is an amend that keeps its queue place or a decrease:
    nothing executes, the order just rests at its new size. `carry` is the fee-rounding accumulator
    an amended order brings from its earlier fills (`fee_carry`).
    """
    own = [o for o in own_resting if o.status == "resting"]
    refusal, count = _refusal(intent, book, position, own)
    if refusal is not None:
        return Forecast(intent, intent.count, position, refusal)
    taken = replace(intent, count=count)
    walk = _walk(taken, book, position, fees.taker, own, carry) if takes else _Walk((), None)
    fills, stopped_at = walk.fills, walk.stopped_at
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
                        trade_fee(resting, intent.yes_price, fees.maker), queue_ahead=walk.queue_ahead,
                        queue_price=walk.queue_price, own_cancelled=walk.own_cancelled,
                        own_may_cancel=walk.own_may_cancel)
    worst = _worst_case(forecast, fees, makes_only=intent.post_only or not takes)
    return replace(forecast, worst_case_loss=worst, held=_held(taken, position, filled, resting, fees.taker))


def _held(intent: OrderIntent, position: Decimal, filled: Decimal, resting: Decimal,
          taker_rate: Decimal) -> Decimal:
    """The collateral the resting part ties up (the exchange's reserve rule, KALSHI_API_NOTES):
    the contracts it would open (fills use the closing part first) at their cost at the limit plus
    the worst taker fee one contract could pay; nothing for a part that only closes."""
    if resting <= ZERO:
        return ZERO
    opening = max(ZERO, resting - max(ZERO, held_to_close(intent.book_side, position) - filled))
    bid = intent.book_side is BookSide.BID
    cost = intent.yes_price if bid else ONE - intent.yes_price
    fee_worst = min(intent.yes_price, HALF) if bid else max(intent.yes_price, HALF)
    return opening * (cost + quadratic_fee(ONE, fee_worst, taker_rate))


def fee_carry(fills: Iterable[Fill], fees: FeeSchedule) -> Decimal:
    """The fee-rounding accumulator an order carries after `fills` (its own fills).

    Each fill adds its rounding and takes back any cent rebated, and its `fee_cost` is the trade
    fee plus exactly that, so the sum of `fee_cost - trade_fee` is the accumulator, in any order
    (it can pass a cent: a rebate waits for a fill whose fee covers it). A negative sum means the
    fees were waived or changed since, and is read as no carry.
    """
    carry = sum((f.fee_cost - trade_fee(f.count, f.yes_price, fees.taker if f.is_taker else fees.maker)
                 for f in fills), ZERO)
    return max(carry, ZERO)


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


class _Walk(NamedTuple):
    fills: tuple[ForecastFill, ...]
    stopped_at: Decimal | None
    queue_ahead: Decimal = ZERO
    queue_price: Decimal | None = None
    own_cancelled: tuple[BookLevel, ...] = ()
    own_may_cancel: tuple[BookLevel, ...] = ()


def _walk(intent: OrderIntent, book: Orderbook, position: Decimal, taker_rate: Decimal,
          own: list[Order], carry: Decimal) -> _Walk:
    """The taker fills, best price first, up to the limit; at an own resting order's price,
    self-trade prevention as the exchange applies it (see the module docstring)."""
    side, limit = intent.book_side, intent.yes_price
    bid = side is BookSide.BID
    levels = book.yes_asks if bid else tuple(reversed(book.yes_bids))
    own_at: dict[Decimal, Decimal] = {}
    for o in own:
        if o.book_side is not side:
            own_at[o.yes_price] = own_at.get(o.yes_price, ZERO) + o.remaining_count
    maker_stp = intent.self_trade_prevention_type is SelfTradePrevention.MAKER
    rounding = FeeRounding()
    rounding.accumulator = carry
    closable, left = held_to_close(side, position), intent.count
    fills: list[ForecastFill] = []
    cancelled: list[BookLevel] = []
    may_cancel: list[BookLevel] = []
    for level in levels:
        if left == ZERO or (level.price > limit if bid else level.price < limit):
            break
        price, mine = level.price, own_at.get(level.price, ZERO)
        take = min(max(ZERO, level.count - mine), left)
        if take:
            closing = min(take, closable)
            closable, left = closable - closing, left - take
            open_unit, close_unit = (price, ONE - price) if bid else (ONE - price, price)
            revenue = closing * close_unit - (take - closing) * open_unit
            fee = rounding.fill_fee(revenue, trade_fee(take, price, taker_rate))
            fills.append(ForecastFill(price, take, fee, revenue - fee))
        if mine and maker_stp:
            (cancelled if left else may_cancel).append(BookLevel(price, mine))
        elif mine:
            stopped = price if left else None
            return _Walk(tuple(fills), stopped, take, price if take else None)
    return _Walk(tuple(fills), None, own_cancelled=tuple(cancelled), own_may_cancel=tuple(may_cancel))


def _worst_case(forecast: Forecast, fees: FeeSchedule, *, makes_only: bool) -> Decimal:
    """The most cash this order can lose: the contracts it can open bought at the limit and
    expiring worthless, plus the largest fees its fills can pay, up to the cent the balance moves
    by. Closing what is held only brings money in, so it adds its fee and nothing else.

    An order that may take can take its whole count as a taker (the book can move before it
    arrives, and a GTC then takes whatever it crosses), so taker fees count on all of it; one that
    `makes_only` (post-only, or a decrease or an amend that keeps its queue place) only rests, and
    pays the maker fee at its limit. As the book stands, the fills now cost exactly what they open
    plus their fees as the exchange books them (each fill's balance change floored to the cent),
    which many small fills can push past that bound: then their loss plus the rest's bound is the
    worst case.
    """
    intent = forecast.intent
    held = held_to_close(intent.book_side, forecast.position)
    moved = _loss_bound(intent, intent.count, held, fees, makes_only)
    closable, now = held, forecast.fee_now
    for fill in forecast.fills:
        closing = min(fill.count, closable)
        closable -= closing
        now += (fill.count - closing) * (fill.yes_price if intent.book_side is BookSide.BID
                                         else ONE - fill.yes_price)
    stands = now + _loss_bound(intent, intent.count - forecast.filled, closable, fees, makes_only)
    return ceil_to(max(moved, stands), CENT)   # the balance moves in whole cents


def _loss_bound(intent: OrderIntent, count: Decimal, held: Decimal, fees: FeeSchedule,
                makes_only: bool) -> Decimal:
    """`count` of `intent` filling at its limit, `held` of them closing, at the highest fees."""
    side, limit = intent.book_side, intent.yes_price
    closing = min(count, held)
    opening = count - closing
    open_unit = limit if side is BookSide.BID else ONE - limit
    if makes_only:
        return opening * open_unit + trade_fee(count, limit, fees.maker)
    # A closing fill pays the most fee at the price nearest 0.50 it can get (bids fill at or below
    # their limit, asks at or above), which is how the exchange holds collateral for fees too; an
    # opening one pays the most, price and fee together, at its limit.
    fee_worst = min(limit, HALF) if side is BookSide.BID else max(limit, HALF)
    return (opening * open_unit + trade_fee(opening, limit, fees.taker)
            + trade_fee(closing, fee_worst, fees.taker))
