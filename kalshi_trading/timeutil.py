"""The one place time comes from and is written: UTC-aware datetimes, ISO 8601 with `Z`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

__all__ = ["Clock", "utc_now", "to_iso_z", "parse_iso", "from_unix", "to_unix"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def to_iso_z(moment: datetime) -> str:
    """`2026-11-21T10:00:00.123Z`: UTC, millisecond precision, `Z` suffix."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every timestamp in this app must be timezone-aware")
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse an API timestamp (`...Z`, `+00:00`, any precision); naive input is taken as UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    # Kalshi sends up to 9 fractional digits; Python reads at most 6.
    if "." in value:
        head, _, rest = value.partition(".")
        digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
        tail = rest[len(digits):]
        value = f"{head}.{digits[:6].ljust(6, '0')}{tail}" if digits else head + tail
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def from_unix(seconds: float | int) -> datetime:
    """A Unix timestamp in seconds as a UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def to_unix(moment: datetime) -> int:
    """Whole Unix seconds, as Kalshi's query filters (`min_ts`, `max_ts`) expect."""
    return int(moment.timestamp())
