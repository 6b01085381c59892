"""The paper exchange's YES book in integer units: walking levels, queue-ahead, crowd crosses, STP."""

from __future__ import annotations

import pytest

from kalshi_trading.paper.matching import Execution, OrderBook, benchmark_matching

# prices in centicents (1/10,000 $), counts in centi-contracts (1/100 contract)


def crowd_book() -> OrderBook:
    """YES bids 0.40 x10, 0.41 x5; YES asks 0.43 x3, 0.45 x7 (NO bids 0.57 x3, 0.55 x7)."""
    book = OrderBook()
    book.set_crowd([(4000, 1000), (4100, 500)], [(4300, 300), (4500, 700)])
    return book


def test_taker_walks_levels_best_first_with_partial_fill_at_last_level() -> None:
    book = crowd_book()
    result = book.match("u1", True, 4500, 500)
    assert result.executions == [Execution(None, None, 4300, 300), Execution(None, None, 4500, 200)]
    assert (result.filled_ct, result.remaining_ct) == (500, 0)
    assert book.best_ask() == (4500, 500)


def test_taker_stops_at_its_limit_price() -> None:
    book = crowd_book()
    result = book.match("u1", False, 4050, 2000)   # sell YES down to 0.405: only the 0.41 level
    assert result.executions == [Execution(None, None, 4100, 500)]
    assert result.remaining_ct == 1500
    assert book.best_bid() == (4000, 1000)


def test_resting_order_queues_behind_displayed_crowd() -> None:
    book = crowd_book()
    book.add("mine", "u1", True, 4100, 300)
    assert book.queue_position("mine") == 500
    result = book.match("u2", False, 4100, 600)      # a seller takes the crowd's 5, then 1 of mine
    assert result.executions == [Execution(None, None, 4100, 500), Execution("mine", "u1", 4100, 100)]
    assert book.orders["mine"].remaining_ct == 200
    assert book.queue_position("mine") == 0


def test_crowd_that_arrives_later_queues_behind_the_user() -> None:
    book = crowd_book()
    book.add("mine", "u1", True, 4100, 300)
    book.set_crowd([(4000, 1000), (4100, 900)], [(4300, 300)])   # crowd grew to 9 at 0.41
    assert book.queue_position("mine") == 500
    result = book.match("u2", False, 4100, 800)
    assert [e.maker_order_id for e in result.executions] == [None, "mine"]
    assert result.executions[1].count_ct == 300


def test_snapshot_with_less_size_shrinks_queue_ahead() -> None:
    book = crowd_book()
    book.add("mine", "u1", True, 4100, 300)
    book.set_crowd([(4100, 200)], [(4500, 100)])
    assert book.queue_position("mine") == 200


def test_snapshot_crossing_a_resting_bid_fills_it_at_its_limit() -> None:
    book = crowd_book()
    book.add("mine", "u1", True, 4200, 1000)
    fills = book.set_crowd([(4000, 1000)], [(4000, 0), (4100, 400), (4600, 500)])  # ask at 0.41 x4
    assert [(f.order_id, f.price_cc, f.count_ct, f.from_print) for f in fills] == [("mine", 4200, 400, False)]
    assert book.orders["mine"].remaining_ct == 600
    assert book.best_ask() == (4600, 500)      # the crossing crowd was used up by the fill


def test_print_at_the_user_price_eats_queue_ahead_first() -> None:
    book = crowd_book()
    book.add("mine", "u1", True, 4100, 300)
    assert book.apply_print(4100, 400, taker_is_bid=False) == []
    assert book.queue_position("mine") == 100
    fills = book.apply_print(4100, 300, taker_is_bid=False)
    assert [(f.order_id, f.count_ct) for f in fills] == [("mine", 200)]


def test_print_through_a_better_user_price_fills_the_user() -> None:
    book = crowd_book()
    book.add("mine", "u1", True, 4200, 300)
    fills = book.apply_print(4000, 1000, taker_is_bid=False)
    assert [(f.order_id, f.price_cc, f.count_ct) for f in fills] == [("mine", 4200, 300)]


def test_buying_print_does_not_fill_resting_bids() -> None:
    book = crowd_book()
    book.add("mine", "u1", True, 4200, 300)
    assert book.apply_print(4300, 300, taker_is_bid=True) == []


@pytest.mark.parametrize("stp_maker, filled, own_left", [(False, 300, True), (True, 1000, False)])
def test_self_trade_prevention(stp_maker: bool, filled: int, own_left: bool) -> None:
    book = crowd_book()
    book.add("own", "u1", False, 4400, 500)
    result = book.match("u1", True, 4500, 1000, stp_maker=stp_maker)
    assert result.filled_ct == filled
    assert result.stp_stopped is (not stp_maker)
    assert ("own" in book.orders) is own_left
    assert [o.order_id for o in result.stp_canceled] == ([] if own_left else ["own"])


def test_fillable_counts_without_changing_the_book() -> None:
    book = crowd_book()
    before = (book.depth(True), book.depth(False))
    assert book.fillable("u1", True, 4500, 2000, False) == (1000, False)
    assert book.fillable("u1", True, 4300, 200, False) == (200, False)
    assert (book.depth(True), book.depth(False)) == before


def test_fillable_reports_meeting_own_order() -> None:
    book = crowd_book()
    book.add("own", "u1", False, 4400, 500)
    assert book.fillable("u1", True, 4500, 1000, False) == (300, True)
    assert book.fillable("u2", True, 4500, 1000, False) == (1000, False)


def test_post_only_cross_check() -> None:
    book = crowd_book()
    assert book.would_cross(True, 4300) and not book.would_cross(True, 4200)
    assert book.would_cross(False, 4100) and not book.would_cross(False, 4200)


def test_remove_and_reduce_keep_levels_consistent() -> None:
    book = OrderBook()
    book.add("a", "u1", True, 3000, 500)
    book.reduce("a", 200)
    assert book.best_bid() == (3000, 200)
    assert book.remove("a") == 200
    assert book.best_bid() is None and book.depth(True) == []


def test_benchmark_runs_and_reports_orders_per_second() -> None:
    assert benchmark_matching(2_000) > 0
