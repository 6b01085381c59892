"""Live mode keeps its books fresh: a fake Kalshi on loopback whose book and status change between
polls, against a paper exchange started with `--market-data live` and a short refresh interval.

The exchange's clock is fixed (signatures and market times stay valid); only the refresh interval
runs in real time, 0.05 s here, so every test ends in well under a second or two. No test sleeps:
"nothing happened" is asserted only after the refresher's `rounds` counter proves that whole
refresh rounds ran (and, where it matters, that the fake saw their polls).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests

from kalshi_trading.paper.engine import PaperEngine
from kalshi_trading.paper.market_data.live import LiveRefresher
from kalshi_trading.paper.market_data.sources import load_universe
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.paper.store import Store
from tests.conftest import pem_public
from tests.loopback_server import JsonHandler, serving
from tests.paper_http import PaperHttp
from tests.waiting import wait_until

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
T60, T65 = "KXHIGHNY-26NOV21-T60", "KXHIGHNY-26NOV21-T65"
PREFIX = "/trade-api/v2"
LOGGER = "kalshi_trading.paper.market_data.live"
FAST = 0.05
WAIT = 5.0     # seconds a test waits for the refresher before failing (about 100 rounds)


def market(ticker: str, status: str = "active", result: str = "") -> dict:
    body = {"ticker": ticker, "event_ticker": "KXHIGHNY-26NOV21", "market_type": "binary", "title": ticker,
            "yes_sub_title": "Yes", "no_sub_title": "No", "status": status, "result": result,
            "open_time": "2026-11-21T00:00:00Z", "close_time": "2026-11-21T13:00:00Z",
            "created_time": "2026-11-20T00:00:00Z", "updated_time": "2026-11-21T11:59:00Z",
            "yes_bid_dollars": "0.3000", "yes_ask_dollars": "0.3300", "volume_fp": "12.00",
            "price_level_structure": "linear_cent",
            "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]}
    if result:
        body["settlement_value_dollars"] = "1.0000" if result == "yes" else "0.0000"
    return body


def book(yes: list[tuple[str, str]], no: list[tuple[str, str]]) -> dict:
    return {"orderbook_fp": {"yes_dollars": [list(level) for level in yes],
                             "no_dollars": [list(level) for level in no]}}


QUIET = book([("0.2900", "40.00"), ("0.3000", "25.00")], [("0.6700", "10.00")])   # YES ask 0.33
CROSSED = book([("0.2900", "40.00")], [("0.6700", "10.00"), ("0.7000", "50.00")])  # YES ask 0.30 x 50


class FakeKalshi(JsonHandler):
    """Kalshi's public market endpoints with state the test changes between polls."""

    state: dict = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        state = type(self).state
        path = urlsplit(self.path).path.removeprefix(PREFIX)
        state["seen"].append(path)
        body = None
        if state["fail"] and path.startswith("/markets/"):
            status, body = 503, {"error": {"code": "service_unavailable"}}
        elif path == "/markets":
            status, body = 200, {"markets": [market(T60), market(T65)], "cursor": ""}
        elif path == "/events":
            status, body = 200, {"events": [], "cursor": ""}
        elif path.endswith("/orderbook") and path.split("/")[2] in state["books"]:
            status, body = 200, state["books"][path.split("/")[2]]
        elif path.count("/") == 2 and path.split("/")[2] in state["markets"]:
            status, body = 200, {"market": state["markets"][path.split("/")[2]]}
        else:
            status, body = 404, {"error": {"code": "not_found"}}
        self.reply(status, body)


@pytest.fixture()
def fake():
    FakeKalshi.state = {"seen": [], "fail": False, "books": {T60: QUIET, T65: QUIET},
                        "markets": {T60: market(T60), T65: market(T65)}}
    with serving(FakeKalshi) as url:
        yield FakeKalshi.state, url + PREFIX


@pytest.fixture()
def exchange(fake, tmp_path, rsa_private_key):
    state, url = fake
    running = start_paper_exchange(tmp_path / "paper", market_data="live", live_base_url=url,
                                   clock=lambda: NOW, public_keys={"k": pem_public(rsa_private_key)},
                                   on_notice=pytest.fail, live_refresh_interval=FAST)
    http = PaperHttp(running.base_url, "k", rsa_private_key, clock_ms=lambda: int(NOW.timestamp() * 1000))
    try:
        yield state, running, http
    finally:
        http.close()
        running.stop()


def eventually(check, what: str):
    """`check()`'s first truthy value while the refresher runs; fails naming `what` after WAIT s."""
    return wait_until(check, WAIT, what)


def whole_rounds(running, n: int = 2) -> None:
    """Wait until `n` whole refresh rounds have run after this call: n + 1 more finished rounds,
    since the one in flight now may have chosen its markets before the test's last change."""
    refresher = running.live_refresh
    target = refresher.rounds + n + 1
    wait_until(lambda: refresher.rounds >= target, WAIT, f"{n} whole live refresh rounds")


def bid(http: PaperHttp, price: str, count: str = "10") -> str:
    response = http.post("/portfolio/events/orders", json={
        "ticker": T60, "side": "bid", "count": count, "price": price, "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross", "client_order_id": str(uuid.uuid4())})
    assert response.status_code == 201 and response.json()["fill_count"] == "0.00", response.text
    return response.json()["order_id"]


def order_status(http: PaperHttp, order_id: str) -> str:
    return http.get(f"/portfolio/orders/{order_id}").json()["order"]["status"]


def test_resting_bid_fills_when_the_live_book_crosses_it_then_settles_when_live_finalizes(exchange):
    state, running, http = exchange
    filled_id, other_id = bid(http, "0.31"), bid(http, "0.20")
    before = len(state["seen"])
    whole_rounds(running)                                 # a few polls of the quiet book: nothing
    assert f"/markets/{T60}/orderbook" in state["seen"][before:]
    assert http.get("/portfolio/fills").json()["fills"] == []

    state["books"][T60] = CROSSED                          # someone offers YES at 0.30 x 50
    fills = eventually(lambda: http.get("/portfolio/fills").json()["fills"], "a fill from the crossed book")
    assert [(f["order_id"], f["count_fp"], f["yes_price_dollars"], f["is_taker"]) for f in fills] == [
        (filled_id, "10.00", "0.3100", False)]            # at our limit, as maker
    assert order_status(http, other_id) == "resting"
    ask = http.get(f"/markets/{T60}").json()["market"]["yes_ask_dollars"]
    assert ask == "0.3000"                                # the paper book is the new real one

    state["markets"][T60] = market(T60, "closed")
    eventually(lambda: order_status(http, other_id) == "canceled", "the close to cancel the other bid")
    assert http.get(f"/markets/{T60}").json()["market"]["status"] == "closed"

    state["markets"][T60] = market(T60, "finalized", "yes")
    settlements = eventually(lambda: http.get("/portfolio/settlements").json()["settlements"],
                             "a settlement from the finalized market")
    assert [(s["ticker"], s["market_result"], s["revenue"], s["yes_count_fp"]) for s in settlements] == [
        (T60, "yes", 1000, "10.00")]
    assert http.get("/portfolio/positions").json()["market_positions"] == []
    polls_after_settling = len(state["seen"])
    whole_rounds(running)                                 # a settled market is no longer polled
    assert not [p for p in state["seen"][polls_after_settling:] if T60 in p]


def test_a_market_someone_read_is_refreshed_and_untouched_ones_are_not_polled(exchange):
    state, running, http = exchange
    snapshot = len(state["seen"])                          # what the start-up snapshot read
    whole_rounds(running)
    assert state["seen"][snapshot:] == []                  # nobody cares yet: no polling
    assert http.get(f"/markets/{T65}/orderbook", signed=False).json()["orderbook_fp"]["no_dollars"] == [
        ["0.6700", "10.00"]]
    state["books"][T65] = CROSSED
    eventually(lambda: http.get(f"/markets/{T65}/orderbook", signed=False).json()
               ["orderbook_fp"]["no_dollars"][-1] == ["0.7000", "50.00"], "T65's new book after a read")
    assert not [p for p in state["seen"][snapshot:] if T60 in p]


def test_outage_is_logged_once_keeps_the_last_book_and_recovers(exchange, caplog):
    state, running, http = exchange
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    order_id = bid(http, "0.31")
    state["books"][T60] = book([("0.2900", "40.00")], [("0.6800", "20.00")])   # YES ask 0.32 x 20
    no_side = lambda: http.get(f"/markets/{T60}/orderbook", signed=False).json()["orderbook_fp"]["no_dollars"]
    eventually(lambda: no_side() == [["0.6800", "20.00"]], "the new T60 book")
    state["fail"] = True
    polls = len(state["seen"])
    whole_rounds(running, 4)                                     # several failed cycles ...
    assert len(state["seen"]) >= polls + 4                       # ... that each asked the fake
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "HTTP 503" in warnings[0].getMessage(), warnings
    assert running.live_refresh.thread.is_alive()
    assert no_side() == [["0.6800", "20.00"]]                    # the last book stays
    assert order_status(http, order_id) == "resting"

    state["books"][T60] = CROSSED
    state["fail"] = False
    eventually(lambda: order_status(http, order_id) == "executed", "a fill once the host is back")
    messages = [(r.levelname, r.getMessage()) for r in caplog.records
                if r.name == LOGGER and r.levelno >= logging.INFO]
    assert messages[1:] == [("INFO", "live market data refresh recovered")]


def test_stop_ends_the_refresh_thread_promptly(fake, tmp_path, rsa_private_key):
    state, url = fake
    running = start_paper_exchange(tmp_path / "paper", market_data="live", live_base_url=url,
                                   clock=lambda: NOW, public_keys={"k": pem_public(rsa_private_key)},
                                   on_notice=pytest.fail)
    thread = running.live_refresh.thread          # the default 5 s interval: stop must not wait it out
    assert thread.is_alive()
    began = time.monotonic()
    running.stop()
    assert time.monotonic() - began < 1.0 and not thread.is_alive()


def test_bundled_fallback_starts_no_refresh(tmp_path, rsa_private_key):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}{PREFIX}"
    notices: list[str] = []
    running = start_paper_exchange(tmp_path / "a", market_data="live", live_base_url=dead,
                                   clock=lambda: NOW, public_keys={"k": pem_public(rsa_private_key)},
                                   on_notice=notices.append)
    try:
        assert running.engine.universe.source == "bundled" and running.live_refresh is None
        assert len(notices) == 1
    finally:
        running.stop()


def _engine_on(url: str, tmp_path) -> tuple[PaperEngine, Store]:
    with requests.Session() as session:
        universe = load_universe("live", start=NOW, session=session, live_base_url=url, on_notice=pytest.fail)
    store = Store(tmp_path / "state.sqlite3")
    return PaperEngine(universe, store, clock=lambda: NOW), store


def test_refused_connections_during_refresh_log_one_warning_and_raise_nothing(fake, tmp_path, caplog):
    state, url = fake
    engine, store = _engine_on(url, tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}{PREFIX}"
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with requests.Session() as session:
        refresher = LiveRefresher(engine, session, dead, clock=lambda: NOW, interval=FAST)
        refresher.note_read(T60)
        assert [refresher.run_once() for _ in range(5)] == [0] * 5
    (warning,) = [r for r in caplog.records if r.name == LOGGER]
    assert "ConnectionError" in warning.getMessage() and "\n" not in warning.getMessage()
    assert engine.orderbook(T60)["orderbook_fp"]["yes_dollars"][-1] == ["0.3000", "25.00"]
    store.close()


def test_each_cycle_polls_at_most_k_markets_oldest_first(fake, tmp_path):
    state, url = fake
    engine, store = _engine_on(url, tmp_path)
    with requests.Session() as session:
        refresher = LiveRefresher(engine, session, url, clock=lambda: NOW, interval=FAST, max_per_cycle=1)
        refresher.note_read(T60)
        refresher.note_read(T65)
        before = len(state["seen"])
        assert [refresher.run_once() for _ in range(3)] == [1, 1, 1]
    polled = [p.split("/")[2] for p in state["seen"][before:] if p.endswith("/orderbook")]
    assert polled == [T65, T60, T65]                 # newest read first, then round robin
    assert len(state["seen"]) - before == 6          # an orderbook and a market GET per market
    store.close()


def test_apply_updates_refuses_trade_prints(fake, tmp_path):
    from kalshi_trading.paper.universe import MarketUpdate, TradePrint

    state, url = fake
    engine, store = _engine_on(url, tmp_path)
    with pytest.raises(ValueError):
        engine.apply_updates([MarketUpdate(NOW, T60, trade=TradePrint(Decimal("0.3"), Decimal(1), "yes"))])
    store.close()


class _Answer:
    status_code = 200

    def __init__(self, body: dict) -> None:
        self.body = body

    def json(self) -> dict:
        return self.body


class _SlowSession:
    """A session whose first GET hangs until released; records any GET made after close()."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.closed = False
        self.used_after_close = 0
        self.lock = threading.Lock()

    def get(self, url, **kwargs):
        with self.lock:
            if self.closed:
                self.used_after_close += 1
        if url.endswith("/orderbook"):      # the first GET of a poll: hangs, then answers
            self.entered.set()
            self.release.wait(5)
            return _Answer(QUIET)
        raise requests.ConnectionError("offline")

    def close(self) -> None:
        with self.lock:
            self.closed = True


class _Watching:
    """Just what `LiveRefresher` asks of an engine, watching one market."""

    lock = threading.RLock()
    markets = {T60: None}
    settled: dict = {}

    def watched_tickers(self) -> set[str]:
        return {T60}


def test_a_stop_that_outlives_its_join_leaves_the_session_to_the_thread_to_close():
    """stop() closed its own session while the thread was still inside a GET; the thread's next
    GET then opened a fresh connection on the closed session that nothing ever closed."""
    session = _SlowSession()
    refresher = LiveRefresher(_Watching(), session, "http://127.0.0.1:9/trade-api/v2", clock=lambda: NOW,
                              interval=0.01, own_session=True)
    refresher.start()
    assert session.entered.wait(5)
    refresher.stop(timeout=0.05)            # the GET is still hanging
    assert refresher.thread.is_alive() and not session.closed
    session.release.set()
    refresher.thread.join(5)
    assert not refresher.thread.is_alive()
    assert session.closed and session.used_after_close == 0
