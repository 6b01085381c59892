"""Paper exchange figures: signed order placements/s over loopback, the server side alone
(PaperApp without sockets: how much of a round trip is the exchange's), in-process matching
orders/s, and peak memory with 1,000 markets loaded. Run: `python3 benchmarks/paper_exchange.py [--orders N]`.

Goals: >= 500 signed placements/s from one keep-alive client (real RSA-PSS signing per request),
>= 50,000 matching orders/s in process.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

from kalshi_trading.paper.auth import KeyRegistry  # noqa: E402
from kalshi_trading.paper.engine import PaperEngine  # noqa: E402
from kalshi_trading.paper.faults import FaultInjector  # noqa: E402
from kalshi_trading.paper.matching import benchmark_matching  # noqa: E402
from kalshi_trading.paper.server import PaperApp, start_paper_exchange  # noqa: E402
from kalshi_trading.paper.store import Store  # noqa: E402
from kalshi_trading.paper.universe import (BookSnapshot, MarketUniverse, synthetic_market,  # noqa: E402
                                           synthetic_series)

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def build_universe(n_markets: int, now: datetime, levels: int = 10) -> MarketUniverse:
    """`n_markets` synthetic markets in events of 10, each with `levels` crowd levels a side."""
    universe = MarketUniverse()
    universe.series["BENCH"] = synthetic_series("BENCH")
    yes = tuple((Decimal(c) / 100, Decimal(500)) for c in range(45 - levels, 45))
    no = tuple((Decimal(c) / 100, Decimal(500)) for c in range(45 - levels, 45))
    for m in range(n_markets):
        event = f"BENCH-E{m // 10}"
        universe.events.setdefault(event, {
            "event_ticker": event, "series_ticker": "BENCH", "title": event, "sub_title": "",
            "collateral_return_type": "binary", "mutually_exclusive": False,
            "available_on_brokers": False, "settlement_sources": []})
        ticker = f"{event}-M{m}"
        universe.markets[ticker] = synthetic_market(ticker, event, now=now)
        universe.books[ticker] = BookSnapshot(yes, no)
    return universe


def signed_placements_per_second(n_orders: int) -> tuple[float, float]:
    """(orders/s, median ms) for IOC orders alternating buy/sell over one keep-alive session."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp, start_paper_exchange(
            Path(tmp), universe=build_universe(5, now), public_keys={"bench": public}) as running:
        session = requests.Session()
        url = running.base_url + "/portfolio/events/orders"
        signed_path = "/trade-api/v2/portfolio/events/orders"
        timings = []
        for n in range(n_orders + 20):
            body = {"ticker": f"BENCH-E0-M{n % 5}", "side": "bid" if n % 2 == 0 else "ask",
                    "count": "1", "price": "0.56" if n % 2 == 0 else "0.44",
                    "time_in_force": "immediate_or_cancel",
                    "self_trade_prevention_type": "taker_at_cross", "client_order_id": str(uuid.uuid4())}
            start = time.perf_counter()
            stamp = str(int(time.time() * 1000))
            signature = key.sign(f"{stamp}POST{signed_path}".encode(), PSS, hashes.SHA256())
            headers = {"KALSHI-ACCESS-KEY": "bench", "KALSHI-ACCESS-TIMESTAMP": stamp,
                       "KALSHI-ACCESS-SIGNATURE": base64.b64encode(signature).decode()}
            response = session.post(url, json=body, headers=headers, timeout=10)
            if response.status_code != 201:
                raise RuntimeError(f"order {n} answered {response.status_code}: {response.text}")
            if n >= 20:  # warm-up excluded
                timings.append(time.perf_counter() - start)
        session.close()
    timings.sort()
    return len(timings) / sum(timings), timings[len(timings) // 2] * 1000


def server_side_per_second(n_orders: int) -> float:
    """Orders/s through `PaperApp.handle` alone: signature check, routing, engine, one SQLite
    transaction each; no sockets and no client, so this is the exchange's own capacity."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    path = "/trade-api/v2/portfolio/events/orders"
    now_ms = int(time.time() * 1000)
    requests_ = []
    for n in range(n_orders):
        body = {"ticker": f"BENCH-E0-M{n % 5}", "side": "bid" if n % 2 == 0 else "ask", "count": "1",
                "price": "0.56" if n % 2 == 0 else "0.44", "time_in_force": "immediate_or_cancel",
                "self_trade_prevention_type": "taker_at_cross", "client_order_id": str(uuid.uuid4())}
        stamp = str(now_ms)
        signature = base64.b64encode(key.sign(f"{stamp}POST{path}".encode(), PSS, hashes.SHA256())).decode()
        requests_.append(({"KALSHI-ACCESS-KEY": "bench", "KALSHI-ACCESS-TIMESTAMP": stamp,
                           "KALSHI-ACCESS-SIGNATURE": signature}, json.dumps(body).encode()))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "paper.sqlite3")
        engine = PaperEngine(build_universe(5, datetime.now(timezone.utc)), store)
        app = PaperApp(engine, KeyRegistry({"bench": public}), FaultInjector())
        start = time.perf_counter()
        for headers, raw in requests_:
            reply = app.handle("POST", path, headers, raw)
            if reply.status != 201:
                raise RuntimeError(f"answered {reply.status}: {reply.body}")
        elapsed = time.perf_counter() - start
        store.close()
    return n_orders / elapsed


def memory_with_markets(n_markets: int) -> tuple[float, float, float]:
    """(tracemalloc peak MiB, ru_maxrss MiB, seconds) to build and load `n_markets` into an engine."""
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "paper.sqlite3")
        engine = PaperEngine(build_universe(n_markets, now), store, clock=lambda: now + timedelta(seconds=1))
        assert len(engine.list_markets()) == n_markets
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        store.close()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return peak / 2**20, rss, elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="signed orders to place (default 2000)")
    parser.add_argument("--matching", type=int, default=100_000, help="orders for the matching benchmark")
    parser.add_argument("--markets", type=int, default=1000, help="markets for the memory figure")
    args = parser.parse_args(argv)
    rate, median_ms = signed_placements_per_second(args.orders)
    print(f"signed order placements over loopback: {rate:,.0f} orders/s "
          f"(median {median_ms:.2f} ms, {args.orders} orders, one keep-alive client; goal >= 500/s)")
    print(f"server side alone (auth + engine + one SQLite transaction, no sockets): "
          f"{server_side_per_second(args.orders):,.0f} orders/s")
    print(f"in-process matching: {benchmark_matching(args.matching):,.0f} orders/s "
          f"({args.matching:,} orders; goal >= 50,000/s)")
    peak, rss, seconds = memory_with_markets(args.markets)
    print(f"{args.markets:,} markets loaded in {seconds:.2f} s: tracemalloc peak {peak:.1f} MiB, "
          f"process max RSS {rss:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
