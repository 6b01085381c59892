"""The audit trail says what the trader did and what the exchange paid, and its CSV adds up.

Against a loopback paper exchange, through the real subcommands and menu: a canceled or amended
order reads in the trader's terms (sell NO at the NO price) with the order's state; an order the
exchange cancels at settlement keeps its amended price and id; a settlement is an event of its
own whose cash, with the fills', adds up to the P&L report; every CSV column has one number
format; `positions` and `pnl` give one realized figure, net of fees, and say which side's prices
an average cost is in.
"""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

from cli_harness import (command, drive, orders_on, terminal_fixtures, ticker,  # noqa: F401 (autouse)
                         work_in_tmp)

from kalshi_trading.audit.csv_export import COUNT_COLUMNS, MONEY_COLUMNS, PRICE_COLUMNS

D = Decimal
NAMES = ["sellno", "menuno", "partial", "amendno", "settled", "shown", "formats", "realized", "nopnl"]


exchange, config = terminal_fixtures("audit-exchange", NAMES)


def ok_json(config, argv: list[str]) -> dict:
    code, out, err = command(config, [*argv, "--json"])
    assert code == 0, err
    return json.loads(out)


def order(config, tick: str, action: str, side: str, count: str, price: str, tif: str = "gtc") -> dict:
    return ok_json(config, ["order", "--ticker", tick, "--side", side, "--action", action, "--count", count,
                            "--price", price, "--tif", tif, "--yes"])["order"]


def exported(config, tmp_path: Path, tick: str) -> list[dict]:
    """`export` of the whole log, read back: the rows of `tick`."""
    target = tmp_path / f"{tick.lower()}.csv"
    ok_json(config, ["export", "--out", str(target), "--from", "2020-01-01"])
    with target.open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["ticker"] == tick]


def events(config, tick: str) -> list[dict]:
    return ok_json(config, ["history", "--ticker", tick, "--from", "2020-01-01"])["events"]


def only_resting_order(config, exchange, tick: str) -> str:
    """Cancel every other resting order, so menu 4 acts on this one without asking which."""
    resting = [o for o in orders_on(exchange, tick) if o["status"] == "resting"]
    (mine,) = resting
    others = [o for o in exchange.engine.list_orders(exchange.key_id)
              if o["status"] == "resting" and o["order_id"] != mine["order_id"]]
    for other in others:
        assert command(config, ["cancel", other["order_id"]])[0] == 0
    return mine["order_id"]


# --- 1. every record says what the trader did and where the order stands ----------------------

def test_a_canceled_sell_no_order_reads_sell_no_at_the_no_price_in_the_csv(config, exchange, tmp_path) -> None:
    tick = ticker("sellno")
    placed = order(config, tick, "sell", "no", "5", "0.95")        # a bid at YES 0.05: it rests
    assert placed["status"] == "resting"
    assert command(config, ["cancel", placed["order_id"]])[0] == 0
    (row,) = [r for r in exported(config, tmp_path, tick) if r["event_type"] == "cancellation"]
    assert (row["action"], row["outcome_side"], row["book_side"]) == ("sell", "no", "bid")
    prices = (row["price_dollars"], row["yes_price_dollars"], row["no_price_dollars"])
    assert prices == ("0.9500", "0.0500", "0.9500")
    assert (row["count_fp"], row["order_status"], row["fill_count_fp"], row["remaining_count_fp"]) == (
        "5.00", "canceled", "0.00", "0.00")


def test_the_menu_history_shows_the_canceled_order_as_sell_no_at_its_no_price(config, exchange) -> None:
    tick = ticker("menuno")
    placed = order(config, tick, "sell", "no", "3", "0.90")
    assert command(config, ["cancel", placed["order_id"]])[0] == 0
    out = drive(config, f"6\n\n\n{tick}\n\n\n0\n", columns=160)
    (line,) = [text for text in out.splitlines() if text.startswith("20") and "cancellation" in text]
    assert "sell NO" in line and "0.9000" in line and "0.1000" not in line
    assert "canceled" in line and "YES" not in line


def test_each_record_gives_the_orders_state_after_it_partially_filled_then_canceled(config, exchange) -> None:
    tick = ticker("partial")
    placed = order(config, tick, "buy", "yes", "30", "0.43")        # 20 at 0.43 take the book, 10 rest
    assert command(config, ["cancel", placed["order_id"]])[0] == 0
    keys = ("event_type", "status", "order_status", "count_fp", "fill_count_fp", "remaining_count_fp")
    states = sorted(tuple(r.get(key) or "" for key in keys) for r in events(config, tick))
    assert states == [("cancellation", "canceled", "canceled", "10.00", "20.00", "0.00"),
                      ("fill", "filled", "partially_filled", "20.00", "20.00", "10.00"),
                      ("submission", "resting", "partially_filled", "30.00", "20.00", "10.00"),
                      ("submission", "sending", "", "30.00", "", "")]


def test_an_amend_then_a_cancel_at_settlement_keep_the_traders_terms_and_the_amended_price_and_id(
        config, exchange) -> None:
    tick = ticker("amendno")
    placed = order(config, tick, "buy", "no", "4", "0.52")          # an ask at YES 0.48: it rests
    only_resting_order(config, exchange, tick)
    drive(config, "4\na\n0.47\n\ny\n\n0\n")                          # YES 0.47 = NO 0.53
    (amended,) = [o for o in orders_on(exchange, tick) if o["status"] == "resting"]
    assert amended["client_order_id"] != placed["client_order_id"]  # the amend gave it a new one
    exchange.engine.settle_market(tick, "no")                        # cancels the resting order first
    records = events(config, tick)
    (amend,) = [r for r in records if r["event_type"] == "amend"]
    assert (amend["action"], amend["outcome_side"], amend["price_dollars"]) == ("buy", "no", "0.5300")
    assert (amend["order_status"], amend["remaining_count_fp"]) == ("resting", "4.00")
    (cancel,) = [r for r in records if r["event_type"] == "cancellation"]
    assert (cancel["action"], cancel["outcome_side"], cancel["price_dollars"]) == ("buy", "no", "0.5300")
    assert cancel["yes_price_dollars"] == "0.4700"
    assert (cancel["order_id"], cancel["client_order_id"]) == (amended["order_id"], amended["client_order_id"])
    assert (cancel["count_fp"], cancel["order_status"]) == ("4.00", "canceled")
    assert "market closed and settled no" in cancel["message"]


# --- 2. settlements are events, and the cash adds up to the P&L -------------------------------

def _cash(rows: list[dict]) -> Decimal:
    return sum((D(r["cash_change_dollars"]) for r in rows if r["cash_change_dollars"]), D(0))


def test_a_settlement_is_an_event_and_the_csv_cash_adds_up_to_the_pnl(config, exchange, tmp_path) -> None:
    tick = ticker("settled")
    order(config, tick, "buy", "yes", "10", "0.45", "ioc")          # 10 at 0.43
    order(config, tick, "sell", "yes", "4", "0.40", "ioc")          # 4 at 0.42: 6 YES left
    exchange.engine.settle_market(tick, "yes")
    (settlement,) = [r for r in events(config, tick) if r["event_type"] == "settlement"]
    held = (settlement["market_result"], settlement["outcome_side"], settlement["count_fp"])
    assert held == ("yes", "yes", "6.00")
    assert D(settlement["revenue_dollars"]) == D("6.00")
    rows = exported(config, tmp_path, tick)
    (row,) = [r for r in rows if r["event_type"] == "settlement"]
    fills = [r for r in rows if r["event_type"] == "fill"]
    assert (row["revenue_dollars"], row["cash_change_dollars"]) == ("6.000000", "6.000000")
    assert D(row["fees_paid_dollars"]) == sum(D(f["fee_cost"]) for f in fills) > 0
    (market,) = [m for m in ok_json(config, ["pnl"])["markets"] if m["ticker"] == tick]
    assert abs(_cash(rows) - D(market["realized_pnl_dollars"])) <= D("0.000001")
    assert D(market["fees_paid_dollars"]) == sum(D(f["fee_cost"]) for f in fills)


def test_a_settlement_is_imported_once_and_shown_in_the_menu_history(config, exchange) -> None:
    tick = ticker("shown")
    order(config, tick, "buy", "yes", "3", "0.45", "ioc")
    exchange.engine.settle_market(tick, "yes")
    assert len([r for r in events(config, tick) if r["event_type"] == "settlement"]) == 1
    assert len([r for r in events(config, tick) if r["event_type"] == "settlement"]) == 1
    out = drive(config, f"6\n\n\n{tick}\nsettlement\n\n0\n", columns=160)
    (line,) = [text for text in out.splitlines() if text.startswith("20") and tick in text]
    assert "held YES" in line and "3.00" in line and "+3.000000" in line and "settled yes" in line
    assert "paid $3.00" in line


# --- 3. one number format per CSV column ------------------------------------------------------

FORMATS = {**{c: r"-?\d+\.\d{6}" for c in MONEY_COLUMNS}, **{c: r"\d\.\d{4}" for c in PRICE_COLUMNS},
           **{c: r"\d+\.\d{2}" for c in COUNT_COLUMNS}}


def test_every_csv_money_column_has_six_places_prices_four_and_counts_two(config, exchange, tmp_path) -> None:
    tick = ticker("formats")
    order(config, tick, "buy", "yes", "2.5", "0.45", "ioc")         # a fractional count: sub-cent money
    order(config, tick, "sell", "yes", "2.5", "0.40", "ioc")        # flat again
    order(config, tick, "buy", "no", "1", "0.10")                   # rests, then settlement cancels it
    exchange.engine.settle_market(tick, "no")                        # a flat position: revenue 0
    rows = exported(config, tmp_path, tick)
    assert {r["event_type"] for r in rows} == {"submission", "fill", "cancellation", "settlement"}
    (settlement,) = [r for r in rows if r["event_type"] == "settlement"]
    assert settlement["revenue_dollars"] == "0.000000"
    for row in rows:
        for column, pattern in FORMATS.items():
            cell = row[column]
            assert cell == "" or re.fullmatch(pattern, cell), (row["event_type"], column, cell)
    assert {r["fee_cost"] for r in rows if r["event_type"] == "fill"} != {""}


# --- 4. one realized P&L, net of fees; average costs say which side's prices ------------------

def test_positions_and_pnl_give_one_realized_figure_net_of_fees(config, exchange) -> None:
    tick = ticker("realized")
    order(config, tick, "buy", "yes", "10", "0.45", "ioc")
    order(config, tick, "sell", "yes", "4", "0.40", "ioc")
    (held,) = [p for p in ok_json(config, ["positions"])["market_positions"] if p["ticker"] == tick]
    (line,) = [m for m in ok_json(config, ["pnl"])["markets"] if m["ticker"] == tick]
    assert held["realized_pnl_dollars"] == line["realized_pnl_dollars"]
    assert held["exchange_realized_pnl_dollars"] != held["realized_pnl_dollars"]  # before fees
    code, out, _ = command(config, ["positions"])
    assert code == 0 and "net realized" in out and "after fees, as pnl shows it" in out
    (row,) = [text for text in out.splitlines() if text.startswith(tick)]
    assert line["realized_pnl_dollars"] in row.split()
    assert "net of fees" in ok_json(config, ["pnl"])["notes"]["realized_pnl_dollars"]
    assert "net of fees" in ok_json(config, ["positions"])["notes"]["realized_pnl_dollars"]
    assert "Realized is net of fees" in command(config, ["pnl"])[1]


def test_a_no_positions_average_cost_is_labelled_with_the_side_its_price_is_in(config, exchange) -> None:
    tick = ticker("nopnl")
    order(config, tick, "buy", "no", "10", "0.58", "ioc")           # 10 NO at 0.58 = asks at YES 0.42
    code, out, _ = command(config, ["pnl"])
    (row,) = [text for text in out.splitlines() if text.startswith(tick)]
    assert row.split()[1:4] == ["10.00", "NO", "0.5800"]
    assert "Avg cost and Mark are in the held side's prices (NO prices for a NO position)" in " ".join(
        out.split())
    doc = ok_json(config, ["pnl"])
    (line,) = [m for m in doc["markets"] if m["ticker"] == tick]
    assert (line["position_fp"], line["average_cost_dollars"]) == ("-10.00", "0.4200")
    assert "YES terms" in doc["notes"]["average_cost_dollars"]
