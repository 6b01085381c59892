"""Throughput figures of the paper exchange core, for `benchmarks/paper_exchange.py` to print.

`benchmark_matching` times the integer order book alone; `benchmark_engine` times the whole
`PaperEngine.create_order` path (validation, matching, fees, positions, one SQLite transaction
per order in WAL mode) on a synthetic market, with the same kind of order mix.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from ..errors import ExchangeRejection
from .engine import PaperEngine
from .matching import benchmark_matching
from .store import NullStore, Store
from .universe import BookSnapshot, MarketUniverse, synthetic_market, synthetic_series

__all__ = ["benchmark_matching", "benchmark_engine"]


def _universe(now: datetime, tickers: list[str]) -> MarketUniverse:
    universe = MarketUniverse()
    universe.series["BENCH"] = synthetic_series("BENCH", fee_type="quadratic_with_maker_fees")
    universe.events["BENCH-E"] = {"event_ticker": "BENCH-E", "series_ticker": "BENCH", "title": "bench",
                                  "sub_title": "", "collateral_return_type": "binary",
                                  "mutually_exclusive": False, "available_on_brokers": False,
                                  "settlement_sources": []}
    depth = tuple((Decimal(c) / 100, Decimal(500)) for c in range(30, 50))
    for ticker in tickers:
        universe.markets[ticker] = synthetic_market(ticker, "BENCH-E", now=now)
        universe.books[ticker] = BookSnapshot(depth, depth)
    return universe


def benchmark_engine(n_orders: int = 2_000, db_path: Path | str | None = None, *, seed: int = 11,
                     in_memory: bool = False) -> float:
    """Orders per second through `PaperEngine.create_order`, one transaction per order.

    `db_path` None uses a temporary file (WAL, synchronous=NORMAL); `in_memory` uses NullStore.
    About a third of the orders cross (IOC); the rest rest (GTC) and every tenth is canceled."""
    now = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
    tickers = [f"BENCH-E-M{i}" for i in range(5)]
    rng = random.Random(seed)
    plan = []
    for n in range(n_orders):
        is_bid = rng.random() < 0.5
        crossing = rng.random() < 0.35
        cents = 50 + rng.randint(1, 4) if crossing == is_bid else 50 - rng.randint(1, 4)
        plan.append({"ticker": rng.choice(tickers), "side": "bid" if is_bid else "ask",
                     "count": str(rng.randint(1, 10)), "price": f"0.{cents:02d}",
                     "time_in_force": "immediate_or_cancel" if crossing else "good_till_canceled",
                     "self_trade_prevention_type": "taker_at_cross", "client_order_id": f"b{n}"})
    with tempfile.TemporaryDirectory() as tmp:
        store = NullStore() if in_memory else Store(db_path or Path(tmp) / "paper.sqlite")
        engine = PaperEngine(_universe(now, tickers), store, clock=lambda: now + timedelta(seconds=1),
                             starting_balance=Decimal("10000000"))
        resting: list[str] = []
        start = time.perf_counter()
        for n, body in enumerate(plan):
            try:
                result = engine.create_order(f"user{n % 4}", body)
            except ExchangeRejection:
                continue
            if result["remaining_count"] != "0.00":
                resting.append(result["order_id"])
            if n % 10 == 9 and resting:
                try:
                    engine.cancel_order(f"user{(n - 9) % 4}", resting.pop(0))
                except ExchangeRejection:
                    pass
        elapsed = time.perf_counter() - start
        store.close()
    return n_orders / elapsed if elapsed > 0 else float("inf")


if __name__ == "__main__":   # pragma: no cover - a quick manual run
    print(f"matching only: {benchmark_matching(100_000):,.0f} orders/s")
    print(f"engine, NullStore: {benchmark_engine(5_000, in_memory=True):,.0f} orders/s")
    print(f"engine, SQLite WAL: {benchmark_engine(5_000):,.0f} orders/s")
