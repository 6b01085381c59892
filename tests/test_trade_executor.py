"""TradeExecutor against a small hand-written exchange double (validation, risk gate, logging order).

The last tests run the same paths end to end against the real paper exchange over loopback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
from client_fixtures import TICKERS, paper_client, paper_exchange, paper_signer  # noqa: F401

from kalshi_trading.config import RiskLimits
from kalshi_trading.errors import (NotFoundError, OrderRejected, RateLimited, RiskLimitExceeded,
                                   TransientApiError, UserInputError)
from kalshi_trading.models import (AmendOrderResult, BatchCancelItem, CancelOrderResult, CreateOrderResult,
                                   DecreaseOrderResult, Event, Fill, Market, MarketPosition, Order, Orderbook,
                                   Series)
from kalshi_trading.order_request import (Action, BookSide, OrderIntent, OrderRequestV2, OutcomeSide,
                                          TimeInForce)
from kalshi_trading.paper.universe import synthetic_market, synthetic_series
from kalshi_trading.timeutil import to_unix
from kalshi_trading.trade_executor import TradeExecutor
from kalshi_trading.trade_logger import TradeLogger

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
A, CLOSED, FINE = "KXTEST-A", "KXTEST-SHUT", "KXTEST-FINE"
D = Decimal


def order_json(order_id: str, ticker: str = A, side: str = "bid", price: str = "0.3000",
               filled: str = "0.00", remaining: str = "10.00", status: str = "resting") -> dict:
    return {"order_id": order_id, "client_order_id": f"c-{order_id}", "ticker": ticker,
            "status": status, "book_side": side, "yes_price_dollars": price,
            "fill_count_fp": filled, "remaining_count_fp": remaining}


@dataclass
class FakeExchange:
    """Just enough of KalshiClient's interface; records every write it receives."""

    fee_type: str = "quadratic"
    positions: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    created: list[OrderRequestV2] = field(default_factory=list)
    writes: list[tuple] = field(default_factory=list)
    create_error: Exception | None = None
    fills_error: Exception | None = None
    batch_errors: dict[str, str] = field(default_factory=dict)
    on_create: Callable[[OrderRequestV2], None] | None = None
    fill_now: Decimal = D("0")

    def __post_init__(self) -> None:
        fine = [{"start": "0.0000", "end": "0.1000", "step": "0.0010"},
                {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
                {"start": "0.9000", "end": "1.0000", "step": "0.0010"}]
        self.markets = {
            A: Market.from_api(synthetic_market(A, "KXTEST-E", now=NOW)),
            CLOSED: Market.from_api(synthetic_market(CLOSED, "KXTEST-E", now=NOW, status="closed")),
            FINE: Market.from_api(synthetic_market(FINE, "KXTEST-E", now=NOW, price_ranges=fine)),
        }
        self.book = Orderbook.from_api({"orderbook_fp": {
            "yes_dollars": [["0.40", "100.00"], ["0.45", "50.00"]],
            "no_dollars": [["0.45", "80.00"], ["0.50", "60.00"]]}}, A)

    def get_market(self, ticker: str) -> Market:
        if ticker not in self.markets:
            raise NotFoundError("market not found", status=404, code="not_found")
        return self.markets[ticker]

    def get_event(self, event_ticker: str) -> Event:
        return Event.from_api({"event_ticker": event_ticker, "series_ticker": "KXTEST"})

    def get_series(self, series_ticker: str) -> Series:
        return Series.from_api(synthetic_series(series_ticker, fee_type=self.fee_type))

    def get_orderbook(self, ticker: str, depth: int = 0) -> Orderbook:
        return self.book

    def iter_positions(self, *, ticker: str | None = None, **_: Any):
        return iter([MarketPosition.from_api({"ticker": t, "position_fp": str(p)})
                     for t, p in self.positions.items() if ticker in (None, t)])

    def iter_orders(self, *, ticker: str | None = None, status: str | None = None, **_: Any):
        return iter([o for o in self.orders.values()
                     if ticker in (None, o.ticker) and status in (None, o.status)])

    def get_order(self, order_id: str) -> Order:
        if order_id not in self.orders:
            raise NotFoundError("order not found", status=404, code="not_found")
        return self.orders[order_id]

    def iter_fills(self, *, order_id: str | None = None, **_: Any):
        if self.fills_error:
            raise self.fills_error
        return iter([f for f in self.fills if order_id in (None, f.order_id)])

    def find_order_by_client_id(self, ticker: str, client_order_id: str) -> Order | None:
        self.writes.append(("lookup", client_order_id))
        return next((o for o in self.orders.values()
                     if o.ticker == ticker and o.client_order_id == client_order_id), None)

    def create_order(self, request: OrderRequestV2) -> CreateOrderResult:
        self.created.append(request)
        if self.on_create:
            self.on_create(request)
        if self.create_error:
            raise self.create_error
        order_id = f"ord-{len(self.created)}"
        filled = min(self.fill_now, request.count)
        rest = D(0) if request.time_in_force is not TimeInForce.GTC else request.count - filled
        return CreateOrderResult(order_id, request.client_order_id or "", filled, rest,
                                 request.price if filled else None, None, None)

    def cancel_order(self, order_id: str) -> CancelOrderResult:
        self.writes.append(("cancel", order_id))
        return CancelOrderResult(order_id, "", self.orders[order_id].remaining_count, None)

    def batch_cancel_orders(self, ids: list[str]) -> list[BatchCancelItem]:
        self.writes.append(("batch_cancel", tuple(ids)))
        return [BatchCancelItem.from_api({"order_id": i, "error": {"code": self.batch_errors[i],
                                                                   "message": "no"}})
                if i in self.batch_errors else
                BatchCancelItem.from_api({"order_id": i, "reduced_by": "10.00"}) for i in ids]

    def amend_order(self, order_id: str, **body: Any) -> AmendOrderResult:
        self.writes.append(("amend", order_id, body))
        return AmendOrderResult(order_id, "", body["count"], D(0), None, None, None)

    def decrease_order(self, order_id: str, **body: Any) -> DecreaseOrderResult:
        self.writes.append(("decrease", order_id, body))
        rest = self.orders[order_id].remaining_count
        left = body["reduce_to"] if body["reduce_to"] is not None else rest - body["reduce_by"]
        return DecreaseOrderResult(order_id, "", left, None)


@pytest.fixture
def fake() -> FakeExchange:
    return FakeExchange()


@pytest.fixture
def tlog(tmp_path: Path):
    with TradeLogger(tmp_path / "logs", clock=lambda: NOW) as logger:
        yield logger


def make_executor(fake: FakeExchange, tlog: TradeLogger, risk: RiskLimits | None = None) -> TradeExecutor:
    ids = iter(f"cid-{n}" for n in range(1, 1000))
    return TradeExecutor(fake, tlog, risk or RiskLimits(), id_factory=lambda: next(ids),
                         clock=lambda: NOW)


@pytest.fixture
def executor(fake: FakeExchange, tlog: TradeLogger) -> TradeExecutor:
    return make_executor(fake, tlog)


def intent(action: str = "buy", outcome: str = "yes", count: Any = "10", price: Any = "0.40",
           ticker: str = A, **kw: Any) -> OrderIntent:
    return OrderIntent(ticker, Action(action), OutcomeSide(outcome), D(count) if isinstance(count, str)
                       else count, D(price) if isinstance(price, str) else price, **kw)


# --- validation: nothing is sent, nothing is logged ------------------------------------------

FUTURE = to_unix(NOW + timedelta(hours=1))


@pytest.mark.parametrize("bad, message", [
    (intent(count="0"), "count must be more than 0"),
    (intent(count="-5"), "count must be more than 0"),
    (intent(count="1.234"), "more than 2 decimal places"),
    (intent(count=1.5), "exact decimal"),
    (intent(price="0.375"), "not on KXTEST-A's price grid"),
    (intent(price="0"), "between 0 and 1"),
    (intent(price="1.00"), "between 0 and 1"),
    (intent(price=0.4), "exact decimal"),
    (intent(ticker=CLOSED), "not open for trading (status closed)"),
    (intent(ticker="KXNOPE-1"), "no market with ticker 'KXNOPE-1'"),
    (intent(ticker="  "), "ticker is required"),
    (intent(time_in_force=TimeInForce.IOC, expiration_time=FUTURE), "only allowed with good-till"),
    (intent(time_in_force=TimeInForce.FOK, expiration_time=FUTURE), "only allowed with good-till"),
    (intent(expiration_time=to_unix(NOW - timedelta(seconds=1))), "not in the future"),
    (intent(time_in_force=TimeInForce.IOC, post_only=True), "post-only orders must be gtc"),
    (OrderIntent(A, "hold", OutcomeSide.YES, D("1"), D("0.4")), "action must be buy or sell"),
    (OrderIntent(A, Action.BUY, "maybe", D("1"), D("0.4")), "side must be yes or no"),
])
def test_invalid_order_is_refused_before_the_network(fake: FakeExchange, executor: TradeExecutor,
                                                     tlog: TradeLogger, bad: OrderIntent,
                                                     message: str) -> None:
    with pytest.raises(UserInputError, match=re.escape(message)) as info:
        executor.submit(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(UserInputError, match=re.escape(message)):
        executor.preview(bad)
    assert fake.created == [] and tlog.query() == []


def test_off_grid_message_offers_the_nearest_prices_in_the_traders_terms(executor: TradeExecutor) -> None:
    with pytest.raises(UserInputError, match=r"nearest: 0\.3700 or 0\.3800"):
        executor.submit(intent(outcome="no", price="0.375"))


def test_sub_penny_price_is_accepted_where_the_grid_allows_it(fake: FakeExchange,
                                                              executor: TradeExecutor) -> None:
    executor.submit(intent(ticker=FINE, price="0.055"))
    with pytest.raises(UserInputError, match="price grid"):
        executor.submit(intent(ticker=FINE, price="0.555"))
    assert [r.price for r in fake.created] == [D("0.055")]


# --- conversion to V2 ----------------------------------------------------------------------

@pytest.mark.parametrize("action, outcome, price, side, yes_price", [
    ("buy", "yes", "0.40", BookSide.BID, D("0.40")),
    ("sell", "yes", "0.40", BookSide.ASK, D("0.40")),
    ("buy", "no", "0.37", BookSide.ASK, D("0.63")),
    ("sell", "no", "0.37", BookSide.BID, D("0.63")),
])
def test_order_reaches_the_exchange_as_the_right_v2_side_and_yes_price(
        fake: FakeExchange, executor: TradeExecutor, action: str, outcome: str, price: str,
        side: BookSide, yes_price: Decimal) -> None:
    fake.positions[A] = D("50") if (action, outcome) == ("sell", "yes") else D("-50") \
        if (action, outcome) == ("sell", "no") else D("0")
    executor.submit(intent(action, outcome, "10", price))
    [sent] = fake.created
    assert (sent.side, sent.price, sent.count, sent.ticker) == (side, yes_price, D("10"), A)
    assert sent.to_api()["price"] == f"{yes_price:.4f}"


def test_client_order_id_is_made_once_and_logged_with_both_records(fake: FakeExchange,
                                                                   executor: TradeExecutor,
                                                                   tlog: TradeLogger) -> None:
    result = executor.submit(intent())
    assert fake.created[0].client_order_id == "cid-1" == result.client_order_id
    records = tlog.query(event_types="submission")
    assert [(r["status"], r["client_order_id"]) for r in records] == [("sending", "cid-1"),
                                                                       ("resting", "cid-1")]
    assert records[1]["order_id"] == result.order_id


# --- the submission is on disk before the request ---------------------------------------------

def test_submission_is_logged_before_sending_and_rejection_is_logged_after(
        fake: FakeExchange, executor: TradeExecutor, tlog: TradeLogger) -> None:
    on_disk_at_send: list[list[dict]] = []
    fake.on_create = lambda request: on_disk_at_send.append(tlog.query())
    fake.create_error = OrderRejected("market closed", status=409, code="market_closed",
                                      method="POST", path="/portfolio/events/orders")
    with pytest.raises(OrderRejected):
        executor.submit(intent(outcome="no", price="0.37"))
    [[seen]] = on_disk_at_send
    assert (seen["event_type"], seen["status"], seen["client_order_id"]) == ("submission", "sending", "cid-1")
    assert (seen["book_side"], seen["yes_price_dollars"]) == ("ask", "0.6300")
    error = tlog.query()[-1]
    assert (error["event_type"], error["status"], error["client_order_id"]) == ("error", "rejected", "cid-1")
    assert "HTTP 409 [market_closed]" in error["message"] and "\n" not in error["message"]


def test_a_transient_failure_is_logged_as_unknown_outcome(fake: FakeExchange, executor: TradeExecutor,
                                                          tlog: TradeLogger) -> None:
    fake.create_error = TransientApiError("network error", method="POST", path="/portfolio/events/orders")
    with pytest.raises(TransientApiError):
        executor.submit(intent())
    error = tlog.query(event_types="error")[0]
    assert error["status"] == "unknown" and "may or may not have reached" in error["message"]


def test_a_failure_that_surely_never_arrived_says_not_placed_and_a_retry_is_a_new_order(
        fake: FakeExchange, executor: TradeExecutor, tlog: TradeLogger) -> None:
    fake.create_error = RateLimited("too many requests", status=429, method="POST",
                                    path="/portfolio/events/orders")
    with pytest.raises(TransientApiError, match="it was not placed") as caught:
        executor.submit(intent())
    assert not caught.value.maybe_applied
    assert tlog.query(event_types="error")[0]["status"] == "not_sent"
    fake.create_error = None
    result = executor.submit(intent())
    assert result.client_order_id == "cid-2" and ("lookup", "cid-1") not in fake.writes


def test_a_retry_whose_earlier_attempt_was_placed_is_not_refused_by_the_position_it_made(
        fake: FakeExchange, tlog: TradeLogger) -> None:
    executor = make_executor(fake, tlog, RiskLimits(max_position=D("12")))

    def placed_but_answer_lost(request: OrderRequestV2) -> None:
        fake.orders["o7"] = Order.from_api({**order_json("o7", filled="10.00", remaining="0.00",
                                                         status="executed", price="0.4000"),
                                            "client_order_id": request.client_order_id})
        fake.positions[A] = D("10")
        fake.create_error = TransientApiError("timed out", method="POST", path="/portfolio/events/orders")
    fake.on_create = placed_but_answer_lost
    with pytest.raises(TransientApiError, match="may or may not be placed"):
        executor.submit(intent(time_in_force=TimeInForce.IOC))
    fake.on_create = None
    result = executor.submit(intent(time_in_force=TimeInForce.IOC))   # 10 more would breach 12
    assert result.found_existing and result.order_id == "o7" and len(fake.created) == 1
    with pytest.raises(RiskLimitExceeded):                              # settled: a new one is gated
        executor.submit(intent(time_in_force=TimeInForce.IOC))


@pytest.mark.parametrize("retry, same", [
    (intent(action="sell", outcome="yes", price="0.30"), True),
    (intent(action="buy", outcome="no", price="0.70"), False),      # the same ask, other terms
    (intent(action="sell", outcome="yes", price="0.31"), False),
    (intent(action="sell", outcome="yes", price="0.30", count="11"), False),
    (intent(action="sell", outcome="yes", price="0.30", time_in_force=TimeInForce.IOC), False),
    (intent(action="sell", outcome="yes", price="0.30", post_only=True), False),
])
def test_only_the_same_intent_reuses_an_unanswered_client_order_id(
        fake: FakeExchange, executor: TradeExecutor, tlog: TradeLogger, retry: OrderIntent, same: bool) -> None:
    fake.create_error = TransientApiError("timed out", method="POST", path="/portfolio/events/orders")
    with pytest.raises(TransientApiError):
        executor.submit(intent(action="sell", outcome="yes", price="0.30"))
    fake.create_error = None
    result = executor.submit(retry)
    assert ("lookup", "cid-1") in fake.writes                       # looked up either way
    assert result.client_order_id == ("cid-1" if same else "cid-2")
    assert tlog.unanswered_submissions() == []


# --- risk gate -----------------------------------------------------------------------------

def test_order_costing_more_than_the_limit_is_refused_naming_the_numbers(
        fake: FakeExchange, tlog: TradeLogger) -> None:
    executor = make_executor(fake, tlog, RiskLimits(max_order_cost=D("100")))
    with pytest.raises(RiskLimitExceeded, match=r"\$125\.0400, above the \$100\.00 limit per order "
                                                r"\(KALSHI_MAX_ORDER_COST\)"):
        executor.submit(intent(count="300", price="0.40"))   # $120 + $5.04 taker fee
    assert fake.created == [] and tlog.query() == []


def test_position_limit_counts_the_resulting_position(fake: FakeExchange, tlog: TradeLogger) -> None:
    fake.positions[A] = D("490")
    executor = make_executor(fake, tlog, RiskLimits(max_order_cost=D("1000"), max_position=D("500")))
    with pytest.raises(RiskLimitExceeded, match="would reach 510.00 contracts, above the limit of 500.00"):
        executor.submit(intent(count="20", price="0.10"))
    executor.submit(intent(count="10", price="0.10"))
    assert len(fake.created) == 1


def test_no_buys_grow_a_no_position_toward_the_limit(fake: FakeExchange, tlog: TradeLogger) -> None:
    fake.positions[A] = D("-495")
    executor = make_executor(fake, tlog, RiskLimits(max_order_cost=D("1000"), max_position=D("500")))
    with pytest.raises(RiskLimitExceeded, match="KALSHI_MAX_POSITION"):
        executor.submit(intent("buy", "no", "10", "0.30"))


def test_closing_orders_pass_even_when_large(fake: FakeExchange, tlog: TradeLogger) -> None:
    # 600 YES held (above today's limit); selling 600 at 0.05 frees money, so the gate lets it by.
    fake.positions[A] = D("600")
    executor = make_executor(fake, tlog, RiskLimits(max_order_cost=D("10"), max_position=D("500")))
    executor.submit(intent("sell", "yes", "600", "0.05"))
    executor.submit(intent("buy", "no", "100", "0.95"))  # buying NO also closes YES
    assert len(fake.created) == 2


def test_selling_what_you_do_not_hold_is_charged_as_opening_the_other_side(
        fake: FakeExchange, tlog: TradeLogger) -> None:
    executor = make_executor(fake, tlog, RiskLimits(max_order_cost=D("50")))
    with pytest.raises(RiskLimitExceeded, match=r"\$95\."):  # 100 NO at 0.95 is opened
        executor.submit(intent("sell", "yes", "100", "0.05"))


def test_open_order_limit_refuses_gtc_but_not_ioc(fake: FakeExchange, tlog: TradeLogger) -> None:
    for n in range(2):
        fake.orders[f"o{n}"] = Order.from_api(order_json(f"o{n}"))
    executor = make_executor(fake, tlog, RiskLimits(max_open_orders=2))
    with pytest.raises(RiskLimitExceeded, match="2 orders are already resting; the limit is 2"):
        executor.submit(intent())
    executor.submit(intent(time_in_force=TimeInForce.IOC))
    assert [r.time_in_force for r in fake.created] == [TimeInForce.IOC]


# --- preview -------------------------------------------------------------------------------

def test_preview_of_an_ioc_walks_the_book_up_to_the_limit(fake: FakeExchange, executor: TradeExecutor,
                                                          tlog: TradeLogger) -> None:
    # YES asks: 0.50 x 60 (from NO bid 0.50), 0.55 x 80. A limit of 0.52 takes only the first level.
    preview = executor.preview(intent(count="100", price="0.52", time_in_force=TimeInForce.IOC))
    est = preview.estimated_fill
    assert (est.count, est.cost, est.average_price) == (D("60"), D("30.00"), D("0.5"))
    assert est.taker_fee == D("1.0500")                    # 0.07 x 60 x 0.5 x 0.5
    assert preview.fee_estimate == D("1.0500")
    assert preview.cost == D("52.00")
    assert preview.worst_case_loss == D("53.75")   # 52.00 + the 1.7472 fee at the limit, up to the cent
    assert preview.forecast.cancelled == D("40")
    assert any("the other 40.00 are cancelled (immediate-or-cancel)" in line for line in preview.lines())
    assert preview.request.side is BookSide.BID and preview.request.client_order_id is None
    assert fake.created == [] and tlog.query() == []


def test_preview_prices_a_no_buy_in_no_terms_and_shows_the_resulting_position(
        fake: FakeExchange, executor: TradeExecutor) -> None:
    fake.positions[A] = D("5")
    preview = executor.preview(intent("buy", "no", "20", "0.60", time_in_force=TimeInForce.FOK))
    # NO asks come from YES bids: 0.55 x 50, 0.60 x 100.
    assert (preview.estimated_fill.count, preview.estimated_fill.cost) == (D("20"), D("11.00"))
    assert (preview.current_position, preview.resulting_position) == (D("5"), D("-15"))
    assert preview.warnings == ()
    assert "Sent as: ask 20.00 at YES 0.4000" in preview.lines()


def test_preview_adds_maker_fees_for_the_resting_part_where_the_series_charges_them(
        fake: FakeExchange, executor: TradeExecutor) -> None:
    fake.fee_type = "quadratic_with_maker_fees"
    preview = executor.preview(intent(count="10", price="0.30"))    # nothing to take at 0.30
    assert preview.estimated_fill.count == 0
    assert preview.fee_estimate == D("0.0368")                       # 0.0175 x 10 x 0.3 x 0.7
    assert preview.fee_type == "quadratic_with_maker_fees"


# --- fills ---------------------------------------------------------------------------------

def _fill(fill_id: str, order_id: str) -> Fill:
    return Fill.from_api({"fill_id": fill_id, "order_id": order_id, "ticker": A, "book_side": "ask",
                          "count_fp": "5.00", "yes_price_dollars": "0.6300", "fee_cost": "0.0800",
                          "is_taker": True, "created_time": "2026-11-21T12:00:00Z"})


def test_fills_are_imported_once_in_the_traders_terms(fake: FakeExchange, executor: TradeExecutor,
                                                      tlog: TradeLogger) -> None:
    fake.fill_now = D("10")
    fake.fills = [_fill("f1", "ord-1"), _fill("f2", "ord-1")]
    result = executor.submit(intent("buy", "no", "10", "0.37", time_in_force=TimeInForce.IOC))
    assert (result.status, result.fills_imported) == ("executed", 2)
    assert result.average_outcome_price == D("0.37")
    assert tlog.import_fills(fake.iter_fills(order_id="ord-1")) == 0
    fills = tlog.query(event_types="fill")
    assert [(f["fill_id"], f["outcome_side"], f["action"]) for f in fills] == [
        ("f1", "no", "buy"), ("f2", "no", "buy")]


def test_a_failed_fill_import_does_not_fail_the_placed_order(fake: FakeExchange, executor: TradeExecutor,
                                                             tlog: TradeLogger) -> None:
    fake.fill_now = D("10")
    fake.fills_error = TransientApiError("timed out", method="GET", path="/portfolio/fills")
    result = executor.submit(intent(time_in_force=TimeInForce.IOC))
    assert result.status == "executed" and result.fills_imported == 0
    assert "not imported yet" in result.warnings[0]
    assert tlog.query(event_types="error")[0]["order_id"] == result.order_id


# --- cancel, amend, decrease ---------------------------------------------------------------

def test_cancel_all_cancels_every_resting_order_and_counts_only_successes(
        fake: FakeExchange, executor: TradeExecutor, tlog: TradeLogger) -> None:
    for n, ticker in enumerate((A, A, FINE)):
        fake.orders[f"o{n}"] = Order.from_api(order_json(f"o{n}", ticker=ticker))
    fake.orders["done"] = Order.from_api(order_json("done", status="executed"))
    fake.batch_errors = {"o1": "order_not_resting"}
    assert executor.cancel_all() == 2
    assert fake.writes == [("batch_cancel", ("o0", "o1", "o2"))]
    assert [r["order_id"] for r in tlog.query(event_types="cancellation")] == ["o0", "o2"]
    assert "order_not_resting" in tlog.query(event_types="error")[0]["message"]


def test_cancel_all_for_one_ticker_leaves_the_others(fake: FakeExchange, executor: TradeExecutor) -> None:
    for n, ticker in enumerate((A, FINE, FINE)):
        fake.orders[f"o{n}"] = Order.from_api(order_json(f"o{n}", ticker=ticker))
    assert executor.cancel_all(ticker="kxtest-fine") == 2
    assert fake.writes == [("batch_cancel", ("o1", "o2"))]


def test_cancel_refuses_an_order_that_is_not_resting(fake: FakeExchange, executor: TradeExecutor) -> None:
    fake.orders["done"] = Order.from_api(order_json("done", status="executed"))
    with pytest.raises(UserInputError, match="is executed; only resting orders"):
        executor.cancel("done")
    with pytest.raises(UserInputError, match="no order with id 'ghost'"):
        executor.cancel("ghost")
    assert fake.writes == []


def test_amend_sends_the_orders_ticker_and_side_with_the_new_total(
        fake: FakeExchange, executor: TradeExecutor, tlog: TradeLogger) -> None:
    fake.orders["o1"] = Order.from_api(order_json("o1", side="ask", price="0.6000", filled="3.00",
                                                  remaining="7.00"))
    executor.amend("o1", price="0.38", count="12", outcome="no")
    [(kind, order_id, body)] = fake.writes
    assert (kind, body["ticker"], body["side"], body["price"], body["count"]) == (
        "amend", A, BookSide.ASK, D("0.62"), D("12"))
    assert body["updated_client_order_id"] == "cid-1"
    [rec] = tlog.query(event_types="amend")
    assert rec["message"] == "price 0.6000 -> 0.6200, total 10.00 -> 12.00"


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give a new price, a new count"),
    ({"count": "3"}, "more than the 3.00 already filled"),
    ({"price": "0.605"}, "not on KXTEST-A's price grid"),
    ({"price": "0.60", "count": "10"}, "nothing to change"),
])
def test_amend_refuses_what_the_exchange_would(fake: FakeExchange, executor: TradeExecutor,
                                               kwargs: dict, message: str) -> None:
    fake.orders["o1"] = Order.from_api(order_json("o1", price="0.6000", filled="3.00", remaining="7.00"))
    with pytest.raises(UserInputError, match=message):
        executor.amend("o1", **kwargs)
    assert fake.writes == []


def test_amend_that_grows_the_order_passes_the_risk_gate_first(fake: FakeExchange, tlog: TradeLogger) -> None:
    fake.orders["o1"] = Order.from_api(order_json("o1", price="0.5000", remaining="10.00"))
    executor = make_executor(fake, tlog, RiskLimits(max_order_cost=D("20")))
    with pytest.raises(RiskLimitExceeded, match="KALSHI_MAX_ORDER_COST"):
        executor.amend("o1", count="100")
    assert fake.writes == []


@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one of"),
    ({"reduce_by": "1", "reduce_to": "2"}, "exactly one of"),
    ({"reduce_by": "0"}, "between 0.01 and the 10.00 resting"),
    ({"reduce_by": "11"}, "between 0.01 and the 10.00 resting"),
    ({"reduce_to": "10"}, "below the 10.00 resting"),
    ({"reduce_to": "2.001"}, "more than 2 decimal places"),
])
def test_decrease_refuses_bad_amounts(fake: FakeExchange, executor: TradeExecutor, kwargs: dict,
                                      message: str) -> None:
    fake.orders["o1"] = Order.from_api(order_json("o1"))
    with pytest.raises(UserInputError, match=message):
        executor.decrease("o1", **kwargs)
    assert fake.writes == []


def test_decrease_is_logged_and_to_zero_reads_as_a_cancellation(fake: FakeExchange,
                                                                executor: TradeExecutor,
                                                                tlog: TradeLogger) -> None:
    fake.orders["o1"] = Order.from_api(order_json("o1"))
    executor.decrease("o1", reduce_by="4")
    executor.decrease("o1", reduce_to="0")
    records = tlog.query()
    assert [(r["event_type"], r["count_fp"]) for r in records] == [("amend", "4.00"),
                                                                    ("cancellation", "10.00")]


# --- end to end against the paper exchange over loopback -----------------------------------


GENEROUS = RiskLimits(max_order_cost=D("1000"), max_position=D("10000"), max_open_orders=100)


@pytest.fixture(scope="module")
def paper(paper_client: Any) -> Any:
    """The paper exchange's client."""
    return paper_client


@pytest.fixture
def live(paper: Any, tmp_path: Path) -> tuple[Any, TradeLogger, TradeExecutor]:
    with TradeLogger(tmp_path / "logs") as logger:
        yield paper, logger, TradeExecutor(paper, logger, GENEROUS)


def test_paper_no_buy_is_an_ask_at_the_yes_price_and_its_fills_are_logged(live: tuple) -> None:
    client, logger, executor = live
    ticker = TICKERS[0]
    result = executor.submit(OrderIntent(ticker, Action.BUY, OutcomeSide.NO, D("10"), D("0.60"),
                                         time_in_force=TimeInForce.IOC))
    order = client.get_order(result.order_id)
    assert (order.book_side, order.yes_price, order.client_order_id) == (BookSide.ASK, D("0.40"),
                                                                         result.client_order_id)
    assert (result.status, result.fill_count) == ("executed", D("10"))
    position = next(p.position for p in client.iter_positions(ticker=ticker) if p.ticker == ticker)
    assert position == D("-10")
    exchange_fills = {f.fill_id: f for f in client.iter_fills(order_id=result.order_id)}
    logged = logger.query(event_types="fill")
    assert {f["fill_id"] for f in logged} == set(exchange_fills) and result.fills_imported == len(logged)
    assert all((f["outcome_side"], f["action"], f["book_side"]) == ("no", "buy", "ask") for f in logged)
    assert sum(D(f["fee_cost"]) for f in logged) == sum(f.fee_cost for f in exchange_fills.values())
    assert sum(D(f["count_fp"]) for f in logged) == D("10")


def test_paper_preview_matches_what_the_ioc_then_does(live: tuple) -> None:
    client, _, executor = live
    order = OrderIntent(TICKERS[1], Action.BUY, OutcomeSide.YES, D("70"), D("0.55"),
                        time_in_force=TimeInForce.IOC)
    preview = executor.preview(order)
    assert preview.fee_type == "quadratic" and preview.estimated_fill.count == D("70")
    result = executor.submit(order)
    fills = list(client.iter_fills(order_id=result.order_id))
    assert result.fill_count == preview.estimated_fill.count
    assert sum(f.count * f.yes_price for f in fills) == preview.estimated_fill.cost   # 60 x .50 + 10 x .55
    assert result.average_fill_price == preview.estimated_fill.average_price.quantize(D("0.0001"))


def test_paper_rejection_is_logged_after_the_submission_that_preceded_it(live: tuple) -> None:
    client, logger, executor = live
    crossing = OrderIntent(TICKERS[2], Action.BUY, OutcomeSide.YES, D("5"), D("0.55"), post_only=True)
    with pytest.raises(OrderRejected):
        executor.submit(crossing)
    sending, error = logger.query()
    assert (sending["event_type"], sending["status"]) == ("submission", "sending")
    assert (error["event_type"], error["status"]) == ("error", "rejected")
    assert sending["client_order_id"] == error["client_order_id"]
    assert all(o.client_order_id != sending["client_order_id"] for o in client.iter_orders(ticker=TICKERS[2]))


def test_paper_fills_are_not_imported_twice_after_a_restart(live: tuple, tmp_path: Path) -> None:
    client, logger, executor = live
    executor.submit(OrderIntent(TICKERS[3], Action.BUY, OutcomeSide.YES, D("3"), D("0.60"),
                                time_in_force=TimeInForce.IOC))
    before = len(logger.query(event_types="fill"))
    logger.close()
    with TradeLogger(logger.log_dir) as again:
        assert again.import_fills(client.iter_fills(ticker=TICKERS[3])) == 0
        assert len(again.query(event_types="fill")) == before > 0


def test_paper_amend_decrease_and_cancel_all(live: tuple) -> None:
    client, logger, executor = live
    ticker = TICKERS[2]
    placed = [executor.submit(OrderIntent(ticker, Action.BUY, OutcomeSide.YES, D("10"), D(price)))
              for price in ("0.10", "0.11", "0.12")]
    assert all(r.status == "resting" for r in placed)
    executor.amend(placed[0].order_id, price=D("0.15"), count=D("15"))
    amended = client.get_order(placed[0].order_id)
    assert (amended.yes_price, amended.remaining_count) == (D("0.15"), D("15"))
    executor.decrease(placed[1].order_id, reduce_to=D("4"))
    assert client.get_order(placed[1].order_id).remaining_count == D("4")
    assert executor.cancel_all(ticker=ticker) == 3
    assert list(client.iter_orders(ticker=ticker, status="resting")) == []
    assert len(logger.query(ticker=ticker, event_types="cancellation")) == 3
    assert executor.cancel_all(ticker=ticker) == 0


def test_paper_fill_or_kill_that_cannot_fill_is_refused_and_logged(live: tuple) -> None:
    client, logger, executor = live
    # YES asks on this book: 0.50 x 60 and 0.55 x 80, so 100 at 0.50 or better is not there.
    with pytest.raises(OrderRejected) as info:
        executor.submit(OrderIntent(TICKERS[3], Action.BUY, OutcomeSide.YES, D("100"), D("0.50"),
                                    time_in_force=TimeInForce.FOK))
    assert info.value.code == "fill_or_kill_insufficient_resting_volume"
    assert [r["status"] for r in logger.query()] == ["sending", "rejected"]
    assert logger.query(event_types="fill") == []


@pytest.mark.parametrize("action, position, expected", [
    (Action.BUY, "0", "Cost: up to $4.0000 (10.00 YES at 0.4000 or better)"),
    (Action.SELL, "10", "Proceeds: at least $4.0000 (closes 10.00 YES you hold at YES 0.4000 or better)"),
    (Action.SELL, "4", "Proceeds: at least $1.6000 for the 4.00 YES you hold; the other 6.00 open NO, "
                       "costing up to $3.6000"),   # 6 contracts opened as NO at 1 - 0.40
    (Action.SELL, "0", "Cost: up to $6.0000 (10.00 NO at 0.6000 or better); you hold no YES, so selling "
                       "it buys NO: no proceeds"),
])
def test_preview_says_what_the_order_costs_or_brings_in_by_what_it_closes_and_opens(
        fake: FakeExchange, executor: TradeExecutor, action: Action, position: str, expected: str) -> None:
    fake.positions[A] = Decimal(position)
    preview = executor.preview(intent(action.value, "yes", "10", "0.40"))
    assert expected in preview.lines()
