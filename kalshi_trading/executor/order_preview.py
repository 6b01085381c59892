"""The checks and numbers behind every order, kept apart from the network so they read plainly.

`normalize_intent` and `check_against_market` reject anything the exchange would refuse, with one
line a trader can act on; `check_risk` is the configured risk gate (its parts run on their own while
the order form is being filled in); `OrderPreview` is what the trader confirms, built on the
`fill_forecast` of what the exchange will do, and `SubmissionResult` what came of it;
`submission_fields` / `same_order` are how the audit trail names a submission and recognises a
retry of it. The executor wires them to the client; nothing here sends a request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from ..config import RiskLimits
from ..errors import RiskLimitExceeded, TransientApiError, UserInputError
from ..models import BookWalk, CreateOrderResult, Market, Order
from ..money import ONE, ZERO, fmt_count, fmt_dollars, parse_count, parse_dollars, trade_fee
from ..order_request import (Action, BookSide, OrderIntent, OrderRequestV2, OutcomeSide, SelfTradePrevention,
                             TimeInForce)
from ..timeutil import from_unix, to_iso_z
from .fill_forecast import Forecast
from .forecast_lines import forecast_lines

__all__ = ["OrderPreview", "normalize_intent", "check_against_market", "check_risk",
           "check_cost_limit", "check_position_limit", "check_open_orders", "affordable_count",
           "exposure_cost", "book_side_terms",
           "SubmissionResult", "order_status", "submission_fields", "same_order", "existing_result",
           "unanswered_error", "RECORD_OWN"]

E = TypeVar("E", bound=Enum)


def _enum(kind: type[E], value: object, what: str) -> E:
    try:
        return kind(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        allowed = " or ".join(member.value for member in kind)
        raise UserInputError(f"{what} must be {allowed}, not {value!r}") from None


def _exact(value: object, what: str) -> object:
    if isinstance(value, (float, bool)) or value is None:
        raise UserInputError(f"{what} must be an exact decimal, not {value!r}")
    return value


def normalize_intent(intent: OrderIntent) -> OrderIntent:
    """The intent with exact types and sane values, or UserInputError naming the first problem."""
    if not isinstance(intent.ticker, str) or not intent.ticker.strip():
        raise UserInputError("a market ticker is required")
    count = parse_count(_exact(intent.count, "count"))
    if count <= ZERO:
        raise UserInputError(f"count must be more than 0, not {fmt_count(count)}")
    price = parse_dollars(_exact(intent.price, "price"))
    if not ZERO < price < ONE:
        raise UserInputError(f"price must be between 0 and 1 dollar, not {price}")
    tif = (intent.time_in_force if isinstance(intent.time_in_force, TimeInForce)
           else TimeInForce.parse(str(intent.time_in_force)))
    expiry = intent.expiration_time
    if expiry is not None and (isinstance(expiry, bool) or not isinstance(expiry, int)):
        raise UserInputError(f"expiration time must be whole Unix seconds, not {expiry!r}")
    return replace(
        intent, ticker=intent.ticker.strip().upper(), count=count, price=price, time_in_force=tif,
        action=_enum(Action, intent.action, "action"),
        outcome=_enum(OutcomeSide, intent.outcome, "side"),
        self_trade_prevention_type=_enum(SelfTradePrevention, intent.self_trade_prevention_type,
                                         "self-trade prevention"),
        post_only=bool(intent.post_only), reduce_only=bool(intent.reduce_only))


def check_against_market(intent: OrderIntent, market: Market, now: datetime) -> None:
    """Market open, price on its grid, and only the time-in-force combinations the API allows."""
    if not market.is_open:
        raise UserInputError(f"market {market.ticker} is not open for trading (status {market.status})")
    grid = market.price_grid
    if not grid.contains(intent.yes_price):
        low, high = grid.snap(intent.yes_price, up=False), grid.snap(intent.yes_price, up=True)
        if intent.outcome is OutcomeSide.NO:
            low, high = ONE - high, ONE - low
        nearest = fmt_dollars(low) if low == high else f"{fmt_dollars(low)} or {fmt_dollars(high)}"
        raise UserInputError(f"price {intent.price} is not on {market.ticker}'s price grid "
                             f"({grid.describe()}); nearest: {nearest}")
    tif = intent.time_in_force
    if intent.expiration_time is not None:
        if tif is not TimeInForce.GTC:
            raise UserInputError("an expiration time is only allowed with good-till-canceled (gtc)")
        if from_unix(intent.expiration_time) <= now:
            raise UserInputError(f"expiration time {to_iso_z(from_unix(intent.expiration_time))} "
                                 "is not in the future")
    if intent.post_only and tif is not TimeInForce.GTC:
        raise UserInputError("post-only orders must be gtc: ioc and fok orders take liquidity")


def exposure_cost(intent: OrderIntent, position: Decimal) -> Decimal:
    """Dollars newly put at risk: the contracts that open or grow a position, at the opened side's price.

    Contracts that close part of `position` (signed: YES > 0) free money instead, so a closing
    order is never refused for its size.
    """
    delta = intent.signed_yes_delta
    against = position != ZERO and (delta > ZERO) != (position > ZERO)
    closing = min(abs(delta), abs(position)) if against else ZERO
    opening = abs(delta) - closing
    price = intent.yes_price if delta > 0 else ONE - intent.yes_price
    return opening * price


def check_cost_limit(intent: OrderIntent, limits: RiskLimits, *, position: Decimal, fee: Decimal) -> None:
    """The per-order cost limit: what the order newly puts at risk, plus its fee."""
    cost = exposure_cost(intent, position) + fee
    if cost > limits.max_order_cost:
        raise RiskLimitExceeded(
            f"order would cost up to ${fmt_dollars(cost)}, above the ${fmt_dollars(limits.max_order_cost, 2)} "
            "limit per order (KALSHI_MAX_ORDER_COST)")


def check_position_limit(intent: OrderIntent, limits: RiskLimits, *, position: Decimal) -> None:
    """The position limit: an order may not grow the position in one market past it."""
    resulting = position + intent.signed_yes_delta
    if abs(resulting) > limits.max_position and abs(resulting) > abs(position):
        raise RiskLimitExceeded(
            f"position in {intent.ticker} would reach {fmt_count(abs(resulting))} contracts, above the "
            f"limit of {fmt_count(limits.max_position)} (KALSHI_MAX_POSITION)")


def check_open_orders(intent: OrderIntent, limits: RiskLimits, *, resting_orders: int) -> None:
    """The open-order limit, for orders that may rest (GTC)."""
    if intent.time_in_force is TimeInForce.GTC and resting_orders >= limits.max_open_orders:
        raise RiskLimitExceeded(
            f"{resting_orders} orders are already resting; the limit is {limits.max_open_orders} "
            "(KALSHI_MAX_OPEN_ORDERS)")


def check_risk(intent: OrderIntent, limits: RiskLimits, *, position: Decimal, resting_orders: int,
               fee: Decimal) -> None:
    """The configured gate; RiskLimitExceeded names the limit and the numbers."""
    check_cost_limit(intent, limits, position=position, fee=fee)
    check_position_limit(intent, limits, position=position)
    check_open_orders(intent, limits, resting_orders=resting_orders)


def affordable_count(intent: OrderIntent, limits: RiskLimits, *, position: Decimal,
                     taker_rate: Decimal) -> Decimal:
    """The largest count (in 0.01 steps, up to the intent's) the cost limit lets through at the
    intent's price, so a refusal can say what would pass."""
    low, high = 0, int(intent.count.scaleb(2)) + 1      # hundredths: low passes, high does not
    while high - low > 1:
        middle = (low + high) // 2
        probe = replace(intent, count=Decimal(middle).scaleb(-2))
        cost = exposure_cost(probe, position) + trade_fee(probe.count, probe.price, taker_rate)
        low, high = (middle, high) if cost <= limits.max_order_cost else (low, middle)
    return Decimal(low).scaleb(-2).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class OrderPreview:
    """Everything a trader confirms before an order is sent: the order, and what the exchange will
    do with it as the book stands (`forecast`: refused, or filled now / resting / cancelled)."""

    intent: OrderIntent
    request: OrderRequestV2          # what would be sent (the client_order_id is made at submit)
    market: Market
    fee_type: str
    forecast: Forecast
    warnings: tuple[str, ...] = ()

    @property
    def refusal(self) -> str | None:
        """Why the exchange will refuse this order; None when it will take it."""
        return self.forecast.refusal

    @property
    def cost(self) -> Decimal:
        """Count the exchange takes on x price, in the outcome's terms."""
        return self.forecast.intent.count * self.intent.price

    @property
    def fee_estimate(self) -> Decimal:
        """Taker fees of the fills now (rounded as the exchange books them), maker fee on the rest."""
        return self.forecast.fee_now + self.forecast.rest_fee

    @property
    def worst_case_loss(self) -> Decimal:
        return self.forecast.worst_case_loss

    @property
    def current_position(self) -> Decimal:
        """Signed: YES > 0, NO < 0."""
        return self.forecast.position

    @property
    def resulting_position(self) -> Decimal:
        """Once everything the exchange keeps of this order has filled."""
        return self.forecast.position_if_filled

    @property
    def estimated_fill(self) -> BookWalk:
        return self.forecast.as_book_walk()

    def lines(self) -> list[str]:
        """The preview as short lines, for the confirmation screen and the `order` subcommand."""
        i, r = self.intent, self.request
        flags = "".join(f", {name}" for name, on in (("post-only", i.post_only), ("reduce-only", i.reduce_only))
                        if on)
        out = [f"{i.action.value.upper()} {fmt_count(i.count)} {i.outcome.value.upper()} {i.ticker} "
               f"at {fmt_dollars(i.price)} ({i.time_in_force.value}{flags})",
               f"Sent as: {r.side.value} {fmt_count(r.count)} at YES {fmt_dollars(r.price)}"]
        out += forecast_lines(self.forecast, self.fee_type)
        return out + [f"Warning: {text}" for text in self.warnings]


def book_side_terms(side: BookSide) -> tuple[Action, OutcomeSide]:
    """A resting order's side read as a buy: bid buys YES, ask buys NO (the same under netting)."""
    return Action.BUY, OutcomeSide.YES if side is BookSide.BID else OutcomeSide.NO


@dataclass(frozen=True)
class SubmissionResult:
    """What happened to a submitted order."""

    intent: OrderIntent
    request: OrderRequestV2
    order_id: str
    client_order_id: str
    status: str                         # resting | executed | canceled (IOC/FOK remainder)
    fill_count: Decimal
    remaining_count: Decimal
    average_fill_price: Decimal | None  # YES dollars, as the exchange reports it
    average_fee_paid: Decimal | None    # per contract
    fills_imported: int
    warnings: tuple[str, ...] = ()
    # True when an earlier, unanswered attempt turned out to have placed this order: nothing new
    # was sent this time.
    found_existing: bool = False

    @property
    def average_outcome_price(self) -> Decimal | None:
        """The average fill price in the intent's own terms (a NO buyer sees NO prices)."""
        if self.average_fill_price is None:
            return None
        yes = self.average_fill_price
        return yes if self.intent.outcome is OutcomeSide.YES else ONE - yes

    def describe(self) -> str:
        """One line for the screen."""
        text = (f"order {self.order_id} {self.status}: filled {fmt_count(self.fill_count)}, "
                f"resting {fmt_count(self.remaining_count)}")
        price = self.average_outcome_price
        return text + (f" at average {fmt_dollars(price)}" if price is not None else "")


def order_status(request: OrderRequestV2, fill_count: Decimal, remaining: Decimal) -> str:
    """resting | executed | canceled (the IOC/FOK remainder), from the create answer."""
    if remaining > ZERO:
        return "resting"
    return "executed" if fill_count >= request.count else "canceled"


# Keys a log record gets from the logger or the outcome, not from the submitted order.
RECORD_OWN = ("event_type", "created_time", "logged_time", "status", "message", "order_id")
# What makes two submissions the same intent: the trader's terms and the order they put on the book
# (the expiry is left out: "30m" typed twice gives two times; a resend with the first attempt's
# client_order_id keeps the first attempt's order anyway).
SAME_ORDER = ("ticker", "action", "outcome_side", "book_side", "yes_price_dollars", "count_fp",
              "time_in_force", "post_only", "reduce_only")


def submission_fields(intent: OrderIntent, client_order_id: str) -> dict[str, Any]:
    """What the audit trail records about a submission, in the trader's terms and the V2 request's."""
    request = intent.to_v2(client_order_id or None)
    stp = intent.self_trade_prevention_type
    return {
        "ticker": intent.ticker, "outcome_side": intent.outcome, "action": intent.action,
        "book_side": request.side, "count_fp": fmt_count(intent.count),
        "yes_price_dollars": fmt_dollars(request.price),
        "no_price_dollars": fmt_dollars(ONE - request.price), "client_order_id": client_order_id or None,
        "time_in_force": intent.time_in_force, "expiration_time": intent.expiration_time,
        "post_only": intent.post_only or None, "reduce_only": intent.reduce_only or None,
        # only when not the default: an amend matches again by it, and the Order does not say
        "self_trade_prevention_type": (None if stp is SelfTradePrevention.TAKER_AT_CROSS else stp),
        "tags": list(intent.tags) or None,
    }


def same_order(record: dict, fields: dict[str, Any]) -> bool:
    """True when a logged submission would put the same order on the book as `fields`."""
    def text(value: Any) -> str | None:
        return None if value is None else str(value)
    return all(text(record.get(key)) == text(fields.get(key)) for key in SAME_ORDER)


def existing_result(intent: OrderIntent, order: Order, imported: int, warnings: list[str]) -> SubmissionResult:
    """The result of a submission whose earlier, unanswered attempt is on the exchange."""
    created = CreateOrderResult.from_order(order)
    when = f" at {order.created_time:%Y-%m-%d %H:%M:%S}Z" if order.created_time else ""
    return SubmissionResult(
        intent=intent, request=intent.to_v2(order.client_order_id), order_id=order.order_id,
        client_order_id=order.client_order_id, status=order.status, fill_count=order.fill_count,
        remaining_count=order.remaining_count, average_fill_price=created.average_fill_price,
        average_fee_paid=created.average_fee_paid, fills_imported=imported, found_existing=True,
        warnings=(f"this order was already placed{when} (its answer was lost); it was not sent again",
                  *warnings))


def unanswered_error(exc: TransientApiError, client_order_id: str) -> TransientApiError:
    """The create failed without a clear answer: say what that means and what to do, in one line."""
    reason = " ".join(exc.message.split(" (")[0].split())[:50]
    if exc.maybe_applied:
        text = (f"no answer from the exchange ({reason}): the order may or may not be placed "
                f"(client_order_id {client_order_id[:8]}…). Check open orders; the same order sent "
                "again is looked up first, never placed twice")
    else:
        text = f"the exchange could not take the order ({reason}); it was not placed. Try again"
    error = TransientApiError(text, status=exc.status, code=exc.code)
    error.maybe_applied = exc.maybe_applied
    return error
