"""The real menu, driven through stdin/stdout against a loopback paper exchange: browse, book,
place each kind of order, manage open orders, portfolio, history and CSV export, settings."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from cli_harness import (CLOSED, DECI, RAIN_SERIES,  # noqa: F401 (work_in_tmp is an autouse fixture)
                         config_for, drive, journal, make_universe, orders_on, sent_for, terminal_fixtures,
                         ticker, work_in_tmp)

from kalshi_trading.config import Mode
from kalshi_trading.money import fmt_cash as cash
from kalshi_trading.paper.server import start_paper_exchange

NAMES = ["book", "gtc", "market", "nopost", "fok", "decline", "prod", "cancel", "amend", "decrease",
         "all1", "all2", "hist", "redraw", "expiry", "reduce", "deci", "nobuy", "placed", "grid",
         "histno", "sellflat", "a-very-long-market-name-that-cannot-fit-beside-the-prices"]


exchange, config = terminal_fixtures("menu-exchange", NAMES)


def place(tick: str, *answers: str) -> str:
    """Menu keystrokes: 3, the ticker, then the answers, then exit."""
    return "\n".join(["3", tick, *answers, "0"]) + "\n"


def test_banner_names_the_environment_base_url_and_balance(config, exchange) -> None:
    out = drive(config, "0\n")
    assert "PAPER mode" in out and exchange.base_url in out
    assert "Balance: $" in out and out.rstrip().endswith("Bye.")


def test_the_production_banner_is_unmistakable(config) -> None:
    out = drive(config, "0\n", mode=Mode.PROD)
    assert "PRODUCTION: REAL MONEY" in out and "!!!!!!!!" in out


def test_keyword_search_lists_a_table_and_shows_details_of_a_pick(config) -> None:
    out = drive(config, "1\nk\nrain springfield\n2\n0\n")
    assert "2 market(s):" in out
    assert "KXRAIN-26DEC31-T1" in out and "KXRAIN-26DEC31-T2" in out
    assert "Rules:" in out and "Fee type:    quadratic_with_maker_fees" in out
    assert "Price grid:  0.0000-1.0000 step 0.0100" in out and "Closes:" in out


def test_series_and_status_searches(config) -> None:
    out = drive(config, f"1\ns\n{RAIN_SERIES.lower()}\n\n1\nt\nclosed\n\n0\n")
    assert "2 market(s):" in out
    assert CLOSED in out


def test_popular_series_lists_series_and_opens_one(config) -> None:
    out = drive(config, "1\np\n1\n\n0\n")  # equal volume: alphabetical, KXRAIN first
    assert "KXTERM" in out and "Terminal test markets" in out
    assert "KXRAIN-26DEC31-T1" in out.split("Pick # to list its markets")[1]


@pytest.mark.parametrize("columns", [60, 80, 140])
def test_market_tables_fit_the_terminal(config, columns: int) -> None:
    out = drive(config, "1\ns\nKXTERM\n\n0\n", columns=columns)
    table = [line for line in out.splitlines() if "KXTERM-26DEC31-" in line]
    # a ticker too long to sit beside its prices gets a line of its own (`#  ticker`), never cut
    assert table and all(len(line) <= columns or len(line.split()) == 2 for line in table)


def test_order_book_shows_both_sides_spread_and_cost_of_n(config) -> None:
    out = drive(config, f"2\n{ticker('book')}\n30\n0\n")
    assert "YES bid" in out and "NO ask" in out
    assert "Spread: 0.0100" in out
    # buying 30 YES takes 20 at 0.43 and 10 at 0.44
    assert "buy  YES: pay     $13.0000 + fee $0.5200" in out  # per level, booked in whole cents
    assert "sell NO : receive $" in out


def test_gtc_limit_order_is_previewed_confirmed_and_rests(config, exchange) -> None:
    tick = ticker("gtc")
    out = drive(config, place(tick, "b", "y", "10", "30c", "", "", "", "", "y"))
    assert "Order preview:" in out and "V2 order:" in out and '"side": "bid"' in out
    assert "Fee estimate" in out or "fee estimate" in out
    assert "Worst case loss" in out
    resting = orders_on(exchange, tick)
    assert len(resting) == 1 and resting[0]["yes_price_dollars"] == "0.3000"
    assert resting[0]["status"] == "resting"
    assert len(sent_for(config, tick)) == 1


def test_market_order_is_an_ioc_at_the_worst_price_and_fills(config, exchange) -> None:
    tick = ticker("market")
    out = drive(config, place(tick, "buy", "yes", "30", "market", "0.44", "", "y"))
    assert '"time_in_force": "immediate_or_cancel"' in out and '"price": "0.4400"' in out
    (order,) = orders_on(exchange, tick)
    assert Decimal(order["fill_count_fp"]) == 30 and order["status"] == "executed"


def test_sell_no_post_only_becomes_a_resting_bid(config, exchange) -> None:
    tick = ticker("nopost")
    drive(config, place(tick, "s", "n", "5", "0.70", "gtc", "", "y", "", "y"))
    (order,) = orders_on(exchange, tick)
    assert order["book_side"] == "bid" and order["yes_price_dollars"] == "0.3000"


def test_fok_buy_no_fills_whole(config, exchange) -> None:
    tick = ticker("fok")
    drive(config, place(tick, "b", "n", "5", "0.58", "fok", "", "y"))
    (order,) = orders_on(exchange, tick)
    assert order["book_side"] == "ask" and Decimal(order["fill_count_fp"]) == 5


def test_gtc_with_expiry_sends_an_expiration_time(config, exchange) -> None:
    tick = ticker("expiry")
    out = drive(config, place(tick, "b", "y", "1", "0.20", "gtc", "2h", "", "", "y"))
    assert '"expiration_time": ' in out and "Expires: 20" in out  # the UTC time, not only Unix seconds
    (order,) = orders_on(exchange, tick)
    assert order.get("expiration_time")


def test_reduce_only_without_a_position_is_refused_and_nothing_rests(config, exchange) -> None:
    tick = ticker("reduce")
    out = drive(config, place(tick, "s", "y", "3", "0.60", "gtc", "", "", "y", "y"))
    assert not [o for o in orders_on(exchange, tick) if o["status"] == "resting"]
    assert "Error:" in out and "Traceback" not in out


def test_sub_penny_price_on_a_deci_cent_market(config, exchange) -> None:
    out = drive(config, place(DECI, "b", "y", "2", "0.055", "", "", "", "", "y"))
    assert '"price": "0.0550"' in out
    assert any(o["yes_price_dollars"] == "0.0550" for o in orders_on(exchange, DECI))


def test_the_default_answer_is_no_and_nothing_is_sent(config, exchange) -> None:
    tick = ticker("decline")
    out = drive(config, place(tick, "b", "y", "10", "0.30", "", "", "", "", ""))
    assert "Not sent." in out
    assert orders_on(exchange, tick) == [] and sent_for(config, tick) == []


def test_in_prod_y_is_not_enough_the_ticker_must_be_typed(config, exchange) -> None:
    tick = ticker("prod")
    out = drive(config, place(tick, "b", "y", "1", "0.30", "", "", "", "", "y"), mode=Mode.PROD)
    assert "Not sent." in out and orders_on(exchange, tick) == []
    drive(config, place(tick, "b", "y", "1", "0.30", "", "", "", "", tick), mode=Mode.PROD)
    assert len(orders_on(exchange, tick)) == 1


def rest(config, tick: str, price: str = "0.30", count: str = "10") -> None:
    drive(config, place(tick, "b", "y", count, price, "", "", "", "", "y"))


def my_resting(exchange, tick: str) -> list[dict]:
    return [o for o in orders_on(exchange, tick) if o["status"] == "resting"]


def open_orders_keys(exchange, tick: str) -> str:
    """The row number of `tick`'s order in menu 4 (orders are listed newest first)."""
    from kalshi_trading.models import Order
    rows = [o for o in exchange.engine.list_orders(exchange.key_id) if o["status"] == "resting"]
    return str(1 + [Order.from_api(o).ticker for o in rows].index(tick))


def test_cancel_one_order(config, exchange) -> None:
    tick = ticker("cancel")
    rest(config, tick)
    row = open_orders_keys(exchange, tick)
    out = drive(config, f"4\nc\n{row}\ny\n\n0\n")
    assert "Canceled" in out and my_resting(exchange, tick) == []
    assert any(r["event_type"] == "cancellation" and r.get("ticker") == tick for r in journal(config))


def test_amend_price_and_size(config, exchange) -> None:
    tick = ticker("amend")
    rest(config, tick)
    row = open_orders_keys(exchange, tick)
    drive(config, f"4\na\n{row}\n0.31\n12\ny\n\n0\n")
    (order,) = my_resting(exchange, tick)
    assert order["yes_price_dollars"] == "0.3100" and Decimal(order["remaining_count_fp"]) == 12


def test_decrease_an_order(config, exchange) -> None:
    tick = ticker("decrease")
    rest(config, tick)
    row = open_orders_keys(exchange, tick)
    drive(config, f"4\nd\n{row}\n4\ny\n\n0\n")
    (order,) = my_resting(exchange, tick)
    assert Decimal(order["remaining_count_fp"]) == 6


def test_cancel_all_shows_the_count_and_asks_first(config, exchange) -> None:
    for name in ("all1", "all2"):
        rest(config, ticker(name))
    total = len([o for o in exchange.engine.list_orders(exchange.key_id) if o["status"] == "resting"])
    out = drive(config, "4\nx\n\n\n0\n")  # declined: the default is No
    assert f"Cancel ALL {total} resting order(s)?" in out and my_resting(exchange, ticker("all1"))
    out = drive(config, "4\nx\ny\n0\n")
    assert f"Canceled {total} order(s)." in out
    assert not [o for o in exchange.engine.list_orders(exchange.key_id) if o["status"] == "resting"]


def test_history_filters_and_exports_csv(config, exchange, tmp_path: Path) -> None:
    tick = ticker("hist")
    drive(config, place(tick, "b", "y", "3", "0.45", "ioc", "", "y"))  # fills at 0.43
    target = tmp_path / "history.csv"
    out = drive(config, f"6\n\n\n{tick}\n\n{target}\n0\n")
    assert "submission" in out and "fill" in out
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["event_type"] for r in rows} >= {"submission", "fill"}
    assert all(r["ticker"] == tick for r in rows)
    out = drive(config, "6\n2000-01-01\n2000-01-02\n\n\n\n0\n")
    assert "No events match." in out


def test_portfolio_strategies_and_settings_screens(config, exchange) -> None:
    out = drive(config, "5\n7\n8\n0\n")
    available = Decimal(exchange.engine.balance(exchange.key_id)["balance_dollars"])
    assert f"Balance: ${available:.2f} available to trade" in out       # the balance heads the screen
    assert "Portfolio" in out and "Strategies" in out
    assert "Settings" in out and "paper" in out and exchange.base_url in out
    assert exchange.key_id not in out and str(exchange.private_key_path) not in out


def test_empty_lines_and_unknown_keys_only_redraw_never_repeat(config, exchange) -> None:
    tick = ticker("redraw")
    out = drive(config, place(tick, "b", "y", "1", "0.30", "", "", "", "", "y").replace("\n0\n", "\n\n\nzz\n99\n0\n"))
    assert len(orders_on(exchange, tick)) == 1
    assert out.count("Error: no menu item") == 2
    assert out.count("Choose: ") == 6


def test_a_no_order_is_quoted_previewed_and_settled_in_no_terms_with_the_balance_move(config, exchange) -> None:
    tick = ticker("nobuy")
    before = Decimal(exchange.engine.balance(exchange.key_id)["balance_dollars"])
    out = drive(config, place(tick, "b", "n", "10", "0.58", "ioc", "", "y"), columns=80)
    # the place screen quotes NO too: NO bids 0.57/0.56/0.55 -> NO bid 0.57, NO ask 1-0.42 = 0.58
    assert "NO bid 0.5700  ask 0.5800" in out
    assert "Balance: about -$5.98 for the 10.00 that fill now" in out  # 5.80 + fee 0.1706, up to the cent
    assert '"post_only": false' in out and "False" not in out  # JSON, not Python reprs
    after = Decimal(exchange.engine.balance(exchange.key_id)["balance_dollars"])
    assert before - after == Decimal("5.98")
    assert f"Balance: ${cash(after)} (was ${cash(before)}, -$5.98)" in out  # never rounded up to a cent
    assert "at average 0.5800" in out and "YES book: ask at average YES 0.4200" in out
    shown = out.split("Order preview:")[1].split("Send this order?")
    screen = shown[0].splitlines() + shown[1].split("Sent: ", 1)[1].split("-- kalshi")[0].splitlines()
    assert all(len(line) <= 80 for line in screen)  # preview and result wrap at the terminal's edge


def test_open_orders_say_how_each_order_was_placed_and_keep_tickers_whole(config, exchange) -> None:
    tick = ticker("placed")
    drive(config, place(tick, "b", "n", "4", "0.52", "", "", "", "", "y"))  # rests as ask at YES 0.48
    row = open_orders_keys(exchange, tick)
    out = drive(config, "4\n\n0\n", columns=140)
    line = next(line for line in out.splitlines() if tick in line)
    assert "buy NO @ 0.5200" in line and " ask " in line and "0.4800" in line
    narrow = drive(config, "4\n\n0\n", columns=80)
    assert tick in narrow  # whole, never `KXTERM-26DEC31-PLA…`
    assert "…" not in "".join(line for line in narrow.splitlines() if "KXTERM" in line)
    drive(config, f"4\na\n{row}\n0.47\n\ny\n\n0\n")  # amended: the NO price follows
    out = drive(config, "4\n\n0\n", columns=140)
    assert "buy NO @ 0.5300" in next(line for line in out.splitlines() if tick in line)


def test_an_off_grid_price_names_the_nearest_valid_prices(config) -> None:
    out = drive(config, place(ticker("grid"), "b", "n", "1", "0.555", "0.55", "", "", "", "", ""))
    assert "nearest: 0.5500 or 0.5600" in out and "Not sent." in out


def test_history_shows_the_year_and_no_orders_at_their_no_price(config, exchange) -> None:
    tick = ticker("histno")
    drive(config, place(tick, "b", "n", "2", "0.58", "ioc", "", "y"))
    out = drive(config, f"6\n\n\n{tick}\n\n\n0\n", columns=120)
    rows = [line for line in out.splitlines() if tick in line and "submission" in line]
    assert rows and all(line.startswith("20") for line in rows)  # 2026-11-21 12:00, not 11-21 12:00
    assert all("buy NO" in line and "0.5800" in line for line in rows)
    assert "(price is in the order's own terms" in out


def test_a_long_ticker_gets_a_line_of_its_own_instead_of_being_cut(config) -> None:
    tick = ticker("a-very-long-market-name-that-cannot-fit-beside-the-prices")
    out = drive(config, "1\ns\nKXTERM\n\n0\n", columns=80)
    assert any(line.strip().endswith(tick) for line in out.splitlines())
    table = out.split("market(s):")[1].split("Pick #")[0].splitlines()
    assert all(len(line) <= 80 for line in table if tick not in line)


def test_selling_yes_without_holding_it_is_shown_as_costing_money_and_does(config, exchange) -> None:
    tick = ticker("sellflat")
    before = Decimal(exchange.engine.balance(exchange.key_id)["balance_dollars"])
    out = drive(config, place(tick, "s", "y", "5", "0.42", "ioc", "", "y"))
    # flat, so selling YES opens NO: 5 x 0.58 = 2.90 paid, plus a 0.0853 taker fee
    assert "Balance: about -$2.99 for the 5.00 that fill now (buys 5.00 NO: -$2.9000" in out
    after = Decimal(exchange.engine.balance(exchange.key_id)["balance_dollars"])
    assert before - after == Decimal("2.99")


def test_the_risk_gate_refuses_orders_and_growing_amends_in_one_line_before_sending(tmp_path) -> None:
    with start_paper_exchange(tmp_path / "exchange", universe=make_universe(["risk"])) as own:
        risk_gate_session(own, tmp_path)


def risk_gate_session(exchange, tmp_path: Path) -> None:
    """On an account of its own, so open orders lists just this one."""
    config = config_for(exchange, tmp_path, max_order_cost=Decimal("5"))
    tick = ticker("risk")
    out = drive(config, "\n".join(["3", tick, "b", "y", "100", "0.30"]) + "\n")   # refused at the price
    (refusal,) = [line for line in out.splitlines() if "Error:" in line]
    assert "KALSHI_MAX_ORDER_COST" in refusal and "$5.00" in refusal and "Time in force" not in out
    assert orders_on(exchange, tick) == [] and journal(config) == []
    drive(config, place(tick, "b", "y", "10", "0.30", "", "", "", "", "y"))     # $3 + fee: allowed
    out = drive(config, "\n".join(["4", "a", "", "20", "y", "", "0"]) + "\n")  # to $6: refused
    (refusal,) = [line for line in out.splitlines() if "Error:" in line]
    assert "KALSHI_MAX_ORDER_COST" in refusal
    (order,) = orders_on(exchange, tick)
    assert order["remaining_count_fp"] == "10.00"
    assert [r["event_type"] for r in journal(config)] == ["submission", "submission"]
