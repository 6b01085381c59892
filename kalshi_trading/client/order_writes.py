"""The V2 order writes of `KalshiClient`, and the rule that one intent never becomes two orders.

A create that may have reached the exchange (timeout, reset, 5xx, unreadable 2xx) is looked up
by its `client_order_id` (with a couple of short re-reads for the portfolio read lag) before the
same request is resent; a 409 `order_already_exists`, or any rejection after such an attempt,
resolves to the order that exists. Cancels and batch cancels treat "not resting" after an
ambiguous attempt as the earlier attempt's success. A mixin: it relies on the client's transport
(`self._t`) and reads (`iter_orders`, `get_order`).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote

from ..errors import (ApiError, DuplicateClientOrderId, OrderRejected, ResponseFormatError, TransientApiError,
                      UserInputError)
from ..models import (AmendOrderResult, BatchCancelItem, BatchCreateItem, CancelOrderResult,
                      CreateOrderResult, DecreaseOrderResult, Order)
from ..money import ZERO, fmt_count, fmt_dollars
from ..order_request import BookSide, OrderIntent, OrderRequestV2
from .transport import RetryBudget

__all__ = ["OrderWrites", "ORDERS_V2", "ORDERS_V2_BATCH", "seg"]

logger = logging.getLogger(__name__)

ORDERS_V2 = "/portfolio/events/orders"
ORDERS_V2_BATCH = "/portfolio/events/orders/batched"


def seg(value: str) -> str:
    """One URL path segment (a ticker or an order id), quoted."""
    return quote(value, safe="")


class OrderWrites:
    """Create (idempotent), cancel, amend, decrease and batches, for `KalshiClient`."""

    # --- order lookup by client_order_id -----------------------------------------------------

    def _scan_client_ids(self, ticker: str, wanted: set[str]) -> dict[str, Order]:
        found: dict[str, Order] = {}
        for order in self.iter_orders(ticker=ticker):
            if order.client_order_id in wanted:
                found[order.client_order_id] = order
                if len(found) == len(wanted):
                    break
        return found

    def find_orders_by_client_id(self, pairs: Iterable[tuple[str, str]], *,
                                 rereads: int | None = None) -> dict[str, Order]:
        """Orders for (ticker, client_order_id) pairs; missing ones are re-read a few times
        (portfolio reads lag a little behind writes)."""
        by_ticker: dict[str, set[str]] = {}
        for ticker, client_order_id in pairs:
            by_ticker.setdefault(ticker, set()).add(client_order_id)
        found: dict[str, Order] = {}
        rereads = self._lookup_rereads if rereads is None else rereads
        for round_ in range(rereads + 1):
            if round_:
                self._t.sleep(self._lookup_reread_delay)
            for ticker, wanted in by_ticker.items():
                missing = wanted - found.keys()
                if missing:
                    found.update(self._scan_client_ids(ticker, missing))
            if all(ids <= found.keys() for ids in by_ticker.values()):
                break
        return found

    def find_order_by_client_id(self, ticker: str, client_order_id: str, *,
                                rereads: int | None = None) -> Order | None:
        """The order this `client_order_id` created on `ticker`, or None."""
        return self.find_orders_by_client_id([(ticker, client_order_id)], rereads=rereads).get(client_order_id)

    def _lookup_quietly(self, pairs: list[tuple[str, str]], why: ApiError) -> dict[str, Order]:
        """Look orders up after `why`; a lookup that itself fails returns what it could not confirm as
        missing (a resend then carries the same client_order_id, which the exchange refuses twice)."""
        try:
            return self.find_orders_by_client_id(pairs)
        except TransientApiError as exc:
            logger.warning("order lookup after %r failed (%s); resending with the same client_order_id",
                           why.message, exc.message)
            return {}

    def _lookup_after_write(self, pairs: list[tuple[str, str]]) -> dict[str, Order]:
        """A lookup whose failure must not read as "nothing was placed": the write it checks may
        have been applied, so a transient failure here is flagged `maybe_applied`."""
        try:
            return self.find_orders_by_client_id(pairs)
        except TransientApiError as exc:
            exc.maybe_applied = True
            raise

    # --- order writes (V2) -------------------------------------------------------------------

    def create_order(self, request: OrderRequestV2) -> CreateOrderResult:
        """Place one order; at most one order ever exists for `request.client_order_id`.

        After an attempt that may have reached the exchange (timeout, reset, 5xx, unreadable 2xx),
        the order is looked up by its id before the SAME request is resent; a 409
        `order_already_exists` resolves to the existing order; a rejection after such an attempt
        is checked the same way. Giving up raises `TransientApiError` with `maybe_applied=True`
        if any attempt may have placed it: call again with the same id to find out.
        """
        coid = request.client_order_id
        if not coid:
            raise UserInputError("create_order needs a client_order_id, made once per order intent")
        body, budget, ambiguous = request.to_api(), self._t.new_budget(), False
        while True:
            try:
                return self._create_once(request, body, budget.attempts, ambiguous)
            except TransientApiError as exc:
                applied = exc.maybe_applied
                ambiguous = ambiguous or applied
                if applied:
                    existing = self._lookup_quietly([(request.ticker, coid)], exc).get(coid)
                    if existing is not None:
                        logger.info("order %s was placed despite %r", existing.order_id, exc.message)
                        return CreateOrderResult.from_order(existing)
                self._wait_or_give_up(budget, exc, ORDERS_V2, ambiguous)

    def _create_once(self, request: OrderRequestV2, body: dict[str, Any], attempt: int,
                     ambiguous: bool) -> CreateOrderResult:
        """One POST; a 409 duplicate (or any rejection after an ambiguous attempt) is resolved by
        lookup; an unreadable 2xx becomes an ambiguous `TransientApiError`."""
        try:
            raw = self._t.send_once("POST", ORDERS_V2, body=body, attempt=attempt)
        except OrderRejected as exc:
            if isinstance(exc, DuplicateClientOrderId) or ambiguous:
                coid = request.client_order_id
                existing = self._lookup_after_write([(request.ticker, coid)]).get(coid)
                if existing is not None:
                    logger.info("order %s already existed (%s); returning it", existing.order_id, exc.code)
                    return CreateOrderResult.from_order(existing)
            raise
        try:
            return CreateOrderResult.from_api(_mapping(raw))
        except ResponseFormatError as exc:
            raise TransientApiError(f"the order response could not be read ({exc}); the order may have "
                                    "been placed", method="POST", path=ORDERS_V2) from exc

    def _wait_or_give_up(self, budget: RetryBudget, exc: TransientApiError, path: str, ambiguous: bool) -> None:
        """Back off before resending an order write; when giving up after an ambiguous attempt, say so
        even if the last failure was a sure non-delivery (the earlier one may have been applied)."""
        if ambiguous and not exc.maybe_applied:
            exc.maybe_applied = True
            exc.message = f"{exc.message}; an earlier attempt may have been applied"
        self._t.wait_before_retry(budget, exc, "POST", path)

    def create_order_for_intent(self, intent: OrderIntent, client_order_id: str) -> CreateOrderResult:
        """`create_order(intent.to_v2(client_order_id))`: a trader's order on the YES book."""
        return self.create_order(intent.to_v2(client_order_id))

    to_v2 = staticmethod(OrderIntent.to_v2)

    def _order_not_resting(self, order_id: str) -> CancelOrderResult | None:
        """After an ambiguous cancel, a 409 may mean our first attempt worked: check the order."""
        order = self.get_order(order_id)
        if order.status != "canceled":
            return None
        return CancelOrderResult(order.order_id, order.client_order_id,
                                 max(order.initial_count - order.fill_count, ZERO), None)

    def cancel_order(self, order_id: str) -> CancelOrderResult:
        path, budget, ambiguous = f"{ORDERS_V2}/{seg(order_id)}", self._t.new_budget(), False
        while True:
            try:
                return CancelOrderResult.from_api(self._t.send_once("DELETE", path, attempt=budget.attempts))
            except OrderRejected as exc:
                if ambiguous and exc.code == "order_not_resting":
                    result = self._order_not_resting(order_id)
                    if result is not None:
                        return result
                raise
            except TransientApiError as exc:
                ambiguous = ambiguous or exc.maybe_applied
                self._t.wait_before_retry(budget, exc, "DELETE", path)

    def amend_order(self, order_id: str, *, ticker: str, side: BookSide | str, price: Decimal,
                    count: Decimal, updated_client_order_id: str | None = None) -> AmendOrderResult:
        """Set a new YES price and total size (filled + resting); safe to repeat, so it is retried."""
        body = {"ticker": ticker, "side": str(BookSide(side)), "price": fmt_dollars(price),
                "count": fmt_count(count)}
        if updated_client_order_id:
            body["updated_client_order_id"] = updated_client_order_id
        raw = self._t.request("POST", f"{ORDERS_V2}/{seg(order_id)}/amend", body=body)
        return AmendOrderResult.from_api(raw)

    def decrease_order(self, order_id: str, *, reduce_by: Decimal | None = None,
                       reduce_to: Decimal | None = None) -> DecreaseOrderResult:
        """Shrink a resting order. `reduce_to` is retried freely; `reduce_by` only when it surely
        did not arrive (repeating it would shrink twice)."""
        if (reduce_by is None) == (reduce_to is None):
            raise UserInputError("decrease_order takes exactly one of reduce_by or reduce_to")
        body = {"reduce_by": fmt_count(reduce_by)} if reduce_by is not None else {"reduce_to": fmt_count(reduce_to)}
        raw = self._t.request("POST", f"{ORDERS_V2}/{seg(order_id)}/decrease", body=body,
                              retry_ambiguous=reduce_by is None)
        return DecreaseOrderResult.from_api(raw)

    def batch_create_orders(self, requests_: Sequence[OrderRequestV2]) -> list[BatchCreateItem]:
        """Place several orders in one call, with the same one-order-per-client_order_id rule: after
        an ambiguous failure only the orders not found by lookup are resent (same ids)."""
        ids = [r.client_order_id for r in requests_]
        if not all(ids) or len(set(ids)) != len(ids):
            raise UserInputError("every order in a batch needs its own client_order_id")
        results: dict[str, BatchCreateItem] = {}
        pending, budget, ambiguous = list(requests_), self._t.new_budget(), False
        while pending:
            try:
                raw = self._t.send_once("POST", ORDERS_V2_BATCH, body={"orders": [r.to_api() for r in pending]},
                                        items=len(pending), attempt=budget.attempts)
                results.update(self._read_batch(pending, raw, ambiguous))
                pending = []
            except TransientApiError as exc:
                applied = exc.maybe_applied
                ambiguous = ambiguous or applied
                if applied:
                    found = self._lookup_quietly([(r.ticker, r.client_order_id) for r in pending], exc)
                    results.update(_found_items(found))
                    pending = [r for r in pending if r.client_order_id not in results]
                    if not pending:
                        break
                self._wait_or_give_up(budget, exc, ORDERS_V2_BATCH, ambiguous)
        return [results[coid] for coid in ids]

    def _read_batch(self, sent: list[OrderRequestV2], raw: Any, ambiguous: bool) -> dict[str, BatchCreateItem]:
        """Items of a batch response by client_order_id; duplicates (and, after an ambiguous attempt,
        any failed item) are looked up and replaced by the order that exists."""
        try:
            items = _mapping(raw).get("orders")
            if not isinstance(items, list) or len(items) != len(sent):
                raise ResponseFormatError("'orders' should list one result per order sent")
            parsed = {r.client_order_id: BatchCreateItem.from_api(_mapping(item)) for r, item in zip(sent, items)}
        except ResponseFormatError as exc:
            raise TransientApiError(f"the batch response could not be read ({exc}); orders may have been "
                                    "placed", method="POST", path=ORDERS_V2_BATCH) from exc
        recheck = [(r.ticker, r.client_order_id) for r in sent if parsed[r.client_order_id].error_code and
                   (ambiguous or parsed[r.client_order_id].error_code == "order_already_exists")]
        if recheck:
            parsed.update(_found_items(self._lookup_after_write(recheck)))
        return parsed

    def batch_cancel_orders(self, order_ids: Sequence[str]) -> list[BatchCancelItem]:
        """Cancel several orders; an item that failed only because an earlier attempt already
        cancelled it is reported as cancelled."""
        body = {"orders": [{"order_id": oid} for oid in order_ids]}
        budget, ambiguous = self._t.new_budget(), False
        while True:
            try:
                raw = self._t.send_once("DELETE", ORDERS_V2_BATCH, body=body, items=len(order_ids),
                                        attempt=budget.attempts)
                break
            except TransientApiError as exc:
                ambiguous = ambiguous or exc.maybe_applied
                self._t.wait_before_retry(budget, exc, "DELETE", ORDERS_V2_BATCH)
        items = [BatchCancelItem.from_api(item) for item in (raw.get("orders") or [])]
        if ambiguous:
            items = [self._recheck_cancel(item, oid) for item, oid in zip(items, order_ids)]
        return items

    def _recheck_cancel(self, item: BatchCancelItem, order_id: str) -> BatchCancelItem:
        if item.error_code != "order_not_resting":
            return item
        result = self._order_not_resting(order_id)
        return item if result is None else BatchCancelItem(result, order_id, None, None)


def _mapping(raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ResponseFormatError(f"expected a JSON object, got {type(raw).__name__}")
    return raw


def _found_items(found: Mapping[str, Order]) -> dict[str, BatchCreateItem]:
    """Batch items for orders that a lookup by client_order_id found."""
    return {coid: BatchCreateItem(CreateOrderResult.from_order(order), coid, None, None)
            for coid, order in found.items()}
