"""Previews that say what the exchange will really do, driven through the real menu and the `order`
subcommand against the paper exchange: reduce-only caps, post-only refusals, IOC / FOK remainders,
amends through the book and decreases. Every preview's "Fills now", taker fee and resulting position
is read off the screen and compared with the exchange's order, fills and position afterwards.

Every market has the harness's book: YES asks 0.43 x 20, 0.44 x 40, 0.45 x 100 and YES bids 0.42 x 25,
0.41 x 50, 0.40 x 100 (so NO asks 0.58 x 25, 0.59 x 50, 0.60 x 100).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from cli_harness import (RAIN_EVENT, command, config_for, drive, journal,  # noqa: F401 (work_in_tmp: autouse)
                         orders_on, terminal_fixtures, ticker, work_in_tmp)

D = Decimal
NAMES = ["reduce", "reducecmd", "reducerisk", "postonly", "postcmd", "refpost", "reffok", "refreduce", "amend", "amendpost",
         "amendbig", "decrease", "sellflat", "closing", "ioc", "fok", "held"]
MAKER_FEE_MARKET = f"{RAIN_EVENT}-T1"   # quadratic_with_maker_fees


exchange, config = terminal_fixtures("previews-exchange", NAMES)


def gtc(tick: str, action: str, side: str, count: str, price: str, *, post_only: str = "",
        reduce_only: str = "", then: tuple[str, ...] = ("y",)) -> str:
    """Menu 3 keystrokes for a GTC order, then the answers after the preview, then exit."""
    return "\n".join(["3", tick, action, side, count, price, "gtc", "", post_only, reduce_only, *then,
                      "0"]) + "\n"


def taker(tick: str, action: str, side: str, count: str, price: str, tif: str, *, reduce_only: str = "",
          then: tuple[str, ...] = ("y",)) -> str:
    """Menu 3 keystrokes for an IOC or FOK order."""
    return "\n".join(["3", tick, action, side, count, price, tif, reduce_only, *then, "0"]) + "\n"


def flat(text: str) -> str:
    """The screen as one line: wrapped preview lines join up again."""
    return " ".join(text.split())


def preview_text(out: str) -> str:
    """The last preview on the screen, up to its V2 body or its question."""
    return re.split(r"V2 order:|Send this|\? \[y/N\]|y\) send anyway", flat(out).rsplit("preview:", 1)[1])[0]


def words(position: Decimal) -> str:
    """A position as the screens say it, written out independently of the app."""
    return "flat" if position == 0 else f"{abs(position):.2f} {'YES' if position > 0 else 'NO'}"


def position_on(exchange, tick: str) -> Decimal:
    with exchange.engine.lock:
        rows, _ = exchange.engine.positions(exchange.key_id, tick)
    return sum((D(r["position_fp"]) for r in rows), D(0))


def assert_exchange_did_what_the_preview_said(out: str, exchange, tick: str, order: dict) -> None:
    """Fills now, the taker fee now and the position now, as shown, equal the exchange's figures."""
    shown = preview_text(out)
    filled = D(re.search(r"Fills now: ([\d.]+) of", shown).group(1))
    fee = re.search(r"taker \$([\d.]+) on the", shown)
    position = re.search(r"Position: (?:.+? -> )?(flat|[\d.]+ (?:YES|NO)) now", shown).group(1)
    assert D(order["fill_count_fp"]) == filled
    assert D(order["taker_fees_dollars"]) == (D(fee.group(1)) if fee else D(0))
    assert words(position_on(exchange, tick)) == position


def newest_order(exchange, tick: str) -> dict:
    return orders_on(exchange, tick)[0]


def open_orders(exchange, tick: str, action: str, *answers: str) -> str:
    """Menu 4 keystrokes acting on `tick`'s resting order: its row number (newest first, as the
    exchange lists them) is asked only when more than one order rests."""
    rows = [o["ticker"] for o in exchange.engine.list_orders(exchange.key_id) if o["status"] == "resting"]
    pick = [str(1 + rows.index(tick))] if len(rows) > 1 else []
    return "\n".join(["4", action, *pick, *answers, "", "0"]) + "\n"


# --- 1. reduce-only ----------------------------------------------------------------------------

def test_reduce_only_sell_of_more_than_is_held_previews_only_the_held_part_filling_and_a_flat_position(
        config, exchange) -> None:
    tick = ticker("reduce")
    drive(config, taker(tick, "b", "y", "3", "0.45", "ioc"))                    # hold 3 YES
    out = drive(config, gtc(tick, "s", "y", "10", "0.40", reduce_only="y"))
    shown = preview_text(out)
    assert ("Reduce-only: at most 3.00 of the 10.00 can fill (you hold 3.00 YES); the exchange cancels "
            "the other 7.00 at once") in shown
    assert "Fills now: 3.00 of 3.00 at average 0.4200" in shown and "Position: 3.00 YES -> flat now" in shown
    assert "opens NO" not in shown and "open NO" not in shown and "Proceeds: at least $1.2000" in shown
    order = newest_order(exchange, tick)
    assert (order["book_side"], order["initial_count_fp"], order["status"]) == ("ask", "3.00", "executed")
    assert_exchange_did_what_the_preview_said(out, exchange, tick, order)


def test_the_order_subcommand_previews_the_same_reduce_only_cap(config, exchange) -> None:
    tick = ticker("reducecmd")
    drive(config, taker(tick, "b", "y", "3", "0.45", "ioc"))
    code, out, _ = command(config, ["order", "--ticker", tick, "--side", "yes", "--action", "sell",
                                    "--count", "10", "--price", "0.40", "--reduce-only"], stdin="y\n")
    assert code == 0
    assert "Reduce-only: at most 3.00 of the 10.00 can fill" in flat(out)
    assert_exchange_did_what_the_preview_said(out, exchange, tick, newest_order(exchange, tick))


def test_a_reduce_only_order_is_risk_checked_for_what_it_can_fill_not_for_what_was_typed(
        exchange, tmp_path: Path) -> None:
    tick = ticker("reducerisk")
    config = config_for(exchange, tmp_path, max_order_cost=D("1"))
    drive(config, taker(tick, "b", "y", "2", "0.45", "ioc"))                    # hold 2 YES
    # selling 100 would open 98 NO ($58.80) were it not reduce-only: capped at 2, it only closes
    code, out, err = command(config, ["order", "--ticker", tick, "--side", "yes", "--action", "sell",
                                      "--count", "100", "--price", "0.40", "--reduce-only", "--yes"])
    assert (code, err) == (0, "") and "filled 2.00" in out
    assert position_on(exchange, tick) == 0


# --- 2. refusals the preview foresees ------------------------------------------------------------

def test_a_post_only_order_through_the_book_is_shown_refused_and_enter_sends_nothing(config, exchange) -> None:
    tick = ticker("postonly")
    out = drive(config, gtc(tick, "b", "y", "2", "0.45", post_only="y", then=("",)))
    assert ("REFUSED: the exchange will not take this order: post-only, but it would trade at once: the "
            "best YES ask 0.4300 is at or below your 0.4500") in flat(out)
    assert "Fills now" not in preview_text(out) and "Send this order?" not in out
    assert "y) send anyway  e) edit  Enter) cancel" in out and "Not sent." in out
    assert orders_on(exchange, tick) == []
    assert not [r for r in journal(config) if r.get("ticker") == tick]


def test_the_order_subcommand_shows_a_post_only_refusal_and_sends_nothing_by_default(config, exchange) -> None:
    tick = ticker("postcmd")
    code, out, err = command(config, ["order", "--ticker", tick, "--side", "no", "--action", "buy",
                                      "--count", "2", "--price", "0.60", "--post-only"], stdin="\n")
    # buying NO at 0.60 is an ask at YES 0.40, and YES bids go up to 0.42: it would cross
    assert code == 1 and "not sent" in err
    assert "REFUSED: the exchange will not take this order: post-only" in flat(out)
    assert "the best NO ask 0.5800 is at or below your 0.6000" in flat(out)
    assert orders_on(exchange, tick) == []


@pytest.mark.parametrize("name, keys, code", [
    ("refpost", lambda t: gtc(t, "b", "y", "2", "0.45", post_only="y", then=("y", "")), "invalid_order"),
    ("reffok", lambda t: taker(t, "b", "y", "100", "0.44", "fok", then=("y", "")),
     "fill_or_kill_insufficient_resting_volume"),
    ("refreduce", lambda t: gtc(t, "s", "y", "3", "0.40", reduce_only="y", then=("y", "")), "invalid_order"),
])
def test_a_refusal_the_preview_foresees_is_what_the_exchange_does_when_sent_anyway(
        config, exchange, name: str, keys, code: str) -> None:
    tick = ticker(name)
    out = drive(config, keys(tick))
    assert "REFUSED: the exchange will not take this order" in flat(out)
    assert orders_on(exchange, tick) == []          # nothing was placed, as foreseen
    errors = [r for r in journal(config) if r.get("ticker") == tick and r["event_type"] == "error"]
    assert [r["status"] for r in errors] == ["rejected"] and code in errors[0]["message"]


# --- 3. amends and decreases ---------------------------------------------------------------------

def test_an_amend_through_the_book_previews_its_fills_and_reports_what_filled(config, exchange) -> None:
    tick = ticker("amend")
    drive(config, gtc(tick, "b", "y", "30", "0.30"))
    out = drive(config, open_orders(exchange, tick, "a", "0.44", "", "y"))
    shown = preview_text(out)
    assert "AMEND order" in shown and "YES 0.3000 -> 0.4400" in shown
    assert "Fills now: 30.00 of 30.00" in shown and "Position: flat -> 30.00 YES now" in shown
    order = newest_order(exchange, tick)
    # two fills (20 at 0.43, 10 at 0.44), each rounded to the cent with the order's accumulator
    assert D(order["taker_fees_dollars"]) == D("0.52")
    assert_exchange_did_what_the_preview_said(out, exchange, tick, order)
    assert (f"Amended {order['order_id']}: filled 30.00 at once at average YES 0.4333, fee $0.5200; "
            "order executed; position flat -> 30.00 YES") in flat(out)


def test_an_amend_the_risk_gate_refuses_is_refused_before_the_confirmation(config, exchange) -> None:
    tick = ticker("amendbig")
    drive(config, gtc(tick, "b", "y", "10", "0.30"))
    out = drive(config, open_orders(exchange, tick, "a", "", "1000000", ""))
    (error,) = [line for line in out.splitlines() if "Error:" in line]
    assert "KALSHI_MAX_" in error and "Send this amendment?" not in out and "Not sent." in out
    (order,) = orders_on(exchange, tick)
    assert (order["status"], order["remaining_count_fp"]) == ("resting", "10.00")


def test_an_amend_of_a_post_only_order_through_the_book_is_shown_refused_as_the_exchange_refuses_it(
        config, exchange) -> None:
    tick = ticker("amendpost")
    drive(config, gtc(tick, "b", "y", "5", "0.30", post_only="y"))
    out = drive(config, open_orders(exchange, tick, "a", "0.45", "", "y", ""))   # y: send it anyway
    assert "REFUSED: the exchange will not take this order: post-only" in flat(out)
    assert "Send this amendment?" not in out
    (order,) = orders_on(exchange, tick)
    assert (order["yes_price_dollars"], order["status"], order["fill_count_fp"]) == ("0.3000", "resting", "0.00")
    assert [r["status"] for r in journal(config) if r.get("ticker") == tick and r["event_type"] == "error"] == [
        "rejected"]


def test_a_decrease_previews_the_smaller_resting_order_and_reports_it(config, exchange) -> None:
    tick = ticker("decrease")
    drive(config, gtc(tick, "b", "y", "10", "0.30"))
    out = drive(config, open_orders(exchange, tick, "d", "4", "y"))
    shown = preview_text(out)
    assert "resting 10.00 -> 6.00" in shown and "Fills now: 0.00 of 6.00; 6.00 rest on the book at 0.3000" in shown
    order = newest_order(exchange, tick)
    assert order["remaining_count_fp"] == "6.00"
    assert_exchange_did_what_the_preview_said(out, exchange, tick, order)
    assert f"Decreased {order['order_id']} by 4.00: nothing filled; 6.00 resting at YES 0.3000" in flat(out)


# --- 4. the trader's terms --------------------------------------------------------------------------

def test_selling_yes_from_flat_is_shown_as_buying_no_with_no_proceeds(config, exchange) -> None:
    tick = ticker("sellflat")
    out = drive(config, taker(tick, "s", "y", "5", "0.42", "ioc"))
    shown = preview_text(out)
    assert ("Cost: up to $2.9000 (5.00 NO at 0.5800 or better); you hold no YES, so selling it buys NO: "
            "no proceeds") in shown
    assert "Proceeds" not in shown and "Position: flat -> 5.00 NO now" in shown
    assert_exchange_did_what_the_preview_said(out, exchange, tick, newest_order(exchange, tick))


def test_a_closing_sell_has_a_worst_case_of_its_fee_only(config, exchange) -> None:
    tick = ticker("closing")
    drive(config, taker(tick, "b", "y", "5", "0.45", "ioc"))
    out = drive(config, taker(tick, "s", "y", "5", "0.40", "ioc"))
    shown = preview_text(out)
    assert "Proceeds: at least $2.0000 (closes 5.00 YES you hold at YES 0.4000 or better)" in shown
    assert "Worst case loss: $0.0900 (fees only: it only closes what you hold)" in shown
    order = newest_order(exchange, tick)
    assert D(order["taker_fees_dollars"]) <= D("0.09")
    assert_exchange_did_what_the_preview_said(out, exchange, tick, order)


def test_a_post_only_order_on_a_maker_fee_series_shows_the_maker_fee_and_no_taker_fee_in_its_worst_case(
        config, exchange) -> None:
    out = drive(config, gtc(MAKER_FEE_MARKET, "b", "y", "10", "0.30", post_only="y"))
    shown = preview_text(out)
    # maker: 0.0175 x 10 x 0.3 x 0.7 = 0.03675 -> 0.0368; a taker fee would be 0.1470
    assert ("Fee estimate: $0.0368 (quadratic_with_maker_fees): maker $0.0368 if the resting 10.00 fill"
            in shown)
    assert "Worst case loss: $3.0400" in shown and "Fills now: 0.00 of 10.00; 10.00 rest" in shown
    order = newest_order(exchange, MAKER_FEE_MARKET)
    assert (order["status"], order["remaining_count_fp"]) == ("resting", "10.00")
    assert_exchange_did_what_the_preview_said(out, exchange, MAKER_FEE_MARKET, order)


# --- IOC and FOK -------------------------------------------------------------------------------------

def test_an_ioc_preview_says_what_fills_and_what_is_cancelled_and_the_exchange_agrees(config, exchange) -> None:
    tick = ticker("ioc")
    out = drive(config, taker(tick, "b", "n", "30", "0.58", "ioc"))
    shown = preview_text(out)
    assert ("Fills now: 25.00 of 30.00 at average 0.5800; the other 5.00 are cancelled (immediate-or-cancel)"
            in shown)
    order = newest_order(exchange, tick)
    assert (order["status"], order["remaining_count_fp"]) == ("canceled", "0.00")
    assert_exchange_did_what_the_preview_said(out, exchange, tick, order)


def test_a_fok_that_the_book_can_fill_previews_its_whole_fill_across_levels(config, exchange) -> None:
    tick = ticker("fok")
    out = drive(config, taker(tick, "b", "y", "50", "0.44", "fok"))
    assert "Fills now: 50.00 of 50.00" in preview_text(out)
    assert_exchange_did_what_the_preview_said(out, exchange, tick, newest_order(exchange, tick))


def test_a_resting_part_says_what_it_holds_and_the_balance_moves_by_fills_plus_hold(config) -> None:
    """Buy 30 YES at 0.43 GTC: 20 fill at 0.43 now, 10 rest and hold their cost plus a fee bound."""
    tick = ticker("held")
    code, out, err = command(config, ["order", "--ticker", tick, "--side", "yes", "--action", "buy",
                                      "--count", "30", "--price", "0.43"], stdin="y\n")
    assert code == 0, err
    shown = " ".join((out + err).split())
    fills_now = Decimal(re.search(r"Balance: about -\$(\d+\.\d\d) for the 20\.00 that fill now", shown).group(1))
    held = Decimal(re.search(r"Held while the 10\.00 rest: about \$(\d+\.\d\d) of available balance", shown).group(1))
    moved = re.search(r"Balance: \$[\d.]+ \(was \$[\d.]+, -\$([\d.]+)\)", shown)
    assert abs(Decimal(moved.group(1)) - (fills_now + held)) <= Decimal("0.01")

