"""The paper engine's default test world, shared by the engine test modules.

Market KXT-E-A has YES bids 0.40 x10, 0.41 x5 and NO bids 0.57 x3, 0.55 x7, i.e. YES asks 0.43 x3
and 0.45 x7; KXT-E-SUB trades on a sub-penny grid; KXT-E-SHUT is closed. The clock starts at NOW
and moves only when a test ticks it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

from kalshi_trading.paper.engine import PaperEngine
from kalshi_trading.paper.store import Store
from kalshi_trading.paper.universe import BookSnapshot, MarketUniverse, synthetic_market, synthetic_series

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
A = "KXT-E-A"
SUB = "KXT-E-SUB"
SUBPENNY = [{"start": "0.0000", "end": "0.1000", "step": "0.0010"},
            {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
            {"start": "0.9000", "end": "1.0000", "step": "0.0010"}]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def book(yes=(("0.40", "10"), ("0.41", "5")), no=(("0.55", "7"), ("0.57", "3"))) -> BookSnapshot:
    return BookSnapshot(tuple((D(p), D(c)) for p, c in yes), tuple((D(p), D(c)) for p, c in no))


def make_universe(timeline=(), **market_kwargs) -> MarketUniverse:
    u = MarketUniverse()
    u.series["KXT"] = synthetic_series("KXT")
    u.events["KXT-E"] = {"event_ticker": "KXT-E", "series_ticker": "KXT", "title": "E", "sub_title": "",
                         "collateral_return_type": "binary", "mutually_exclusive": False,
                         "available_on_brokers": False, "settlement_sources": []}
    u.markets[A] = synthetic_market(A, "KXT-E", now=NOW, **market_kwargs)
    u.markets[SUB] = synthetic_market(SUB, "KXT-E", now=NOW, price_ranges=SUBPENNY)
    u.markets["KXT-E-SHUT"] = synthetic_market("KXT-E-SHUT", "KXT-E", now=NOW, status="closed")
    u.books[A] = book()
    u.books[SUB] = book(yes=(("0.05", "10"),), no=(("0.90", "10"),))
    u.timeline = list(timeline)
    return u


def make_engine(timeline=(), clock: Clock | None = None, **kw) -> PaperEngine:
    return PaperEngine(make_universe(timeline, **kw), Store(":memory:"), clock=clock or Clock())


def order(side="bid", count="5", price="0.45", tif="good_till_canceled", ticker=A, **extra) -> dict:
    body = {"ticker": ticker, "side": side, "count": count, "price": price, "time_in_force": tif,
            "self_trade_prevention_type": "taker_at_cross"}
    body.update(extra)
    return body


def ioc(side="bid", count="5", price="0.45", **extra) -> dict:
    return order(side, count, price, "immediate_or_cancel", **extra)
