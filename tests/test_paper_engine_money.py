"""PaperEngine money: Kalshi's fees and fee rounding, NO costs, netting, settlement, conservation.

Worked numbers use the default book of tests/engine_fixtures.py (YES bids 0.40 x10, 0.41 x5; YES asks
0.43 x3, 0.45 x7) and a start balance of $1,000.00.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal as D

import pytest
from engine_fixtures import NOW, SUB, A, Clock, ioc, make_engine, make_universe, order

from kalshi_trading.errors import ExchangeRejection
from kalshi_trading.paper.engine import PaperEngine
from kalshi_trading.paper.store import Store
from kalshi_trading.paper.universe import BookSnapshot, MarketUpdate, TradePrint, synthetic_series


def engine_with(fee_type: str, multiplier: object = 1, override: object = None) -> PaperEngine:
    universe = make_universe()
    universe.series["KXT"] = synthetic_series("KXT", fee_type=fee_type, fee_multiplier=multiplier)
    if override is not None:
        universe.events["KXT-E"]["fee_multiplier_override"] = override
    return PaperEngine(universe, Store(":memory:"), clock=Clock())


# ----------------------------------------------------------------------------- fees
@pytest.mark.parametrize("fee_type, multiplier, override, maker_fee, taker_fee", [
    # 4 contracts at 0.42: C x P x (1-P) = 0.9744. Maker buys YES (revenue -1.68), taker buys NO (-2.32).
    ("quadratic", 1, None, "0.0000", "0.0700"),                       # taker 0.068208 -> 0.0683 -> 0.07
    ("quadratic_with_maker_fees", 1, None, "0.0200", "0.0700"),       # maker 0.017052 -> 0.0171 -> 0.02
    ("quadratic_with_combo_maker_fees", 1, None, "0.0400", "0.0700"),  # maker 0.034104 -> 0.0342 -> 0.04
    ("quadratic", "0.5", None, "0.0000", "0.0400"),                   # taker 0.034104 -> 0.0342 -> 0.04
    ("quadratic_with_maker_fees", 1, 2, "0.0400", "0.1400"),          # the event's override wins
])
def test_maker_and_taker_fees_per_fee_type_and_multiplier(fee_type, multiplier, override, maker_fee,
                                                          taker_fee) -> None:
    engine = engine_with(fee_type, multiplier, override)
    engine.create_order("maker", order(count="4", price="0.42"))
    engine.create_order("taker", ioc(side="ask", count="4", price="0.42"))
    assert [f["fee_cost"] for f in engine.list_fills("maker")] == [maker_fee]
    assert [f["fee_cost"] for f in engine.list_fills("taker")] == [taker_fee]
    assert D(engine.balance("maker")["balance_dollars"]) == D("1000") - D("1.68") - D(maker_fee)
    assert D(engine.balance("taker")["balance_dollars"]) == D("1000") - D("2.32") - D(taker_fee)


def test_fee_rounding_accumulator_rebates_a_cent_across_an_orders_fills() -> None:
    engine = make_engine()
    result = engine.create_order("u1", ioc(count="5", price="0.45"))
    # fill 1: 3 @ 0.43, fee 0.051471 -> 0.0515; -1.3415 floors to -1.35: rounding 0.0085 -> fee_cost 0.06
    # fill 2: 2 @ 0.45, fee 0.03465 -> 0.0347; -0.9347 floors to -0.94: rounding 0.0053, accumulator
    #         0.0138 passes a cent -> rebate 0.01 -> fee_cost 0.03
    assert [f["fee_cost"] for f in reversed(engine.list_fills("u1"))] == ["0.0600", "0.0300"]
    assert result["average_fee_paid"] == "0.0180"
    placed = engine.get_order("u1", result["order_id"])
    assert (placed["taker_fees_dollars"], placed["taker_fill_cost_dollars"]) == ("0.0900", "2.1900")
    assert engine.balance("u1")["balance_dollars"] == "997.7200"        # 1000 - 2.19 - 0.09
    assert engine.positions("u1")[0][0]["fees_paid_dollars"] == "0.0900"


def test_buying_no_at_q_costs_q_per_contract() -> None:
    engine = make_engine()
    engine.create_order("u1", ioc(side="ask", count="5", price="0.41"))      # buy NO at 0.59
    (fill,) = engine.list_fills("u1")
    assert (fill["outcome_side"], fill["no_price_dollars"], fill["fee_cost"]) == ("no", "0.5900", "0.0900")
    position = engine.positions("u1")[0][0]
    assert (position["position_fp"], position["market_exposure_dollars"]) == ("-5.00", "2.9500")
    assert engine.balance("u1")["balance_dollars"] == "996.9600"        # 1000 - 2.95 - 0.09


def test_buying_no_while_long_yes_nets_the_position_down() -> None:
    engine = make_engine()
    engine.create_order("u1", ioc(count="5", price="0.45"))                 # long 5 YES for 2.19
    engine.create_order("u1", ioc(side="ask", count="5", price="0.40"))     # sells them at 0.41
    position = engine.positions("u1")[0][0]
    assert position["position_fp"] == "0.00"
    assert position["realized_pnl_dollars"] == "-0.1400"                   # 2.05 - 2.19
    assert position["market_exposure_dollars"] == "0.0000"
    assert position["fees_paid_dollars"] == "0.1800"
    assert engine.balance("u1")["balance_dollars"] == "999.6800"        # 997.72 + 2.05 - 0.09


def test_closing_part_of_an_order_needs_no_collateral() -> None:
    engine = PaperEngine(make_universe(), Store(":memory:"), clock=Clock(), starting_balance=D("3.00"))
    engine.create_order("u1", ioc(count="5", price="0.45"))                 # cash left 0.72
    rested = engine.create_order("u1", order(side="ask", count="5", price="0.60"))   # sells what it holds
    assert rested["remaining_count"] == "5.00"
    error = pytest.raises(ExchangeRejection, engine.create_order, "u1",
                          order(side="ask", count="6", price="0.60", client_order_id="more")).value
    assert error.code == "insufficient_balance"                            # the 6th would open NO


# ----------------------------------------------------------------------------- settlement
@pytest.mark.parametrize("side, price, result, value, revenue, cents", [
    ("bid", "0.45", "yes", None, 500, 100),
    ("bid", "0.45", "no", None, 0, 0),
    ("ask", "0.41", "no", None, 500, 0),
    ("ask", "0.41", "scalar", D("0.3"), 350, 30),      # NO gets 1 - 0.3 per contract
    ("bid", "0.45", "scalar", D("0.3"), 150, 30),
])
def test_settlement_pays_winners_and_writes_the_record(side, price, result, value, revenue, cents) -> None:
    engine = make_engine()
    engine.create_order("u1", ioc(side=side, count="5", price=price))
    cash_before = D(engine.balance("u1")["balance_dollars"])
    resting = engine.create_order("u1", order(count="3", price="0.40"))
    engine.settle_market(A, result, value)
    (record,) = engine.list_settlements("u1")
    yes = side == "bid"
    assert (record["market_result"], record["revenue"], record["value"]) == (result, revenue, cents)
    assert (record["yes_count_fp"], record["no_count_fp"]) == (("5.00", "0.00") if yes else ("0.00", "5.00"))
    assert record["yes_total_cost_dollars" if yes else "no_total_cost_dollars"] == ("2.1900" if yes else "2.9500")
    assert record["fee_cost"] == "0.0900"
    assert D(engine.balance("u1")["balance_dollars"]) == cash_before + D(revenue) / 100
    assert engine.positions("u1") == ([], [])
    assert engine.get_order("u1", resting["order_id"])["status"] == "canceled"
    market = engine.get_market(A)
    assert (market["status"], market["result"]) == ("finalized", result)


def test_settling_twice_changes_nothing() -> None:
    engine = make_engine()
    engine.create_order("u1", ioc(count="5", price="0.45"))
    assert engine.settle_market(A, "yes")["settled"] is True
    before = engine.state_snapshot()
    assert engine.settle_market(A, "no")["settled"] is False
    assert engine.state_snapshot() == before
    assert pytest.raises(ExchangeRejection, engine.create_order, "u1", order()).value.code == "market_closed"


def test_timeline_result_settles_the_market() -> None:
    clock = Clock()
    engine = make_engine([MarketUpdate(NOW + timedelta(seconds=30), A, status="determined", result="yes")], clock)
    engine.create_order("u1", ioc(count="5", price="0.45"))
    clock.tick(30)
    engine.advance()
    assert [s["revenue"] for s in engine.list_settlements("u1")] == [500]
    assert engine.get_market(A)["status"] == "finalized"


# ----------------------------------------------------------------------------- conservation
def _random_timeline(rng: random.Random, tickers: list[str]) -> list[MarketUpdate]:
    updates = []
    for step in range(1, 60):
        ticker = rng.choice(tickers)
        at = NOW + timedelta(seconds=step * 10)
        mid = rng.randint(20, 80)
        if rng.random() < 0.5:
            snap = BookSnapshot(tuple((D(mid - k) / 100, D(rng.randint(1, 20))) for k in (3, 2, 1)),
                                tuple((D(100 - mid - k) / 100, D(rng.randint(1, 20))) for k in (3, 2, 1)))
            updates.append(MarketUpdate(at, ticker, book=snap))
        else:
            updates.append(MarketUpdate(at, ticker, trade=TradePrint(D(mid) / 100, D(rng.randint(1, 9)),
                                                                     rng.choice(["yes", "no"]))))
    return updates


def _cash_effect(fill: dict, position: dict[str, D]) -> D:
    """What a fill does to cash before fees, recomputed independently with netting."""
    price, count = D(fill["yes_price_dollars"]), D(fill["count_fp"])
    held = position.get(fill["ticker"], D(0))
    if fill["book_side"] == "bid":
        closing = min(count, max(-held, D(0)))
        position[fill["ticker"]] = held + count
        return closing * (1 - price) - (count - closing) * price
    closing = min(count, max(held, D(0)))
    position[fill["ticker"]] = held - count
    return closing * price - (count - closing) * (1 - price)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_money_is_conserved_through_random_flow_and_settlement(seed: int) -> None:
    rng = random.Random(seed)
    clock = Clock()
    universe = make_universe()
    universe.series["KXT"] = synthetic_series("KXT", fee_type="quadratic_with_maker_fees")
    tickers = [A, "KXT-E-SUB"]
    universe.timeline = _random_timeline(rng, tickers)
    engine = PaperEngine(universe, Store(":memory:"), clock=clock)
    users = ["u1", "u2", "u3"]
    for _ in range(300):
        clock.tick(2)
        body = order(side=rng.choice(["bid", "ask"]), count=str(rng.randint(1, 15)),
                     price=f"0.{rng.randint(15, 85)}", ticker=rng.choice(tickers),
                     tif=rng.choice(["good_till_canceled", "immediate_or_cancel"]))
        if rng.random() < 0.2:
            body["self_trade_prevention_type"] = "maker"
        try:
            engine.create_order(rng.choice(users), body)
        except ExchangeRejection as exc:
            assert exc.code in ("insufficient_balance", "invalid_order")
    for ticker, result in zip(tickers, ["yes", "no"]):
        engine.settle_market(ticker, result)
    for user in users:
        positions: dict[str, D] = {}
        fills = list(reversed(engine.list_fills(user)))
        trading = sum((_cash_effect(f, positions) for f in fills), D(0))
        fees = sum((D(f["fee_cost"]) for f in fills), D(0))
        payouts = sum((D(s["revenue"]) / 100 for s in engine.list_settlements(user)), D(0))
        expected = D("1000") + trading - fees + payouts
        assert D(engine.balance(user)["balance_dollars"]) == expected.quantize(D("0.0001"))
        assert all(f["fee_cost"] >= "0" for f in fills)


def test_fractional_count_at_a_subpenny_price_keeps_fees_and_balance_exact() -> None:
    """0.37 contracts at a 0.055 grid price move money in millionths of a dollar; nothing rounds it."""
    engine = make_engine()
    engine.create_order("maker", order(ticker=SUB, count="1", price="0.055"))
    engine.create_order("taker", ioc(ticker=SUB, side="ask", count="0.37", price="0.055"))
    (fill,) = engine.list_fills("taker")
    # taker opens 0.37 NO at 0.945: revenue -0.34965; fee 0.07 x 0.37 x 0.055 x 0.945 = 0.001346...
    # -> 0.0014; balance change -0.35105 floors to -0.36, so the rounding fee is 0.00895:
    # fee_cost = 0.0014 + 0.00895 = 0.01035, written with the 6 places it needs.
    assert fill["fee_cost"] == "0.010350"
    assert engine.balance("taker")["balance_dollars"] == "999.6400"
    assert D("1000") - D("0.37") * D("0.945") - D(fill["fee_cost"]) == D("999.64")
    position = engine.positions("taker")[0][0]
    assert (position["market_exposure_dollars"], position["fees_paid_dollars"]) == ("0.349650", "0.010350")


def test_available_balance_stays_in_whole_cents_while_an_order_holds_a_fee_reserve() -> None:
    engine = make_engine()
    engine.create_order("u1", order(count="7", price="0.33"))   # rests: 7 x 0.33 + fee bound 7 x 0.07 x 0.33 x 0.67
    # hold = 2.31 + 0.108339 = 2.418339, rounded up to 2.42; cash stays 1000.00
    assert engine.balance("u1")["balance_dollars"] == "997.5800"
    assert engine.balance("u1")["balance"] == 99758
