"""No secret reaches a log line or an exception: a whole faulty session, logged at DEBUG, is grepped.

The session runs against the paper exchange with injected faults (500/503/429, dropped connections,
lost order responses), so every retry, lookup and give-up message is produced for real. Secrets:
the full key id (and its first half), the key file's path, name and folder, the PEM, every
signature and the JSON body of every signed write.
"""

from __future__ import annotations

import json
import logging
import traceback
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from client_fixtures import TICKERS, _public_pem, build_test_universe, write_pem
from requests.adapters import HTTPAdapter

from kalshi_trading.config import Config
from kalshi_trading.errors import KalshiTradingError
from kalshi_trading.kalshi_client import KalshiClient
from kalshi_trading.order_request import BookSide, OrderRequestV2
from kalshi_trading.paper import server

KEY_ID = "7d3f9a21-5c4e-4b8a-9f10-5ec2e7d0b1a9"


class RecordingAdapter(HTTPAdapter):
    """A real adapter that remembers the signature headers and bodies it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.signatures: list[str] = []
        self.bodies: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]
        self.signatures.append(request.headers["KALSHI-ACCESS-SIGNATURE"])
        if request.body:
            self.bodies.append(request.body.decode() if isinstance(request.body, bytes) else request.body)
        return super().send(request, **kwargs)


def _session_with_faults(client: KalshiClient) -> list[BaseException]:
    """Reads, writes and deliberate mistakes; returns every error raised."""
    errors: list[BaseException] = []

    def attempt(call):
        try:
            return call()
        except KalshiTradingError as exc:
            errors.append(exc)
            return None

    for i in range(12):
        attempt(client.get_balance)
        attempt(lambda: list(client.iter_markets()))
        order = OrderRequestV2(TICKERS[i % 3], BookSide.BID, Decimal("2"), Decimal("0.03"),
                               client_order_id=str(uuid.uuid4()))
        created = attempt(lambda: client.create_order(order))
        if created is not None:
            attempt(lambda: client.decrease_order(created.order_id, reduce_by=Decimal("1")))
            attempt(lambda: client.cancel_order(created.order_id))
    attempt(lambda: client.batch_create_orders(
        [OrderRequestV2(TICKERS[0], BookSide.BID, Decimal("1"), Decimal("0.02"),
                        client_order_id=str(uuid.uuid4())) for _ in range(3)]))
    attempt(lambda: client.get_order("no-such-order"))
    attempt(lambda: client.create_order(OrderRequestV2(TICKERS[0], BookSide.BID, Decimal("1"),
                                                       Decimal("0.025"), client_order_id="off-grid")))
    return errors


def test_a_faulty_session_logged_at_debug_shows_no_secret(tmp_path: Path, rsa_private_key,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    key_dir = tmp_path / "private-keys-folder"
    key_dir.mkdir()
    key_path = write_pem(key_dir / "kalshi-prod-secret.pem", rsa_private_key)
    caplog.set_level(logging.DEBUG)                       # every logger, urllib3 included
    with server.start_paper_exchange(tmp_path / "paper", universe=build_test_universe(), fail_rate=0.3,
                                     lose_response_rate=0.3, seed=7,
                                     public_keys={KEY_ID: _public_pem(rsa_private_key)}) as running:
        config = Config.load({"KALSHI_BASE_URL": running.base_url, "KALSHI_API_KEY_ID": KEY_ID,
                              "KALSHI_PRIVATE_KEY_PATH": str(key_path)}, None)
        adapter, session = RecordingAdapter(), requests.Session()
        session.mount("http://127.0.0.1", adapter)
        client = KalshiClient.for_config(config, session=session, rate_limiter=None,
                                         sleep=lambda s: None, lookup_reread_delay=0.0, timeout=5.0)
        errors = _session_with_faults(client)
        shown = [repr(client), repr(config), str(config.describe())]
    ours = [r for r in caplog.records if not r.name.startswith("kalshi_trading.paper")]
    shown += [caplog.handler.format(r) for r in ours]
    for exc in errors:
        shown += [str(exc), repr(exc), repr(vars(exc)),
                  "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    text = "\n".join(shown)
    # the session really went through faults, retries and lookups, and logged them
    assert any("retrying" in r.getMessage() for r in ours)
    assert any("was placed despite" in r.getMessage() for r in ours)
    assert errors and len(adapter.signatures) > 50 and adapter.bodies
    secrets = [KEY_ID, KEY_ID[:18], str(key_path), key_path.name, key_dir.name, "PRIVATE KEY",
               "KALSHI-ACCESS-SIGNATURE", "KALSHI-ACCESS-KEY"]
    secrets += [s[:24] for s in adapter.signatures] + adapter.bodies
    secrets += [json.dumps(json.loads(b), separators=(",", ":")) for b in adapter.bodies]
    leaked = [s for s in secrets if s in text]
    assert leaked == []
