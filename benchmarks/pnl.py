"""Benchmark: a million fills over 1,000 pages, fetched and reduced to FIFO realized P&L.

A fake loopback server (in its own process, so its memory and CPU are not ours) serves
`GET /trade-api/v2/portfolio/fills` as 1,000 pre-built era-3 pages of 1,000 fills, newest first,
generated deterministically. We time, through the app's own transport and cursor pagination:

1. fetch + JSON-decode only (the floor),
2. fetch + decode + `FillCollector` + FIFO replay (goal: at most 1.5x the floor),
3. the typed path (`KalshiClient.iter_fills` -> `Fill` objects -> ledger), for comparison,

and print the request count (goal: 1,000), peak RSS (goal: under 600 MB) and a correctness
check: realized + unrealized at a mark of 0.5 must equal the generator's own cash-flow total.

Run: `python3 benchmarks/pnl.py [--fills 1000000] [--page 1000] [--no-typed]`
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kalshi_trading.client.transport import HttpTransport  # noqa: E402
from kalshi_trading.kalshi_client import KalshiClient  # noqa: E402
from kalshi_trading.portfolio.fill_collector import FillCollector  # noqa: E402

MARKETS = 200
MARK = Decimal("0.5")


# --- the fake exchange (runs in a child process) ------------------------------------------------

def generate_pages(total: int, per_page: int, seed: int = 20261121) -> tuple[list[bytes], dict]:
    """Deterministic random trading; returns page bodies (newest first) and the expected totals.

    Totals are kept in integers: cash in 1e-8 dollars (count hundredths x price ten-thousandths).
    """
    rng = random.Random(seed)
    positions = [0] * MARKETS                     # hundredths of a contract
    cash_e6 = 0                                   # -delta*price, in 1e-6 dollars
    fees_e4 = 0
    fills = []
    for i in range(total):
        market = rng.randrange(MARKETS)
        held = positions[market]
        bid = rng.random() < (0.5 - held / 200_000)   # drift back toward flat
        count = rng.randint(1, 5000)                   # 0.01 .. 50.00
        price = rng.randint(1, 99) * 100 if rng.random() < 0.8 else rng.randint(1, 9999)
        fee = -(-7 * count * price * (10000 - price) // 10 ** 8)   # ceil(0.07 C P (1-P)) in 1e-4
        delta = count if bid else -count
        positions[market] = held + delta
        cash_e6 -= delta * price
        fees_e4 += fee
        fid = f"{i:08x}-5eed-4bad-8000-{rng.getrandbits(48):012x}"
        second, micro = divmod(i * 1000, 1_000_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_790_000_000 + second))
        ticker = f"KXBENCH-26NOV21-M{market:03d}"
        fills.append({
            "fill_id": fid, "trade_id": fid, "order_id": f"{i // 3:08x}-0d3e-4000-8000-000000000000",
            "ticker": ticker, "market_ticker": ticker, "exchange_index": 0,
            "outcome_side": "yes" if bid else "no", "book_side": "bid" if bid else "ask",
            "side": "yes" if bid else "no", "action": "buy",
            "count_fp": f"{count // 100}.{count % 100:02d}",
            "yes_price_dollars": f"0.{price:04d}", "no_price_dollars": f"0.{10000 - price:04d}",
            "is_taker": rng.random() < 0.7, "fee_cost": f"{fee // 10000}.{fee % 10000:04d}",
            "created_time": f"{stamp}.{micro:06d}Z", "ts": 1_790_000_000 + second,
            "subaccount_number": 0})
    fills.reverse()                                # the API lists newest first
    pages = []
    for start in range(0, total, per_page):
        index = start // per_page
        cursor = str(index + 1) if start + per_page < total else ""
        pages.append(json.dumps({"fills": fills[start:start + per_page], "cursor": cursor},
                                separators=(",", ":")).encode())
    open_total_e2 = sum(positions)
    expected = {"cash_e6": cash_e6, "fees_e4": fees_e4, "position_e2": open_total_e2}
    return pages, expected


def serve(total: int, per_page: int, ready: "multiprocessing.Queue") -> None:
    """Child process: build the pages, then serve them until killed."""
    pages, expected = generate_pages(total, per_page)
    hits = {"fills": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            parts = urlsplit(self.path)
            if parts.path.endswith("/bench/stats"):
                body = json.dumps({**expected, "requests": hits["fills"]}).encode()
            elif parts.path.endswith("/portfolio/fills"):
                hits["fills"] += 1
                cursor = parse_qs(parts.query).get("cursor", ["0"])[0]
                body = pages[int(cursor)]
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ready.put(server.server_address[1])
    server.serve_forever()


# --- the measurements ----------------------------------------------------------------------------

def fetch_only(base_url: str) -> tuple[float, float, int, int]:
    """(wall s, CPU s, fills, requests) to fetch and decode every page through the app's client."""
    client = KalshiClient(base_url, None)
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    for _ in client.iter_fills_raw():
        count += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    client.close()
    return elapsed, cpu, count, client.requests_sent


def fetch_and_reduce(base_url: str) -> tuple[float, float, float, FillCollector, dict, int]:
    """(wall s, CPU s, wall s of the replay alone, collector, ledgers, requests): the same client
    path the PortfolioTracker takes (`iter_fills_raw` into a `FillCollector`)."""
    client = KalshiClient(base_url, None)
    started, cpu = time.perf_counter(), time.process_time()
    collector = FillCollector()
    collector.add_raw(client.iter_fills_raw())
    fetched = time.perf_counter()
    ledgers = collector.ledgers()
    done, cpu = time.perf_counter(), time.process_time() - cpu
    client.close()
    return done - started, cpu, done - fetched, collector, ledgers, client.requests_sent


def typed_path(base_url: str) -> float:
    client = KalshiClient(base_url, None)
    started = time.perf_counter()
    collector = FillCollector()
    collector.add_fills(client.iter_fills())
    collector.ledgers()
    client.close()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--no-typed", action="store_true", help="skip the typed-path comparison")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timed rounds (best kept)")
    args = parser.parse_args()

    ready: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=serve, args=(args.fills, args.page, ready), daemon=True)
    began = time.perf_counter()
    child.start()
    try:
        port = ready.get(timeout=600)
        base_url = f"http://127.0.0.1:{port}/trade-api/v2"
        print(f"server ready: {args.fills:,} fills in {args.fills // args.page:,} pages "
              f"(generated in {time.perf_counter() - began:.1f} s)")
        floors, totals = [], []
        for _ in range(args.rounds):    # alternate, and keep the best of each (a shared box is noisy)
            floors.append(fetch_only(base_url))
            result = None               # let the previous round's ledgers go first
            result = fetch_and_reduce(base_url)
            totals.append(result[:3])
        _, _, _, collector, ledgers, requests_made = result
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        typed = None if args.no_typed else typed_path(base_url)
        stats = HttpTransport(base_url, None).request("GET", "/bench/stats")
    finally:
        child.terminate()
        child.join()

    realized = sum((ledger.realized for ledger in ledgers.values()), Decimal(0))
    unrealized = sum((ledger.unrealized(MARK) for ledger in ledgers.values()), Decimal(0))
    position = sum((ledger.position for ledger in ledgers.values()), Decimal(0))
    expected_total = (Decimal(stats["cash_e6"]).scaleb(-6) - Decimal(stats["fees_e4"]).scaleb(-4)
                      + Decimal(stats["position_e2"]).scaleb(-2) * MARK)
    exact = realized + unrealized == expected_total and position == Decimal(stats["position_e2"]).scaleb(-2)

    floor, floor_cpu = min(run[0] for run in floors), min(run[1] for run in floors)
    total, total_cpu = min(run[0] for run in totals), min(run[1] for run in totals)
    replay = min(run[2] for run in totals)
    print(f"fetch + JSON decode only:        {floor:7.2f} s wall, {floor_cpu:6.2f} s CPU  "
          f"({floors[0][2]:,} fills, {floors[0][3]:,} requests; best of {len(floors)})")
    print(f"fetch + decode + FIFO P&L:       {total:7.2f} s wall, {total_cpu:6.2f} s CPU  "
          f"= {total / floor:.2f}x wall, {total_cpu / floor_cpu:.2f}x CPU (goal <= 1.5x); "
          f"replay after the last page {replay:.2f} s")
    if typed is not None:
        print(f"typed path (Fill objects):       {typed:7.2f} s  = {typed / floor:.2f}x the floor")
    print(f"requests for the reduce run:     {requests_made:,} (goal 1,000); server saw "
          f"{stats['requests']:,} fill-page requests in all runs")
    print(f"peak memory (max RSS):           {peak_mb:7.0f} MB (goal < 600 MB)")
    print(f"fills {collector.fills:,}, duplicates {collector.duplicates}, markets {len(ledgers)}; "
          f"realized {realized:.4f}, fees {sum((l.fees for l in ledgers.values()), Decimal(0)):.4f}")
    print(f"exactness: realized + unrealized at 0.5 == generator's cash total: {exact}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
