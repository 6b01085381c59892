"""Screens that link: from a market's details or its book, `o` opens the order form on that market;
the ticker used last is the default at the next ticker prompt. Driven through the real menu.

Each test stops feeding the menu once it has seen what it checks: the end of input at the order
form's first question is the end of the test (the menu goes back, then leaves).
"""

from __future__ import annotations

import pytest
from cli_harness import CLOSED, config_for, drive, terminal_exchange, ticker, work_in_tmp  # noqa: F401

BOOK, DETAILS, DEFAULT, BACK, BAD = (ticker(n) for n in ("lbook", "ldetails", "ldefault", "lback", "lbad"))
ORDER_LINK = "o) order this market"


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory):
    with terminal_exchange(tmp_path_factory, "links", ["lbook", "ldetails", "ldefault", "lback", "lbad"]) as running:
        yield running


@pytest.fixture
def config(exchange, tmp_path):
    return config_for(exchange, tmp_path)


def after(output: str, marker: str) -> str:
    """What the menu printed after the first `marker`."""
    assert marker in output
    return output.split(marker, 1)[1]


def test_o_after_the_book_opens_the_order_form_on_that_market(config) -> None:
    out = drive(config, f"2\n{BOOK}\n\no\n", columns=80)
    form = after(after(out, ORDER_LINK), "== Place order ==")
    assert form.lstrip("\n").startswith(f"{BOOK}: Terminal test market lbook")
    assert "Market ticker" not in form          # the form did not ask which market


def test_o_after_a_markets_details_opens_the_order_form_on_that_market(config) -> None:
    out = drive(config, "1\nk\nldetails\n1\no\n", columns=80)
    assert f"Ticker:      {DETAILS}" in out
    form = after(after(out, ORDER_LINK), "== Place order ==")
    assert form.lstrip("\n").startswith(f"{DETAILS}: Terminal test market ldetails")
    assert "Market ticker" not in form


def test_enter_at_the_link_goes_back_to_the_menu(config) -> None:
    out = drive(config, f"2\n{BACK}\n\n\n0\n", columns=80)
    assert ORDER_LINK in out and "== Place order ==" not in out


def test_another_key_at_the_link_is_one_error_and_the_question_again(config) -> None:
    out = drive(config, f"2\n{BAD}\n\nx\n\n0\n", columns=80)
    assert after(out, ORDER_LINK).count(f"Error: type o to order {BAD}, or press Enter to go back (not 'x')") == 1
    assert after(out, ORDER_LINK).count("Choice: ") == 2
    assert "== Place order ==" not in out


def test_a_closed_market_offers_no_order_link(config) -> None:
    out = drive(config, f"2\n{CLOSED}\n\n0\n", columns=80)
    assert f"Order book {CLOSED}" in out and ORDER_LINK not in out


def test_the_ticker_used_last_is_the_default_and_enter_takes_it(config) -> None:
    out = drive(config, f"2\n{DEFAULT}\n\n\n3\n\n", columns=80)
    form = after(out, "== Place order ==")
    assert f"Market ticker [{DEFAULT}]: " in form
    assert f"{DEFAULT}: Terminal test market ldefault" in form


def test_the_first_ticker_prompt_of_a_session_has_no_default(config) -> None:
    out = drive(config, "2\n\n0\n", columns=80)
    assert "Market ticker: " in out and "Market ticker [" not in out
    assert "Error: ticker is required" in out
