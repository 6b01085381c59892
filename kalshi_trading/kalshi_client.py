"""`KalshiClient`: every Trade API v2 call the app makes, typed, and never two orders for one intent.

The same client talks to the embedded paper exchange, Kalshi's demo and production. Transport
concerns (signing hook, rate limiter, retries with backoff and jitter, error translation) live in
client/transport.py; cursor pagination in client/pagination.py. This module owns the endpoints; the order
writes and their idempotency rules (a create that fails ambiguously is looked up by its
`client_order_id` before it is sent again; a 409 `order_already_exists` resolves to the order that
exists) are in client/order_writes.py.
"""

from __future__ import annotations

import logging
import random as _random
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

import requests

from .client.order_writes import OrderWrites, seg as _seg
from .client.pagination import EVENTS_MAX_LIMIT, MAX_LIMIT, Progress, iter_pages
from .client.rate_limiter import RateLimiter
from .client.signing import KalshiSigner
from .client.transport import HttpTransport, RetryPolicy
from .errors import ResponseFormatError, UserInputError
from .models import (AccountLimits, Balance, Candlestick, Event, ExchangeStatus, Fill, HistoricalCutoff,
                     Market, MarketPosition, Order, Orderbook, Series, Settlement, Trade)
from .timeutil import to_unix

if TYPE_CHECKING:
    from .config import Config

__all__ = ["KalshiClient"]

logger = logging.getLogger(__name__)

Timestamp = datetime | int | None


def _ts(value: Timestamp) -> int | None:
    """Query filters are Unix seconds; accept an aware datetime too."""
    return to_unix(value) if isinstance(value, datetime) else value


def _obj(body: Any, key: str) -> Mapping[str, Any]:
    value = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(value, Mapping):
        raise ResponseFormatError(f"response: required object {key!r} is missing")
    return value


class KalshiClient(OrderWrites):
    """Typed Trade API v2 client over one injected `requests.Session`."""

    def __init__(self, base_url: str, auth: requests.auth.AuthBase | None, *,
                 session: requests.Session | None = None, timeout: float | tuple[float, float] = 10.0,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 rate_limiter: RateLimiter | None = None, max_retries: int = 3,
                 max_rate_limit_retries: int = 5, random: Callable[[], float] = _random.random,
                 base_delay: float = 0.5, max_delay: float = 8.0,
                 lookup_rereads: int = 2, lookup_reread_delay: float = 0.25) -> None:
        policy = RetryPolicy(max_retries, max_rate_limit_retries, base_delay, max_delay)
        self._t = HttpTransport(base_url, auth, session=session, timeout=timeout, sleep=sleep,
                                monotonic=monotonic, rate_limiter=rate_limiter, policy=policy,
                                random=random)
        self._lookup_rereads = lookup_rereads
        self._lookup_reread_delay = lookup_reread_delay

    @classmethod
    def for_config(cls, config: "Config", *, base_url: str | None = None, key_id: str | None = None,
                   private_key_path: Path | None = None, **kwargs: Any) -> "KalshiClient":
        """A client signed with the configured key (or the given one) and limited to its tier."""
        url = base_url or config.base_url
        kid, path = key_id or config.key_id, private_key_path or config.private_key_path
        if url is None:
            raise UserInputError("no base URL: start the paper exchange or set KALSHI_BASE_URL")
        auth = KalshiSigner.from_key_file(kid, path) if kid and path else None
        kwargs.setdefault("rate_limiter", RateLimiter(config.rate_tier))
        return cls(url, auth, **kwargs)

    @property
    def base_url(self) -> str:
        return self._t.base_url

    @property
    def rate_limiter(self) -> RateLimiter | None:
        return self._t.rate_limiter

    @property
    def requests_sent(self) -> int:
        """HTTP attempts made so far (for benchmarks and progress displays)."""
        return self._t.requests_sent

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> "KalshiClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._t.request("GET", path, params=params)

    def _pages(self, path: str, key: str, parse: Callable[[Mapping[str, Any]], Any],
               params: Mapping[str, Any], progress: Progress | None, limit: int = MAX_LIMIT) -> Iterator[Any]:
        return iter_pages(lambda query: self._get(path, query), key, parse, params=params,
                          limit=limit, progress=progress)

    # --- exchange and market data ------------------------------------------------------------

    def get_exchange_status(self) -> ExchangeStatus:
        return ExchangeStatus.from_api(self._get("/exchange/status"))

    def get_series_list(self, category: str | None = None) -> list[Series]:
        body = self._get("/series", {"category": category})
        return [Series.from_api(raw) for raw in body.get("series") or []]

    def get_series(self, series_ticker: str) -> Series:
        return Series.from_api(_obj(self._get(f"/series/{_seg(series_ticker)}"), "series"))

    def iter_events(self, *, status: str | None = None, series_ticker: str | None = None,
                    with_nested_markets: bool = False, progress: Progress | None = None) -> Iterator[Event]:
        params = {"status": status, "series_ticker": series_ticker,
                  "with_nested_markets": with_nested_markets or None}
        return self._pages("/events", "events", Event.from_api, params, progress, EVENTS_MAX_LIMIT)

    def get_event(self, event_ticker: str) -> Event:
        """The event with its markets (nested, or the deprecated top-level list)."""
        body = self._get(f"/events/{_seg(event_ticker)}", {"with_nested_markets": True})
        return Event.from_api(_obj(body, "event"), body.get("markets"))

    def iter_markets(self, *, status: str | None = None, series_ticker: str | None = None,
                     event_ticker: str | None = None, tickers: Sequence[str] | None = None,
                     progress: Progress | None = None) -> Iterator[Market]:
        params = {"status": status, "series_ticker": series_ticker, "event_ticker": event_ticker,
                  "tickers": list(tickers) if tickers else None}
        return self._pages("/markets", "markets", Market.from_api, params, progress)

    def get_market(self, ticker: str) -> Market:
        return Market.from_api(_obj(self._get(f"/markets/{_seg(ticker)}"), "market"))

    def get_orderbook(self, ticker: str, depth: int = 0) -> Orderbook:
        return Orderbook.from_api(self._get(f"/markets/{_seg(ticker)}/orderbook", {"depth": depth}), ticker)

    def iter_trades(self, *, ticker: str | None = None, min_ts: Timestamp = None, max_ts: Timestamp = None,
                    progress: Progress | None = None) -> Iterator[Trade]:
        params = {"ticker": ticker, "min_ts": _ts(min_ts), "max_ts": _ts(max_ts)}
        return self._pages("/markets/trades", "trades", Trade.from_api, params, progress)

    def get_candlesticks(self, series_ticker: str, ticker: str, *, start_ts: datetime | int,
                         end_ts: datetime | int, period_interval: int) -> list[Candlestick]:
        body = self._get(f"/series/{_seg(series_ticker)}/markets/{_seg(ticker)}/candlesticks",
                         {"start_ts": _ts(start_ts), "end_ts": _ts(end_ts),
                          "period_interval": period_interval})
        return [Candlestick.from_api(raw) for raw in body.get("candlesticks") or []]

    # --- portfolio reads ---------------------------------------------------------------------

    def get_balance(self) -> Balance:
        return Balance.from_api(self._get("/portfolio/balance"))

    def iter_positions(self, *, ticker: str | None = None, event_ticker: str | None = None,
                       progress: Progress | None = None) -> Iterator[MarketPosition]:
        return self._pages("/portfolio/positions", "market_positions", MarketPosition.from_api,
                           {"ticker": ticker, "event_ticker": event_ticker}, progress)

    def iter_orders(self, *, ticker: str | None = None, status: str | None = None,
                    event_ticker: str | None = None, progress: Progress | None = None) -> Iterator[Order]:
        return self._pages("/portfolio/orders", "orders", Order.from_api,
                           {"ticker": ticker, "status": status, "event_ticker": event_ticker}, progress)

    def get_order(self, order_id: str) -> Order:
        return Order.from_api(_obj(self._get(f"/portfolio/orders/{_seg(order_id)}"), "order"))

    def iter_fills(self, *, ticker: str | None = None, order_id: str | None = None,
                   min_ts: Timestamp = None, max_ts: Timestamp = None,
                   progress: Progress | None = None) -> Iterator[Fill]:
        params = {"ticker": ticker, "order_id": order_id, "min_ts": _ts(min_ts), "max_ts": _ts(max_ts)}
        return self._pages("/portfolio/fills", "fills", Fill.from_api, params, progress)

    def iter_settlements(self, *, ticker: str | None = None, event_ticker: str | None = None,
                         min_ts: Timestamp = None, max_ts: Timestamp = None,
                         progress: Progress | None = None) -> Iterator[Settlement]:
        params = {"ticker": ticker, "event_ticker": event_ticker, "min_ts": _ts(min_ts),
                  "max_ts": _ts(max_ts)}
        return self._pages("/portfolio/settlements", "settlements", Settlement.from_api, params, progress)

    def get_historical_cutoff(self) -> HistoricalCutoff:
        return HistoricalCutoff.from_api(self._get("/historical/cutoff"))

    def iter_historical_fills(self, *, ticker: str | None = None, min_ts: Timestamp = None,
                              max_ts: Timestamp = None, progress: Progress | None = None) -> Iterator[Fill]:
        params = {"ticker": ticker, "min_ts": _ts(min_ts), "max_ts": _ts(max_ts)}
        return self._pages("/historical/fills", "fills", Fill.from_api, params, progress)

    def iter_fills_raw(self, *, historical: bool = False, max_ts: Timestamp = None,
                       progress: Progress | None = None) -> Iterator[dict[str, Any]]:
        """Fills as the API's raw dicts, for bulk readers (P&L over a million fills) that parse
        only the fields they need; everyone else wants `iter_fills`' typed `Fill`s."""
        path = "/historical/fills" if historical else "/portfolio/fills"
        return self._pages(path, "fills", _as_is, {"max_ts": _ts(max_ts)}, progress)

    def get_account_limits(self) -> AccountLimits:
        return AccountLimits.from_api(self._get("/account/limits"))


def _as_is(raw: Any) -> Any:
    return raw
