"""The paper exchange over real loopback HTTP: lifecycle, keep-alive, routes, auth, errors, orders.

Every test starts its own exchange on port 0 (cheap: a small synthetic universe and a fresh
SQLite file) and signs with RSA keys made at test time.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from decimal import Decimal
from http.client import HTTPConnection

import pytest
import requests

from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.timeutil import utc_now
from tests.conftest import pem_public
from tests.paper_http import PaperHttp, db_dump, make_universe

TICKER = "KXTEST-E0-M0"
CLOSED = "KXTEST-E1-M2"


@pytest.fixture()
def exchange(tmp_path, rsa_private_key):
    running = start_paper_exchange(tmp_path / "paper", universe=make_universe(utc_now(), closed=(CLOSED,)),
                                   public_keys={"test-key": pem_public(rsa_private_key)})
    yield running
    running.stop()


@pytest.fixture()
def http(exchange, rsa_private_key):
    client = PaperHttp(exchange.base_url, "test-key", rsa_private_key)
    yield client
    client.close()


def order(ticker: str = TICKER, side: str = "bid", count: str = "1", price: str = "0.46",
          tif: str = "immediate_or_cancel", **extra) -> dict:
    return {"ticker": ticker, "side": side, "count": count, "price": price, "time_in_force": tif,
            "self_trade_prevention_type": "taker_at_cross", "client_order_id": str(uuid.uuid4()),
            **extra}


def observable_state(http: PaperHttp) -> dict:
    """What a user can see of their account and the market they trade."""
    return {"balance": http.get("/portfolio/balance").json(),
            "orders": http.get_all("/portfolio/orders", "orders"),
            "positions": http.get("/portfolio/positions").json(),
            "fills": http.get_all("/portfolio/fills", "fills"),
            "book": http.get(f"/markets/{TICKER}/orderbook").json()}


# --- lifecycle and transport ------------------------------------------------------------------

def test_serves_on_an_ephemeral_loopback_port_and_stop_frees_it(tmp_path, rsa_private_key):
    running = start_paper_exchange(tmp_path, universe=make_universe(utc_now()),
                                   public_keys={"k": pem_public(rsa_private_key)})
    assert running.base_url.startswith("http://127.0.0.1:")
    assert running.base_url.endswith("/trade-api/v2")
    assert requests.get(running.base_url + "/exchange/status", timeout=5).json()["trading_active"] is True
    running.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(running.base_url + "/exchange/status", timeout=5)
    running.stop()  # a second stop is harmless


def test_context_manager_stops_the_exchange(tmp_path, rsa_private_key):
    with start_paper_exchange(tmp_path, universe=make_universe(utc_now()),
                              public_keys={"k": pem_public(rsa_private_key)}) as running:
        url = running.base_url + "/exchange/status"
        assert requests.get(url, timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)


def test_stop_ends_idle_keep_alive_connections_too(exchange, http):
    assert http.get("/exchange/status").status_code == 200  # leaves a pooled keep-alive connection
    exchange.stop()
    with pytest.raises(requests.ConnectionError):
        http.get("/exchange/status")


def test_one_connection_serves_many_requests(exchange):
    conn = HTTPConnection("127.0.0.1", exchange.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", "/trade-api/v2/exchange/status")
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200
            assert int(response.getheader("Content-Length")) == len(body)
            assert response.getheader("Content-Type") == "application/json"
            assert not response.will_close
    finally:
        conn.close()


def test_signed_get_over_keep_alive_takes_about_a_millisecond(http):
    http.get("/portfolio/balance")
    timings = []
    for _ in range(50):
        start = time.perf_counter()
        assert http.get("/portfolio/balance").status_code == 200
        timings.append(time.perf_counter() - start)
    # generous: a Nagle / delayed-ACK stall would show up as ~40 ms
    assert statistics.median(timings) < 0.005


def test_requests_are_not_logged_to_stderr(http, capfd):
    http.get("/portfolio/balance")
    http.get("/nope")
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


# --- routes and shapes --------------------------------------------------------------------------

def test_unknown_paths_answer_404_not_found(http):
    for path in ("/nope", "/markets/X/nope", "/../etc/passwd"):
        response = http.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    outside = requests.get(http.base_url.replace("/trade-api/v2", "/other"), timeout=5)
    assert outside.status_code == 404


@pytest.mark.parametrize("path", [f"/markets/NOPE", "/events/NOPE", "/series/NOPE",
                                  "/markets/NOPE/orderbook"])
def test_unknown_tickers_are_404(http, path):
    response = http.get(path, signed=False)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_exchange_status_schedule_and_historical_cutoff(http):
    status = http.get("/exchange/status", signed=False).json()
    assert status["exchange_active"] and status["trading_active"]
    schedule = http.get("/exchange/schedule", signed=False).json()["schedule"]
    assert schedule["standard_hours"][0]["monday"] == [{"open_time": "00:00", "close_time": "23:59"}]
    cutoff = http.get("/historical/cutoff").json()
    assert cutoff["trades_created_ts"] < "2001"  # nothing on the paper exchange is historical
    assert http.get("/historical/fills").json() == {"fills": [], "cursor": ""}


def test_series_events_and_markets_are_served(http):
    assert [s["ticker"] for s in http.get("/series").json()["series"]] == ["KXTEST"]
    assert http.get("/series/KXTEST").json()["series"]["fee_type"] == "quadratic"
    events = http.get("/events", params={"with_nested_markets": "true"}).json()["events"]
    assert [len(e["markets"]) for e in events] == [3, 3]
    event = http.get("/events/KXTEST-E0").json()
    assert event["event"]["event_ticker"] == "KXTEST-E0" and len(event["markets"]) == 3
    market = http.get(f"/markets/{TICKER}").json()["market"]
    assert (market["yes_bid_dollars"], market["yes_ask_dollars"]) == ("0.4400", "0.4600")
    only = http.get("/markets", params={"tickers": f"{TICKER},KXTEST-E1-M0"}).json()["markets"]
    assert sorted(m["ticker"] for m in only) == [TICKER, "KXTEST-E1-M0"]
    assert len(http.get("/markets", params={"event_ticker": "KXTEST-E1"}).json()["markets"]) == 3
    assert CLOSED not in [m["ticker"] for m in http.get("/markets", params={"status": "open"}).json()["markets"]]


def test_orderbook_depth_limits_levels_per_side(http):
    book = http.get(f"/markets/{TICKER}/orderbook", params={"depth": 1}).json()["orderbook_fp"]
    assert book == {"yes_dollars": [["0.4400", "500.00"]], "no_dollars": [["0.5400", "500.00"]]}
    assert http.get(f"/markets/{TICKER}/orderbook", params={"depth": 101}).status_code == 400


def test_trades_and_candlesticks_after_a_fill(http):
    assert http.post("/portfolio/events/orders", json=order(count="3")).status_code == 201
    trades = http.get("/markets/trades", params={"ticker": TICKER}).json()["trades"]
    assert [(t["count_fp"], t["yes_price_dollars"]) for t in trades] == [("3.00", "0.4600")]
    now = int(time.time())
    candles = http.get(f"/series/KXTEST/markets/{TICKER}/candlesticks",
                       params={"start_ts": now - 3600, "end_ts": now + 60, "period_interval": 1}).json()
    assert candles["ticker"] == TICKER and isinstance(candles["candlesticks"], list)
    missing = http.get(f"/series/KXTEST/markets/{TICKER}/candlesticks", params={"start_ts": now})
    assert missing.status_code == 400


def test_queue_position_of_a_resting_order(http):
    created = http.post("/portfolio/events/orders", json=order(price="0.44", tif="good_till_canceled")).json()
    queue = http.get(f"/portfolio/orders/{created['order_id']}/queue_position").json()
    assert queue == {"queue_position_fp": "500.00"}  # behind the crowd's 500 at 0.44


# --- pagination ---------------------------------------------------------------------------------

def test_markets_paginate_with_opaque_cursors(http):
    seen, cursor, pages = [], "", 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = http.get("/markets", params=params).json()
        seen += [m["ticker"] for m in body["markets"]]
        pages += 1
        cursor = body["cursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 6


def test_orders_and_fills_paginate_past_one_page(http):
    for _ in range(5):
        assert http.post("/portfolio/events/orders", json=order()).status_code == 201
    first = http.get("/portfolio/orders", params={"limit": 2}).json()
    assert len(first["orders"]) == 2 and first["cursor"]
    orders = http.get_all("/portfolio/orders", "orders", limit=2)
    fills = http.get_all("/portfolio/fills", "fills", limit=2)
    assert len({o["order_id"] for o in orders}) == 5
    assert len({f["fill_id"] for f in fills}) == 5


def test_a_new_order_between_pages_does_not_repeat_items(http):
    for _ in range(4):
        http.post("/portfolio/events/orders", json=order())
    first = http.get("/portfolio/orders", params={"limit": 2}).json()
    http.post("/portfolio/events/orders", json=order())  # lands at the head of the newest-first list
    second = http.get("/portfolio/orders", params={"limit": 2, "cursor": first["cursor"]}).json()
    ids = [o["order_id"] for o in first["orders"] + second["orders"]]
    assert len(set(ids)) == 4


@pytest.mark.parametrize("path, params", [
    ("/markets", {"limit": 1001}), ("/markets", {"limit": "ten"}), ("/markets", {"limit": -1}),
    ("/events", {"limit": 201}), ("/portfolio/orders", {"limit": 0}),
    ("/portfolio/fills", {"cursor": "not-a-cursor"}), ("/markets", {"status": "bogus"}),
    ("/portfolio/orders", {"status": "pending"}), ("/markets", {"min_close_ts": "yesterday"}),
])
def test_bad_query_parameters_are_400_invalid_parameters(http, path, params):
    response = http.get(path, params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameters"


# --- auth -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/portfolio/balance", "/portfolio/positions", "/portfolio/orders",
                                  "/portfolio/fills", "/portfolio/settlements", "/account/limits",
                                  "/portfolio/orders/some-id"])
def test_portfolio_and_account_reads_need_a_signature(http, path):
    response = http.get(path, signed=False)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_error"


def test_market_data_is_public_but_bad_auth_headers_are_still_rejected(http, other_rsa_private_key):
    assert http.get("/markets", signed=False).status_code == 200
    assert http.get("/markets").status_code == 200
    forged = http.get("/markets", key=other_rsa_private_key)
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "authentication_error"


@pytest.mark.parametrize("case", ["wrong_key", "unknown_key_id", "stale", "future", "other_path"])
def test_bad_credentials_get_401(http, other_rsa_private_key, case):
    now_ms = int(time.time() * 1000)
    kwargs = {"wrong_key": {"key": other_rsa_private_key}, "unknown_key_id": {"key_id": "nobody"},
              "stale": {"timestamp_ms": now_ms - 31_000}, "future": {"timestamp_ms": now_ms + 31_000},
              "other_path": {}}[case]
    if case == "other_path":
        headers = http.headers("GET", "/portfolio/fills")
        response = http.get("/portfolio/balance", signed=False, headers=headers)
    else:
        response = http.get("/portfolio/balance", **kwargs)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_error"


def test_query_string_is_not_part_of_the_signed_path(http):
    assert http.get("/portfolio/orders", params={"limit": 5, "status": "resting"}).status_code == 200


# --- order writes -------------------------------------------------------------------------------

def test_create_order_fills_against_the_crowd_and_answers_201(http):
    response = http.post("/portfolio/events/orders", json=order(count="10"))
    assert response.status_code == 201
    body = response.json()
    assert (body["fill_count"], body["remaining_count"], body["average_fill_price"]) == ("10.00", "0.00", "0.4600")
    position = http.get("/portfolio/positions").json()["market_positions"][0]
    assert (position["ticker"], position["position_fp"]) == (TICKER, "10.00")


def test_cancel_amend_and_decrease_a_resting_order(http):
    created = http.post("/portfolio/events/orders", json=order(count="10", price="0.30", tif="good_till_canceled")).json()
    order_id = created["order_id"]
    decreased = http.post(f"/portfolio/events/orders/{order_id}/decrease", json={"reduce_by": "4"})
    assert decreased.status_code == 200 and decreased.json()["remaining_count"] == "6.00"
    amended = http.post(f"/portfolio/events/orders/{order_id}/amend",
                        json={"ticker": TICKER, "side": "bid", "price": "0.31", "count": "8"})
    assert amended.status_code == 200
    assert http.get(f"/portfolio/orders/{order_id}").json()["order"]["yes_price_dollars"] == "0.3100"
    cancelled = http.delete(f"/portfolio/events/orders/{order_id}")
    assert cancelled.status_code == 200 and cancelled.json()["reduced_by"] == "8.00"
    again = http.delete(f"/portfolio/events/orders/{order_id}")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "order_not_resting")


def test_batch_create_and_batch_cancel(http):
    batch = {"orders": [order(price="0.30", tif="good_till_canceled"), order(price="0.455")]}
    response = http.post("/portfolio/events/orders/batched", json=batch)
    assert response.status_code == 201
    items = response.json()["orders"]
    assert items[0].get("error") is None and items[1]["error"]["code"] == "invalid_order"
    cancelled = http.delete("/portfolio/events/orders/batched",
                            json={"orders": [{"order_id": items[0]["order_id"]}]})
    assert cancelled.status_code == 200
    assert cancelled.json()["orders"][0]["reduced_by"] == "1.00"


def test_second_create_with_the_same_client_order_id_is_409_and_one_order(http):
    body = order(count="2")
    assert http.post("/portfolio/events/orders", json=body).status_code == 201
    again = http.post("/portfolio/events/orders", json=body)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "order_already_exists")
    mine = [o for o in http.get_all("/portfolio/orders", "orders")
            if o["client_order_id"] == body["client_order_id"]]
    assert len(mine) == 1
    assert http.get("/portfolio/positions").json()["market_positions"][0]["position_fp"] == "2.00"


@pytest.mark.parametrize("path, method", [
    ("/portfolio/orders", "POST"), ("/portfolio/orders/abc", "DELETE"),
    ("/portfolio/orders/abc/amend", "POST"), ("/portfolio/orders/abc/decrease", "POST"),
    ("/portfolio/orders/batched", "POST"), ("/portfolio/orders/batched", "DELETE"),
])
def test_legacy_v1_order_writes_say_switch_to_v2(http, path, method):
    legacy = {"ticker": TICKER, "side": "yes", "action": "buy", "count": 1, "yes_price": 46}
    before = http.get_all("/portfolio/orders", "orders")
    response = http.request(method, path, json=legacy)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "deprecated_v1_order_endpoint"
    assert error["message"] == "Please switch to the V2 endpoints"
    assert http.get_all("/portfolio/orders", "orders") == before


def test_settlement_pays_winners_over_http(exchange, http):
    http.post("/portfolio/events/orders", json=order(count="10"))
    before = Decimal(http.get("/portfolio/balance").json()["balance_dollars"])
    exchange.engine.settle_market(TICKER, "yes")
    settlement = http.get("/portfolio/settlements").json()["settlements"][0]
    assert (settlement["ticker"], settlement["market_result"], settlement["revenue"]) == (TICKER, "yes", 1000)
    after = Decimal(http.get("/portfolio/balance").json()["balance_dollars"])
    assert after - before == Decimal("10")
    assert http.get("/portfolio/positions").json()["market_positions"] == []
    closed = http.post("/portfolio/events/orders", json=order())
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "market_closed")


# --- rejected writes change nothing --------------------------------------------------------------

_BAD_CREATES = [
    ("malformed_json", b"{not json", 400, "invalid_parameters"),
    ("array_body", b"[1, 2]", 400, "invalid_parameters"),
    ("missing_ticker", {k: v for k, v in order().items() if k != "ticker"}, 400, "invalid_parameters"),
    ("missing_count", {k: v for k, v in order().items() if k != "count"}, 400, "invalid_parameters"),
    ("missing_price", {k: v for k, v in order().items() if k != "price"}, 400, "invalid_parameters"),
    ("side_wrong_type", order(side=1), 400, "invalid_parameters"),
    ("price_as_float", {**order(), "price": 0.46}, 400, "invalid_parameters"),
    ("unknown_time_in_force", order(tif="good_till_time"), 400, "invalid_parameters"),
    ("price_off_grid", order(price="0.455"), 400, "invalid_order"),
    ("price_one_dollar", order(price="1.00"), 400, "invalid_order"),
    ("count_zero", order(count="0"), 400, "invalid_order_size"),
    ("count_negative", order(count="-1"), 400, "invalid_order_size"),
    ("count_three_decimals", order(count="1.005"), 400, "invalid_order_size"),
    ("unknown_ticker", order(ticker="NOPE-1"), 404, "not_found"),
    ("closed_market", order(ticker=CLOSED), 409, "market_closed"),
    ("insufficient_balance", order(count="100000", price="0.30", tif="good_till_canceled"), 400,
     "insufficient_balance"),
    ("post_only_cross", order(tif="good_till_canceled", post_only=True), 400, "invalid_order"),
    ("fok_too_big", order(count="1000", tif="fill_or_kill"), 409, "fill_or_kill_insufficient_resting_volume"),
    ("not_utf8", b'{"ticker": "\xff\xfe"}', 400, "invalid_parameters"),
    ("missing_side", {k: v for k, v in order().items() if k != "side"}, 400, "invalid_parameters"),
    ("missing_time_in_force", {k: v for k, v in order().items() if k != "time_in_force"}, 400,
     "invalid_parameters"),
    ("missing_self_trade_prevention", {k: v for k, v in order().items() if k != "self_trade_prevention_type"},
     400, "invalid_parameters"),
    ("ticker_wrong_type", order(ticker=["KXTEST-E0-M0"]), 400, "invalid_parameters"),
    ("count_as_bool", {**order(), "count": True}, 400, "invalid_parameters"),
    ("count_as_float", {**order(), "count": 1.5}, 400, "invalid_parameters"),
    ("count_as_list", {**order(), "count": ["1"]}, 400, "invalid_parameters"),
    ("count_not_a_number", order(count="ten"), 400, "invalid_parameters"),
    ("price_zero", order(price="0"), 400, "invalid_order"),
    ("price_negative", order(price="-0.46"), 400, "invalid_order"),
    ("price_five_decimals", order(price="0.46001"), 400, "invalid_order"),
    ("client_order_id_wrong_type", order(client_order_id=7), 400, "invalid_parameters"),
    ("post_only_wrong_type", order(tif="good_till_canceled", post_only="yes"), 400, "invalid_parameters"),
    ("reduce_only_without_position", order(side="bid", reduce_only=True), 400, "invalid_order"),
    ("side_yes_is_v1", order(side="yes"), 400, "invalid_parameters"),
]


@pytest.fixture()
def busy_account(http):
    """An account with a position and a resting order, so 'nothing changed' means something."""
    assert http.post("/portfolio/events/orders", json=order(count="5")).status_code == 201
    assert http.post("/portfolio/events/orders", json=order(price="0.30", tif="good_till_canceled")).status_code == 201
    return http


@pytest.mark.parametrize("name, body, status, code", _BAD_CREATES, ids=[c[0] for c in _BAD_CREATES])
def test_rejected_create_answers_the_right_error_and_changes_nothing(exchange, busy_account, name, body, status,
                                                                   code):
    http = busy_account
    before = observable_state(http)
    engine_before, disk_before = exchange.engine.state_snapshot(), db_dump(exchange.data_dir)
    if isinstance(body, bytes):
        response = http.post("/portfolio/events/orders", data=body)
    else:
        response = http.post("/portfolio/events/orders", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "details"}
    assert observable_state(http) == before
    assert exchange.engine.state_snapshot() == engine_before     # the public tape and stats too
    assert db_dump(exchange.data_dir) == disk_before               # and nothing was written


@pytest.mark.parametrize("case", ["bad_signature", "unknown_key", "stale_timestamp", "unsigned"])
def test_create_with_bad_credentials_is_401_and_changes_nothing(exchange, busy_account, other_rsa_private_key,
                                                               case):
    http = busy_account
    before = observable_state(http)
    engine_before, disk_before = exchange.engine.state_snapshot(), db_dump(exchange.data_dir)
    kwargs = {"bad_signature": {"key": other_rsa_private_key}, "unknown_key": {"key_id": "nobody"},
              "stale_timestamp": {"timestamp_ms": int(time.time() * 1000) - 60_000},
              "unsigned": {"signed": False}}[case]
    response = http.post("/portfolio/events/orders", json=order(), **kwargs)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_error"
    assert observable_state(http) == before
    assert exchange.engine.state_snapshot() == engine_before
    assert db_dump(exchange.data_dir) == disk_before


def test_error_bodies_never_echo_the_signature(http, other_rsa_private_key):
    headers = http.headers("GET", "/portfolio/balance", key=other_rsa_private_key)
    response = http.get("/portfolio/balance", signed=False, headers=headers)
    assert headers["KALSHI-ACCESS-SIGNATURE"][:16] not in response.text
    assert "test-key" not in response.text
    assert json.loads(response.text)["error"]["code"] == "authentication_error"


# --- rejected amend / decrease / cancel / duplicate create change nothing -------------------------

_BAD_WRITES = [
    ("decrease_both", "decrease", {"reduce_by": "1", "reduce_to": "1"}, 400, "invalid_parameters"),
    ("decrease_neither", "decrease", {}, 400, "invalid_parameters"),
    ("decrease_to_above_remaining", "decrease", {"reduce_to": "50"}, 400, "invalid_order_size"),
    ("decrease_by_three_decimals", "decrease", {"reduce_by": "0.001"}, 400, "invalid_order_size"),
    ("decrease_malformed_json", "decrease", b"{", 400, "invalid_parameters"),
    ("amend_ticker_mismatch", "amend", {"ticker": "KXTEST-E0-M1", "side": "bid", "price": "0.31", "count": "5"},
     400, "order_ticker_mismatch"),
    ("amend_side_mismatch", "amend", {"ticker": TICKER, "side": "ask", "price": "0.31", "count": "5"},
     400, "order_side_mismatch"),
    ("amend_off_grid", "amend", {"ticker": TICKER, "side": "bid", "price": "0.315", "count": "5"},
     400, "invalid_order"),
    ("amend_count_zero", "amend", {"ticker": TICKER, "side": "bid", "price": "0.31", "count": "0"},
     400, "invalid_order_size"),
    ("amend_missing_price", "amend", {"ticker": TICKER, "side": "bid", "count": "5"}, 400, "invalid_parameters"),
    ("amend_too_expensive", "amend", {"ticker": TICKER, "side": "bid", "price": "0.31", "count": "5000"},
     400, "insufficient_balance"),
]


@pytest.mark.parametrize("name, action, body, status, code", _BAD_WRITES, ids=[c[0] for c in _BAD_WRITES])
def test_rejected_amend_and_decrease_answer_the_right_error_and_change_nothing(exchange, busy_account, name,
                                                                               action, body, status, code):
    http = busy_account
    resting = http.get("/portfolio/orders", params={"status": "resting"}).json()["orders"][0]["order_id"]
    before = exchange.engine.state_snapshot(), db_dump(exchange.data_dir)
    path = f"/portfolio/events/orders/{resting}/{action}"
    response = http.post(path, data=body) if isinstance(body, bytes) else http.post(path, json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert (exchange.engine.state_snapshot(), db_dump(exchange.data_dir)) == before


def test_rejected_cancels_and_a_duplicate_create_change_nothing(exchange, busy_account, other_rsa_private_key):
    http = busy_account
    mine = http.get_all("/portfolio/orders", "orders")
    resting = next(o for o in mine if o["status"] == "resting")["order_id"]
    done = next(o for o in mine if o["status"] == "executed")
    before = exchange.engine.state_snapshot(), db_dump(exchange.data_dir)
    assert http.delete("/portfolio/events/orders/no-such-order").status_code == 404
    assert http.delete(f"/portfolio/events/orders/{done['order_id']}").json()["error"]["code"] == "order_not_resting"
    stranger = PaperHttp(exchange.base_url, "test-key", other_rsa_private_key)
    assert stranger.delete(f"/portfolio/events/orders/{resting}").status_code == 401   # wrong key for the id
    duplicate = http.post("/portfolio/events/orders", json=order(client_order_id=done["client_order_id"]))
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "order_already_exists")
    assert (exchange.engine.state_snapshot(), db_dump(exchange.data_dir)) == before
