"""Menu 3's order form checks each field as soon as it can and, after a refusal, lets the trader edit
the order instead of starting over; menu 4's amend does the same. Driven through the real menu
against the paper exchange (the harness's book: YES asks from 0.43, YES bids from 0.42).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from cli_harness import (config_for, drive, journal, make_universe,  # noqa: F401 (work_in_tmp: autouse)
                         orders_on, terminal_exchange, ticker, work_in_tmp)

from kalshi_trading.paper.server import start_paper_exchange

D = Decimal
NAMES = ["position", "cost", "cash", "stray", "postedit", "amendedit"]


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory):
    with terminal_exchange(tmp_path_factory, "form-exchange", NAMES) as running:
        yield running


def keys(*lines: str) -> str:
    return "\n".join([*lines, "0"]) + "\n"


def errors_in(out: str) -> list[str]:
    return [line for line in out.splitlines() if "Error:" in line]


def submissions(config, tick: str) -> list[dict]:
    return [r for r in journal(config) if r.get("ticker") == tick and r["event_type"] == "submission"]


def test_a_count_over_the_position_limit_is_refused_at_the_count_prompt(exchange, tmp_path: Path) -> None:
    config = config_for(exchange, tmp_path, max_position=D("15"))
    tick = ticker("position")
    out = drive(config, keys("3", tick, "b", "y", "20", "10", "0.30", "gtc", "", "", "", "y"))
    (error,) = errors_in(out)
    assert "would reach 20.00 contracts, above the limit of 15.00 (KALSHI_MAX_POSITION)" in error
    assert out.index(error) < out.index("Limit price")              # before the price was asked
    (order,) = orders_on(exchange, tick)
    assert (order["initial_count_fp"], order["yes_price_dollars"]) == ("10.00", "0.3000")


def test_a_cost_over_the_limit_is_refused_with_the_price_and_names_the_count_that_fits(
        exchange, tmp_path: Path) -> None:
    config = config_for(exchange, tmp_path, max_order_cost=D("5"))
    tick = ticker("cost")
    out = drive(config, keys("3", tick, "b", "y", "100", "0.30", "15", "", "gtc", "", "", "", "y"))
    (error,) = errors_in(out)
    # 15.88 x (0.30 + 0.07 x 0.3 x 0.7) = $4.9975 with the fee rounded up; 15.89 would be $5.0006
    assert "above the $5.00 limit per order (KALSHI_MAX_ORDER_COST); at 0.3000 at most 15.88 contracts fit" in error
    assert out.index(error) < out.index("Time in force")
    assert "or 'market' [0.3000]:" in out                            # the price typed is the default
    (order,) = orders_on(exchange, tick)
    assert (order["initial_count_fp"], order["yes_price_dollars"]) == ("15.00", "0.3000")


def test_the_open_order_limit_is_refused_at_the_time_in_force_prompt(tmp_path: Path) -> None:
    with start_paper_exchange(tmp_path / "exchange", universe=make_universe(["openlimit"])) as own:
        config = config_for(own, tmp_path, max_open_orders=1)
        tick = ticker("openlimit")
        drive(config, keys("3", tick, "b", "y", "1", "0.30", "gtc", "", "", "", "y"))       # one rests
        out = drive(config, keys("3", tick, "b", "y", "1", "0.30", "gtc", "ioc", "", "y"))
        (error,) = errors_in(out)
        assert "1 orders are already resting; the limit is 1 (KALSHI_MAX_OPEN_ORDERS)" in error
        assert out.index(error) < out.index("Reduce-only")
        assert [o["status"] for o in orders_on(own, tick)] == ["canceled", "resting"]   # the IOC went


def test_after_the_exchange_refuses_an_order_e_edits_it_with_every_answer_kept(exchange, tmp_path: Path) -> None:
    config = config_for(exchange, tmp_path, max_order_cost=D("100000"))
    tick = ticker("cash")
    out = drive(config, keys("3", tick, "b", "y", "4000", "0.30", "gtc", "", "", "", "y",   # $1200: too much
                             "e", "", "", "10", "", "", "", "", "", "y"))
    (error,) = errors_in(out)
    assert "cash" in error.lower() or "balance" in error.lower()
    assert out.count("Market ticker") == 1                          # the market is kept
    for default in ("(b/s) [buy]:", "(y/n) [yes]:", "allowed) [4000.00]:", "'market' [0.3000]:",
                    "(gtc/ioc/fok) [gtc]:", "never take)? (y/n) [n]:"):
        assert default in out
    (order,) = orders_on(exchange, tick)
    assert (order["initial_count_fp"], order["yes_price_dollars"], order["status"]) == ("10.00", "0.3000",
                                                                                        "resting")


def test_a_stray_answer_at_the_edit_offer_sends_and_changes_nothing(exchange, tmp_path: Path) -> None:
    config = config_for(exchange, tmp_path, max_order_cost=D("100000"))
    tick = ticker("stray")
    out = drive(config, keys("3", tick, "b", "y", "4000", "0.30", "gtc", "", "", "", "y", "y"))
    assert "e) edit the order  Enter) leave it unsent" in out and "Not sent." in out
    assert orders_on(exchange, tick) == []
    assert [r["status"] for r in submissions(config, tick)] == ["sending"]   # the one refused attempt


def test_after_a_foreseen_refusal_e_edits_the_order(exchange, tmp_path: Path) -> None:
    config = config_for(exchange, tmp_path)
    tick = ticker("postedit")
    # post-only at 0.45 would cross the 0.43 ask; the edit keeps everything but post-only
    out = drive(config, keys("3", tick, "b", "y", "2", "0.45", "gtc", "", "y", "",
                             "e", "", "", "", "", "", "", "n", "", "y"))
    assert "REFUSED" in out and out.count("Order preview:") == 2
    (order,) = orders_on(exchange, tick)
    assert (order["status"], order["fill_count_fp"]) == ("executed", "2.00")


def test_an_amend_refused_by_the_risk_gate_can_be_edited_to_one_that_passes(exchange, tmp_path: Path) -> None:
    config = config_for(exchange, tmp_path, max_order_cost=D("10"))
    tick = ticker("amendedit")
    drive(config, keys("3", tick, "b", "y", "10", "0.30", "gtc", "", "", "", "y"))
    rows = [o["ticker"] for o in exchange.engine.list_orders(exchange.key_id) if o["status"] == "resting"]
    pick = [str(1 + rows.index(tick))] if len(rows) > 1 else []
    out = drive(config, keys("4", "a", *pick, "", "100", "e", "", "20", "y", ""))
    (error,) = errors_in(out)
    assert "KALSHI_MAX_ORDER_COST" in error
    assert "(Enter: the size typed before) [100.00]:" in out        # the size typed is the default
    assert "(Enter keeps 10.00) [100.00]" not in out                # and Enter is not promised twice
    order = next(o for o in orders_on(exchange, tick) if o["status"] == "resting")
    assert order["remaining_count_fp"] == "20.00"
