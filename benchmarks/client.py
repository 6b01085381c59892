"""KalshiClient overhead and pagination cost, against the paper exchange on loopback.

Prints, in one run:
1. signed GETs per second of `KalshiClient.get_balance()` vs a bare `requests.Session` loop that
   signs with the same `KalshiSigner` and decodes the same JSON (goal: client >= 0.85 x bare).
   The client runs once with its rate limiter disabled (the measurement of record: a limiter
   would otherwise be the bottleneck by design) and once at the highest tier, `prestige`.
2. the number of HTTP requests `iter_fills()` makes to read N fills (goal: ceil(N / 1000)), for
   several N including an exact multiple of the page size.

Usage: python3 benchmarks/client.py [--seconds 1.5] [--rounds 5] [--fills 999 2000 2500]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kalshi_trading.client.rate_limiter import RateLimiter  # noqa: E402
from kalshi_trading.client.signing import KalshiSigner  # noqa: E402
from kalshi_trading.kalshi_client import KalshiClient  # noqa: E402
from kalshi_trading.order_request import BookSide, OrderRequestV2, TimeInForce  # noqa: E402
from kalshi_trading.paper.server import start_paper_exchange  # noqa: E402
from kalshi_trading.paper.universe import (BookSnapshot, MarketUniverse, synthetic_market,  # noqa: E402
                                           synthetic_series)

KEY_ID = "bench-0000-0000-0000-000000000000"
TICKER = "KXBENCH-26DEC31-A"


def universe() -> MarketUniverse:
    """One market with a deep crowd book: YES asks of 1,000,000 contracts at 0.50."""
    now = datetime.now(timezone.utc)
    u = MarketUniverse()
    u.series["KXBENCH"] = synthetic_series("KXBENCH")
    u.events["KXBENCH-26DEC31"] = {"event_ticker": "KXBENCH-26DEC31", "series_ticker": "KXBENCH",
                                   "title": "bench", "sub_title": "", "mutually_exclusive": False,
                                   "collateral_return_type": "binary", "settlement_sources": []}
    u.markets[TICKER] = synthetic_market(TICKER, "KXBENCH-26DEC31", now=now, close_in=timedelta(days=30))
    u.books[TICKER] = BookSnapshot(yes_bids=((Decimal("0.40"), Decimal("1000000")),),
                                   no_bids=((Decimal("0.50"), Decimal("1000000")),))
    return u


def rate(loop, seconds: float) -> tuple[float, float]:
    """(calls per second, CPU microseconds per call in this process) of `loop()` over ~`seconds`.

    The paper exchange runs in this process too, so the CPU figure covers both ends of the wire;
    unlike wall-clock rates it barely moves when other programs load the machine.
    """
    count, start, cpu_start = 0, time.perf_counter(), time.process_time()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(20):
            loop()
        count += 20
    return count / (time.perf_counter() - start), (time.process_time() - cpu_start) / count * 1e6


def measure_gets(base_url: str, signer: KalshiSigner, seconds: float, rounds: int) -> None:
    bare_session = requests.Session()
    url = base_url + "/portfolio/balance"

    def bare() -> None:
        response = bare_session.get(url, auth=signer, timeout=10.0)
        response.raise_for_status()
        response.json()

    plain = KalshiClient(base_url, signer, rate_limiter=None)
    tiered = KalshiClient(base_url, signer, rate_limiter=RateLimiter("prestige"))
    loops = {"client_prestige": tiered.get_balance, "bare": bare, "client": plain.get_balance}
    for warm in loops.values():
        rate(warm, 0.3)
    results: dict[str, list[float]] = {name: [] for name in loops}
    cpu: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(rounds):  # interleaved, so drift in machine load hits all three alike
        for name, loop in loops.items():
            per_second, cpu_us = rate(loop, seconds)
            results[name].append(per_second)
            cpu[name].append(cpu_us)
    bare_rate, bare_cpu = statistics.median(results["bare"]), statistics.median(cpu["bare"])
    print(f"signed GET /portfolio/balance, {rounds} interleaved rounds of {seconds:.1f} s per loop:")
    print(f"  bare requests.Session + KalshiSigner : {bare_rate:7.1f} req/s, {bare_cpu:6.0f} us CPU/call (medians)")
    for name, label in (("client", "KalshiClient, rate limiter disabled "),
                        ("client_prestige", "KalshiClient, limiter at 'prestige' ")):
        ratios = [c / b for c, b in zip(results[name], results["bare"])]
        name_cpu = statistics.median(cpu[name])
        print(f"  {label}: {statistics.median(results[name]):7.1f} req/s, {name_cpu:6.0f} us CPU/call; "
              f"wall ratio to bare: median {statistics.median(ratios):.2f} (min {min(ratios):.2f}), "
              f"CPU ratio bare/client: {bare_cpu / name_cpu:.2f} (goal >= 0.85)")
    print(f"  (the prestige limiter made the client wait {tiered.rate_limiter.waited_s:.3f} s in total)")
    plain.close()
    tiered.close()


def measure_fills(base_url: str, signer: KalshiSigner, targets: list[int]) -> None:
    """Grow the account's fills to each target in turn and count the requests to read them all."""
    client = KalshiClient(base_url, signer, rate_limiter=None)
    batch = 20  # the paper exchange allows 20 orders per batch (the old fixed limit)
    for target in targets:
        needed = max(target - sum(1 for _ in client.iter_fills()), 0)
        for start in range(0, needed, batch):
            orders = [OrderRequestV2(TICKER, BookSide.BID, Decimal("0.01"), Decimal("0.50"),
                                     time_in_force=TimeInForce.IOC, client_order_id=str(uuid.uuid4()))
                      for _ in range(min(batch, needed - start))]
            client.batch_create_orders(orders)
        before = client.requests_sent
        pages: list[int] = []
        total = sum(1 for _ in client.iter_fills(progress=lambda p, n: pages.append(n)))
        used = client.requests_sent - before
        verdict = "ok" if used == math.ceil(total / 1000) else "MISSED"
        print(f"reading {total} fills took {used} requests (goal ceil({total}/1000) = "
              f"{math.ceil(total / 1000)}: {verdict}); items after each page: {pages}")
    client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="length of each timed run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per loop")
    parser.add_argument("--fills", type=int, nargs="+", default=[999, 2000, 2500],
                        help="fill counts to grow to and read back, in increasing order")
    args = parser.parse_args(argv)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    signer = KalshiSigner(KEY_ID, key)
    with tempfile.TemporaryDirectory() as data_dir, \
            start_paper_exchange(Path(data_dir), universe=universe(), public_keys={KEY_ID: public}) as running:
        measure_gets(running.base_url, signer, args.seconds, args.rounds)
        measure_fills(running.base_url, signer, args.fills)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
