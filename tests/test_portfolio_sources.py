"""PortfolioTracker: settlements cross-checked against their records, sources and markets that fail,
and the typed and raw fill paths giving one and the same report. Hand-written fake clients only."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any, Iterator

import pytest
from portfolio_fakes import FakeClient, fill, line, market, position, report_for, settlement

from kalshi_trading.errors import TransientApiError
from kalshi_trading.models import Market
from kalshi_trading.portfolio_tracker import render_portfolio

# (fills, result, record: yes, yes cost, no, no cost, revenue cents, fee, value cents), realized
SETTLED = [
    pytest.param([fill("1", "S", "bid", "10", "0.40", "0.17")], "yes",
                 ("10.00", "4.0000", "0", "0", 1000, "0.1700", 100), None, D("5.83"),
                 id="yes-lot-yes-result"),      # 10 x 1 - 4.00 - 0.17
    pytest.param([fill("1", "S", "ask", "10", "0.70", "0.15")], "no",
                 ("0", "0", "10.00", "3.0000", 1000, "0.1500", 0), None, D("6.85"),
                 id="no-lot-no-result"),        # NO bought at 0.30: 10 x 1 - 3.00 - 0.15
    pytest.param([fill("1", "S", "ask", "10", "0.70", "0.15")], "yes",
                 ("0", "0", "10.00", "3.0000", 0, "0.1500", 100), None, D("-3.15"),
                 id="no-lot-yes-result"),       # 0 - 3.00 - 0.15
    pytest.param([fill("1", "S", "bid", "2.5", "0.25", "0.03")], "scalar",
                 ("2.50", "0.6250", "0", "0", 113, "0.0300", 45), "0.4559", D("0.475"),
                 id="yes-lot-scalar"),          # 2.5 x 0.4559 = 1.13975 paid as 113 cents: 1.13 - 0.625 - 0.03
    pytest.param([fill("1", "S", "ask", "4", "0.25", "0.05")], "scalar",
                 ("0", "0", "4.00", "3.0000", 217, "0.0500", 45), "0.4559", D("-0.88"),
                 id="no-lot-scalar"),           # NO gets 1 - 0.4559: 4 x 0.5441 = 2.1764 -> 217 cents: 2.17 - 3.00 - 0.05
]


@pytest.mark.parametrize("fills, result, record, value, realized", SETTLED)
def test_open_lots_settle_and_agree_with_the_settlement_record(fills, result, record, value,
                                                              realized) -> None:
    markets = [market("S", status="finalized", result=result, value=value)] if value else []
    client = FakeClient(fills=fills, settlements=[settlement("S", result, *record)], markets=markets)
    report = report_for(client)
    assert report.warnings == ()
    settled = line(report, "S")
    assert (settled.realized, settled.position, settled.unrealized, settled.settled) == (realized, 0, 0, True)
    assert report.realized == realized and report.fees == D(record[5])    # fees once, not twice


def test_a_settlement_whose_revenue_disagrees_wins_and_names_the_difference() -> None:
    # the fills say 10 YES at 0.40 paid 10.00; the record says it paid 9.00 on the same cost
    client = FakeClient(fills=[fill("1", "S", "bid", "10", "0.40", "0.17")],
                        settlements=[settlement("S", "yes", "10.00", "4.0000", "0", "0", 900, "0.1700", 100)])
    report = report_for(client)
    assert line(report, "S").realized == D("4.83")                    # 9.00 - 4.00 - 0.17
    (warning,) = report.warnings
    assert warning.startswith("S: settlement disagrees") and "-1.0000" in warning


class FailingClient(FakeClient):
    """A FakeClient whose named calls raise: an API error after retries, or a plain bug."""

    def __init__(self, fail: str, error: Exception, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail, self.error = fail, error

    def _maybe_fail(self, name: str) -> None:
        if name == self.fail:
            raise self.error

    def iter_positions(self, **kwargs: Any) -> Iterator[Any]:
        self._maybe_fail("positions")
        return super().iter_positions(**kwargs)

    def iter_settlements(self, **kwargs: Any) -> Iterator[Any]:
        self._maybe_fail("settlements")
        return super().iter_settlements(**kwargs)

    def get_historical_cutoff(self) -> Any:
        self._maybe_fail("cutoff")
        return super().get_historical_cutoff()

    def iter_fills_raw(self, *, historical: bool = False, max_ts: Any = None) -> Iterator[dict]:
        if historical:
            self._maybe_fail("historical")
        return super().iter_fills_raw(historical=historical, max_ts=max_ts)

    def get_market(self, ticker: str) -> Market:
        self._maybe_fail(f"market {ticker}")
        return super().get_market(ticker)


def _account(fail: str, error: Exception) -> FailingClient:
    """OPEN: 2 YES at 0.40 marked 0.50; GONE: settled yes (10 YES at 0.40); OLD: one archived fill."""
    return FailingClient(
        fail, error, cutoff="2026-09-01T00:00:00Z",
        fills=[fill("1", "OPEN", "bid", "2", "0.40"), fill("2", "GONE", "bid", "10", "0.40")],
        historical=[fill("0", "OLD", "bid", "1", "0.20", when="2026-06-01T00:00:00.000Z")],
        positions=[position("OPEN", "2.00", "0.8000"), position("OLD", "1.00", "0.2000")],
        settlements=[settlement("GONE", "yes", "10.00", "4.0000", "0", "0", 1000, "0", 100)],
        markets=[market("OPEN", last="0.50"), market("OLD", last="0.30"),
                 market("GONE", status="finalized", result="yes")])


HTTP_503 = TransientApiError("HTTP 503 still failing after retries", status=503)


@pytest.mark.parametrize("fail, error, expected_warning, realized, unrealized", [
    ("positions", HTTP_503, "positions: stopped after 0 records", D("6"), D("0.30")),
    # without the settlement, GONE is an open position marked at its final value: 10 x (1 - 0.40)
    ("settlements", HTTP_503, "settlements: stopped after 0 records", D("0"), D("6.30")),
    # without the archive, OLD is shown as the exchange holds it: 1 at 0.20 (its exposure), mark 0.30
    ("cutoff", HTTP_503, "historical cutoff unavailable", D("6"), D("0.30")),
    ("historical", HTTP_503, "historical fills: stopped after 0 records", D("6"), D("0.30")),
    ("market OPEN", HTTP_503, "OPEN: market data unavailable", D("6"), D("0.10")),
    ("market OPEN", RuntimeError("client bug"), "OPEN: skipped", D("6"), D("0.10")),
], ids=["positions", "settlements", "cutoff", "historical", "market-api-error", "market-bug"])
def test_a_failing_source_or_market_is_reported_and_the_rest_still_shows(
        fail: str, error: Exception, expected_warning: str, realized: D, unrealized: D) -> None:
    report = report_for(_account(fail, error))
    assert any(w.startswith(expected_warning) for w in report.warnings), report.warnings
    assert (report.realized, report.unrealized) == (realized, unrealized)
    assert any("GONE" in text for text in render_portfolio(report, 80))


def test_nothing_fails_the_same_account_has_no_warnings() -> None:
    report = report_for(_account("nothing", HTTP_503))
    assert report.warnings == ()
    # GONE: 10 - 4.00; OPEN: 2 x (0.50 - 0.40); OLD (archived fill): 1 x (0.30 - 0.20)
    assert (report.realized, report.unrealized, report.fills_read) == (D("6"), D("0.30"), 3)


def _busy_account() -> FakeClient:
    """Unsorted, duplicated, archived and settled fills over five markets; flips; NO lots;
    fractional counts at sub-penny prices; a cross-check warning; a market without a price."""
    t = "2026-11-{:02d}T{:02d}:00:00.000Z".format
    fills = [
        fill("a3", "FLIP", "ask", "8", "0.50", "0.08", t(19, 3)), fill("a1", "FLIP", "bid", "5", "0.30", "0.05", t(19, 1)),
        fill("b1", "NOSIDE", "ask", "3.33", "0.6012", "0.0123", t(18, 0)),
        fill("b2", "NOSIDE", "bid", "1.11", "0.5543", "0.0041", t(20, 5)),
        fill("c1", "SCALAR", "bid", "4", "0.25", "0.0525", t(10, 0)),
        fill("d1", "NOPX", "bid", "1", "0.50", "0.01", t(15, 0)),
        fill("a1", "FLIP", "bid", "5", "0.30", "0.05", t(19, 1)),            # duplicate
        fill("e2", "OLDER", "ask", "2", "0.70", "0.02", t(2, 0)),
    ]
    historical = [fill("e1", "OLDER", "bid", "2", "0.60", "0.02", "2026-08-01T00:00:00.000Z"),
                  fill("e2", "OLDER", "ask", "2", "0.70", "0.02", t(2, 0))]  # overlaps the live list
    return FakeClient(
        fills=fills, historical=historical, cutoff="2026-09-01T00:00:00Z",
        positions=[position("FLIP", "-3.00", "1.5000", "0.9000", "0.1300"),
                   position("NOSIDE", "-2.22", "0.8858", "9.9900", "0.0164")],
        settlements=[settlement("SCALAR", "scalar", "4.00", "1.0000", "0", "0", 182, "0.0525", 45)],
        markets=[market("FLIP", bid="0.44", ask="0.47"), market("NOSIDE", last="0.5"),
                 market("SCALAR", status="finalized", result="scalar", value="0.4559"), market("NOPX")])


def test_a_busy_account_reduces_to_its_known_figures() -> None:
    # (the typed and raw fill readers agree fill by fill: test_fifo_ledger's random-trading test)
    typed = report_for(_busy_account())
    assert typed == report_for(_busy_account()) and render_portfolio(typed, 72)
    assert typed.fills_read == 8 and len(typed.markets) == 5
    assert line(typed, "FLIP").realized == D("0.90")           # the flip in one fill, see test_fifo_ledger
    assert line(typed, "OLDER").realized == D("0.16")          # 2 x 0.10 - 0.04 across the cutoff
    assert {w.split(":")[0] for w in typed.warnings} == {"NOSIDE", "NOPX"}


def test_unreadable_fills_are_named_in_the_warnings_and_the_rest_is_booked() -> None:
    client = FakeClient(fills=[fill("1", "U", "bid", "2", "0.40"),
                                         fill("bad", "U", "bid", "1.234", "0.40"),
                                         fill("2", "U", "ask", "2", "0.45")])
    report = report_for(client)
    assert line(report, "U").realized == D("0.10")                    # 2 x (0.45 - 0.40)
    assert "1 fills could not be read and were skipped" in report.warnings
    assert any(w.startswith("fill bad skipped") and "1.234" in w for w in report.warnings)


def test_an_open_position_the_exchange_does_not_list_is_flagged() -> None:
    client = FakeClient(fills=[fill("1", "GHOST", "bid", "2", "0.40"), fill("2", "REAL", "bid", "1", "0.40")],
                        positions=[position("REAL", "1.00", "0.4000")],
                        markets=[market("GHOST", last="0.5"), market("REAL", last="0.5")])
    (warning,) = report_for(client).warnings
    assert warning.startswith("GHOST: the fills add up to 2.00, but the exchange lists no open position")
