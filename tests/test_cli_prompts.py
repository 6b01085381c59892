"""TradingCLI and the input parsers: bad input is one `Error:` line and a re-prompt, never a crash."""

from __future__ import annotations

import io
import os
from decimal import Decimal

import pytest

from kalshi_trading.errors import UserInputError
from kalshi_trading.money import PriceGrid, PriceRange
from kalshi_trading.terminal.input_parsing import (parse_count, parse_date, parse_date_end, parse_price,
                                                   parse_ticker)
from kalshi_trading.trading_cli import Column, EndOfInput, TradingCLI, render_table

CENT_GRID = PriceGrid()
DECI_TAPER = PriceGrid([PriceRange(Decimal("0"), Decimal("0.10"), Decimal("0.001")),
                        PriceRange(Decimal("0.10"), Decimal("0.90"), Decimal("0.01")),
                        PriceRange(Decimal("0.90"), Decimal("1"), Decimal("0.001"))])


def cli_for(text: str, columns: int = 80) -> tuple[TradingCLI, io.StringIO]:
    out = io.StringIO()
    return TradingCLI(io.StringIO(text), out,
                      terminal_size=lambda: os.terminal_size((columns, 24))), out


def test_ask_reprompts_after_one_error_line_and_returns_the_parsed_value() -> None:
    cli, out = cli_for("abc\n-5\n0\n1.234\n\n7\n")
    assert cli.ask("Count", parse_count) == Decimal("7.00")
    errors = [line for line in out.getvalue().splitlines() if "Error:" in line]
    assert len(errors) == 5
    assert out.getvalue().count("Count: ") == 6


def test_end_of_input_at_a_prompt_raises_end_of_input_not_a_parse_error() -> None:
    cli, _ = cli_for("abc\n")
    with pytest.raises(EndOfInput):
        cli.ask("Count", parse_count)


@pytest.mark.parametrize("answer, expected", [("y\n", True), ("YES\n", True), ("\n", False),
                                              ("n\n", False), ("no\n", False)])
def test_confirm_defaults_to_no_and_only_y_means_yes(answer: str, expected: bool) -> None:
    cli, _ = cli_for(answer)
    assert cli.confirm("Send?") is expected


def test_confirm_reasks_on_garbage_instead_of_guessing() -> None:
    cli, out = cli_for("sure\ny\n")
    assert cli.confirm("Send?") is True
    assert "Error: answer y or n" in out.getvalue()


def test_typed_confirmation_needs_the_exact_text() -> None:
    assert cli_for("KXABC-1\n")[0].confirm_typed("Send", "KXABC-1") is True
    assert cli_for("y\n")[0].confirm_typed("Send", "KXABC-1") is False


def test_error_messages_stay_on_one_line() -> None:
    cli, out = cli_for("")
    cli.error("first\nsecond\n  third")
    assert out.getvalue() == "Error: first second third\n"


@pytest.mark.parametrize("width", [40, 60, 80, 132])
def test_tables_fit_the_terminal_width(width: int) -> None:
    columns = (Column("ticker"), Column("title", flex=True), Column("bid", align=">"))
    rows = [["KXHIGHNY-26NOV21-T60", "Will the high temperature in New York exceed 60F " * 3, "0.4200"]]
    lines = render_table(columns, rows, width)
    assert all(len(line) <= width for line in lines)
    assert "KXHIGHNY" in lines[2]


@pytest.mark.parametrize("width", [40, 60])
def test_a_whole_column_is_never_cut_it_moves_to_a_line_of_its_own(width: int) -> None:
    columns = (Column("#", align=">"), Column("ticker", whole=True), Column("title", flex=True),
               Column("bid", align=">"), Column("closes", drop=1))
    long = "KXMVENFLSINGLEGAME-S2025BFC97EF3746-375C527AB12"
    rows = [["1", long, "Jaylen Waddle 50+ yards", "0.4200", "2026-11-21 15:00"],
            ["2", "KXRAIN-T1", "Rain in Springfield", "0.1100", "2026-11-22 15:00"]]
    lines = render_table(columns, rows, width)
    assert f"1  {long}" in lines and "2  KXRAIN-T1" in lines  # the number picked sits by its ticker
    assert "…" not in "".join(line for line in lines if "KX" in line)
    assert all(len(line) <= width for line in lines if "KX" not in line)
    assert any("0.4200" in line for line in lines)


def test_a_table_that_fits_keeps_whole_columns_inline() -> None:
    columns = (Column("#", align=">"), Column("ticker", whole=True), Column("bid", align=">"))
    lines = render_table(columns, [["1", "KXRAIN-T1", "0.4200"]], 80)
    assert lines[2] == "1  KXRAIN-T1  0.4200"


def test_a_shortened_cell_ends_with_an_ellipsis() -> None:
    lines = render_table((Column("t", flex=True),), [["x" * 100]], 40)
    assert lines[2].endswith("…") and len(lines[2]) == 40


def test_cli_width_comes_from_the_injected_terminal_size() -> None:
    assert cli_for("", columns=100)[0].width == 100
    assert cli_for("", columns=10)[0].width == 40  # never narrower than a usable minimum


@pytest.mark.parametrize("text, expected", [
    ("0.42", "0.42"), ("0.4200", "0.42"), ("$0.42", "0.42"), (".42", "0.42"), ("42c", "0.42"),
    ("42 c", "0.42"), ("42¢", "0.42"), (" 0.01 ", "0.01"), ("99c", "0.99"),
])
def test_prices_in_dollars_or_cents(text: str, expected: str) -> None:
    assert parse_price(text, grid=CENT_GRID) == Decimal(expected)


@pytest.mark.parametrize("text, message", [
    ("abc", "not a price"), ("-0.42", "positive"), ("0", "between 0 and 1"), ("0.00", "between 0 and 1"),
    ("1", "in dollars"), ("42", "42c"), ("1.00", "between 0 and 1"), ("0.425", "grid"),
    ("0.42001", "4 decimal"), ("", "required"), ("0.4.2", "not a price"), ("nan", "not a price"),
])
def test_bad_prices_say_why(text: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        parse_price(text, grid=CENT_GRID)


def test_cents_are_refused_where_only_dollars_are_allowed() -> None:
    with pytest.raises(UserInputError):
        parse_price("42c", allow_cents=False)


def test_sub_penny_prices_follow_the_market_grid() -> None:
    assert parse_price("0.055", grid=DECI_TAPER) == Decimal("0.055")
    with pytest.raises(UserInputError, match="grid"):
        parse_price("0.555", grid=DECI_TAPER)


@pytest.mark.parametrize("text", ["abc", "-5", "0", "1.234", "", "1e3", "five", "0.001", "9" * 40])
def test_bad_counts_are_refused(text: str) -> None:
    with pytest.raises(UserInputError):
        parse_count(text)


@pytest.mark.parametrize("text, expected", [("10", "10.00"), ("2.5", "2.50"), ("0.01", "0.01")])
def test_counts_may_be_fractional_to_a_hundredth(text: str, expected: str) -> None:
    assert str(parse_count(text)) == expected


def test_a_bare_end_date_includes_the_whole_day() -> None:
    start, end = parse_date("2026-11-21"), parse_date_end("2026-11-21")
    assert start.isoformat() == "2026-11-21T00:00:00+00:00"
    assert end.date() == start.date() and end.hour == 23
    with pytest.raises(UserInputError):
        parse_date("21/11/2026")


@pytest.mark.parametrize("text, last", [
    ("2026-11-21T05:12", "2026-11-21T05:12:59.999999+00:00"),         # the history lists minutes
    ("2026-11-21 05:12:50", "2026-11-21T05:12:50.999999+00:00"),
    ("2026-11-21T05:12:50.238Z", "2026-11-21T05:12:50.238999+00:00"),  # a time copied from the CSV
    ("2026-11-21T05:12:50.238000Z", "2026-11-21T05:12:50.238000+00:00"),
    ("2026-11-21T06:12+01:00", "2026-11-21T05:12:59.999999+00:00"),
])
def test_an_end_time_includes_everything_up_to_the_precision_written(text: str, last: str) -> None:
    assert parse_date_end(text).isoformat() == last


def test_tickers_are_upper_cased_and_checked() -> None:
    assert parse_ticker(" kxabc-26nov21 ") == "KXABC-26NOV21"
    with pytest.raises(UserInputError):
        parse_ticker("no spaces allowed")


def test_parsers_raise_only_user_input_errors_on_random_text() -> None:
    import random
    from datetime import datetime, timezone

    from kalshi_trading.terminal.input_parsing import (parse_action, parse_expiry, parse_outcome,
                                                       parse_positive_int, parse_tif)
    rng = random.Random(5)
    alphabet = "0123456789.-+eE$c¢ mhdZT:xyn" + "Ω🙂\t²٣"   # ² and ٣ pass isdigit() but not int()
    now = datetime(2026, 11, 21, tzinfo=timezone.utc)
    parsers = [lambda t: parse_price(t, grid=DECI_TAPER), parse_count, parse_date, parse_date_end,
               parse_ticker, parse_action, parse_outcome, parse_tif, lambda t: parse_expiry(t, now=now),
               lambda t: parse_positive_int(t, maximum=9)]
    edge = ["9" * 60, "0." + "1" * 60, "1e99999", "99999999999m", "99999999999d", "9" * 30 + "c",
            "9999-99-99", "0000-01-01", "9999-12-31", "0001-01-01", "-" * 5, "." * 3, "$", "c", "²", "1²"]
    texts = edge + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    for text in texts:
        for parse in parsers:
            try:
                parse(text)
            except UserInputError:
                pass
