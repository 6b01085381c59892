"""The client's rate limiter holds a Kalshi tier with zero 429s, against the paper exchange.

The paper exchange does not meter tokens, so Kalshi's server-side buckets are emulated by a mounted
adapter in front of it: it charges Kalshi's costs at the tier's exact rates and answers 429 when a
bucket runs dry, otherwise it forwards the request over loopback.
"""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Callable
from urllib.parse import urlsplit

import pytest
import requests
from client_fixtures import TICKERS, json_reply, paper_exchange, paper_signer  # noqa: F401 (fixtures)
from requests.adapters import HTTPAdapter

from kalshi_trading.client.rate_limiter import TIERS, RateLimiter, endpoint_cost
from kalshi_trading.errors import RateLimited
from kalshi_trading.kalshi_client import KalshiClient
from kalshi_trading.order_request import BookSide, OrderRequestV2


class KalshiBuckets(HTTPAdapter):
    """Kalshi's token buckets (exact tier, no headroom) as a gate in front of a real adapter."""

    def __init__(self, tier: str, monotonic: Callable[[], float]) -> None:
        super().__init__()
        limits = TIERS[tier]
        self.rate = {"read": limits.read_rate, "write": limits.write_rate}
        self.capacity = {"read": limits.read_capacity, "write": limits.write_capacity}
        self.tokens = dict(self.capacity)
        self.monotonic = monotonic
        self.stamp = monotonic()
        self.passed = 0
        self.refused = 0

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        now = self.monotonic()
        for name in self.tokens:
            self.tokens[name] = min(self.capacity[name], self.tokens[name] + (now - self.stamp) * self.rate[name])
        self.stamp = now
        path = urlsplit(request.url).path
        items = len(json.loads(request.body)["orders"]) if path.endswith("/batched") else 1
        bucket, cost = endpoint_cost(request.method, path, items)
        if self.tokens[bucket] < cost:
            self.refused += 1
            return json_reply(request, 429, {"error": "too many requests"})
        self.tokens[bucket] -= cost
        self.passed += 1
        return super().send(request, **kwargs)


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def gated_client(base_url: str, signer, gate: KalshiBuckets, **kwargs) -> KalshiClient:
    session = requests.Session()
    session.mount("http://127.0.0.1", gate)
    return KalshiClient(base_url, signer, session=session, **kwargs)


def basic_tier_on_virtual_time(exchange, signer) -> tuple[VirtualClock, KalshiBuckets, KalshiClient]:
    """A client limited to the basic tier, behind Kalshi's buckets, both on one virtual clock;
    a single 429 fails the call (no rate-limit retries)."""
    clock = VirtualClock()
    gate = KalshiBuckets("basic", clock.monotonic)
    limiter = RateLimiter("basic", sleep=clock.sleep, monotonic=clock.monotonic)
    client = gated_client(exchange.base_url, signer, gate, rate_limiter=limiter,
                          sleep=clock.sleep, monotonic=clock.monotonic, max_rate_limit_retries=0)
    return clock, gate, client


def busy_loop(client: KalshiClient, rounds: int) -> None:
    """Reads, creates and cancels as fast as the client lets them go."""
    for i in range(rounds):
        client.get_market(TICKERS[i % 3])
        client.get_orderbook(TICKERS[i % 3])
        created = client.create_order(OrderRequestV2(TICKERS[i % 3], BookSide.BID, Decimal("1"),
                                                     Decimal("0.02"), client_order_id=str(uuid.uuid4())))
        client.get_order(created.order_id)
        client.cancel_order(created.order_id)


def test_basic_tier_busy_loop_draws_zero_429s(paper_exchange, paper_signer) -> None:
    clock, gate, client = basic_tier_on_virtual_time(paper_exchange, paper_signer)
    busy_loop(client, 60)
    assert gate.refused == 0 and gate.passed == 300
    # 60 creates (10 tokens) + 60 cancels (2) = 720 write tokens; 100 start in the bucket and the
    # rest refill at 100/s: the loop cannot have taken less than 6.2 virtual seconds.
    assert clock.now - 1000.0 >= 6.2


def test_without_the_limiter_the_same_loop_is_throttled(paper_exchange, paper_signer) -> None:
    clock = VirtualClock()
    gate = KalshiBuckets("basic", clock.monotonic)
    client = gated_client(paper_exchange.base_url, paper_signer, gate, rate_limiter=None,
                          sleep=clock.sleep, max_rate_limit_retries=0)
    with pytest.raises(RateLimited):
        busy_loop(client, 60)
    assert gate.refused == 1


def test_real_time_reads_at_the_basic_tier_draw_zero_429s(paper_exchange, paper_signer) -> None:
    gate = KalshiBuckets("basic", time.monotonic)
    client = gated_client(paper_exchange.base_url, paper_signer, gate, rate_limiter=RateLimiter("basic"),
                          max_rate_limit_retries=0)
    started = time.monotonic()
    for i in range(50):
        client.get_market(TICKERS[i % 4])
    assert gate.refused == 0 and gate.passed == 50
    assert time.monotonic() - started >= (50 * 10 - 390) / 200   # the burst, then paced at ~20/s


def test_full_bucket_batches_at_the_basic_tier_draw_zero_429s(paper_exchange, paper_signer) -> None:
    """10 orders x 10 tokens = the whole basic write bucket per batch create, then a batch cancel."""
    clock, gate, client = basic_tier_on_virtual_time(paper_exchange, paper_signer)
    for i in range(6):
        items = client.batch_create_orders([
            OrderRequestV2(TICKERS[i % 3], BookSide.BID, Decimal("1"), Decimal("0.02"),
                           client_order_id=str(uuid.uuid4())) for _ in range(10)])
        assert all(item.error_code is None for item in items)
        client.batch_cancel_orders([item.result.order_id for item in items])
    assert gate.refused == 0 and gate.passed == 12
    # 6 x (100 + 20) write tokens, 100 in the bucket at start, 100/s refill
    assert clock.now - 1000.0 >= 6.2
