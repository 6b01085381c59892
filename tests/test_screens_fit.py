"""Screens that fit an 80x24 terminal, driven through the real menu and subcommands against a
loopback paper exchange: the empty portfolio, columns left out and said so, the time in force
an order was placed with, lines wrapped between words, the one-line menu after a screen, close
times to the second, an event's markets by strike, whole titles, the trader's own levels marked
in the book, and the word about resting orders on the way out."""

from __future__ import annotations

import io
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cli_harness import (Keys, command, config_for, drive, make_universe,  # noqa: F401 (autouse fixture)
                         ticker, work_in_tmp)

from kalshi_trading.client.rate_limiter import RateLimiter
from kalshi_trading.main_app import MainApp
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.paper.universe import synthetic_market, synthetic_series
from kalshi_trading.terminal.order_screens import ORDER_COLUMNS
from kalshi_trading.trading_cli import Column, render_table

LONG = "a-long-market-name-that-pushes-the-columns-out"
NAMES = ["fitorders", "fittif80", "fittif120", "fitioc", "fitbook", "fitjson", "fitwrap", LONG]
LADDER_SERIES, LADDER_EVENT = "KXLADDER", "KXLADDER-26DEC31"
STRIKES = ["1000", "500", "50", "100", "10", "1"]      # the exchange's (unhelpful) order
TITLED = "KXLADDER-26DEC31-TITLED"
TITLE = "Will the Springfield city council pass the harbour bill before the end of the year?"
CLOSE = (datetime.now(timezone.utc) + timedelta(days=20)).replace(hour=16, minute=34, second=25,
                                                                   microsecond=0)


def fit_universe(now: datetime | None = None):
    """The harness universe plus a ladder of strikes listed out of order, a market closing at
    16:34:25 and one with a long title."""
    now = now or datetime.now(timezone.utc)
    uni = make_universe(NAMES, now=now)
    uni.series[LADDER_SERIES] = synthetic_series(LADDER_SERIES, title="Ladder test markets")
    uni.events[LADDER_EVENT] = {"event_ticker": LADDER_EVENT, "series_ticker": LADDER_SERIES,
                                "title": "How many?", "sub_title": "", "mutually_exclusive": False,
                                "collateral_return_type": "binary", "settlement_sources": []}
    book = uni.books[ticker(NAMES[0])]
    for strike in STRIKES:
        tick = f"{LADDER_EVENT}-{strike}"
        uni.markets[tick] = synthetic_market(tick, LADDER_EVENT, now=now, title=f"At least {strike}",
                                             close_in=timedelta(days=20))
        uni.markets[tick]["floor_strike"] = int(strike)
        uni.markets[tick]["close_time"] = CLOSE.isoformat().replace("+00:00", "Z")
        uni.books[tick] = book
    uni.markets[TITLED] = synthetic_market(TITLED, LADDER_EVENT, now=now, title=TITLE,
                                           close_in=timedelta(days=20))
    uni.books[TITLED] = book
    return uni


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fit")
    with start_paper_exchange(root / "exchange", universe=fit_universe()) as running:
        yield running


@pytest.fixture()
def config(exchange, tmp_path: Path):
    return config_for(exchange, tmp_path)


@pytest.fixture()
def fresh(tmp_path: Path):
    """An exchange of its own: an account that never traded."""
    with start_paper_exchange(tmp_path / "fresh-exchange", universe=make_universe(["new"])) as running:
        yield config_for(running, tmp_path)


def place(tick: str, *answers: str) -> str:
    return "\n".join(["3", tick, *answers]) + "\n"


def gtc(tick: str, outcome: str = "y", price: str = "0.30") -> str:
    """Menu keystrokes for a resting GTC buy of 2 contracts."""
    return place(tick, "b", outcome, "2", price, "", "", "", "", "y")


def screen(out: str, heading: str) -> list[str]:
    """The lines of the screen under `heading`, up to the next menu prompt."""
    return out.split(f"== {heading} ==", 1)[1].split("Choose: ", 1)[0].splitlines()[1:]


def resting(exchange) -> int:
    with exchange.engine.lock:
        return sum(1 for o in exchange.engine.list_orders(exchange.key_id) if o.get("status") == "resting")


# --- 1. tables that fit, visibly --------------------------------------------------------------

def test_a_new_account_sees_one_sentence_instead_of_a_broken_table(fresh) -> None:
    lines = screen(drive(fresh, "5\n0\n", columns=80), "Portfolio")
    assert any("No positions, fills or settlements yet" in line for line in lines)
    assert not any(line.strip() in ("Ticker", "Total") for line in lines)   # no headers over zeros
    assert all(len(line) <= 80 for line in lines)


def test_columns_left_out_at_80_columns_are_named_under_the_open_orders(config) -> None:
    out = drive(config, gtc(ticker(LONG)) + "4\n\n0\n", columns=80)
    lines = screen(out, "Open orders")
    (note,) = [line for line in lines if line.startswith("(hidden at this width:")]
    hidden = [name.strip() for name in note.split(":", 1)[1].split(";")[0].split(",")]
    head = " ".join(lines[:2])
    assert hidden and all(name not in head for name in hidden)
    assert all(col.header in head or col.header in hidden for col in ORDER_COLUMNS)


def test_the_orders_command_names_hidden_columns_and_points_to_json(config, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    drive(config, gtc(ticker(LONG)) + "0\n")
    code, out, _ = command(config, ["orders", "--ticker", ticker(LONG)])
    assert code == 0
    assert re.search(r"^\(hidden at this width: .+; widen the terminal or use --json\)$", out, re.M)


@pytest.mark.parametrize("columns", [80, 120])
def test_open_orders_show_the_time_in_force_they_were_placed_with(config, columns) -> None:
    tick = ticker(f"fittif{columns}")
    out = drive(config, gtc(tick) + "4\n\n0\n", columns=columns)
    lines = screen(out, "Open orders")
    at = next(n for n, line in enumerate(lines) if line.rstrip().endswith(tick) or f"{tick} " in line)
    row = lines[at] if "bid" in lines[at] else lines[at + 1]     # beside the ticker, or under it
    assert " tif " in f" {lines[0]} {lines[1]} " and re.search(r"\sgtc\s", row)


def test_orders_json_says_the_time_in_force_the_log_knows(config) -> None:
    ioc = place(ticker("fitioc"), "b", "y", "1", "0.45", "ioc", "", "y")
    drive(config, gtc(ticker("fitjson")) + ioc + "0\n")
    for name, expected in (("fitjson", "good_till_canceled"), ("fitioc", "immediate_or_cancel")):
        tick = ticker(name)
        code, out, _ = command(config, ["orders", "--ticker", tick, "--json"])
        assert code == 0 and f'"time_in_force": "{expected}"' in out


def test_a_long_line_wraps_between_words_never_inside_one(config) -> None:
    out = drive(config, "1\n\n0\n", columns=60)
    help_lines = out.split("== Markets ==\n", 1)[1].split("Search by:", 1)[0].splitlines()
    assert len(help_lines) == 2 and all(len(line) <= 60 for line in help_lines)
    words = " ".join(help_lines).split()
    assert words == "k) keyword s) series e) event t) status p) popular series Enter) back".split()


def test_a_figure_is_never_cut_even_when_the_columns_cannot_sit_side_by_side() -> None:
    columns = [Column("ticker", whole=True)] + [Column(f"figure {n}", align=">") for n in range(8)]
    figures = [f"{n}1234.5678" for n in range(8)]
    lines = render_table(columns, [["KXRAIN-T1", *figures]], 40)
    assert all(len(line) <= 40 for line in lines)
    assert all(any(figure in line for line in lines) for figure in figures)


# --- 2. the menu after a screen -----------------------------------------------------------------

def test_after_a_screen_the_menu_is_one_line_that_fits_80_columns(config) -> None:
    out = drive(config, "8\n0\n", columns=80)
    after = out.split("== Settings", 1)[1]
    menu = after.split("Choose: ")[0].rstrip().splitlines()[-1]
    assert menu.startswith("1 Mkts 2 Book 3 Order") and menu.endswith("? menu") and len(menu) <= 80
    assert "1) Markets" not in after


@pytest.mark.parametrize("key", ["?", ""])
def test_a_question_mark_or_an_empty_line_shows_the_full_menu_again(config, key) -> None:
    out = drive(config, f"8\n{key}\n0\n", columns=80)
    assert out.count("1) Markets") == 2     # at the start, and on request


def test_a_screen_and_the_menu_after_it_fit_an_80x24_terminal(fresh) -> None:
    out = drive(fresh, "8\n5\n0\n", columns=80)
    for heading in ("Settings (read-only; change them in .env)", "Portfolio"):
        shown = out.split(f"== {heading} ==", 1)[1].split("Choose: ", 1)[0].splitlines()
        assert len(shown) + 1 <= 24   # the screen, the menu and the prompt line


# --- 3. times, strikes, titles, the book, leaving ------------------------------------------------

def test_close_times_show_their_seconds_in_the_list_and_the_details(config) -> None:
    out = drive(config, f"1\ne\n{LADDER_EVENT}\n1\n0\n", columns=120)
    moment = CLOSE.strftime("%Y-%m-%d 16:34:25")
    assert any(moment in line and f"{LADDER_EVENT}-1" in line for line in out.splitlines())
    assert f"Closes:      {moment}Z" in out


def test_the_markets_of_an_event_are_listed_by_strike(config) -> None:
    out = drive(config, f"1\ne\n{LADDER_EVENT}\n\n0\n", columns=120)
    listed = re.findall(rf"^\s*\d+\s+{LADDER_EVENT}-(\d+)\s", out, re.M)
    assert listed == ["1", "10", "50", "100", "500", "1000"]


def test_a_title_is_shown_whole_when_there_is_room(config) -> None:
    out = drive(config, f"1\ne\n{LADDER_EVENT}\n\n0\n", columns=200)
    assert any(TITLED in line and TITLE in line for line in out.splitlines())


@pytest.mark.parametrize("columns", [80, 100])
def test_a_title_too_long_for_its_column_wraps_onto_a_second_line(config, columns) -> None:
    out = drive(config, f"1\ne\n{LADDER_EVENT}\n\n0\n", columns=columns)
    lines = out.splitlines()
    at = next(n for n, line in enumerate(lines) if TITLED in line)
    block = " ".join(lines[at:at + 3])
    assert {"Will", "Springfield", "city"} <= set(block.replace("…", " ").split())   # two lines' worth
    assert "…" in block and all(len(line) <= columns for line in lines[at:at + 3])


def test_the_book_marks_the_levels_where_the_trader_rests(config) -> None:
    tick = ticker("fitbook")
    out = drive(config, gtc(tick, "y", "0.41") + gtc(tick, "n", "0.56") + f"2\n{tick}\n\n\n0\n", columns=80)
    book = out.split(f"Order book {tick}", 1)[1]
    assert re.search(r"0\.4100\s+\S+\*", book)     # the YES bid at 0.41 ...
    assert re.search(r"0\.5900\s+\S+\*", book)     # ... is the NO ask at 0.59
    assert re.search(r"0\.5600\s+\S+\*", book)     # the NO bid at 0.56 is the YES ask at 0.44
    assert re.search(r"0\.4400\s+\S+\*", book)
    assert "You have 2 resting orders here: * marks the levels where they rest" in book
    assert not re.search(r"0\.4200\s+\S+\*", book)


@pytest.mark.parametrize("leave", ["0\n", "", "^C\n"], ids=["zero", "ctrl-d", "ctrl-c"])
def test_leaving_with_resting_orders_says_how_many_stay_once(config, exchange, leave) -> None:
    drive(config, gtc(ticker("fitorders")) + "0\n")
    out = io.StringIO()
    app = MainApp.build(config, stdin=Keys(f"8\n{leave}"), stdout=out, rate_limiter=RateLimiter("prestige"),
                        terminal_size=lambda: os.terminal_size((80, 24)))
    try:
        assert app.run() == 0
    finally:
        app.close()
    count = resting(exchange)
    assert out.getvalue().count(f"You have {count} resting orders (they stay on the exchange)") == 1
    assert out.getvalue().rstrip().endswith("Bye.")


def test_leaving_without_resting_orders_says_nothing_about_them(fresh) -> None:
    out = drive(fresh, "0\n", columns=80)
    assert "resting order" not in out and out.rstrip().endswith("Bye.")
