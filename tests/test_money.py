"""Money is exact: fixed-point parsing, price grids, Kalshi's fee formula and fee rounding."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kalshi_trading.errors import UserInputError
from kalshi_trading.money import (FeeRounding, PriceGrid, cents_to_dollars, dollars_to_cents_floor, fee_rates,
                                  fmt_count, fmt_dollars, fmt_dollars_fine, parse_count, parse_dollars,
                                  trade_fee)

SUBPENNY_GRID = PriceGrid.from_api([
    {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
    {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
    {"start": "0.9000", "end": "1.0000", "step": "0.0010"},
])


def test_decimal_sums_are_exact_where_floats_are_not() -> None:
    assert 0.1 + 0.2 != 0.3
    assert parse_dollars("0.1") + parse_dollars("0.2") == parse_dollars("0.3")


@pytest.mark.parametrize("text, expected", [("0.42", D("0.42")), ("0.4200", D("0.42")),
                                            ("0.123456", D("0.123456")), (" 1 ", D("1"))])
def test_parse_dollars_accepts_fixed_point_strings(text: str, expected: D) -> None:
    assert parse_dollars(text) == expected


@pytest.mark.parametrize("bad", ["abc", "", "0.1234567", "nan", "inf", 0.42, None])
def test_parse_dollars_rejects_garbage_and_floats(bad: object) -> None:
    with pytest.raises(UserInputError):
        parse_dollars(bad)


@pytest.mark.parametrize("text, expected", [("10", D("10")), ("2.50", D("2.5")), ("0.01", D("0.01"))])
def test_parse_count_accepts_hundredths(text: str, expected: D) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize("bad", ["1.001", "x", "", "1e-3"])
def test_parse_count_rejects_more_than_two_decimals_or_text(bad: str) -> None:
    with pytest.raises(UserInputError):
        parse_count(bad)


def test_formatting_matches_the_wire() -> None:
    assert fmt_dollars(D("0.42")) == "0.4200"
    assert fmt_count(D("10")) == "10.00"
    assert cents_to_dollars(12345) == D("123.45")
    assert dollars_to_cents_floor(D("123.4599")) == 12345


@pytest.mark.parametrize("price, ok", [
    ("0.01", True), ("0.99", True), ("0.00", False), ("1.00", False), ("0.555", False),
])
def test_default_grid_is_whole_cents_strictly_inside_zero_and_one(price: str, ok: bool) -> None:
    assert PriceGrid().contains(D(price)) is ok


@pytest.mark.parametrize("price, ok", [
    ("0.055", True), ("0.001", True), ("0.555", False), ("0.55", True), ("0.905", True),
    ("0.10", True), ("0.0555", False),
])
def test_subpenny_bands_follow_their_own_step(price: str, ok: bool) -> None:
    assert SUBPENNY_GRID.contains(D(price)) is ok


def test_snap_moves_to_the_nearest_valid_price_in_the_requested_direction() -> None:
    assert SUBPENNY_GRID.snap(D("0.555"), up=True) == D("0.56")
    assert SUBPENNY_GRID.snap(D("0.555"), up=False) == D("0.55")
    assert PriceGrid().snap(D("1.2"), up=True) == D("0.99")
    assert SUBPENNY_GRID.min_price() == D("0.001")


@pytest.mark.parametrize("count, price, rate, expected", [
    ("10", "0.50", "0.07", "0.1750"),     # 0.07 x 10 x 0.25
    ("1", "0.50", "0.07", "0.0175"),
    ("3", "0.33", "0.07", "0.0465"),      # 0.046431 rounds UP to 0.0465
    ("100", "0.99", "0.0175", "0.0174"),  # 0.017325 -> 0.0174
    ("0.01", "0.50", "0.07", "0.0002"),   # 0.000175 -> 0.0002
])
def test_trade_fee_rounds_up_to_a_hundredth_of_a_cent(count: str, price: str, rate: str,
                                                      expected: str) -> None:
    assert trade_fee(D(count), D(price), D(rate)) == D(expected)


@pytest.mark.parametrize("fee_type, multiplier, taker, maker", [
    ("quadratic", 1, "0.07", "0"),
    ("quadratic_with_maker_fees", 1, "0.07", "0.0175"),
    ("quadratic_with_combo_maker_fees", 1, "0.07", "0.035"),
    ("quadratic", "0.5", "0.035", "0"),
])
def test_fee_rates_follow_the_series_fee_type(fee_type: str, multiplier: object, taker: str,
                                              maker: str) -> None:
    assert fee_rates(fee_type, multiplier) == (D(taker), D(maker))


def test_fee_rounding_moves_the_balance_by_whole_cents_and_rebates_the_accumulated_cent() -> None:
    rounding = FeeRounding()
    fees = []
    balance_moves = []
    for revenue, fee in [(D("-1.2711"), D("0.0513")), (D("-1.2711"), D("0.0513")),
                         (D("-1.2711"), D("0.0513"))]:
        cost = rounding.fill_fee(revenue, fee)
        fees.append(cost)
        balance_moves.append(revenue - cost)
    # every balance move is a whole number of cents
    assert all(move == move.quantize(D("0.01")) for move in balance_moves)
    # the floor loses 0.0076 each time; the accumulator passes a cent on fills 2 and 3
    # (0.0152, then 0.0052 + 0.0076 = 0.0128), so each of those gets 0.01 back
    assert fees == [D("0.0589"), D("0.0489"), D("0.0489")]
    assert rounding.accumulator == D("0.0028")


@pytest.mark.parametrize("amount, text", [("0.42", "0.4200"), ("0.01035", "0.010350"),
                                          ("0.349650", "0.349650"), ("-1.5", "-1.5000")])
def test_portfolio_amounts_keep_the_six_places_they_need(amount: str, text: str) -> None:
    assert fmt_dollars_fine(D(amount)) == text


@pytest.mark.parametrize("parse, text", [(parse_dollars, "1e30"), (parse_count, "1e40"),
                                         (parse_count, "9" * 29)])
def test_a_number_too_large_for_its_step_is_a_user_input_error(parse, text: str) -> None:
    """quantize() past Decimal's 28 digits raised decimal.InvalidOperation, past every handler."""
    with pytest.raises(UserInputError, match="too large"):
        parse(text)
