"""PaperEngine order flow: matching against the crowd, time in force, queue position, validation.

The default market KXT-E-A (tests/engine_fixtures.py) has YES bids 0.40 x10, 0.41 x5 and NO bids
0.57 x3, 0.55 x7, i.e. YES asks 0.43 x3 and 0.45 x7. Expected numbers are worked out by hand in the
comments.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from engine_fixtures import NOW, SUB, A, Clock, book, ioc, make_engine, order

from kalshi_trading.errors import ExchangeRejection
from kalshi_trading.paper.universe import MarketUpdate, TradePrint


def rejection(call, *args) -> ExchangeRejection:
    with pytest.raises(ExchangeRejection) as info:
        call(*args)
    return info.value


# ----------------------------------------------------------------------------- taking liquidity
def test_taker_walks_levels_with_partial_fills_at_each_price() -> None:
    engine = make_engine()
    result = engine.create_order("u1", ioc(count="5", price="0.45"))
    # 3 @ 0.43 then 2 @ 0.45: average (1.29 + 0.90) / 5 = 0.438
    assert (result["fill_count"], result["remaining_count"], result["average_fill_price"]) == \
        ("5.00", "0.00", "0.4380")
    fills = engine.list_fills("u1")
    assert [(f["yes_price_dollars"], f["count_fp"], f["is_taker"]) for f in fills] == \
        [("0.4500", "2.00", True), ("0.4300", "3.00", True)]        # newest first
    assert engine.orderbook(A)["orderbook_fp"]["no_dollars"] == [["0.5500", "5.00"]]
    assert engine.get_order("u1", result["order_id"])["status"] == "executed"


def test_ioc_remainder_is_canceled_and_partial_fills_kept() -> None:
    engine = make_engine()
    result = engine.create_order("u1", ioc(count="12", price="0.45"))
    assert (result["fill_count"], result["remaining_count"]) == ("10.00", "0.00")
    placed = engine.get_order("u1", result["order_id"])
    assert (placed["status"], placed["fill_count_fp"], placed["remaining_count_fp"]) == \
        ("canceled", "10.00", "0.00")
    assert engine.get_market(A)["yes_ask_dollars"] == "0.0000"      # no asks left


def test_fok_that_cannot_fill_whole_is_409_and_changes_nothing() -> None:
    engine = make_engine()
    before = engine.state_snapshot()
    error = rejection(engine.create_order, "u1", order(count="11", price="0.45", tif="fill_or_kill"))
    assert (error.status, error.code) == (409, "fill_or_kill_insufficient_resting_volume")
    assert engine.state_snapshot() == before


def test_fok_fills_whole_when_resting_volume_suffices() -> None:
    engine = make_engine()
    result = engine.create_order("u1", order(count="10", price="0.45", tif="fill_or_kill"))
    assert (result["fill_count"], result["remaining_count"]) == ("10.00", "0.00")


# ----------------------------------------------------------------------------- resting orders
def test_gtc_rests_and_reserves_its_cost_plus_a_fee_bound() -> None:
    engine = make_engine()
    result = engine.create_order("u1", order(count="10", price="0.42"))
    assert (result["fill_count"], result["remaining_count"]) == ("0.00", "10.00")
    assert "average_fill_price" not in result
    # reserve 10 x (0.42 + 0.07 x 0.42 x 0.58) = 4.37052, held as 4.38 (whole cents)
    assert engine.balance("u1")["balance_dollars"] == "995.6200"
    assert engine.balance("u1")["balance"] == 99562
    assert engine.get_market(A)["yes_bid_dollars"] == "0.4200"
    engine.cancel_order("u1", result["order_id"])
    assert engine.balance("u1")["balance_dollars"] == "1000.0000"


def test_resting_bid_fills_as_maker_when_a_later_snapshot_crosses_it() -> None:
    clock = Clock()
    crossing = book(yes=(("0.40", "10"),), no=(("0.60", "4"), ("0.55", "7")))    # YES ask 0.40 x4
    engine = make_engine([MarketUpdate(NOW + timedelta(seconds=10), A, book=crossing)], clock)
    placed = engine.create_order("u1", order(count="10", price="0.42"))
    clock.tick(10)
    engine.advance()
    fills = engine.list_fills("u1")
    assert [(f["yes_price_dollars"], f["count_fp"], f["is_taker"], f["fee_cost"]) for f in fills] == \
        [("0.4200", "4.00", False, "0.0000")]      # at the user's limit; quadratic: makers pay 0
    current = engine.get_order("u1", placed["order_id"])
    assert (current["status"], current["remaining_count_fp"], current["maker_fill_cost_dollars"]) == \
        ("resting", "6.00", "1.6800")
    # cash 1000 - 1.68 = 998.32; still reserved 6 x 0.437052 = 2.622312, held as 2.63 -> 995.69
    assert engine.balance("u1")["balance_dollars"] == "995.6900"


def test_print_behind_displayed_size_fills_only_after_queue_ahead() -> None:
    clock = Clock()
    prints = [MarketUpdate(NOW + timedelta(seconds=s), A, trade=TradePrint(D("0.41"), D(c), "no"))
              for s, c in ((10, "4"), (20, "3"))]
    engine = make_engine(prints, clock)
    placed = engine.create_order("u1", order(count="3", price="0.41"))
    assert engine.queue_position("u1", placed["order_id"]) == {"queue_position_fp": "5.00"}
    clock.tick(10)
    engine.advance()
    assert engine.list_fills("u1") == []                       # 4 of the 5 ahead traded
    assert engine.queue_position("u1", placed["order_id"]) == {"queue_position_fp": "1.00"}
    clock.tick(10)
    engine.advance()
    assert [f["count_fp"] for f in engine.list_fills("u1")] == ["2.00"]   # 1 ahead, then 2 to us


def test_snapshot_showing_less_size_moves_the_user_up_the_queue() -> None:
    clock = Clock()
    thinner = book(yes=(("0.40", "10"), ("0.41", "2")))
    engine = make_engine([MarketUpdate(NOW + timedelta(seconds=5), A, book=thinner),
                          MarketUpdate(NOW + timedelta(seconds=6), A,
                                       trade=TradePrint(D("0.41"), D("3"), "no"))], clock)
    placed = engine.create_order("u1", order(count="3", price="0.41"))
    clock.tick(5)
    engine.advance()
    assert engine.queue_position("u1", placed["order_id"])["queue_position_fp"] == "2.00"
    clock.tick(1)
    engine.advance()
    assert [f["count_fp"] for f in engine.list_fills("u1")] == ["1.00"]


def test_gtc_with_expiration_is_canceled_on_advance_after_it_passes() -> None:
    clock = Clock()
    engine = make_engine(clock=clock)
    expiry = int(NOW.timestamp()) + 60
    placed = engine.create_order("u1", order(count="10", price="0.42", expiration_time=expiry))
    clock.tick(59)
    engine.advance()
    assert engine.get_order("u1", placed["order_id"])["status"] == "resting"
    clock.tick(1)
    engine.advance()
    expired = engine.get_order("u1", placed["order_id"])
    assert (expired["status"], expired["remaining_count_fp"]) == ("canceled", "0.00")
    assert engine.balance("u1")["balance_dollars"] == "1000.0000"
    assert engine.get_market(A)["yes_bid_dollars"] == "0.4100"


@pytest.mark.parametrize("tif, offset", [("good_till_canceled", -1), ("good_till_canceled", 0),
                                         ("immediate_or_cancel", 60), ("fill_or_kill", 60)])
def test_bad_expiration_is_invalid_order(tif: str, offset: int) -> None:
    engine = make_engine()
    error = rejection(engine.create_order, "u1",
                      order(tif=tif, price="0.42", expiration_time=int(NOW.timestamp()) + offset))
    assert (error.status, error.code) == (400, "invalid_order")


def test_post_only_that_would_cross_is_rejected() -> None:
    engine = make_engine()
    error = rejection(engine.create_order, "u1", order(price="0.43", post_only=True))
    assert (error.status, error.code, error.details) == (400, "invalid_order", "post only cross")
    rested = engine.create_order("u1", order(price="0.42", post_only=True))
    assert rested["remaining_count"] == "5.00"


def test_reduce_only_without_a_position_is_rejected() -> None:
    engine = make_engine()
    error = rejection(engine.create_order, "u1", ioc(side="ask", price="0.40", reduce_only=True))
    assert (error.status, error.code) == (400, "invalid_order")


def test_reduce_only_is_capped_at_the_position() -> None:
    engine = make_engine()
    engine.create_order("u1", ioc(count="5", price="0.45"))              # long 5 YES
    result = engine.create_order("u1", ioc(side="ask", count="8", price="0.40", reduce_only=True))
    assert result["fill_count"] == "5.00"
    assert engine.positions("u1")[0][0]["position_fp"] == "0.00"


# ----------------------------------------------------------------------------- self-trade prevention
def test_stp_taker_at_cross_cancels_the_incoming_remainder_and_keeps_partial_fills() -> None:
    engine = make_engine()
    own = engine.create_order("u1", order(side="ask", count="5", price="0.44"))
    result = engine.create_order("u1", ioc(count="10", price="0.45"))
    assert (result["fill_count"], result["remaining_count"]) == ("3.00", "0.00")   # 3 @ 0.43 only
    assert engine.get_order("u1", own["order_id"])["status"] == "resting"


def test_stp_maker_cancels_the_resting_order_and_keeps_matching() -> None:
    engine = make_engine()
    own = engine.create_order("u1", order(side="ask", count="5", price="0.44"))
    result = engine.create_order("u1", ioc(count="10", price="0.45", self_trade_prevention_type="maker"))
    assert result["fill_count"] == "10.00"                                   # 3 @ 0.43, 7 @ 0.45
    assert engine.get_order("u1", own["order_id"])["status"] == "canceled"


def test_fok_meeting_its_own_order_behaves_like_ioc() -> None:
    engine = make_engine()
    engine.create_order("u1", order(side="ask", count="5", price="0.44"))
    result = engine.create_order("u1", order(count="10", price="0.45", tif="fill_or_kill"))
    assert (result["fill_count"], result["remaining_count"]) == ("3.00", "0.00")


def test_orders_of_different_users_match_each_other() -> None:
    engine = make_engine()
    maker = engine.create_order("maker", order(side="ask", count="5", price="0.42"))
    engine.create_order("taker", ioc(count="5", price="0.42"))
    assert [(f["is_taker"], f["yes_price_dollars"]) for f in engine.list_fills("taker")] == [(True, "0.4200")]
    assert [(f["is_taker"], f["outcome_side"]) for f in engine.list_fills("maker")] == [(False, "no")]
    assert engine.get_order("maker", maker["order_id"])["status"] == "executed"
    assert engine.positions("maker")[0][0]["position_fp"] == "-5.00"
    assert engine.list_trades(A)[0]["taker_book_side"] == "bid"


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("ticker, price, count, status, code", [
    (A, "0.425", "1", 400, "invalid_order"),            # off the cent grid
    (A, "0", "1", 400, "invalid_order"),
    (A, "1.00", "1", 400, "invalid_order"),
    (A, "0.42", "0", 400, "invalid_order_size"),
    (A, "0.42", "-1", 400, "invalid_order_size"),
    (A, "0.42", "1.234", 400, "invalid_order_size"),
    (A, "abc", "1", 400, "invalid_parameters"),
    (A, 0.42, "1", 400, "invalid_parameters"),           # a JSON float, not a string
    (SUB, "0.155", "1", 400, "invalid_order"),            # 0.1-0.9 band steps by 0.01
    (SUB, "0.0555", "1", 400, "invalid_order"),           # finer than the 0.001 band
    ("KXT-NOPE", "0.42", "1", 404, "not_found"),
    ("KXT-E-SHUT", "0.42", "1", 409, "market_closed"),
])
def test_invalid_orders_are_rejected_and_change_nothing(ticker, price, count, status, code) -> None:
    engine = make_engine()
    before = engine.state_snapshot()
    error = rejection(engine.create_order, "u1", order(ticker=ticker, price=price, count=count))
    assert (error.status, error.code) == (status, code)
    assert engine.state_snapshot() == before


def test_sub_penny_grid_accepts_prices_on_its_fine_bands() -> None:
    engine = make_engine()
    assert engine.create_order("u1", order(ticker=SUB, price="0.055", count="1"))["remaining_count"] == "1.00"
    assert engine.orderbook(SUB)["orderbook_fp"]["yes_dollars"][-1] == ["0.0550", "1.00"]


@pytest.mark.parametrize("field, value", [("side", "buy"), ("time_in_force", "gtt"), ("ticker", ""),
                                          ("self_trade_prevention_type", None), ("post_only", "yes")])
def test_malformed_fields_are_invalid_parameters(field: str, value: object) -> None:
    engine = make_engine()
    body = order()
    body[field] = value
    assert rejection(engine.create_order, "u1", body).code == "invalid_parameters"


def test_insufficient_balance_is_rejected_and_changes_nothing() -> None:
    engine = make_engine()
    before = engine.state_snapshot()
    error = rejection(engine.create_order, "u1", order(count="2000", price="0.50"))
    assert (error.status, error.code) == (400, "insufficient_balance")
    assert engine.state_snapshot() == before


def test_market_past_close_time_rejects_order_writes() -> None:
    clock = Clock()
    engine = make_engine(clock=clock, close_in=timedelta(minutes=1))
    placed = engine.create_order("u1", order(price="0.42"))
    clock.tick(60)
    error = rejection(engine.create_order, "u1", order(price="0.42"))
    assert (error.status, error.code, error.details) == (409, "market_closed", "MARKET_INACTIVE")
    assert engine.get_order("u1", placed["order_id"])["status"] == "canceled"
    assert engine.get_market(A)["status"] == "closed"
    assert rejection(engine.cancel_order, "u1", placed["order_id"]).code == "market_closed"


# ----------------------------------------------------------------------------- idempotency
def test_duplicate_client_order_id_is_409_and_changes_nothing() -> None:
    engine = make_engine()
    first = engine.create_order("u1", order(price="0.42", client_order_id="abc"))
    before = engine.state_snapshot()
    error = rejection(engine.create_order, "u1", ioc(client_order_id="abc"))
    assert (error.status, error.code) == (409, "order_already_exists")
    assert engine.state_snapshot() == before
    assert engine.create_order("u2", order(price="0.42", client_order_id="abc"))["order_id"] != first["order_id"]


def test_list_orders_lets_a_client_find_its_order_by_client_order_id() -> None:
    engine = make_engine()
    for n in range(3):
        engine.create_order("u1", order(price="0.3" + str(n), client_order_id=f"c{n}"))
    found = [o for o in engine.list_orders("u1", ticker=A) if o["client_order_id"] == "c1"]
    assert [o["yes_price_dollars"] for o in found] == ["0.3100"]
    assert [o["client_order_id"] for o in engine.list_orders("u1")] == ["c2", "c1", "c0"]   # newest first


# ----------------------------------------------------------------------------- amend, decrease, cancel
def test_amend_count_is_the_new_total_and_may_cross_and_fill() -> None:
    engine = make_engine()
    placed = engine.create_order("u1", order(count="10", price="0.40"))
    moved = engine.amend_order("u1", placed["order_id"], {"ticker": A, "side": "bid", "price": "0.43", "count": "12"})
    assert (moved["fill_count"], moved["remaining_count"], moved["average_fill_price"]) == ("3.00", "9.00", "0.4300")
    current = engine.get_order("u1", placed["order_id"])
    assert (current["initial_count_fp"], current["fill_count_fp"], current["yes_price_dollars"]) == \
        ("12.00", "3.00", "0.4300")


def test_amend_down_keeps_the_queue_place_and_amend_up_loses_it() -> None:
    engine = make_engine()
    mine = engine.create_order("u1", order(count="3", price="0.41"))["order_id"]
    theirs = engine.create_order("u2", order(count="4", price="0.41"))["order_id"]
    engine.amend_order("u1", mine, {"ticker": A, "side": "bid", "price": "0.41", "count": "2"})
    assert engine.queue_position("u2", theirs)["queue_position_fp"] == "7.00"     # crowd 5 + my 2
    engine.amend_order("u1", mine, {"ticker": A, "side": "bid", "price": "0.41", "count": "6"})
    assert engine.queue_position("u1", mine)["queue_position_fp"] == "9.00"       # crowd 5 + their 4


@pytest.mark.parametrize("body, code", [
    ({"ticker": "KXT-E-SUB", "side": "bid", "price": "0.40", "count": "5"}, "order_ticker_mismatch"),
    ({"ticker": A, "side": "ask", "price": "0.40", "count": "5"}, "order_side_mismatch"),
])
def test_amend_must_keep_ticker_and_side(body: dict, code: str) -> None:
    engine = make_engine()
    placed = engine.create_order("u1", order(count="10", price="0.40"))
    error = rejection(engine.amend_order, "u1", placed["order_id"], body)
    assert (error.status, error.code) == (400, code)


def test_decrease_by_and_to_and_exactly_one_of_them() -> None:
    engine = make_engine()
    placed = engine.create_order("u1", order(count="10", price="0.40"))
    oid = placed["order_id"]
    assert engine.decrease_order("u1", oid, {"reduce_by": "3"})["remaining_count"] == "7.00"
    assert engine.decrease_order("u1", oid, {"reduce_to": "2"})["remaining_count"] == "2.00"
    for body in ({}, {"reduce_by": "1", "reduce_to": "1"}):
        assert rejection(engine.decrease_order, "u1", oid, body).code == "invalid_parameters"
    assert engine.decrease_order("u1", oid, {"reduce_to": "0"})["remaining_count"] == "0.00"
    assert engine.get_order("u1", oid)["status"] == "canceled"


def test_cancel_reports_reduced_by_and_cannot_cancel_twice() -> None:
    engine = make_engine()
    placed = engine.create_order("u1", order(count="10", price="0.40"))
    assert engine.cancel_order("u1", placed["order_id"])["reduced_by"] == "10.00"
    assert rejection(engine.cancel_order, "u1", placed["order_id"]).code == "order_not_resting"
    assert rejection(engine.cancel_order, "u2", placed["order_id"]).status == 404


def test_batch_create_gives_each_item_its_own_result_or_error() -> None:
    engine = make_engine()
    result = engine.batch_create("u1", {"orders": [order(price="0.40", client_order_id="ok"),
                                                   order(price="0.405", client_order_id="bad")]})
    good, bad = result["orders"]
    assert good["remaining_count"] == "5.00" and "error" not in good
    assert (bad["client_order_id"], bad["error"]["code"]) == ("bad", "invalid_order")
    cancels = engine.batch_cancel("u1", {"orders": [{"order_id": good["order_id"]}, {"order_id": "nope"}]})
    assert cancels["orders"][0]["reduced_by"] == "5.00"
    assert cancels["orders"][1]["error"]["code"] == "not_found"
