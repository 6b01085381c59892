"""A hand-written stand-in for KalshiClient and raw-record builders, shared by the portfolio tests.

`FakeClient` is an `AccountReader` (the tracker's view of KalshiClient): typed records from plain
dicts, fills as the raw dicts the API sends, and a record of the calls it got; `report_for` builds a
report at NOW. Passed in, nothing patched.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal as D
from typing import Any, Iterator

from kalshi_trading.errors import NotFoundError, TransientApiError
from kalshi_trading.models import HistoricalCutoff, Market, MarketPosition, Settlement
from kalshi_trading.portfolio_tracker import PortfolioTracker

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def fill(fid: str, ticker: str, side: str, count: str, price: str, fee: str = "0.0000",
         when: str = "2026-11-20T10:00:00.000Z") -> dict:
    return {"fill_id": fid, "trade_id": fid, "order_id": "o" + fid, "ticker": ticker,
            "market_ticker": ticker, "book_side": side, "outcome_side": "yes" if side == "bid" else "no",
            "count_fp": count, "yes_price_dollars": price,
            "no_price_dollars": f"{1 - D(price):.4f}", "is_taker": True, "fee_cost": fee,
            "created_time": when}


def market(ticker: str, bid: str = "0", ask: str = "0", last: str = "0", status: str = "active",
           result: str = "", value: str | None = None) -> dict:
    raw = {"ticker": ticker, "event_ticker": "EV", "status": status, "yes_bid_dollars": bid,
           "yes_ask_dollars": ask, "last_price_dollars": last, "result": result}
    if value is not None:
        raw["settlement_value_dollars"] = value
    return raw


def position(ticker: str, pos: str, exposure: str, realized: str = "0", fees: str = "0") -> dict:
    return {"ticker": ticker, "position_fp": pos, "market_exposure_dollars": exposure,
            "realized_pnl_dollars": realized, "fees_paid_dollars": fees, "total_traded_dollars": "0"}


def settlement(ticker: str, result: str, yes: str, yes_cost: str, no: str, no_cost: str,
               revenue: int, fee: str, value: int | None = None,
               when: str = "2026-11-21T01:00:00.000Z") -> dict:
    return {"ticker": ticker, "event_ticker": "EV", "market_result": result, "yes_count_fp": yes,
            "yes_total_cost_dollars": yes_cost, "no_count_fp": no, "no_total_cost_dollars": no_cost,
            "revenue": revenue, "value": value, "fee_cost": fee, "settled_time": when}


class FakeClient:
    """The part of KalshiClient the tracker uses, serving typed records from raw dicts."""

    def __init__(self, *, fills=(), historical=(), positions=(), settlements=(), markets=(),
                 cutoff: str | None = None, fail_fills_after: int | None = None,
                 broken_markets=()) -> None:
        self.fills = list(fills)
        self.historical = list(historical)
        self.positions = list(positions)
        self.settlements = list(settlements)
        self.markets = {m["ticker"]: m for m in markets}
        self.cutoff = cutoff
        self.fail_fills_after = fail_fills_after
        self.broken_markets = set(broken_markets)
        self.calls: list[str] = []

    def iter_positions(self, **_: Any) -> Iterator[MarketPosition]:
        self.calls.append("positions")
        return (MarketPosition.from_api(p) for p in self.positions)

    def _fill_stream(self, items: list[dict]) -> Iterator[dict]:
        for index, item in enumerate(items):
            if self.fail_fills_after is not None and index >= self.fail_fills_after:
                raise TransientApiError("HTTP 503 still failing after retries", status=503)
            yield item

    def iter_fills_raw(self, *, historical: bool = False, max_ts: Any = None) -> Iterator[dict]:
        self.calls.append("historical fills raw" if historical else "fills raw")
        return iter(self.historical) if historical else self._fill_stream(self.fills)

    def get_historical_cutoff(self) -> HistoricalCutoff:
        self.calls.append("cutoff")
        if self.cutoff is None:
            raise NotFoundError("no such route", status=404)
        return HistoricalCutoff.from_api({"trades_created_ts": self.cutoff})

    def iter_settlements(self, **_: Any) -> Iterator[Settlement]:
        self.calls.append("settlements")
        return (Settlement.from_api(s) for s in self.settlements)

    def get_market(self, ticker: str) -> Market:
        self.calls.append(f"market {ticker}")
        if ticker in self.broken_markets:
            raise TransientApiError("HTTP 500 internal_server_error", status=500)
        if ticker not in self.markets:
            raise NotFoundError(f"market {ticker} not found", status=404)
        return Market.from_api(self.markets[ticker])


def report_for(client: FakeClient):
    return PortfolioTracker(client, clock=lambda: NOW).build_report()


def line(report, ticker: str):
    return next(m for m in report.markets if m.ticker == ticker)
