"""A tiny signed HTTP client for the paper-server tests: RSA-PSS the way Kalshi wants, sent by requests.

Deliberately independent of the app's own `KalshiClient`/`KalshiSigner`, so the server's tests
check the wire format against a second implementation rather than against itself.
"""

from __future__ import annotations

import base64
import sqlite3
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kalshi_trading.paper.universe import BookSnapshot, MarketUniverse, synthetic_market, synthetic_series

__all__ = ["PaperHttp", "sign", "make_universe", "synthetic_event", "db_dump"]

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def sign(key: rsa.RSAPrivateKey, timestamp_ms: int, method: str, path: str) -> str:
    """Base64 RSA-PSS signature of `timestamp + METHOD + path` (path without the query)."""
    message = f"{timestamp_ms}{method.upper()}{path}".encode("utf-8")
    return base64.b64encode(key.sign(message, PSS, hashes.SHA256())).decode("ascii")


class PaperHttp:
    """`http.get("/portfolio/balance")` -> requests.Response, signed unless `signed=False`."""

    def __init__(self, base_url: str, key_id: str | None = None,
                 key: rsa.RSAPrivateKey | None = None, *, session: requests.Session | None = None,
                 clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
                 timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self.key = key
        self.session = session or requests.Session()
        self.clock_ms = clock_ms
        self.timeout = timeout

    def headers(self, method: str, path: str, *, key_id: str | None = None,
                key: rsa.RSAPrivateKey | None = None, timestamp_ms: int | None = None) -> dict:
        """The three KALSHI-ACCESS-* headers for `method` on `path` (relative to the base URL)."""
        stamp = self.clock_ms() if timestamp_ms is None else timestamp_ms
        full_path = urlsplit(self.base_url + path).path
        return {"KALSHI-ACCESS-KEY": key_id or self.key_id or "",
                "KALSHI-ACCESS-TIMESTAMP": str(stamp),
                "KALSHI-ACCESS-SIGNATURE": sign(key or self.key, stamp, method, full_path)}

    def request(self, method: str, path: str, *, signed: bool = True, json: Any = None,
                data: bytes | str | None = None, params: dict | None = None,
                headers: dict | None = None, **sign_kwargs: Any) -> requests.Response:
        all_headers = dict(headers or {})
        if signed:
            all_headers.update(self.headers(method, path, **sign_kwargs))
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        return self.session.request(method, self.base_url + path, json=json, data=data,
                                    params=params, headers=all_headers, timeout=self.timeout)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def get_all(self, path: str, key: str, *, params: dict | None = None,
                limit: int = 1000) -> list[dict]:
        """Follow cursors until the end; returns every item under `key`."""
        items: list[dict] = []
        cursor = ""
        while True:
            query = dict(params or {}, limit=limit)
            if cursor:
                query["cursor"] = cursor
            response = self.get(path, params=query)
            response.raise_for_status()
            body = response.json()
            items.extend(body[key])
            cursor = body.get("cursor") or ""
            if not cursor:
                return items

    def close(self) -> None:
        self.session.close()


def synthetic_event(event_ticker: str, series_ticker: str) -> dict:
    """An EventData JSON (no markets) for test universes."""
    return {"event_ticker": event_ticker, "series_ticker": series_ticker, "title": event_ticker,
            "sub_title": "", "collateral_return_type": "binary", "mutually_exclusive": False,
            "available_on_brokers": False, "settlement_sources": [], "strike_period": "",
            "category": "Test"}


def make_universe(now: datetime, *, events: int = 2, markets_per_event: int = 3,
                  series_ticker: str = "KXTEST", closed: tuple[str, ...] = ()) -> MarketUniverse:
    """A small universe: markets `KXTEST-E{e}-M{m}`, each with a two-sided crowd book
    (YES bids 0.40/0.42/0.44, NO bids 0.50/0.52/0.54 -> YES asks 0.46/0.48/0.50, 500 each);
    tickers in `closed` are created with status `closed`."""
    universe = MarketUniverse()
    universe.series[series_ticker] = synthetic_series(series_ticker)
    levels = tuple((Decimal(p), Decimal(500)) for p in ("0.40", "0.42", "0.44"))
    no_levels = tuple((Decimal(p), Decimal(500)) for p in ("0.50", "0.52", "0.54"))
    for e in range(events):
        event_ticker = f"{series_ticker}-E{e}"
        universe.events[event_ticker] = synthetic_event(event_ticker, series_ticker)
        for m in range(markets_per_event):
            ticker = f"{event_ticker}-M{m}"
            status = "closed" if ticker in closed else "active"
            universe.markets[ticker] = synthetic_market(ticker, event_ticker, now=now, status=status)
            universe.books[ticker] = BookSnapshot(levels, no_levels)
    return universe


def db_dump(data_dir: Path) -> list[str]:
    """Every committed row of the exchange's SQLite file, read over a second connection
    (so 'nothing changed' covers disk as well as memory)."""
    conn = sqlite3.connect(Path(data_dir) / "paper.sqlite3")
    try:
        return list(conn.iterdump())
    finally:
        conn.close()
