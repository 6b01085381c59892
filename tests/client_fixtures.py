"""Reusable test helpers for anything that talks through `KalshiClient`.

- `FakeAdapter`: a few-line `requests` BaseAdapter, mounted on a session, that answers from a
  handler function (or raises a `requests` exception) and records what it received;
- `paper_exchange` / `paper_client` fixtures: a running paper exchange on loopback with a
  synthetic universe, and a `KalshiClient` signed with a key generated for this test run.
  Import them into a test module (`from client_fixtures import paper_exchange, paper_client`);
  they are module-scoped, so every module gets a fresh exchange.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from kalshi_trading.client.signing import KalshiSigner
from kalshi_trading.kalshi_client import KalshiClient
from kalshi_trading.paper.server import start_paper_exchange

__all__ = ["Received", "FakeAdapter", "fake_session", "json_reply", "TEST_KEY_ID", "FAKE_BASE",
           "build_test_universe", "TICKERS", "paper_exchange", "paper_client", "paper_signer", "no_sleep"]

TEST_KEY_ID = "0f6b5c1e-test-key-0000-00000000c0de"
FAKE_BASE = "http://fake.kalshi.test/trade-api/v2"
TICKERS = ("KXTEST-26NOV30-A", "KXTEST-26NOV30-B", "KXTEST-26NOV30-C", "KXOTHER-26DEC01-X")


@dataclass
class Received:
    """One request as the fake adapter saw it."""

    method: str
    path: str                       # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    timeout: Any


Reply = tuple[int, Any] | tuple[int, Any, dict]


def json_reply(request: requests.PreparedRequest, status: int, body: Any,
               headers: dict | None = None) -> requests.Response:
    """A `requests.Response` carrying `body` as JSON (or raw text if it is a str)."""
    response = requests.Response()
    response.status_code = status
    response._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
    response.url = request.url or ""
    response.request = request
    response.reason = "OK" if status < 400 else "Error"
    response.encoding = "utf-8"
    return response


class FakeAdapter(BaseAdapter):
    """Answers each request with `handler(received)`: a (status, body[, headers]) tuple, or an
    exception instance (a `requests` error) to raise as if the network failed."""

    def __init__(self, handler: Callable[[Received], Reply | BaseException]) -> None:
        super().__init__()
        self.handler = handler
        self.received: list[Received] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        parts = urlsplit(request.url or "")
        body = json.loads(request.body) if request.body else None
        seen = Received(request.method or "", parts.path, parse_qs(parts.query),
                        dict(request.headers), body, timeout)
        self.received.append(seen)
        outcome = self.handler(seen)
        if isinstance(outcome, BaseException):
            raise outcome
        return json_reply(request, *outcome)

    def close(self) -> None:
        pass


def fake_session(adapter: FakeAdapter) -> requests.Session:
    session = requests.Session()
    session.mount("http://fake.kalshi.test/", adapter)
    return session


def no_sleep(_seconds: float) -> None:
    """An injected `sleep` that returns at once (retries and rate waits become instant)."""


# --- the paper exchange ----------------------------------------------------------------------

def build_test_universe(now: datetime | None = None) -> Any:
    """Two series, two events, four open markets with a crowd book on each."""
    from kalshi_trading.paper.universe import BookSnapshot, MarketUniverse, synthetic_market, synthetic_series
    now = now or datetime.now(timezone.utc)
    universe = MarketUniverse()
    for series in ("KXTEST", "KXOTHER"):
        universe.series[series] = synthetic_series(series)
    for ticker in TICKERS:
        event = ticker.rsplit("-", 1)[0]
        universe.events.setdefault(event, {
            "event_ticker": event, "series_ticker": event.split("-")[0], "title": f"{event} event",
            "sub_title": "", "collateral_return_type": "binary", "mutually_exclusive": False,
            "settlement_sources": [], "strike_period": "",
        })
        universe.markets[ticker] = synthetic_market(ticker, event, now=now, close_in=timedelta(days=7))
        universe.books[ticker] = BookSnapshot(
            yes_bids=((Decimal("0.40"), Decimal("100")), (Decimal("0.45"), Decimal("50"))),
            no_bids=((Decimal("0.45"), Decimal("80")), (Decimal("0.50"), Decimal("60"))))
    return universe


def _public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def paper_exchange(tmp_path_factory: pytest.TempPathFactory, rsa_private_key: rsa.RSAPrivateKey) -> Iterator[Any]:
    """A paper exchange on 127.0.0.1 that knows the test key as `TEST_KEY_ID`."""
    running = start_paper_exchange(tmp_path_factory.mktemp("paper"), universe=build_test_universe(),
                                   public_keys={TEST_KEY_ID: _public_pem(rsa_private_key)})
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def paper_signer(rsa_private_key: rsa.RSAPrivateKey) -> KalshiSigner:
    return KalshiSigner(TEST_KEY_ID, rsa_private_key)


@pytest.fixture(scope="module")
def paper_client(paper_exchange: Any, paper_signer: KalshiSigner) -> Iterator[KalshiClient]:
    """A `KalshiClient` for `paper_exchange`: no rate limiter, instant retries."""
    client = KalshiClient(paper_exchange.base_url, paper_signer, sleep=no_sleep, timeout=5.0)
    try:
        yield client
    finally:
        client.close()


def write_pem(path: Path, key: rsa.RSAPrivateKey, *, pkcs8: bool = False) -> Path:
    """Write `key` as an unencrypted PEM (PKCS#1 by default, as Kalshi issues it)."""
    fmt = serialization.PrivateFormat.PKCS8 if pkcs8 else serialization.PrivateFormat.TraditionalOpenSSL
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()))
    return path
