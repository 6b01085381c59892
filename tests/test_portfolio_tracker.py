"""PortfolioTracker against a tiny hand-written client (tests/portfolio_fakes.py; passed in, nothing patched)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from portfolio_fakes import FakeClient, fill, line, market, position, report_for, settlement

from kalshi_trading.portfolio.views import BLOCKS, sparkline
from kalshi_trading.portfolio_tracker import render_portfolio


def test_marks_at_mid_then_last_then_no_price() -> None:
    client = FakeClient(fills=[
        fill("1", "MID", "bid", "10", "0.40", "0.10"),
        fill("2", "LAST", "ask", "4", "0.70"),          # 4 NO bought at 0.30
        fill("3", "NOPX", "bid", "2", "0.50")],
        markets=[market("MID", bid="0.44", ask="0.48"), market("LAST", last="0.60"), market("NOPX")])
    report = report_for(client)
    mid, last, nopx = line(report, "MID"), line(report, "LAST"), line(report, "NOPX")
    assert (mid.mark, mid.unrealized) == (D("0.46"), D("0.50"))        # 0.06*10 - 0.10 opening fee
    assert (last.mark, last.unrealized) == (D("0.60"), D("0.40"))      # (0.70-0.60)*4
    assert last.position == D("-4") and last.exposure == D("1.20")
    assert nopx.mark is None and nopx.unrealized is None
    assert report.unrealized == D("0.90")                              # no-price market excluded
    assert any("NOPX" in w and "no price" in w for w in report.warnings)


def test_determined_market_is_marked_at_its_settlement_value() -> None:
    client = FakeClient(fills=[fill("1", "SC", "bid", "4", "0.25"), fill("2", "NO", "ask", "3", "0.60")],
                        markets=[market("SC", status="determined", result="scalar", value="0.4559"),
                                 market("NO", bid="0.10", ask="0.20", status="determined", result="no")])
    report = report_for(client)
    assert (line(report, "SC").mark, line(report, "SC").unrealized) == (D("0.4559"), D("0.8236"))
    assert (line(report, "NO").mark, line(report, "NO").unrealized) == (D("0"), D("1.80"))


def test_settled_markets_combine_fills_and_settlement_without_double_counting() -> None:
    client = FakeClient(
        fills=[fill("1", "A", "bid", "10", "0.40", "0.17"), fill("2", "A", "ask", "4", "0.50", "0.05"),
               fill("3", "B", "ask", "5", "0.80", "0.03")],                # 5 NO at 0.20
        settlements=[settlement("A", "yes", "6.00", "2.4000", "0", "0", 600, "0.2200", 100),
                     settlement("B", "yes", "0", "0", "5.00", "1.0000", 0, "0.0300", 100)])
    report = report_for(client)
    # A: closed 4 at 0.50: 0.40 - 0.068 - 0.05 = 0.282; settled 6 at 1: 6 - 2.40 - 0.102 = 3.498
    assert line(report, "A").realized == D("3.78")
    assert line(report, "B").realized == D("-1.03")                  # NO lost its 1.00 and the fee
    assert report.realized == D("2.75") and report.fees == D("0.25")
    assert all(m.settled and m.position == 0 for m in report.markets)
    assert report.warnings == ()


def test_missing_fills_before_history_window_let_the_settlement_win_with_a_warning() -> None:
    # the account bought 10 YES at 0.30 long ago; only a later buy of 5 at 0.50 is visible
    client = FakeClient(
        fills=[fill("2", "OLD", "bid", "5", "0.50", "0.09")],
        settlements=[settlement("OLD", "yes", "15.00", "5.5000", "0", "0", 1500, "0.2400", 100)])
    report = report_for(client)
    assert line(report, "OLD").realized == D("9.26")                 # 15 - 5.50 - 0.24
    assert line(report, "OLD").fees == D("0.24")
    (warning,) = report.warnings
    # the fills alone said 5 - 2.50 - 0.09 = 2.41, so the settlement added 6.85
    assert "OLD" in warning and "+6.8500" in warning and "15.00" in warning


def test_a_failing_fills_page_is_reported_and_the_rest_still_shows() -> None:
    client = FakeClient(fills=[fill("1", "A", "bid", "1", "0.50"), fill("2", "B", "bid", "1", "0.50")],
                        fail_fills_after=1, positions=[position("B", "1.00", "0.5000")],
                        markets=[market("A", last="0.55"), market("B", last="0.60")])
    report = report_for(client)
    assert any(w.startswith("fills: stopped after 1 records") for w in report.warnings)
    assert line(report, "A").unrealized == D("0.05")
    assert line(report, "B").position == D("1") and line(report, "B").unrealized == D("0.10")


def test_a_failing_market_is_reported_and_listed_without_price() -> None:
    client = FakeClient(fills=[fill("1", "BAD", "bid", "1", "0.50"), fill("2", "OK", "bid", "1", "0.50")],
                        markets=[market("OK", last="0.52")], broken_markets={"BAD"})
    report = report_for(client)
    assert line(report, "BAD").mark is None and line(report, "OK").unrealized == D("0.02")
    assert any("BAD: market data unavailable" in w for w in report.warnings)


@pytest.mark.parametrize("exchange_realized, exchange_fees, warned", [
    ("0.5000", "0.0300", False),    # the exchange reports realized before fees
    ("0.4800", "0.0300", False),    # ... or after them
    ("0.4500", "0.0300", True),     # neither: off by more than a cent
    ("0.5000", "0.0500", True),     # fees differ
])
def test_cross_check_against_the_exchange_position(exchange_realized, exchange_fees, warned) -> None:
    client = FakeClient(fills=[fill("1", "X", "bid", "10", "0.40", "0.01"),
                               fill("2", "X", "ask", "5", "0.50", "0.02")],
                        positions=[position("X", "5.00", "2.0000", exchange_realized, exchange_fees)],
                        markets=[market("X", bid="0.40", ask="0.40")])
    report = report_for(client)
    assert line(report, "X").realized == D("0.475")                 # 0.50 - 0.005 - 0.02
    assert any(w.startswith("X:") for w in report.warnings) is warned


def test_exchange_position_wins_when_fills_do_not_add_up() -> None:
    client = FakeClient(fills=[fill("1", "X", "bid", "2", "0.40")],
                        positions=[position("X", "-3.00", "1.8000")],    # 3 NO at 0.60 -> YES 0.40
                        markets=[market("X", bid="0.30", ask="0.30")])
    report = report_for(client)
    x = line(report, "X")
    assert (x.position, x.average_cost, x.unrealized) == (D("-3"), D("0.40"), D("0.30"))
    assert any("X: the exchange holds -3.00" in w for w in report.warnings)


def test_historical_fills_are_read_when_the_cutoff_says_so() -> None:
    old = fill("0", "H", "bid", "2", "0.20", when="2026-06-01T00:00:00.000Z")
    client = FakeClient(cutoff="2026-09-01T00:00:00Z", historical=[old],
                        fills=[fill("1", "H", "ask", "2", "0.30"), old],          # overlap is deduped
                        markets=[market("H", last="0.3")])
    report = report_for(client)
    assert line(report, "H").realized == D("0.20") and report.fills_read == 2
    assert any("historical" in call for call in client.calls)


def test_json_document_has_the_documented_shape() -> None:
    client = FakeClient(fills=[fill("1", "A", "bid", "1.5", "0.4", "0.0105")],
                        positions=[position("A", "1.50", "0.6000", "0", "0.0105")],
                        markets=[market("A", bid="0.41", ask="0.43")])
    document = report_for(client).to_json()
    assert document == {
        "realized_pnl_dollars": "0.0000", "unrealized_pnl_dollars": "0.0195",
        "fees_paid_dollars": "0.0105", "warnings": [],
        "markets": [{"ticker": "A", "position_fp": "1.50", "average_cost_dollars": "0.4000",
                     "mark_dollars": "0.4200", "realized_pnl_dollars": "0.0000",
                     "unrealized_pnl_dollars": "0.0195", "fees_paid_dollars": "0.0105",
                     "settled": False}]}


def test_daily_realized_and_equity_curve_cover_the_last_30_days() -> None:
    client = FakeClient(fills=[
        fill("1", "A", "bid", "10", "0.40", when="2026-10-01T00:00:00.000Z"),
        fill("2", "A", "ask", "5", "0.50", when="2026-10-02T00:00:00.000Z"),    # +0.50, before window
        fill("3", "A", "ask", "5", "0.30", when="2026-11-20T10:00:00.000Z")],   # -0.50
        markets=[market("A", last="0.5")])
    report = report_for(client)
    assert len(report.daily) == 30 and report.daily[-1].day.isoformat() == "2026-11-21"
    nov20 = next(d for d in report.daily if d.day.isoformat() == "2026-11-20")
    assert (nov20.realized, nov20.cumulative) == (D("-0.50"), D("0.00"))
    assert report.daily[0].cumulative == D("0.50")
    screen = render_portfolio(report, 80)
    assert all(len(text) <= 80 for text in screen)
    assert any("2026-11-20" in text and "-0.5000" in text for text in screen)
    equity = next(text for text in screen if "equity" in text)
    assert BLOCKS[-1] in equity and BLOCKS[0] in equity


def test_screen_lists_positions_totals_and_warnings_within_width() -> None:
    client = FakeClient(fills=[fill("1", "KXVERYLONGTICKER-26NOV21-B12345", "bid", "3", "0.25", "0.01")],
                        markets=[market("KXVERYLONGTICKER-26NOV21-B12345")])
    screen = render_portfolio(report_for(client), 60)
    assert all(len(text) <= 60 for text in screen)
    assert any(text.startswith("Total") for text in screen)
    assert any("no price" in text for text in screen)
    assert any(text.startswith("  ! ") for text in screen)


def test_sparkline_scales_between_low_and_high() -> None:
    assert sparkline([D("0"), D("7"), D("3.5")]) == BLOCKS[0] + BLOCKS[7] + BLOCKS[4]
    assert sparkline([D("1"), D("1")]) == BLOCKS[0] * 2


def test_scalar_settlement_uses_the_markets_exact_value_and_the_revenue_actually_paid() -> None:
    # 4 YES at 0.25 settle at 0.4559: exact payout 1.8236, revenue floored to 182 cents, and the
    # record's `value` is whole cents (45), so only the market's value explains the revenue
    client = FakeClient(
        fills=[fill("1", "SC", "bid", "4", "0.25", "0.0525")],
        settlements=[settlement("SC", "scalar", "4.00", "1.0000", "0", "0", 182, "0.0525", 45)],
        markets=[market("SC", status="finalized", result="scalar", value="0.4559")])
    report = report_for(client)
    assert report.warnings == ()
    assert line(report, "SC").realized == D("0.7675")       # 1.82 - 1.00 - 0.0525
    assert line(report, "SC").mark == D("0.4559")


def test_a_flat_position_settles_to_its_earlier_realized_pnl() -> None:
    client = FakeClient(
        fills=[fill("1", "F", "ask", "3", "0.60", "0.02"), fill("2", "F", "bid", "3", "0.50", "0.02")],
        settlements=[settlement("F", "no", "0", "0", "0", "0", 0, "0.0400", 0)])
    report = report_for(client)
    assert report.warnings == () and line(report, "F").realized == D("0.26")   # 0.30 - 0.04
