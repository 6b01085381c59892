"""The portfolio code on real recorded fills, positions and settlements (tests/data)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal as D
from pathlib import Path
from typing import Any, Iterator

from kalshi_trading.errors import NotFoundError
from kalshi_trading.models import MarketPosition, Settlement
from kalshi_trading.portfolio.fill_collector import FillCollector
from kalshi_trading.portfolio_tracker import PortfolioTracker


def recorded(golden_dir: Path, name: str) -> dict:
    return json.loads((golden_dir / f"{name}.json").read_text())["response"]


class RecordedClient:
    """Serves the recorded pages as the client would (fills raw, the rest typed)."""

    def __init__(self, golden_dir: Path) -> None:
        self.fills = recorded(golden_dir, "portfolio_fills_response")["fills"]
        self.positions = recorded(golden_dir, "portfolio_positions_response")["market_positions"]
        self.settlements = recorded(golden_dir, "portfolio_settlements_response")["settlements"]

    def iter_positions(self, **_: Any) -> Iterator[MarketPosition]:
        return (MarketPosition.from_api(p) for p in self.positions)

    def iter_fills_raw(self, *, historical: bool = False, max_ts: Any = None) -> Iterator[dict]:
        return iter(() if historical else self.fills)

    def iter_settlements(self, **_: Any) -> Iterator[Settlement]:
        return (Settlement.from_api(s) for s in self.settlements)

    def get_historical_cutoff(self) -> Any:
        raise NotFoundError("not recorded", status=404)

    def get_market(self, ticker: str) -> Any:
        raise NotFoundError(f"{ticker} not recorded", status=404)


def test_recorded_transitional_fills_reduce_to_the_recorded_positions(golden_dir: Path) -> None:
    collector = FillCollector()
    fills = recorded(golden_dir, "portfolio_fills_response")["fills"]
    assert collector.add_raw(fills) == 5 and collector.unreadable == 0
    ledgers = collector.ledgers()
    positions = {p["ticker"]: MarketPosition.from_api(p)
                 for p in recorded(golden_dir, "portfolio_positions_response")["market_positions"]}
    # 34 + 1 + 5 YES bought at 0.48, 0.48, 0.49 in one order; the exchange holds 40
    both = ledgers["KXEXAMPLE-063F905BBDB7"]
    assert both.position == positions["KXEXAMPLE-063F905BBDB7"].position == D("40")
    assert both.open_cost == D("19.25") and both.fees == 0        # fee_cost predates Jan 2026
    assert ledgers["KXEXAMPLE-9C7BFD30C721"].position == positions["KXEXAMPLE-9C7BFD30C721"].position


def test_recorded_positions_and_settlement_parse_exactly(golden_dir: Path) -> None:
    positions = [MarketPosition.from_api(p)
                 for p in recorded(golden_dir, "portfolio_positions_response")["market_positions"]]
    assert len(positions) == 12
    first = positions[0]
    assert (first.position, first.fees_paid, first.market_exposure) == (D("32"), D("136.19"), D("393.01"))
    (settled,) = [Settlement.from_api(s)
                  for s in recorded(golden_dir, "portfolio_settlements_response")["settlements"]]
    assert (settled.revenue, settled.fee_cost, settled.no_total_cost) == (D("0"), D("0.73"), D("491.95"))


def test_tracker_on_recorded_account_flags_what_the_short_fill_page_cannot_explain(golden_dir: Path) -> None:
    client = RecordedClient(golden_dir)
    report = PortfolioTracker(client, clock=lambda: datetime(2026, 1, 12, tzinfo=timezone.utc)).build_report()
    warnings = "\n".join(report.warnings)
    # the recording holds only the newest 5 fills: 25 contracts of 6113 show as 10
    assert "KXEXAMPLE-6113C4FF0C14: the exchange holds 25.00, the fills add up to 10.00" in warnings
    # the sanitized settlement carries no fills at all, so its own totals are used and flagged
    settled = next(m for m in report.markets if m.settled)
    assert settled.ticker == "KXEXAMPLE-CCBD3CFD2609" and settled.realized == D("-535.54")
    assert "KXEXAMPLE-CCBD3CFD2609: settlement disagrees" in warnings
    assert len(report.markets) == 13
    assert json.dumps(report.to_json())   # serializable as is


def test_recorded_websocket_fill_reads_through_the_legacy_path(test_data: Path) -> None:
    examples = json.loads((test_data / "kalshi-docs-examples/kalshi_docs_examples.json").read_text())
    blocks = examples["examples"]["docs/kalshi/websockets/user-fills.md"]
    message = next(b["json"]["msg"] for b in blocks if isinstance(b, dict) and b["json"].get("type") == "fill")
    collector = FillCollector()
    assert collector.add_raw([message]) == 1
    ledger = collector.ledgers()["HIGHNY-22DEC23-B53.5"]
    assert (ledger.position, ledger.open_cost) == (D("278"), D("208.5"))
