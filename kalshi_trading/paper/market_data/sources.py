"""Where the paper exchange's markets come from: bundled recordings, live Kalshi, or a folder.

`load_universe` is the one entry point (the server's `--market-data bundled|live|DIR` and
`--speed N`). Every source ends as a `MarketUniverse` in today's wire shapes with all times on
the replay clock (recorded time runs `speed` times faster from `start`), so the engine only
compares them with wall time. Modules:

wire.py     any wire era -> era-3 dicts; what a recorded file holds
books.py    price levels from a top of book and a depth
folder.py   a folder of recorded responses
replay.py   the recorded 15-minute XRP markets, replayed open -> settle, cycling
live.py     a bounded snapshot of production's public endpoints, and `LiveRefresher`,
            which keeps the books users care about fresh while the exchange runs
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import requests

from ..universe import MarketUniverse
from .folder import load_dir
from .live import DEFAULT_MAX_MARKETS, LiveDataUnavailable, LiveRefresher, load_live
from .replay import load_replay

if TYPE_CHECKING:  # annotations only; the engine is loaded lazily (the CLI's --help)
    from ..engine import PaperEngine

__all__ = ["PROD_PUBLIC_URL", "BUNDLED_DIR", "load_universe", "load_bundled", "print_to_stderr",
           "start_live_refresh"]

PROD_PUBLIC_URL = "https://external-api.kalshi.com/trade-api/v2"
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data"
_RECORDED_SOURCES = ("kalshi-starter-code-python-golden", "CodeTillDawn2-kalshi-trading-bot")


def print_to_stderr(text: str) -> None:
    """The default notice sink: one line on stderr."""
    print(text, file=sys.stderr)


def load_universe(spec: str = "bundled", *, start: datetime, speed: float = 1.0,
                  session: requests.Session | None = None, live_base_url: str = PROD_PUBLIC_URL,
                  on_notice: Callable[[str], None] = print_to_stderr, now: datetime | None = None,
                  max_live_markets: int = DEFAULT_MAX_MARKETS) -> MarketUniverse:
    """The market universe for `spec`: "bundled", "live" or a folder of recorded responses.

    `start` (UTC) is the replay clock's origin; `now` (default `start`) is when the exchange
    starts, which chooses the replayed crypto markets to build (pass the wall time when a
    restarted exchange keeps an older `start`). Unusable live data or a missing folder fall back
    to the bundled data with one `on_notice` line; an unreadable file in a folder is skipped with
    one line.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware (UTC)")
    if not speed > 0:
        raise ValueError("speed must be positive")
    now = now or start
    spec = spec.strip() or "bundled"
    if spec == "bundled":
        return load_bundled(start=start, speed=speed, now=now)
    if spec == "live":
        own_session = session is None
        active = session if session is not None else requests.Session()
        try:
            return load_live(active, live_base_url, start=start, now=now, speed=speed,
                             max_markets=max_live_markets)
        except LiveDataUnavailable as exc:
            on_notice(f"live market data unreachable ({exc}); using bundled data")
        finally:
            if own_session:
                active.close()
        return load_bundled(start=start, speed=speed, now=now)
    folder = Path(spec).expanduser()
    try:
        return load_dir(folder, start=start, speed=speed, on_notice=on_notice)
    except FileNotFoundError:
        on_notice(f"market data folder {folder} not found; using bundled data")
        return load_bundled(start=start, speed=speed, now=now)



def start_live_refresh(engine: PaperEngine, *, market_data: str, universe_given: bool, live_base_url: str | None,
                       session: requests.Session | None, interval: float | None,
                       clock: Callable[[], datetime]) -> LiveRefresher | None:
    """A started `LiveRefresher` (hooked to `engine.on_market_read`) when the engine trades on live
    data rather than its bundled fallback; else None. A universe the caller built is refreshed only
    from an explicit `live_base_url`, so tests never reach production by accident."""
    if interval is None or not str(getattr(engine.universe, "source", "")).startswith("live:"):
        return None
    if live_base_url is None:
        if universe_given or market_data.strip() != "live":
            return None
        live_base_url = PROD_PUBLIC_URL
    refresher = LiveRefresher(engine, session if session is not None else requests.Session(),
                              live_base_url, clock=clock, interval=interval, own_session=session is None)
    engine.on_market_read = refresher.note_read
    refresher.start()
    return refresher


def load_bundled(*, start: datetime, speed: float = 1.0, now: datetime | None = None) -> MarketUniverse:
    """The recordings shipped in `data/` (see data/DATA_SOURCES.md) plus the crypto replay."""
    universe = load_replay(start=start, speed=speed, now=now)
    for name in _RECORDED_SOURCES:
        part = load_dir(BUNDLED_DIR / "recorded" / name, start=start, speed=speed,
                        on_notice=universe.notes.append, source="bundled")
        _merge(universe, part)
    universe.timeline.sort(key=lambda update: update.at)
    universe.source = "bundled"
    return universe


def _merge(into: MarketUniverse, part: MarketUniverse) -> None:
    for name in ("series", "events", "markets", "books"):
        for key, value in getattr(part, name).items():
            getattr(into, name).setdefault(key, value)
    into.timeline.extend(part.timeline)
    into.notes.extend(part.notes)
