"""The portfolio screen fits any terminal width without losing a figure, and `pnl --json` keeps
the sub-penny digits a fractional count needs."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from portfolio_fakes import FakeClient, fill, market, report_for, settlement

from kalshi_trading.portfolio.views import BLOCKS, HEADERS
from kalshi_trading.portfolio_tracker import render_portfolio

LONG = "KXHIGHNY-26NOV21-B45.5"


def _report():
    return report_for(FakeClient(
        fills=[fill("1", LONG, "bid", "10", "0.40", "0.10", when="2026-11-01T00:00:00.000Z"),
               fill("2", LONG, "ask", "4", "0.55", "0.04", when="2026-11-10T00:00:00.000Z"),
               fill("3", "LAST", "ask", "4", "0.70"),
               fill("4", "A", "bid", "10", "0.40", "0.17", when="2026-11-15T00:00:00.000Z")],
        settlements=[settlement("A", "yes", "10.00", "4.0000", "0", "0", 1000, "0.1700", 100)],
        markets=[market(LONG, bid="0.44", ask="0.48"), market("LAST", last="0.60")]))


# every cell of the LONG row: 6 held at 0.40, mid 0.46, (0.06 x 6) - 0.06 fee left = 0.30,
# realized 0.60 - 0.04 - 0.04 = 0.52, fees 0.14; the totals: 0.30 + 0.40, 0.52 + 5.83, 0.31
FIGURES = ["6.00", "0.4000", "0.4600 mid", "0.3000", "0.5200", "0.1400", "0.7000", "6.3500", "0.3100"]


@pytest.mark.parametrize("width", [1, 8, 20, 30, 39, 52, 60, 79, 80, 100, 200])
def test_no_line_is_wider_than_the_terminal(width: int) -> None:
    screen = render_portfolio(_report(), width)
    assert screen and all(len(text) <= width for text in screen)


@pytest.mark.parametrize("width", [30, 45, 60, 80, 120])
def test_every_figure_and_header_stays_on_screen(width: int) -> None:
    text = "\n".join(render_portfolio(_report(), width))
    for figure in FIGURES + list(HEADERS) + [LONG]:
        assert figure in text, (width, figure)


def test_wide_screen_puts_each_market_on_one_line_and_narrow_stacks_it() -> None:
    wide = render_portfolio(_report(), 100)
    assert any(text.startswith(LONG) and text.endswith("0.1400") for text in wide)
    narrow = render_portfolio(_report(), 60)
    at = narrow.index(LONG)                                   # the ticker alone on its line
    assert narrow[at + 1].split() == ["6.00", "YES", "0.4000", "0.4600", "mid", "0.3000", "0.5200", "0.1400"]


def test_a_no_position_reads_in_no_prices() -> None:
    """Bought 10 NO at 0.64 (an ask at YES 0.36); the YES mid is 0.38, so NO is worth 0.62."""
    report = report_for(FakeClient(fills=[fill("1", "KXNOPOS-26NOV21-T1", "ask", "10", "0.36", "0")],
                                   markets=[market("KXNOPOS-26NOV21-T1", bid="0.36", ask="0.40")]))
    (row,) = [text for text in render_portfolio(report, 100) if text.startswith("KXNOPOS-26NOV21-T1")]
    assert row.split()[1:6] == ["10.00", "NO", "0.6400", "0.6200", "mid"]
    (line,) = report.to_json()["markets"]
    assert (line["position_fp"], line["average_cost_dollars"]) == ("-10.00", "0.3600")  # API terms


def test_narrow_sparklines_keep_the_most_recent_days() -> None:
    report = _report()
    wide = next(t for t in render_portfolio(report, 100) if t.startswith("  equity"))
    narrow = next(t for t in render_portfolio(report, 25) if t.startswith("  equity"))
    assert len(wide.split()[1]) == 30 and len(narrow.split()[1]) == 15
    assert narrow.endswith(BLOCKS[-1])                        # today, the settlement day, is the top


def test_json_keeps_six_places_for_fractional_counts_at_sub_penny_prices() -> None:
    report = report_for(FakeClient(fills=[fill("1", "F", "bid", "0.37", "0.1234", "0.000013"),
                                          fill("2", "F", "ask", "0.37", "0.1251")]))
    document = json.loads(json.dumps(report.to_json()))
    # 0.37 x (0.1251 - 0.1234) = 0.000629, less the 0.000013 fee = 0.000616
    assert document["realized_pnl_dollars"] == "0.000616"
    assert document["fees_paid_dollars"] == "0.000013"
    assert document["markets"][0]["realized_pnl_dollars"] == "0.000616"
    assert D(document["realized_pnl_dollars"]) == report.realized


def test_a_ticker_that_does_not_fit_its_column_is_never_cut() -> None:
    """On a terminal a little too narrow for them, two XRP tickers that differ only in their last
    characters both show whole (each on a line of its own, the figures below in their columns);
    a short one stays inline. (They used to read `KXXRP15M-26AUG170500-…`.)"""
    first, second = "KXXRP15M-26AUG170500-00", "KXXRP15M-26AUG170515-15"
    report = report_for(FakeClient(
        fills=[fill("1", first, "bid", "3", "0.11", "0.03"), fill("2", second, "ask", "2", "0.36", "0.04"),
               fill("3", "A", "bid", "1", "0.40", "0.01")],
        markets=[market(first, bid="0.10", ask="0.12"), market(second, bid="0.35", ask="0.37"),
                 market("A", bid="0.40", ask="0.42")]))
    screen = render_portfolio(report, 76)
    assert not any("…" in text for text in screen) and all(len(text) <= 76 for text in screen)
    header = next(text for text in screen if text.startswith("Ticker"))
    for tick in (first, second):
        figures = screen[screen.index(tick) + 1]
        assert figures.startswith(" ") and len(figures) == len(header)      # aligned under the headers
    assert any(text.startswith("A ") and text.endswith("0.0100") for text in screen)
