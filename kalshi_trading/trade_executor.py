"""`TradeExecutor`: the one path every order takes, from the menu, the subcommands and strategies.

Before anything reaches the network it validates the order against the market (open, price grid,
count step, time-in-force rules) and the configured risk gate. It makes the `client_order_id` once,
records the submission (fsynced) before sending, so even a crash mid-request leaves a trace, then
records the outcome and imports the order's fills from the exchange. A submission whose outcome
never came back (the client gave up after an ambiguous failure, or the app died mid-request) stays
"unanswered" in the trade log, across restarts: before anything else is sent on that market it is
looked up by its client_order_id, and a retry of the same intent reuses that id, so a trader who
simply tries again never gets two orders. Cancels, amends and decreases go through here too, so
the audit trail is complete.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any, Callable

from .audit.record_fields import order_state
from .client.fees import market_fees
from .config import RiskLimits
from .errors import (ApiError, KalshiTradingError, NotFoundError, OrderRejected, TransientApiError,
                     UserInputError)
from .executor.fill_forecast import forecast_order, held_to_close
from .executor.order_checks import OrderChecks
from .executor.order_preview import (RECORD_OWN, OrderPreview, SubmissionResult, check_against_market,
                                     check_risk, existing_result, normalize_intent, order_status, same_order,
                                     submission_fields, unanswered_error)
from .executor.venue import OrderVenue
from .models import AmendOrderResult, CancelOrderResult, DecreaseOrderResult, Market, Order
from .money import ZERO, FeeSchedule, fmt_count, fmt_dollars, trade_fee
from .order_request import OrderIntent, OutcomeSide, TimeInForce
from .timeutil import Clock, utc_now
from .trade_logger import EventType, TradeLogger

__all__ = ["TradeExecutor", "SubmissionResult", "OrderPreview"]

log = logging.getLogger(__name__)

BATCH_CANCEL_SIZE = 20


class TradeExecutor(OrderChecks):
    """Validates, risk-checks, records and places orders through the `KalshiClient`."""

    def __init__(self, client: OrderVenue, logger: TradeLogger, risk: RiskLimits, *,
                 id_factory: Callable[[], str] = lambda: str(uuid.uuid4()),
                 clock: Clock = utc_now) -> None:
        self._client = client
        self._logger = logger
        self._risk = risk
        self._id_factory = id_factory
        self._clock = clock
        self._fees: dict[str, FeeSchedule] = {}  # by ticker

    def _order_fields(self, order: Order, **state: Any) -> dict[str, Any]:
        """What a record says about an exchange order: the trader's terms as the log knows them
        (sell NO, not "bid"), its prices and its state (`state`: see `TradeLogger.describe_order`)."""
        return self._logger.describe_order(order, **state)

    # --- lookups -------------------------------------------------------------------------

    def _market(self, ticker: str) -> Market:
        try:
            return self._client.get_market(ticker)
        except NotFoundError:
            raise UserInputError(f"no market with ticker {ticker!r}") from None

    def _order(self, order_id: str) -> Order:
        if not isinstance(order_id, str) or not order_id.strip():
            raise UserInputError("an order id is required")
        try:
            return self._client.get_order(order_id.strip())
        except NotFoundError:
            raise UserInputError(f"no order with id {order_id!r}") from None

    def _resting(self, order_id: str) -> Order:
        order = self._order(order_id)
        if order.status != "resting":
            raise UserInputError(f"order {order.order_id} is {order.status}; only resting orders can change")
        return order

    def _position(self, ticker: str) -> Decimal:
        return next((p.position for p in self._client.iter_positions(ticker=ticker) if p.ticker == ticker),
                    ZERO)

    def _resting_count(self) -> int:
        count = 0
        for _ in self._client.iter_orders(status="resting"):
            count += 1
            if count >= self._risk.max_open_orders:  # enough to refuse; don't page through the rest
                break
        return count

    def fee_schedule(self, market: Market) -> FeeSchedule:
        """The fee schedule of the market's series (the fallback when it is unknown), cached per ticker."""
        if market.ticker not in self._fees:
            self._fees[market.ticker] = market_fees(self._client, market)
        return self._fees[market.ticker]

    def _checked(self, intent: OrderIntent) -> tuple[OrderIntent, Market, Decimal, FeeSchedule]:
        """Validation and the risk gate; returns what preview and submit build on."""
        intent, market = self._validated(intent)
        return (intent, market, *self._gate(intent, market))

    def _validated(self, intent: OrderIntent) -> tuple[OrderIntent, Market]:
        intent = normalize_intent(intent)
        market = self._market(intent.ticker)
        check_against_market(intent, market, self._clock())
        return intent, market

    def _gate(self, intent: OrderIntent, market: Market) -> tuple[Decimal, FeeSchedule]:
        fees = self.fee_schedule(market)
        position = self._position(intent.ticker)
        resting = self._resting_count() if intent.time_in_force is TimeInForce.GTC else 0
        if intent.reduce_only:   # the exchange caps it at what it closes: it can never open anything
            intent = replace(intent, count=min(intent.count, held_to_close(intent.book_side, position)))
        check_risk(intent, self._risk, position=position, resting_orders=resting,
                   fee=trade_fee(intent.count, intent.price, fees.taker))
        return position, fees

    # --- preview and submit --------------------------------------------------------------

    def preview(self, intent: OrderIntent) -> OrderPreview:
        """Validate and risk-check `intent` and forecast what the exchange will do with it as the
        book stands (refuse it, or fill / rest / cancel); nothing is sent or logged."""
        intent, market, position, fees = self._checked(intent)
        forecast = forecast_order(intent, self._client.get_orderbook(intent.ticker), position=position,
                                  fees=fees, own_resting=self._own_resting(intent.ticker))
        return OrderPreview(intent=intent, request=intent.to_v2(None), market=market, fee_type=fees.fee_type,
                            forecast=forecast, warnings=tuple(self._unanswered_warnings(intent)))

    def _own_resting(self, ticker: str) -> list[Order]:
        """This account's resting orders on one market (they cap reduce-only, and stop a taker)."""
        return [o for o in self._client.iter_orders(status="resting")
                if o.ticker == ticker and o.status == "resting"]

    def _unanswered_warnings(self, intent: OrderIntent) -> list[str]:
        fields = submission_fields(intent, "")
        return [(f"an identical order sent {rec.get('created_time')} got no answer; sending looks it up "
                 "first (by its client_order_id) and never places it twice")
                if same_order(rec, fields) else
                (f"an order on {intent.ticker} sent {rec.get('created_time')} got no answer; it is looked "
                 "up before this one is sent")
                for rec in self._logger.unanswered_submissions(intent.ticker)]

    def submit(self, intent: OrderIntent) -> SubmissionResult:
        """Validate, settle earlier unanswered attempts, risk-check, record, send, record the
        outcome, import fills.

        An earlier submission of this market whose outcome never came back (the client gave up,
        or the app died mid-request) is looked up by its client_order_id first. If it is the same
        order and it exists, that order is the result and nothing is sent; if it does not exist,
        the same client_order_id is sent again, so the exchange can never hold it twice.
        """
        intent, market = self._validated(intent)
        found, client_order_id, notes = self._settle_unanswered(intent)
        if found is not None:
            return found
        self._gate(intent, market)
        resend = client_order_id is not None
        client_order_id = client_order_id or self._id_factory()
        request = intent.to_v2(client_order_id)
        fields = submission_fields(intent, client_order_id)
        self._logger.record(EventType.SUBMISSION, status="sending", **fields,
                            message="sent again with the same client_order_id: the unanswered attempt "
                                    "is not on the exchange" if resend else None)
        try:
            created = self._client.create_order(request)
        except BaseException as exc:
            self._log_failure(exc, fields, "create")
            if isinstance(exc, TransientApiError):
                raise unanswered_error(exc, client_order_id) from exc
            raise
        status = order_status(request, created.fill_count, created.remaining_count)
        self._logger.record(EventType.SUBMISSION, status=status, order_id=created.order_id,
                            message=f"filled {fmt_count(created.fill_count)}, "
                                    f"resting {fmt_count(created.remaining_count)}", **fields,
                            **order_state(intent.count, created.fill_count, created.remaining_count))
        imported, warnings = self._import_fills(created.order_id, created.fill_count > ZERO)
        return SubmissionResult(
            intent=intent, request=request, order_id=created.order_id,
            client_order_id=client_order_id, status=status, fill_count=created.fill_count,
            remaining_count=created.remaining_count, average_fill_price=created.average_fill_price,
            average_fee_paid=created.average_fee_paid, fills_imported=imported,
            warnings=tuple(notes + warnings))

    def submit_interactive(self, intent: OrderIntent) -> SubmissionResult:
        """`submit`, for a trader at a prompt: Ctrl-C while the order is on its way becomes an
        error that says whether it may have been placed (the trade log knows whether it was sent)
        and what a retry will do."""
        try:
            return self.submit(intent)
        except KeyboardInterrupt:
            if self._logger.unanswered_submissions(intent.ticker):
                raise TransientApiError("interrupted while sending: the order may or may not be placed. "
                                        "Check open orders; the same order sent again is looked up "
                                        "first, never placed twice") from None
            raise UserInputError("interrupted; nothing was sent") from None

    def _settle_unanswered(self, intent: OrderIntent) -> tuple[SubmissionResult | None, str | None, list[str]]:
        """Look up this market's unanswered submissions: (the existing identical order as a result,
        or the client_order_id to resend it with, and notes about the others)."""
        fields = submission_fields(intent, "")
        found: SubmissionResult | None = None
        reuse: str | None = None
        notes: list[str] = []
        for rec in self._logger.unanswered_submissions(intent.ticker):
            coid, same = rec["client_order_id"], same_order(rec, fields) and found is None and reuse is None
            try:
                order = self._client.find_order_by_client_id(intent.ticker, coid)
            except TransientApiError as exc:
                if same:  # resending with the same id cannot make a second order: the exchange refuses it
                    reuse = coid
                    continue
                error = TransientApiError(f"could not check whether an earlier unanswered order on "
                                          f"{intent.ticker} was placed ({exc.message}); nothing was sent",
                                          status=exc.status, code=exc.code)
                error.maybe_applied = False
                raise error from exc
            earlier = {k: v for k, v in rec.items() if k not in RECORD_OWN}
            if order is None:
                if same:
                    reuse = coid
                else:
                    self._logger.record(EventType.ERROR, status="not_placed", **earlier,
                                        message="the unanswered attempt is not on the exchange "
                                                "(looked up by client_order_id): nothing was placed")
                continue
            size = max(order.initial_count, order.fill_count + order.remaining_count)
            self._logger.record(EventType.SUBMISSION, status=order.status, order_id=order.order_id,
                                **{**earlier, **order_state(size, order.fill_count, order.remaining_count)},
                                message="found on the exchange by client_order_id after the unanswered "
                                        "attempt; not sent again")
            imported, warnings = self._import_fills(order.order_id, order.fill_count > ZERO)
            if same:
                found = existing_result(intent, order, imported, warnings)
            else:
                notes.append(f"an earlier order on {intent.ticker} that got no answer was placed after all: "
                             f"order {order.order_id} ({order.status})")
        return found, reuse, notes

    def _log_failure(self, exc: BaseException, fields: dict[str, Any], what: str) -> None:
        """One `error` record. Only our exception types' messages are logged: they carry no secrets."""
        if isinstance(exc, TransientApiError) and not exc.maybe_applied:
            status, message = "not_sent", f"{exc}; the {what} surely did not reach the exchange"
        elif isinstance(exc, TransientApiError):
            status, message = "unknown", f"{exc}; the {what} may or may not have reached the exchange"
        elif isinstance(exc, KalshiTradingError):
            status, message = "rejected", str(exc)
        else:
            status, message = "unknown", f"{what} failed with an unexpected {type(exc).__name__}"
        try:
            self._logger.record(EventType.ERROR, status=status, message=message, **fields)
        except Exception:  # the original error matters more than a failed log write
            log.exception("could not record the %s failure", what)

    def _import_fills(self, order_id: str, expect_fills: bool) -> tuple[int, list[str]]:
        if not expect_fills:
            return 0, []
        try:
            return self._logger.import_fills(self._client.iter_fills(order_id=order_id)), []
        except ApiError as exc:
            # The order stands; its fills will be imported by the next history sync.
            self._log_failure(exc, {"order_id": order_id}, "fill import")
            return 0, [f"fills of {order_id} not imported yet: {exc}"]

    # --- changing resting orders ---------------------------------------------------------

    def cancel(self, order_id: str) -> CancelOrderResult:
        """Cancel one resting order."""
        order = self._resting(order_id)
        try:
            result = self._client.cancel_order(order.order_id)
        except BaseException as exc:
            self._log_failure(exc, self._order_fields(order), "cancel")
            raise
        self._logger.record(EventType.CANCELLATION, status="canceled", count_fp=fmt_count(result.reduced_by),
                            **self._order_fields(order, remaining=ZERO))
        return result

    def amend(self, order_id: str, *, price: Decimal | str | None = None,
              count: Decimal | str | None = None,
              outcome: OutcomeSide | str = OutcomeSide.YES) -> AmendOrderResult:
        """New price and/or new total size (filled + resting) for a resting order.

        `price` is in `outcome`'s terms (YES by default, as the order book shows orders).
        """
        order, new_yes, new_total = self._amend_terms(order_id, price, count, outcome)
        total = order.fill_count + order.remaining_count
        try:
            result = self._client.amend_order(order.order_id, ticker=order.ticker, side=order.book_side,
                                              price=new_yes, count=new_total,
                                              updated_client_order_id=self._id_factory())
        except BaseException as exc:
            self._log_failure(exc, self._order_fields(order), "amend")
            raise
        resting = result.remaining_count if result.remaining_count is not None else new_total - order.fill_count
        fields = {**self._order_fields(order, yes_price=new_yes, total=new_total,
                                       filled=new_total - resting, remaining=resting),
                  "order_id": result.order_id,
                  "client_order_id": result.client_order_id or order.client_order_id or None,
                  "replaced_order_id": order.order_id if result.order_id != order.order_id else None}
        self._logger.record(EventType.AMEND, status="amended", count_fp=fmt_count(new_total),
                            message=f"price {fmt_dollars(order.yes_price)} -> {fmt_dollars(new_yes)}, "
                                    f"total {fmt_count(total)} -> {fmt_count(new_total)}", **fields)
        self._import_fills(result.order_id, True)
        return result

    def decrease(self, order_id: str, *, reduce_by: Decimal | str | None = None,
                 reduce_to: Decimal | str | None = None) -> DecreaseOrderResult:
        """Shrink a resting order by `reduce_by`, or to `reduce_to` still resting.

        `reduce_by` is sent as `reduce_to` (what rests now minus it): the same request sent twice
        then shrinks the order once, so the client may retry it after a lost answer.
        """
        order, to = self._decrease_terms(order_id, reduce_by, reduce_to)
        remaining = order.remaining_count
        try:
            result = self._client.decrease_order(order.order_id, reduce_to=to)
        except BaseException as exc:
            self._log_failure(exc, self._order_fields(order), "decrease")
            raise
        kind = EventType.CANCELLATION if result.remaining_count == ZERO else EventType.AMEND
        self._logger.record(kind, status="decreased", count_fp=fmt_count(remaining - result.remaining_count),
                            message=f"resting {fmt_count(remaining)} -> {fmt_count(result.remaining_count)}",
                            **self._order_fields(order, remaining=result.remaining_count))
        return result

    def cancel_all(self, ticker: str | None = None) -> int:
        """Cancel every resting order (of `ticker`, if given); returns how many were cancelled."""
        wanted = ticker.strip().upper() if ticker else None
        orders = [o for o in self._client.iter_orders(ticker=wanted, status="resting")
                  if o.status == "resting" and (wanted is None or o.ticker == wanted)]
        cancelled = 0
        for start in range(0, len(orders), BATCH_CANCEL_SIZE):
            cancelled += self._cancel_batch(orders[start:start + BATCH_CANCEL_SIZE])
        return cancelled

    def _cancel_batch(self, orders: list[Order]) -> int:
        try:
            items = self._client.batch_cancel_orders([o.order_id for o in orders])
        except (NotFoundError, OrderRejected) as exc:
            log.warning("batch cancel refused (%s); cancelling one by one", exc)
            return sum(self._cancel_one(order) for order in orders)
        except BaseException as exc:
            self._log_failure(exc, {}, "batch cancel")
            raise
        by_id = {o.order_id: o for o in orders}
        cancelled = 0
        for item in items:
            order = by_id.get(item.order_id)
            fields = self._order_fields(order) if order else {"order_id": item.order_id}
            if item.result is None:
                self._logger.record(EventType.ERROR, status="rejected", **fields,
                                    message=f"cancel refused: [{item.error_code}] {item.error_message}")
                continue
            self._logger.record(EventType.CANCELLATION, status="canceled",
                                count_fp=fmt_count(item.result.reduced_by),
                                **(self._order_fields(order, remaining=ZERO) if order else fields))
            cancelled += 1
        return cancelled

    def _cancel_one(self, order: Order) -> int:
        try:
            result = self._client.cancel_order(order.order_id)
        except OrderRejected as exc:  # filled or cancelled meanwhile: nothing left to cancel
            self._log_failure(exc, self._order_fields(order), "cancel")
            return 0
        except BaseException as exc:
            self._log_failure(exc, self._order_fields(order), "cancel")
            raise
        self._logger.record(EventType.CANCELLATION, status="canceled", count_fp=fmt_count(result.reduced_by),
                            **self._order_fields(order, remaining=ZERO))
        return 1
