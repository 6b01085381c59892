"""RateLimiter: Kalshi's token costs and tier buckets, waiting through an injected clock."""

from __future__ import annotations

import pytest

from kalshi_trading.client.rate_limiter import TIERS, RateLimiter, TierLimits, endpoint_cost
from kalshi_trading.errors import UserInputError


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


# REFERENCE.md section 5: refill per second; "Basic/Advanced read buckets, and write buckets above
# Basic, hold 2 seconds of refill. Basic write and read buckets above Advanced hold 1 second."
@pytest.mark.parametrize("tier, read, write, read_burst_s, write_burst_s", [
    ("basic", 200, 100, 2, 1),
    ("advanced", 300, 300, 2, 2),
    ("expert", 600, 600, 1, 2),
    ("premier", 1000, 1000, 1, 2),
    ("paragon", 2000, 2000, 1, 2),
    ("prime", 4000, 4000, 1, 2),
    ("prestige", 10000, 8000, 1, 2),
])
def test_tiers_match_the_reference_table(tier, read, write, read_burst_s, write_burst_s) -> None:
    assert TIERS[tier] == TierLimits(read, read * read_burst_s, write, write * write_burst_s)


def test_the_tier_list_is_exactly_kalshis() -> None:
    assert list(TIERS) == ["basic", "advanced", "expert", "premier", "paragon", "prime", "prestige"]


@pytest.mark.parametrize("tier, largest_batch", [("basic", 10), ("advanced", 60), ("premier", 200)])
def test_the_largest_batch_is_the_one_that_fills_the_write_bucket(tier, largest_batch) -> None:
    clock = FakeClock()
    limiter = RateLimiter(tier, sleep=clock.sleep, monotonic=clock.monotonic)
    limiter.acquire("POST", "/portfolio/events/orders/batched", items=largest_batch)   # waits, then goes
    assert clock.now < 0.2
    with pytest.raises(UserInputError, match="smaller batches"):
        limiter.acquire("POST", "/portfolio/events/orders/batched", items=largest_batch + 1)
    # batch cancels cost 2 per order: five times as many fit
    limiter.acquire("DELETE", "/portfolio/events/orders/batched", items=largest_batch * 5)


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
