"""RateLimiter: Kalshi's token costs and tier buckets, waiting through an injected clock."""

from __future__ import annotations

import pytest

from kalshi_trading.errors import UserInputError
from kalshi_trading.rate_limiter import TIERS, RateLimiter, endpoint_cost


class FakeClock:
    """`monotonic` and `sleep` that share one virtual time line."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("method, path, items, expected", [
    ("GET", "/trade-api/v2/markets", 1, ("read", 10)),
    ("GET", "/trade-api/v2/portfolio/orders", 1, ("read", 10)),
    ("GET", "/trade-api/v2/portfolio/orders/abc-123", 1, ("read", 2)),
    ("GET", "/trade-api/v2/portfolio/orders/abc-123?x=1", 1, ("read", 2)),
    ("GET", "/trade-api/v2/portfolio/orders/queue_positions", 1, ("read", 10)),
    ("POST", "/trade-api/v2/portfolio/events/orders", 1, ("write", 10)),
    ("DELETE", "/trade-api/v2/portfolio/events/orders/abc", 1, ("write", 2)),
    ("POST", "/trade-api/v2/portfolio/events/orders/abc/amend", 1, ("write", 10)),
    ("POST", "/trade-api/v2/portfolio/events/orders/abc/decrease", 1, ("write", 10)),
    ("POST", "/trade-api/v2/portfolio/events/orders/batched", 7, ("write", 70)),
    ("DELETE", "/trade-api/v2/portfolio/events/orders/batched", 7, ("write", 14)),
    ("POST", "/portfolio/events/orders", 1, ("write", 10)),
])
def test_endpoint_costs_follow_kalshis_table(method, path, items, expected) -> None:
    assert endpoint_cost(method, path, items) == expected


def test_tiers_match_the_reference_table() -> None:
    assert (TIERS["basic"].read_rate, TIERS["basic"].read_capacity) == (200, 400)
    assert (TIERS["basic"].write_rate, TIERS["basic"].write_capacity) == (100, 100)
    assert (TIERS["advanced"].write_rate, TIERS["advanced"].write_capacity) == (300, 600)
    assert (TIERS["prestige"].read_rate, TIERS["prestige"].write_rate) == (10000, 8000)


def test_a_burst_goes_through_then_calls_are_paced_to_the_refill_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter("basic", sleep=clock.sleep, monotonic=clock.monotonic)
    for _ in range(39):                       # 390 of the 400-token read bucket, no waiting
        limiter.acquire("GET", "/trade-api/v2/markets")
    assert clock.slept == []
    for _ in range(200):
        limiter.acquire("GET", "/trade-api/v2/markets")
    # 200 more calls x 10 tokens at ~200 tokens/s (minus headroom): about 10 seconds of waiting
    assert 10.0 <= clock.now <= 10.0 / 0.97 + 0.01
    assert max(clock.slept) < 0.06             # paced call by call, not in big stalls


def test_reads_do_not_spend_write_tokens() -> None:
    clock = FakeClock()
    limiter = RateLimiter("basic", sleep=clock.sleep, monotonic=clock.monotonic)
    for _ in range(100):
        limiter.acquire("GET", "/markets")
    waited_before = clock.now
    limiter.acquire("POST", "/portfolio/events/orders")
    assert clock.now == waited_before          # the write bucket was still full


def test_cancels_are_cheaper_than_creates() -> None:
    clock = FakeClock()
    limiter = RateLimiter("basic", sleep=clock.sleep, monotonic=clock.monotonic)
    for _ in range(45):                       # 45 x 2 = 90 tokens: fits the burst
        limiter.acquire("DELETE", "/portfolio/events/orders/o1")
    assert clock.slept == []
    limiter.acquire("POST", "/portfolio/events/orders")
    assert clock.slept and clock.now == pytest.approx(10 / 97, rel=1e-6)


def test_a_batch_larger_than_the_bucket_is_refused_before_sending() -> None:
    limiter = RateLimiter("basic", sleep=lambda s: None)
    with pytest.raises(UserInputError, match="smaller batches"):
        limiter.acquire("POST", "/portfolio/events/orders/batched", items=11)


def test_unknown_tier_is_refused() -> None:
    with pytest.raises(UserInputError, match="basic, advanced"):
        RateLimiter("gold")
