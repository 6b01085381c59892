"""A trader's "buy NO at 0.37" becomes the V2 order Kalshi expects: an ask at 0.63 on the YES book."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kalshi_trading.errors import UserInputError
from kalshi_trading.order_request import Action, BookSide, OrderIntent, OutcomeSide, TimeInForce


@pytest.mark.parametrize("action, outcome, price, side, yes_price, delta", [
    (Action.BUY, OutcomeSide.YES, "0.42", BookSide.BID, "0.4200", "5"),
    (Action.SELL, OutcomeSide.YES, "0.42", BookSide.ASK, "0.4200", "-5"),
    (Action.BUY, OutcomeSide.NO, "0.37", BookSide.ASK, "0.6300", "-5"),
    (Action.SELL, OutcomeSide.NO, "0.37", BookSide.BID, "0.6300", "5"),
])
def test_intent_maps_to_the_yes_book(action: Action, outcome: OutcomeSide, price: str,
                                     side: BookSide, yes_price: str, delta: str) -> None:
    intent = OrderIntent("KXTEST-1", action, outcome, D("5"), D(price))
    body = intent.to_v2("cid-1").to_api()
    assert body["side"] == side.value
    assert body["price"] == yes_price
    assert body["count"] == "5.00"
    assert body["client_order_id"] == "cid-1"
    assert intent.signed_yes_delta == D(delta)


def test_v2_body_has_no_legacy_fields() -> None:
    body = OrderIntent("T", Action.BUY, OutcomeSide.YES, D("1"), D("0.5")).to_v2("c").to_api()
    for legacy in ("action", "yes_price", "no_price", "type", "buy_max_cost", "count_fp"):
        assert legacy not in body
    assert body["time_in_force"] == "good_till_canceled"
    assert "expiration_time" not in body


@pytest.mark.parametrize("text, tif", [("gtc", TimeInForce.GTC), ("IOC", TimeInForce.IOC),
                                       ("fill_or_kill", TimeInForce.FOK)])
def test_time_in_force_accepts_short_and_long_names(text: str, tif: TimeInForce) -> None:
    assert TimeInForce.parse(text) is tif


def test_unknown_time_in_force_is_a_user_error() -> None:
    with pytest.raises(UserInputError):
        TimeInForce.parse("day")
