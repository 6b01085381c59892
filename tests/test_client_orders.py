"""One intent, one order: create_order's recovery after ambiguous failures, against a small fake
exchange mounted as a requests adapter (deterministic faults; the paper-exchange version of this
test lives in test_client_paper.py)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
import requests
from client_fixtures import FAKE_BASE, FakeAdapter, Received, fake_session
from urllib3.exceptions import MaxRetryError, NewConnectionError

from kalshi_trading.client.rate_limiter import RateLimiter
from kalshi_trading.errors import (DuplicateClientOrderId, OrderRejected, RateLimited, TransientApiError,
                                   UserInputError)
from kalshi_trading.kalshi_client import KalshiClient
from kalshi_trading.order_request import Action, BookSide, OrderIntent, OrderRequestV2, OutcomeSide

ORDERS = "/trade-api/v2/portfolio/events/orders"
LIST = "/trade-api/v2/portfolio/orders"


def refused() -> requests.ConnectionError:
    """What requests raises when nothing listens: the request never left this machine."""
    return requests.ConnectionError(MaxRetryError(None, ORDERS, NewConnectionError(None, "Connection refused")))


# Faults that answer before the exchange does anything...
BEFORE = {
    "503": lambda: (503, {"error": {"code": "service_unavailable", "message": "service unavailable"}}),
    "429": lambda: (429, {"error": "too many requests"}),
    "refuse": refused,
    "connect-timeout": lambda: requests.ConnectTimeout("connect timed out"),
}
# ...and faults that replace the reply AFTER the write was committed.
AFTER = {
    "lose": lambda: requests.ReadTimeout("response lost"),
    "reset": lambda: requests.ConnectionError("Connection reset by peer"),
    "garbled": lambda: (201, "<html>bad gateway</html>"),
    "shapeless": lambda: (201, {}),
    **{f"after-{code}": (lambda code=code: (code, {"error": {"code": "internal", "message": "oops"}}))
       for code in (500, 502, 503, 504)},
}


class FakeExchange:
    """Just enough of Kalshi for order idempotency: dedup by client_order_id, a lagging order list,
    and scripted faults per write ("503" before commit, "lose" = commit then time out)."""

    def __init__(self, *, list_lag: int = 0, reject_resend: bool = False) -> None:
        self.orders: list[dict] = []        # newest first, like Kalshi
        self.faults: list[str] = []         # per write, in order: a key of BEFORE/AFTER or "partial:k"
        self.get_faults: list[str] = []     # per read: "503" or "timeout"
        self.list_lag = list_lag
        self.reject_resend = reject_resend  # an exchange that validates funds before deduplicating
        self._invisible: dict[str, int] = {}
        self._ids = itertools.count(1)
        self.adapter = FakeAdapter(self.handle)

    def posts(self) -> int:
        return sum(1 for r in self.adapter.received if r.method == "POST")

    def gets(self) -> int:
        return sum(1 for r in self.adapter.received if r.method == "GET")

    def _commit(self, body: dict) -> dict | None:
        if any(o["client_order_id"] == body["client_order_id"] for o in self.orders):
            if self.reject_resend:
                raise _Refusal(400, "insufficient_balance", "available balance is too low")
            return None
        order = {"order_id": f"ord-{next(self._ids)}", "client_order_id": body["client_order_id"],
                 "ticker": body["ticker"], "status": "resting", "book_side": body["side"],
                 "yes_price_dollars": body["price"], "initial_count_fp": body["count"],
                 "fill_count_fp": "0.00", "remaining_count_fp": body["count"]}
        self.orders.insert(0, order)
        self._invisible[order["order_id"]] = self.list_lag
        return order

    def handle(self, seen: Received):
        if seen.method == "GET":
            fault = self.get_faults.pop(0) if self.get_faults else None
            if fault == "503":
                return BEFORE["503"]()
            return requests.ReadTimeout("lookup timed out") if fault == "timeout" else self._serve(seen)
        fault = self.faults.pop(0) if self.faults else None
        if fault in BEFORE:
            return BEFORE[fault]()
        if fault and fault.startswith("partial:"):   # a batch dies after committing its first k orders
            for body in seen.body["orders"][:int(fault.split(":")[1])]:
                self._commit(body)
            return 500, {"error": {"code": "internal_server_error", "message": "internal error"}}
        try:
            reply = self._serve(seen)
        except _Refusal as exc:
            reply = exc.status, {"error": {"code": exc.code, "message": exc.message}}
        return AFTER[fault]() if fault else reply

    def _serve(self, seen: Received):
        if seen.method == "POST" and seen.path == ORDERS:
            order = self._commit(seen.body)
            if order is None:
                return 409, {"error": {"code": "order_already_exists", "message": "order already exists"}}
            return 201, {"order_id": order["order_id"], "client_order_id": order["client_order_id"],
                         "fill_count": "0.00", "remaining_count": order["remaining_count_fp"], "ts_ms": 1}
        if seen.method == "POST" and seen.path == ORDERS + "/batched":
            items = []
            for body in seen.body["orders"]:
                try:
                    order, error = self._commit(body), {"code": "order_already_exists", "message": "exists"}
                except _Refusal as exc:
                    order, error = None, {"code": exc.code, "message": exc.message}
                items.append({"order_id": order["order_id"], "client_order_id": body["client_order_id"],
                              "fill_count": "0.00", "remaining_count": body["count"]} if order else
                             {"client_order_id": body["client_order_id"], "error": error})
            return 201, {"orders": items}
        if seen.method == "GET" and seen.path == "/trade-api/v2/portfolio/orders":
            visible = [o for o in self.orders if self._invisible[o["order_id"]] <= 0]
            for order_id in self._invisible:
                self._invisible[order_id] -= 1
            ticker = seen.query.get("ticker", [None])[0]
            return 200, {"orders": [o for o in visible if ticker in (None, o["ticker"])], "cursor": ""}
        if seen.method == "DELETE" and seen.path.startswith(ORDERS + "/"):
            order = self._find(seen.path.rsplit("/", 1)[1])
            if order["status"] != "resting":
                return 409, {"error": {"code": "order_not_resting", "message": "order not resting"}}
            reduced, order["status"], order["remaining_count_fp"] = order["remaining_count_fp"], "canceled", "0.00"
            return 200, {"order_id": order["order_id"], "client_order_id": order["client_order_id"],
                         "reduced_by": reduced, "ts_ms": 2}
        if seen.method == "GET" and seen.path.startswith("/trade-api/v2/portfolio/orders/"):
            return 200, {"order": self._find(seen.path.rsplit("/", 1)[1])}
        return 404, {"error": {"code": "not_found", "message": "not found"}}

    def _find(self, order_id: str) -> dict:
        return next(o for o in self.orders if o["order_id"] == order_id)


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def request(coid: str | None = "coid-1", ticker: str = "KXA-1") -> OrderRequestV2:
    intent = OrderIntent(ticker, Action.BUY, OutcomeSide.NO, Decimal("5"), Decimal("0.37"))
    return intent.to_v2(coid)


def client_for(exchange: FakeExchange, slept: list | None = None, **kwargs) -> KalshiClient:
    return KalshiClient(FAKE_BASE, None, session=fake_session(exchange.adapter),
                        sleep=(slept.append if slept is not None else lambda s: None),
                        random=lambda: 0.5, **kwargs)


def test_the_v2_body_is_on_the_yes_book() -> None:
    exchange = FakeExchange()
    result = client_for(exchange).create_order(request())
    sent = exchange.adapter.received[0].body
    assert (sent["side"], sent["price"], sent["count"], sent["client_order_id"]) == ("ask", "0.6300", "5.00", "coid-1")
    assert result.order_id == "ord-1" and result.remaining_count == Decimal("5.00")


def test_a_lost_response_is_resolved_by_lookup_without_resending() -> None:
    exchange = FakeExchange()
    exchange.faults = ["lose"]
    result = client_for(exchange).create_order(request())
    assert result.order_id == "ord-1" and result.client_order_id == "coid-1"
    assert exchange.posts() == 1 and len(exchange.orders) == 1
    lookup = exchange.adapter.received[1]
    assert (lookup.method, lookup.path, lookup.query["ticker"]) == ("GET", "/trade-api/v2/portfolio/orders", ["KXA-1"])


def test_a_5xx_before_commit_is_looked_up_then_resent_once() -> None:
    exchange = FakeExchange()
    exchange.faults = ["503"]
    result = client_for(exchange).create_order(request())
    assert exchange.posts() == 2 and len(exchange.orders) == 1
    assert result.order_id == "ord-1"


def test_the_read_lag_is_covered_by_short_rereads() -> None:
    exchange, slept = FakeExchange(list_lag=2), []
    exchange.faults = ["lose"]
    result = client_for(exchange, slept, lookup_reread_delay=0.1).create_order(request())
    assert result.order_id == "ord-1" and exchange.posts() == 1
    assert slept == [0.1, 0.1]


def test_a_lag_longer_than_the_rereads_ends_in_409_and_resolves_to_the_same_order() -> None:
    exchange = FakeExchange(list_lag=3)
    exchange.faults = ["lose"]
    result = client_for(exchange, lookup_rereads=1).create_order(request())
    assert result.order_id == "ord-1" and len(exchange.orders) == 1 and exchange.posts() == 2


def test_a_duplicate_client_order_id_returns_the_existing_order() -> None:
    exchange = FakeExchange()
    client = client_for(exchange)
    first = client.create_order(request())
    again = client.create_order(request())
    assert again.order_id == first.order_id and len(exchange.orders) == 1
    assert again.remaining_count == Decimal("5.00") and again.average_fill_price is None


def test_a_409_whose_order_cannot_be_found_is_a_clear_error() -> None:
    exchange = FakeExchange()
    exchange.adapter.handler = lambda seen: (
        (409, {"error": {"code": "order_already_exists", "message": "order already exists"}})
        if seen.method == "POST" else (200, {"orders": [], "cursor": ""}))
    with pytest.raises(DuplicateClientOrderId, match="order already exists"):
        client_for(exchange).create_order(request())


def test_a_429_is_simply_retried_without_a_lookup() -> None:
    exchange = FakeExchange()
    exchange.faults = ["429"]
    client_for(exchange).create_order(request())
    assert [r.method for r in exchange.adapter.received] == ["POST", "POST"]


def test_when_every_attempt_fails_the_error_is_transient_and_no_order_is_doubled() -> None:
    exchange = FakeExchange()
    exchange.faults = ["503"] * 10
    with pytest.raises(TransientApiError) as caught:
        client_for(exchange).create_order(request())
    assert caught.value.status == 503 and exchange.posts() == 4 and exchange.orders == []


def test_an_order_without_client_order_id_is_refused_before_sending() -> None:
    exchange = FakeExchange()
    with pytest.raises(UserInputError, match="client_order_id"):
        client_for(exchange).create_order(request(None))
    assert exchange.adapter.received == []


def test_create_order_for_intent_uses_the_intents_conversion() -> None:
    exchange = FakeExchange()
    intent = OrderIntent("KXA-1", Action.SELL, OutcomeSide.NO, Decimal("2"), Decimal("0.40"))
    client_for(exchange).create_order_for_intent(intent, "c-9")
    assert exchange.adapter.received[0].body["side"] == BookSide.BID and exchange.orders[0]["yes_price_dollars"] == "0.6000"


def test_a_batch_with_a_lost_response_is_resolved_item_by_item() -> None:
    exchange = FakeExchange()
    exchange.faults = ["lose"]
    batch = [request("b-1"), request("b-2", "KXB-2"), request("b-3")]
    items = client_for(exchange).batch_create_orders(batch)
    assert [i.client_order_id for i in items] == ["b-1", "b-2", "b-3"]
    assert all(i.result is not None and i.error_code is None for i in items)
    assert exchange.posts() == 1 and len(exchange.orders) == 3


def test_a_batch_item_that_already_exists_resolves_to_that_order() -> None:
    exchange = FakeExchange()
    client = client_for(exchange)
    first = client.create_order(request("b-1"))
    items = client.batch_create_orders([request("b-1"), request("b-2")])
    assert items[0].result.order_id == first.order_id and items[0].error_code is None
    assert len(exchange.orders) == 2


def test_a_batch_needs_distinct_client_order_ids() -> None:
    with pytest.raises(UserInputError):
        client_for(FakeExchange()).batch_create_orders([request("same"), request("same")])


def test_a_cancel_whose_response_was_lost_reports_the_cancellation() -> None:
    exchange = FakeExchange()
    client = client_for(exchange)
    order_id = client.create_order(request()).order_id
    exchange.faults = ["lose"]
    result = client.cancel_order(order_id)
    assert result.order_id == order_id and result.reduced_by == Decimal("5.00")
    assert exchange.orders[0]["status"] == "canceled"


# --- every failure path of create_order: exactly one order, or a clear error ----------------------

@pytest.mark.parametrize("fault", ["refuse", "connect-timeout"])
def test_a_connect_failure_before_sending_is_resent_without_a_lookup(fault: str) -> None:
    exchange = FakeExchange()
    exchange.faults = [fault]
    result = client_for(exchange).create_order(request())
    assert [r.method for r in exchange.adapter.received] == ["POST", "POST"]
    assert len(exchange.orders) == 1 and result.order_id == "ord-1"


@pytest.mark.parametrize("fault", ["reset", "after-500", "after-502", "after-503", "after-504"])
def test_a_failure_after_the_order_was_committed_returns_that_order_without_resending(fault: str) -> None:
    exchange = FakeExchange()
    exchange.faults = [fault]
    result = client_for(exchange).create_order(request())
    assert exchange.posts() == 1 and len(exchange.orders) == 1
    assert (result.order_id, result.client_order_id) == ("ord-1", "coid-1")


@pytest.mark.parametrize("fault", ["garbled", "shapeless"])
def test_an_unreadable_201_is_resolved_by_lookup_not_reported_as_a_failure(fault: str) -> None:
    exchange = FakeExchange()
    exchange.faults = [fault]
    result = client_for(exchange).create_order(request())
    assert result.order_id == "ord-1" and exchange.posts() == 1 and exchange.gets() == 1


def test_429s_are_retried_five_times_then_raised_as_surely_not_placed() -> None:
    exchange = FakeExchange()
    exchange.faults = ["429"] * 10
    with pytest.raises(RateLimited) as caught:
        client_for(exchange).create_order(request())
    assert exchange.posts() == 6 and exchange.gets() == 0 and exchange.orders == []
    assert caught.value.maybe_applied is False


def test_a_fill_or_kill_that_cannot_fill_is_a_rejection_sent_once() -> None:
    exchange = FakeExchange()
    exchange.adapter.handler = lambda seen: (409, {"error": {
        "code": "fill_or_kill_insufficient_resting_volume", "message": "not enough resting volume"}})
    with pytest.raises(OrderRejected) as caught:
        client_for(exchange).create_order(request())
    assert type(caught.value) is OrderRejected
    assert caught.value.code == "fill_or_kill_insufficient_resting_volume"
    assert [r.method for r in exchange.adapter.received] == ["POST"]


def test_a_failed_lookup_falls_back_to_a_resend_that_the_exchange_deduplicates() -> None:
    exchange = FakeExchange()
    exchange.faults = ["lose"]
    exchange.get_faults = ["503"] * 4        # the whole first lookup fails (1 try + 3 retries)
    result = client_for(exchange).create_order(request())
    assert result.order_id == "ord-1" and len(exchange.orders) == 1
    assert exchange.posts() == 2             # the resend met 409 order_already_exists, then a lookup


def test_when_lookups_keep_failing_the_error_says_the_order_may_exist_and_no_second_is_made() -> None:
    exchange = FakeExchange()
    exchange.faults = ["lose"]
    exchange.get_faults = ["timeout"] * 1000
    with pytest.raises(TransientApiError) as caught:
        client_for(exchange).create_order(request())
    assert caught.value.maybe_applied is True and len(exchange.orders) == 1
    assert exchange.posts() == 4


def test_giving_up_after_an_ambiguous_attempt_never_claims_nothing_was_placed() -> None:
    exchange = FakeExchange()
    exchange.faults = ["503", "refuse", "refuse", "refuse"]
    with pytest.raises(TransientApiError) as caught:
        client_for(exchange).create_order(request())
    # the last failure was a refused connection, but the first 503 may have been applied
    assert caught.value.maybe_applied is True
    assert "earlier attempt may have been applied" in str(caught.value)


def test_a_rejected_resend_after_a_lost_response_resolves_to_the_order_that_was_placed() -> None:
    exchange = FakeExchange(list_lag=3, reject_resend=True)
    exchange.faults = ["lose"]
    result = client_for(exchange, lookup_rereads=1).create_order(request())
    assert result.order_id == "ord-1" and len(exchange.orders) == 1 and exchange.posts() == 2


def test_a_rejection_without_an_earlier_ambiguous_attempt_is_not_looked_up() -> None:
    exchange = FakeExchange(reject_resend=True)
    client = client_for(exchange)
    client.create_order(request())
    with pytest.raises(OrderRejected, match="balance"):
        client.create_order(request())       # a plain rejection: no reason to look anything up
    assert exchange.gets() == 0


def test_a_partially_applied_batch_resends_only_the_missing_orders() -> None:
    exchange = FakeExchange()
    exchange.faults = ["partial:2"]
    batch = [request("b-1"), request("b-2"), request("b-3")]
    items = client_for(exchange).batch_create_orders(batch)
    assert len(exchange.orders) == 3 and exchange.posts() == 2
    resent = [r for r in exchange.adapter.received if r.method == "POST"][1]
    assert [o["client_order_id"] for o in resent.body["orders"]] == ["b-3"]
    assert [i.client_order_id for i in items] == ["b-1", "b-2", "b-3"]
    assert all(i.result is not None and i.error_code is None for i in items)
    assert len({i.result.order_id for i in items}) == 3


def test_a_rate_limited_batch_placed_nothing_and_is_resent_whole_without_a_lookup() -> None:
    exchange = FakeExchange()
    exchange.faults = ["429"]
    items = client_for(exchange).batch_create_orders([request("b-1"), request("b-2")])
    assert [r.method for r in exchange.adapter.received] == ["POST", "POST"]
    assert len(exchange.orders) == 2 and all(i.result is not None for i in items)


def test_a_batch_whose_lookup_fails_resends_the_same_ids_and_resolves_the_duplicates() -> None:
    exchange = FakeExchange()
    exchange.faults = ["lose"]
    exchange.get_faults = ["503"] * 4
    batch = [request("b-1"), request("b-2", "KXB-2")]
    items = client_for(exchange).batch_create_orders(batch)
    assert len(exchange.orders) == 2 and exchange.posts() == 2
    assert {i.client_order_id: i.result.order_id for i in items} == \
        {o["client_order_id"]: o["order_id"] for o in exchange.orders}


def test_an_unreadable_batch_response_is_resolved_by_lookup() -> None:
    exchange = FakeExchange()
    exchange.faults = ["shapeless"]
    items = client_for(exchange).batch_create_orders([request("b-1"), request("b-2")])
    assert exchange.posts() == 1 and all(i.result is not None for i in items)


def test_a_batch_item_rejected_on_resend_resolves_to_the_order_the_lost_attempt_placed() -> None:
    exchange = FakeExchange(list_lag=3, reject_resend=True)
    exchange.faults = ["lose"]
    items = client_for(exchange, lookup_rereads=1).batch_create_orders([request("b-1")])
    assert items[0].error_code is None and items[0].result.order_id == "ord-1"
    assert len(exchange.orders) == 1


def test_a_batch_larger_than_the_tier_bucket_is_refused_before_anything_is_sent() -> None:
    exchange = FakeExchange()
    client = client_for(exchange, rate_limiter=RateLimiter("basic", sleep=lambda s: None))
    with pytest.raises(UserInputError, match="smaller batches"):
        client.batch_create_orders([request(f"b-{i}") for i in range(11)])   # 110 tokens > 100
    assert exchange.adapter.received == []
    assert len(client.batch_create_orders([request(f"b-{i}") for i in range(10)])) == 10
