"""KalshiClient's transport: retries with full-jitter backoff, error mapping, timeouts, logging,
pagination. Faults are injected by a mounted BaseAdapter or a loopback http.server, never patched."""

from __future__ import annotations

import base64
import itertools
import json
import logging
import threading
import traceback
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
import requests
from client_fixtures import FAKE_BASE, FakeAdapter, Received, fake_session, no_sleep
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from kalshi_trading.client.rate_limiter import RateLimiter
from kalshi_trading.client.signing import KalshiSigner
from kalshi_trading.errors import (ApiError, AuthError, ConfigError, InsufficientFunds, NotFoundError,
                                   OrderRejected, RateLimited, TransientApiError)
from kalshi_trading.kalshi_client import KalshiClient

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
BALANCE = {"balance": 100000, "balance_dollars": "1000.0000", "portfolio_value": 0, "updated_ts": 1}


def _verify(key, signature: str, message: str) -> None:
    key.public_key().verify(base64.b64decode(signature), message.encode(),
                            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())


def scripted(*replies):
    """A handler that plays `replies` in order, then repeats the last one."""
    queue = list(replies)

    def handler(_: Received):
        return queue.pop(0) if len(queue) > 1 else queue[0]
    return handler


def make_client(adapter: FakeAdapter, signer: KalshiSigner | None = None, **kwargs) -> tuple[KalshiClient, list]:
    slept: list[float] = []
    kwargs.setdefault("random", lambda: 1.0)
    client = KalshiClient(FAKE_BASE, signer, session=fake_session(adapter), sleep=slept.append, **kwargs)
    return client, slept


@pytest.fixture(scope="module")
def signer(rsa_private_key) -> KalshiSigner:
    return KalshiSigner(KEY_ID, rsa_private_key)


def test_503s_are_retried_with_exponential_full_jitter_backoff_and_fresh_signatures(signer) -> None:
    adapter = FakeAdapter(scripted((503, {"error": {"code": "service_unavailable", "message": "x"}}),
                                   (503, {}), (502, {}), (200, BALANCE)))
    client, slept = make_client(adapter, signer)
    assert client.get_balance().balance_cents == 100000
    assert len(adapter.received) == 4
    assert slept == [0.5, 1.0, 2.0]                      # random() = 1.0: the full ceiling
    signatures = {r.headers["KALSHI-ACCESS-SIGNATURE"] for r in adapter.received}
    assert len(signatures) == 4                          # re-signed on every attempt


def test_each_retry_is_signed_with_a_fresh_timestamp_that_verifies(rsa_private_key) -> None:
    ticks = itertools.count(1_763_700_000_000, 700)
    signer = KalshiSigner(KEY_ID, rsa_private_key, clock_ms=lambda: next(ticks))
    adapter = FakeAdapter(scripted((503, {}), (429, {"error": "too many requests"}), (200, BALANCE)))
    client, _ = make_client(adapter, signer)
    client.get_balance()
    stamps = [r.headers["KALSHI-ACCESS-TIMESTAMP"] for r in adapter.received]
    assert stamps == ["1763700000000", "1763700000700", "1763700001400"]
    for seen, stamp in zip(adapter.received, stamps):
        _verify(rsa_private_key, seen.headers["KALSHI-ACCESS-SIGNATURE"], f"{stamp}GET{seen.path}")


def test_the_signature_is_made_after_the_rate_limiter_wait_not_before(rsa_private_key) -> None:
    clock = {"now": 100.0}
    sleep = lambda s: clock.__setitem__("now", clock["now"] + s)  # noqa: E731
    signer = KalshiSigner(KEY_ID, rsa_private_key, clock_ms=lambda: int(clock["now"] * 1000))
    limiter = RateLimiter("basic", sleep=sleep, monotonic=lambda: clock["now"])
    adapter = FakeAdapter(scripted((200, BALANCE)))
    client = KalshiClient(FAKE_BASE, signer, session=fake_session(adapter), rate_limiter=limiter,
                          sleep=sleep, monotonic=lambda: clock["now"])
    for _ in range(45):                                  # the burst, then waits of ~0.05 s each
        client.get_balance()
    assert clock["now"] > 100.3                       # 6 calls past the 390-token burst
    last = int(adapter.received[-1].headers["KALSHI-ACCESS-TIMESTAMP"])
    assert last == int(clock["now"] * 1000)              # stamped after its own wait


def test_jitter_draws_below_the_ceiling(signer) -> None:
    draws = iter([0.25, 0.5])
    adapter = FakeAdapter(scripted((500, {}), (504, {}), (200, BALANCE)))
    client, slept = make_client(adapter, signer, random=lambda: next(draws))
    client.get_balance()
    assert slept == [0.125, 0.5]


def test_gives_up_after_three_retries_with_the_last_error(signer) -> None:
    adapter = FakeAdapter(scripted((500, {"error": {"code": "internal_server_error", "message": "boom"}})))
    client, slept = make_client(adapter, signer)
    with pytest.raises(TransientApiError) as caught:
        client.get_balance()
    assert len(adapter.received) == 4 and len(slept) == 3
    assert (caught.value.status, caught.value.code) == (500, "internal_server_error")


def test_429_is_retried_up_to_five_times(signer) -> None:
    adapter = FakeAdapter(scripted((429, {"error": "too many requests"})))
    client, slept = make_client(adapter, signer)
    with pytest.raises(RateLimited) as caught:
        client.get_balance()
    assert len(adapter.received) == 6 and len(slept) == 5
    assert caught.value.message == "too many requests"


@pytest.mark.parametrize("status, header, expected", [
    (429, "3", 3.0),
    (429, "0.25", 0.25),
    (503, "12", 12.0),                                   # e.g. a proxy in maintenance mode
    (502, "3600", 30.0),                                 # honoured up to 30 s, not for an hour
    (429, "Wed, 21 Oct 2015 07:28:00 GMT", 0.0),         # an HTTP date in the past: retry now
    (503, "Fri, 31 Dec 9999 23:59:59 GMT", 30.0),        # far future: capped
    (429, "soon", 1.0 * 0.5),                            # unreadable: ordinary jittered backoff
])
def test_retry_after_is_honoured_when_present(signer, status, header, expected) -> None:
    adapter = FakeAdapter(scripted((status, {"error": "busy"}, {"Retry-After": header}), (200, BALANCE)))
    client, slept = make_client(adapter, signer)
    client.get_balance()
    assert slept == [expected]


def test_the_documented_429_body_becomes_a_rate_limited_error(signer, test_data) -> None:
    """Era 3: Kalshi's rate-limit page shows the 429 body as a bare string under "error"."""
    raw = json.loads((test_data / "kalshi-docs-examples/kalshi_docs_examples.json").read_text())
    body = next(b["json"] for b in raw["examples"]["docs/kalshi/getting_started/rate_limits.md"]
                if "error" in b["json"])
    adapter = FakeAdapter(scripted((429, body)))
    client, slept = make_client(adapter, signer, max_rate_limit_retries=0)
    with pytest.raises(RateLimited) as caught:
        client.get_balance()
    assert (caught.value.status, caught.value.message, caught.value.code) == (429, "too many requests", None)
    assert caught.value.maybe_applied is False and slept == []


@pytest.mark.parametrize("failure", [requests.ConnectionError("reset"), requests.ReadTimeout("slow"),
                                     requests.ConnectTimeout("no route")])
def test_network_failures_on_reads_are_retried(signer, failure) -> None:
    adapter = FakeAdapter(scripted(failure, (200, BALANCE)))
    client, _ = make_client(adapter, signer)
    assert client.get_balance().balance_cents == 100000
    assert len(adapter.received) == 2


def test_a_network_error_is_translated_once_with_its_cause_kept(signer) -> None:
    failure = requests.ConnectionError("connection reset by peer")
    adapter = FakeAdapter(scripted(failure))
    client, _ = make_client(adapter, signer)
    with pytest.raises(TransientApiError) as caught:
        client.get_balance()
    assert caught.value.__cause__ is failure
    assert caught.value.method == "GET" and caught.value.path == "/portfolio/balance"


@pytest.mark.parametrize("method, status, code, expected", [
    ("GET", 401, "authentication_error", AuthError),
    ("GET", 403, "permission_denied", AuthError),
    ("GET", 404, "not_found", NotFoundError),
    ("GET", 400, "invalid_parameters", ApiError),
    ("POST", 400, "invalid_order", OrderRejected),
    ("POST", 400, "insufficient_balance", InsufficientFunds),
    ("POST", 409, "market_closed", OrderRejected),
])
def test_error_statuses_map_to_the_hierarchy_and_are_not_retried(signer, method, status, code, expected) -> None:
    body = {"error": {"code": code, "message": code.replace("_", " "), "details": "why"}}
    adapter = FakeAdapter(scripted((status, body)))
    client, slept = make_client(adapter, signer)
    with pytest.raises(expected) as caught:
        if method == "GET":
            client.get_balance()
        else:
            client.amend_order("o1", ticker="KXA", side="bid", price=Decimal("0.5"),
                               count=Decimal("1"))
    assert type(caught.value) is expected
    assert (caught.value.status, caught.value.code, caught.value.details) == (status, code, "why")
    assert len(adapter.received) == 1 and slept == []


def test_the_recorded_permission_denied_body_becomes_an_auth_error(signer, test_data) -> None:
    recorded = json.loads((test_data / "kalshi-starter-code-python-golden/"
                           "portfolio_total_resting_order_value_response.json").read_text())["response"]
    client, _ = make_client(FakeAdapter(scripted((403, recorded))), signer)
    with pytest.raises(AuthError) as caught:
        client.get_balance()
    assert str(caught.value) == "GET /portfolio/balance: HTTP 403 [permission_denied] permission denied"


def test_errors_and_logs_never_carry_the_key_id_signature_or_body(signer, caplog) -> None:
    adapter = FakeAdapter(scripted((503, {}), (400, {"error": {"code": "invalid_order", "message": "bad"}})))
    client, _ = make_client(adapter, signer)
    caplog.set_level(logging.DEBUG, logger="kalshi_trading")
    with pytest.raises(OrderRejected) as caught:
        client.amend_order("o1", ticker="KXSECRETBODY", side="ask", price=Decimal("0.3"),
                           count=Decimal("2"))
    signature = adapter.received[-1].headers["KALSHI-ACCESS-SIGNATURE"]
    shown = str(caught.value) + repr(caught.value.__dict__) + caplog.text
    for secret in (KEY_ID, KEY_ID[:8], signature[:16], "KXSECRETBODY"):
        assert secret not in shown
    assert "POST /portfolio/events/orders/o1/amend" in caplog.text and "attempt 1" in caplog.text


def test_every_call_carries_a_timeout(signer) -> None:
    adapter = FakeAdapter(scripted((200, BALANCE)))
    client, _ = make_client(adapter, signer, timeout=(3.05, 7))
    client.get_balance()
    client.get_balance()
    assert [r.timeout for r in adapter.received] == [(3.05, 7), (3.05, 7)]


def test_decrease_by_is_not_resent_after_an_ambiguous_failure(signer) -> None:
    adapter = FakeAdapter(scripted((500, {}), (500, {}), (200, {"order_id": "o1", "remaining_count": "3.00"})))
    client, _ = make_client(adapter, signer)
    with pytest.raises(TransientApiError):
        client.decrease_order("o1", reduce_by=Decimal("2"))
    assert len(adapter.received) == 1
    result = client.decrease_order("o1", reduce_to=Decimal("3"))  # idempotent: retried
    assert result.remaining_count == 3 and len(adapter.received) == 3


def _paged(items: list[dict], key: str):
    def handler(seen: Received):
        limit = int(seen.query["limit"][0])
        start = int(seen.query.get("cursor", ["0"])[0])
        page = items[start:start + limit]
        cursor = str(start + limit) if start + limit < len(items) else ""
        return 200, {key: page, "cursor": cursor}
    return handler


def test_pagination_follows_cursors_at_the_largest_limit_and_reports_progress(signer) -> None:
    fills = [{"fill_id": f"f{i}", "order_id": "o", "ticker": "KXA", "book_side": "bid",
              "count_fp": "1.00", "yes_price_dollars": "0.5000", "fee_cost": "0.0100"} for i in range(2500)]
    adapter = FakeAdapter(_paged(fills, "fills"))
    client, _ = make_client(adapter, signer)
    progress: list[tuple[int, int]] = []
    got = list(client.iter_fills(ticker="KXA", progress=lambda p, n: progress.append((p, n))))
    assert [f.fill_id for f in got] == [f["fill_id"] for f in fills]
    assert len(adapter.received) == 3                       # ceil(2500 / 1000)
    assert {r.query["limit"][0] for r in adapter.received} == {"1000"}
    assert all(r.query["ticker"] == ["KXA"] for r in adapter.received)
    assert progress == [(1, 1000), (2, 2000), (3, 2500)]


def test_events_are_paged_by_200(signer) -> None:
    events = [{"event_ticker": f"E{i}", "series_ticker": "S"} for i in range(450)]
    adapter = FakeAdapter(_paged(events, "events"))
    client, _ = make_client(adapter, signer)
    assert len(list(client.iter_events())) == 450
    assert [r.query["limit"][0] for r in adapter.received] == ["200", "200", "200"]


@pytest.mark.parametrize("last_page", [{"cursor": ""}, {"cursor": None}, {}], ids=["empty", "null", "missing"])
def test_an_empty_null_or_missing_cursor_ends_the_list(signer, last_page) -> None:
    pages = [{"trades": [{"trade_id": "t1", "ticker": "KXA", "count_fp": "1.00", "yes_price_dollars": "0.5000",
                          "no_price_dollars": "0.5000", "taker_side": "yes"}], "cursor": "c1"},
             {"trades": [{"trade_id": "t2", "ticker": "KXA", "count_fp": "2.00", "yes_price_dollars": "0.4000",
                          "no_price_dollars": "0.6000", "taker_side": "no"}], **last_page}]
    adapter = FakeAdapter(scripted(*[(200, page) for page in pages], (500, {})))
    client, _ = make_client(adapter, signer)
    assert [t.trade_id for t in client.iter_trades(ticker="KXA")] == ["t1", "t2"]
    assert len(adapter.received) == 2 and adapter.received[1].query["cursor"] == ["c1"]


def test_a_repeated_cursor_ends_the_iteration_instead_of_looping(signer) -> None:
    page = {"orders": [], "cursor": "same"}
    adapter = FakeAdapter(lambda seen: (200, {**page, "markets": [{"ticker": "T", "event_ticker": "E",
                                                                    "status": "active"}]}))
    client, _ = make_client(adapter, signer)
    assert len(list(client.iter_markets())) == 2
    assert len(adapter.received) == 2


# --- a real socket: timeouts and resets on loopback ------------------------------------------

class _Flaky(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    plan: list[str] = []
    seen: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        action = self.plan.pop(0) if self.plan else "ok"
        self.seen.append(action)
        if action == "slow":
            threading.Event().wait(0.6)
        if action == "reset":
            self.close_connection = True
            return
        payload = json.dumps(BALANCE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, type[_Flaky]]]:
    handler = type("Handler", (_Flaky,), {"plan": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/trade-api/v2", handler
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_a_read_timeout_and_a_dropped_connection_on_loopback_are_retried(flaky_server, signer) -> None:
    url, handler = flaky_server
    handler.plan.extend(["slow", "reset"])
    client = KalshiClient(url, signer, timeout=0.2, sleep=no_sleep)
    assert client.get_balance().balance_cents == 100000
    assert handler.seen[:3] == ["slow", "reset", "ok"]
    client.close()


def test_a_refused_connection_is_retried_then_reported(signer) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Flaky) as probe:
        port = probe.server_address[1]      # a port nobody listens on once this closes
    slept: list[float] = []
    client = KalshiClient(f"http://127.0.0.1:{port}/trade-api/v2", signer, sleep=slept.append, timeout=1)
    with pytest.raises(TransientApiError, match="could not connect") as caught:
        client.get_exchange_status()
    assert len(slept) == 3 and caught.value.maybe_applied is False


class _RawKeyHeader(requests.auth.AuthBase):
    """An auth hook that sends whatever key id it is given (the signer now refuses bad ones)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["KALSHI-ACCESS-KEY"] = self.value
        return request


@pytest.mark.parametrize("bad", [KEY_ID + "\u200b", KEY_ID[:8] + "\n" + KEY_ID[8:]], ids=["zwsp", "newline"])
def test_a_header_http_client_refuses_is_our_error_and_never_quotes_the_value(flaky_server, bad) -> None:
    """http.client raised a bare UnicodeEncodeError / a ValueError quoting the whole key id, past
    the one translation point, so the key id reached the screen and errors.log."""
    url, _ = flaky_server
    client = KalshiClient(url, _RawKeyHeader(bad), sleep=no_sleep)
    with pytest.raises(ApiError, match="request could not be made") as caught:
        client.get_balance()
    client.close()
    shown = "".join(traceback.format_exception(caught.value))
    assert KEY_ID[8:] not in shown and "\\u200b" not in shown


@pytest.mark.parametrize("bad", [KEY_ID + "\u200b", KEY_ID[:8] + "\n" + KEY_ID[8:], KEY_ID + " x"])
def test_a_key_id_no_header_can_carry_is_refused_by_the_signer_without_echoing_it(rsa_private_key, bad) -> None:
    with pytest.raises(ConfigError, match="KALSHI_API_KEY_ID contains") as caught:
        KalshiSigner(bad, rsa_private_key)
    assert KEY_ID[8:] not in str(caught.value)
