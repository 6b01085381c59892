"""The checks and numbers behind every order, kept apart from the network so they read plainly.

`normalize_intent` and `check_against_market` reject anything the exchange would refuse, with one
line a trader can act on; `check_risk` is the configured risk gate; `estimate_fill` is the book's
one walk (`Orderbook.walk`) up to the limit price; `OrderPreview` is what the trader confirms and
`SubmissionResult` what came of it;
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
from ..models import BookWalk, CreateOrderResult, Market, Order, Orderbook
from ..money import ONE, ZERO, fmt_count, fmt_dollars, parse_count, parse_dollars, trade_fee
from ..order_request import (Action, BookSide, OrderIntent, OrderRequestV2, OutcomeSide, SelfTradePrevention,
                             TimeInForce)
from ..timeutil import from_unix, to_iso_z

__all__ = ["FillEstimate", "OrderPreview", "normalize_intent", "check_against_market",
           "check_risk", "estimate_fill", "exposure_cost", "worst_case_loss", "book_side_terms",
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


def worst_case_loss(intent: OrderIntent, taker_rate: Decimal) -> Decimal:
    """The most this order can lose against not placing it: the price paid (a buy) or the payout
    given up (a sell), plus the taker fee at the limit price (fills only come at better prices)."""
    at_risk = intent.price if intent.action is Action.BUY else ONE - intent.price
    return intent.count * at_risk + trade_fee(intent.count, intent.price, taker_rate)


def check_risk(intent: OrderIntent, limits: RiskLimits, *, position: Decimal, resting_orders: int,
               fee: Decimal) -> None:
    """The configured gate; RiskLimitExceeded names the limit and the numbers."""
    cost = exposure_cost(intent, position) + fee
    if cost > limits.max_order_cost:
        raise RiskLimitExceeded(
            f"order would cost up to ${fmt_dollars(cost)}, above the ${fmt_dollars(limits.max_order_cost, 2)} "
            "limit per order (KALSHI_MAX_ORDER_COST)")
    resulting = position + intent.signed_yes_delta
    if abs(resulting) > limits.max_position and abs(resulting) > abs(position):
        raise RiskLimitExceeded(
            f"position in {intent.ticker} would reach {fmt_count(abs(resulting))} contracts, above the "
            f"limit of {fmt_count(limits.max_position)} (KALSHI_MAX_POSITION)")
    if intent.time_in_force is TimeInForce.GTC and resting_orders >= limits.max_open_orders:
        raise RiskLimitExceeded(
            f"{resting_orders} orders are already resting; the limit is {limits.max_open_orders} "
            "(KALSHI_MAX_OPEN_ORDERS)")


FillEstimate = BookWalk   # what the book would give right now at the limit price or better


def estimate_fill(book: Orderbook, intent: OrderIntent, taker_rate: Decimal) -> FillEstimate:
    """The book walk of this order up to its limit price, its average to the micro-dollar."""
    walk = book.walk(intent.outcome, intent.action is Action.BUY, intent.count, limit=intent.price,
                     taker_rate=taker_rate)
    if walk.average_price is None:
        return walk
    return replace(walk, average_price=walk.average_price.quantize(Decimal("0.000001")))


@dataclass(frozen=True)
class OrderPreview:
    """Everything a trader confirms before an order is sent."""

    intent: OrderIntent
    request: OrderRequestV2          # what would be sent (the client_order_id is made at submit)
    market: Market
    fee_type: str
    cost: Decimal                    # count x price, in the outcome's terms
    fee_estimate: Decimal            # taker fee on the part that fills now, maker fee on the rest
    worst_case_loss: Decimal
    current_position: Decimal        # signed: YES > 0, NO < 0
    resulting_position: Decimal      # if the whole order fills
    estimated_fill: FillEstimate | None
    warnings: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The preview as short lines, for the confirmation screen and `--dry-run`."""
        i, r = self.intent, self.request
        out = [
            f"{i.action.value.upper()} {fmt_count(i.count)} {i.outcome.value.upper()} {i.ticker} "
            f"at {fmt_dollars(i.price)} ({i.time_in_force.value})",
            f"Sent as: {r.side.value} {fmt_count(r.count)} at YES {fmt_dollars(r.price)}",
            f"{self._money_line()}  fee estimate: ${fmt_dollars(self.fee_estimate)} ({self.fee_type})",
            f"Worst case loss: ${fmt_dollars(self.worst_case_loss)}",
            f"Position: {_signed(self.current_position)} -> {_signed(self.resulting_position)} if filled",
        ]
        if self.estimated_fill is not None:
            est = self.estimated_fill
            avg = fmt_dollars(est.average_price) if est.average_price is not None else "-"
            out.append(f"Fills now: {fmt_count(est.count)} of {fmt_count(i.count)} at average {avg}")
        return out + [f"Warning: {text}" for text in self.warnings]


    def _money_line(self) -> str:
        """A buy shows what it costs; a sell what it brings in, and, when it sells more than is
        held, what opening the other side costs (Kalshi nets YES and NO into one position)."""
        i = self.intent
        if i.action is Action.BUY:
            return f"Cost: ${fmt_dollars(self.cost)}"
        line = f"Proceeds at the limit: ${fmt_dollars(self.cost)}"
        opening = exposure_cost(i, self.current_position)
        if opening > ZERO:
            other = "NO" if i.outcome is OutcomeSide.YES else "YES"
            line += f"; selling more than you hold opens {other}, costing ${fmt_dollars(opening)}"
        return line


def _signed(position: Decimal) -> str:
    if position == ZERO:
        return "flat"
    side = "YES" if position > ZERO else "NO"
    return f"{fmt_count(abs(position))} {side}"


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
    return {
        "ticker": intent.ticker, "outcome_side": intent.outcome, "action": intent.action,
        "book_side": request.side, "count_fp": fmt_count(intent.count),
        "yes_price_dollars": fmt_dollars(request.price),
        "no_price_dollars": fmt_dollars(ONE - request.price), "client_order_id": client_order_id or None,
        "time_in_force": intent.time_in_force, "expiration_time": intent.expiration_time,
        "post_only": intent.post_only or None, "reduce_only": intent.reduce_only or None,
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
