"""Seeded fault injection, so the client's retry and idempotency paths meet real failures.

Two independent knobs, each a probability drawn from one seeded RNG (so `--seed` repeats a run):
- `fail_rate`: before the exchange does anything, answer 500, 503 or 429, or drop the connection
  without a byte (what a crashed load balancer looks like);
- `lose_response_rate`: an order creation is committed, then the connection is dropped, which is
  the ambiguous case that makes a client look its order up by `client_order_id` before resending.
"""

from __future__ import annotations

import random
import threading
from enum import StrEnum

from ..errors import ConfigError

__all__ = ["Fault", "FaultInjector"]


class Fault(StrEnum):
    """What an injected failure looks like on the wire."""

    INTERNAL_ERROR = "500"
    UNAVAILABLE = "503"
    RATE_LIMITED = "429"
    DROP_CONNECTION = "drop"


_FAULT_CHOICES = tuple(Fault)


class FaultInjector:
    """Thread-safe dice for the two fault knobs; a rate of 0 never fires and never draws."""

    def __init__(self, fail_rate: float = 0.0, lose_response_rate: float = 0.0,
                 seed: int | None = None) -> None:
        for name, rate in (("fail rate", fail_rate), ("lose-response rate", lose_response_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(f"the {name} must be between 0 and 1, got {rate}")
        self.fail_rate = fail_rate
        self.lose_response_rate = lose_response_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """True when either knob can fire."""
        return self.fail_rate > 0 or self.lose_response_rate > 0

    def before_request(self) -> Fault | None:
        """The fault to answer this request with instead of serving it, if any."""
        if self.fail_rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.fail_rate:
                return None
            return self._rng.choice(_FAULT_CHOICES)

    def lose_response(self) -> bool:
        """True when a committed order creation should lose its response."""
        if self.lose_response_rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < self.lose_response_rate
