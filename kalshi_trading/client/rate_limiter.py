"""Client-side token buckets that mirror Kalshi's, so a busy loop waits instead of drawing 429s.

Kalshi (since April 2026) charges tokens per request from two buckets, read and write, refilled
per second by usage tier (REFERENCE.md section 5). Most calls cost 10; a cancel 2; a GET of one
order 2; batch create 10 per order; batch cancel 2 per order. The limiter charges the same costs
before each attempt and sleeps (injected `sleep`, `monotonic`) until the bucket holds enough.
It runs a little below the tier (`headroom`) because the exchange measures arrival, not send time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from ..errors import UserInputError

__all__ = ["TierLimits", "TIERS", "TokenBucket", "RateLimiter", "endpoint_cost", "DEFAULT_COST"]

DEFAULT_COST = 10
_API_PREFIX = "/trade-api/v2"


@dataclass(frozen=True)
class TierLimits:
    """Tokens per second and bucket capacity for the read and the write bucket of one tier."""

    read_rate: int
    read_capacity: int
    write_rate: int
    write_capacity: int


# Basic/Advanced read buckets and write buckets above Basic hold 2 s of refill; the rest 1 s.
TIERS: dict[str, TierLimits] = {
    "basic": TierLimits(200, 400, 100, 100),
    "advanced": TierLimits(300, 600, 300, 600),
    "expert": TierLimits(600, 600, 600, 1200),
    "premier": TierLimits(1000, 1000, 1000, 2000),
    "paragon": TierLimits(2000, 2000, 2000, 4000),
    "prime": TierLimits(4000, 4000, 4000, 8000),
    "prestige": TierLimits(10000, 10000, 8000, 16000),
}


def endpoint_cost(method: str, path: str, items: int = 1) -> tuple[str, int]:
    """(`"read"` or `"write"`, tokens) Kalshi charges for one request to `path` (query ignored)."""
    method = method.upper()
    path = path.split("?", 1)[0]
    if path.startswith(_API_PREFIX):
        path = path[len(_API_PREFIX):]
    parts = [p for p in path.split("/") if p]
    if method == "GET":
        by_id = len(parts) == 3 and parts[:2] == ["portfolio", "orders"] and parts[2] != "queue_positions"
        return "read", 2 if by_id else DEFAULT_COST
    if parts[:3] == ["portfolio", "events", "orders"]:
        if len(parts) == 4 and parts[3] == "batched":
            return "write", (10 if method == "POST" else 2) * max(items, 1)
        if method == "DELETE" and len(parts) == 4:
            return "write", 2
    return "write", DEFAULT_COST


class TokenBucket:
    """A thread-safe token bucket on an injected monotonic clock; starts full."""

    def __init__(self, rate: float, capacity: float, *, monotonic: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._monotonic = monotonic
        self._stamp = monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self, cost: float) -> float:
        """Take `cost` tokens now (the balance may go negative); return seconds to wait first."""
        with self._lock:
            self._refill()
            self._tokens -= cost
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    @property
    def tokens(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens


class RateLimiter:
    """Read and write buckets for one tier; `acquire` blocks (via `sleep`) until a call may go."""

    def __init__(self, tier: str = "basic", *, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic, headroom: float = 0.97) -> None:
        if tier not in TIERS:
            raise UserInputError(f"unknown rate tier {tier!r}; choose one of {', '.join(TIERS)}")
        limits = TIERS[tier]
        self.tier = tier
        self._sleep = sleep
        # Capacity keeps one default call in reserve for jitter between our clock and theirs.
        self.buckets = {
            "read": TokenBucket(limits.read_rate * headroom,
                                max(limits.read_capacity - DEFAULT_COST, DEFAULT_COST), monotonic=monotonic),
            "write": TokenBucket(limits.write_rate * headroom,
                                 max(limits.write_capacity - DEFAULT_COST, DEFAULT_COST), monotonic=monotonic),
        }
        self.waited_s = 0.0

    def acquire(self, method: str, path: str, items: int = 1) -> float:
        """Charge one request; sleep until its tokens are there. Returns the seconds waited."""
        bucket_name, cost = endpoint_cost(method, path, items)
        bucket = self.buckets[bucket_name]
        if cost > getattr(TIERS[self.tier], f"{bucket_name}_capacity"):
            raise UserInputError(
                f"{method} {path.split('?', 1)[0]} costs {cost} tokens, more than the {self.tier} "
                f"tier's {bucket_name} bucket holds; split it into smaller batches")
        wait = bucket.reserve(cost)
        if wait > 0:
            self.waited_s += wait
            self._sleep(wait)
        return wait
