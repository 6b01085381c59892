"""The order book as a trader reads it: implied asks, spread, and the cost of trading N now."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kalshi_trading.errors import ResponseFormatError
from kalshi_trading.models import Orderbook
from kalshi_trading.order_request import OutcomeSide

BOOK = Orderbook.from_api({"orderbook_fp": {
    "yes_dollars": [["0.4100", "10.00"], ["0.4200", "13.00"]],
    "no_dollars": [["0.4500", "20.00"], ["0.5600", "17.00"]],
}}, "KXTEST")


def test_best_prices_and_spread_come_from_the_two_bid_ladders() -> None:
    assert BOOK.best_yes_bid == D("0.42")
    assert BOOK.best_yes_ask == D("0.44")  # 1 - best NO bid 0.56
    assert BOOK.spread == D("0.02")
    assert [lvl.price for lvl in BOOK.yes_asks] == [D("0.44"), D("0.55")]
    assert [lvl.price for lvl in BOOK.no_asks] == [D("0.58"), D("0.59")]


@pytest.mark.parametrize("outcome, buying, count, filled, value", [
    (OutcomeSide.YES, True, "20", "20", "9.13"),    # 17 @ 0.44 + 3 @ 0.55
    (OutcomeSide.YES, False, "15", "15", "6.28"),   # 13 @ 0.42 + 2 @ 0.41
    (OutcomeSide.NO, True, "13", "13", "7.54"),     # NO asks: 13 @ 0.58
    (OutcomeSide.NO, False, "50", "37", "18.52"),   # NO bids: 17 @ 0.56 + 20 @ 0.45, book runs out
])
def test_cost_to_trade_walks_levels_in_the_outcomes_own_prices(
        outcome: OutcomeSide, buying: bool, count: str, filled: str, value: str) -> None:
    walk = BOOK.walk(outcome, buying, D(count))
    assert (walk.count, walk.cost) == (D(filled), D(value))
    assert walk.average_price == D(value) / D(filled)


@pytest.mark.parametrize("raw", [
    {"orderbook": {"yes": [[41, 10], [42, 13]], "no": [[56, 17]]}},                      # legacy cents
    {"orderbook": {"yes": [[41, 10], [42, 13]], "no": [[56, 17]],
                   "yes_dollars": [["0.4100", 10], ["0.4200", 13]], "no_dollars": [["0.5600", 17]]}},
    {"orderbook_fp": {"yes_dollars": [["0.4200", "13.00"], ["0.4100", "10.00"]],
                      "no_dollars": [["0.5600", "17.00"]]}},                              # unsorted
])
def test_every_wire_era_reads_to_the_same_book(raw: dict) -> None:
    book = Orderbook.from_api(raw)
    assert book.best_yes_bid == D("0.42") and book.best_yes_ask == D("0.44")
    assert sum(lvl.count for lvl in book.yes_bids) == D("23")


def test_null_sides_are_an_empty_book() -> None:
    book = Orderbook.from_api({"orderbook": {"yes": None, "no": None, "yes_dollars": None,
                                             "no_dollars": None}})
    assert book.best_yes_bid is None and book.spread is None


def test_a_response_without_a_book_names_the_missing_field() -> None:
    with pytest.raises(ResponseFormatError, match="orderbook_fp"):
        Orderbook.from_api({"something": 1})
