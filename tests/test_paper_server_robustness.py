"""The paper server against rude clients and many threads, over real loopback sockets.

HEAD / OPTIONS / unknown methods, malformed request lines, bodies that are too big, not UTF-8,
absurdly nested, unframed (no Content-Length) or short, and a client that never sends its body:
each gets a JSON error (400 for bodies) and changes nothing, and the server keeps serving others.
Several threads trading at once lose no update. One data dir serves one exchange at a time.
"""

from __future__ import annotations

import io
import socket
import threading
import time
import uuid
from collections import defaultdict
from decimal import Decimal
from http.client import HTTPConnection

import pytest

from kalshi_trading.errors import ConfigError
from kalshi_trading.paper.cli import paper_reset_main, paper_server_main
from kalshi_trading.paper.server import STATE_FILE, start_paper_exchange
from kalshi_trading.timeutil import utc_now
from tests.conftest import pem_public
from tests.paper_http import PaperHttp, make_universe

TICKER = "KXTEST-E0-M0"
CREATE = "/trade-api/v2/portfolio/events/orders"


@pytest.fixture()
def exchange(tmp_path, rsa_private_key, other_rsa_private_key):
    keys = {"alice": pem_public(rsa_private_key), "bob": pem_public(other_rsa_private_key)}
    running = start_paper_exchange(tmp_path / "paper", universe=make_universe(utc_now()), public_keys=keys)
    yield running
    running.stop()


@pytest.fixture()
def http(exchange, rsa_private_key):
    client = PaperHttp(exchange.base_url, "alice", rsa_private_key)
    yield client
    client.close()


def order(**extra) -> dict:
    return {"ticker": TICKER, "side": "bid", "count": "1", "price": "0.46", "time_in_force": "immediate_or_cancel",
            "self_trade_prevention_type": "taker_at_cross", "client_order_id": str(uuid.uuid4()), **extra}


def raw_exchange(port: int, data: bytes, *, half_close: bool = False) -> bytes:
    """Send raw bytes, read until the server closes (or 5 s pass)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(data)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def signed_head(http: PaperHttp, method: str = "POST", path: str = "/portfolio/events/orders") -> bytes:
    lines = "".join(f"{k}: {v}\r\n" for k, v in http.headers(method, path).items())
    return f"{method} /trade-api/v2{path} HTTP/1.1\r\nHost: localhost\r\n{lines}".encode("ascii")


def status_and_body(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# --- methods ------------------------------------------------------------------------------------

def test_head_gets_405_without_a_body_and_the_connection_stays_usable(exchange):
    conn = HTTPConnection("127.0.0.1", exchange.port, timeout=5)
    conn.request("HEAD", "/trade-api/v2/exchange/status")
    response = conn.getresponse()
    assert response.status == 405 and response.read() == b""
    conn.request("GET", "/trade-api/v2/exchange/status")
    assert conn.getresponse().status == 200
    conn.close()


@pytest.mark.parametrize("method, path, status, code", [
    ("OPTIONS", "/exchange/status", 405, "method_not_allowed"),
    ("PUT", "/portfolio/events/orders", 405, "method_not_allowed"),
    ("PATCH", "/markets/KXTEST-E0-M0", 405, "method_not_allowed"),
    ("PUT", "/no/such/thing", 404, "not_found"),
    ("BREW", "/exchange/status", 501, "method_not_allowed"),
])
def test_other_methods_get_a_json_error(http, method, path, status, code):
    response = http.session.request(method, http.base_url + path, timeout=5)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_a_malformed_request_line_gets_a_json_400(exchange):
    status, body = status_and_body(raw_exchange(exchange.port, b"GARBAGE\r\n\r\n"))
    assert status == 400 and b'"error"' in body


# --- bodies ---------------------------------------------------------------------------------------

BAD_BODIES = {
    "not_utf8": b"Connection: close\r\nContent-Length: 6\r\n\r\n\xff\xfe{}\x80\x81",
    "deeply_nested": b"Connection: close\r\nContent-Length: 200000\r\n\r\n" + b"[" * 100_000 + b"]" * 100_000,
    "length_not_a_number": b"Content-Length: 12abc\r\n\r\n{}",
    "no_content_length": b"\r\n" + b'{"ticker": "KXTEST-E0-M0"}',   # the server must close by itself
    "too_large": b"Content-Length: 2097152\r\n\r\n" + b" " * 2_097_152,
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_bodies_are_400_change_nothing_and_the_server_keeps_serving(exchange, http, case):
    http.post("/portfolio/events/orders", json=order(count="3"))
    before = exchange.engine.state_snapshot()
    raw = raw_exchange(exchange.port, signed_head(http) + BAD_BODIES[case])
    status, body = status_and_body(raw)
    assert status == 400, raw[:300]
    assert b'"invalid_parameters"' in body
    assert exchange.engine.state_snapshot() == before
    assert http.get("/portfolio/balance").status_code == 200


def test_a_body_shorter_than_its_content_length_is_400(exchange, http):
    before = exchange.engine.state_snapshot()
    raw = raw_exchange(exchange.port, signed_head(http) + b"Content-Length: 100\r\n\r\n{\"a\": 1}", half_close=True)
    assert status_and_body(raw)[0] == 400
    assert exchange.engine.state_snapshot() == before


def test_a_chunked_body_is_read(http, exchange):
    chunked = b'{"ticker": "KXTEST-E0-M0", "side": "bid", "count": "2", "price": "0.46", '
    rest = b'"time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross"}'
    body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (chunked, rest)) + b"0\r\n\r\n"
    raw = raw_exchange(exchange.port, signed_head(http) + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                       + body)
    assert status_and_body(raw)[0] == 201
    assert http.get("/portfolio/positions").json()["market_positions"][0]["position_fp"] == "2.00"


@pytest.mark.parametrize("size", [b"-5", b"-1", b"0x5", b"+5"])
def test_a_chunk_size_that_is_not_plain_hex_is_400_at_once(http, exchange, size):
    """int(size, 16) took "-5", and rfile.read(-5) then waited for the client to hang up."""
    before = exchange.engine.state_snapshot()
    with socket.create_connection(("127.0.0.1", exchange.port), timeout=2) as conn:
        conn.sendall(signed_head(http) + b"Transfer-Encoding: chunked\r\n\r\n" + size + b'\r\n{"a":1}\r\n')
        answer = conn.recv(65536)          # no half-close: the server must answer on its own
    assert status_and_body(answer)[0] == 400
    assert exchange.engine.state_snapshot() == before


def test_a_client_that_never_sends_its_body_does_not_hold_up_others(exchange, http):
    stalled = socket.create_connection(("127.0.0.1", exchange.port), timeout=5)
    try:
        stalled.sendall(signed_head(http) + b"Content-Length: 50\r\n\r\n{")
        started = time.perf_counter()
        for _ in range(5):
            assert http.get("/portfolio/balance").status_code == 200
            assert http.post("/portfolio/events/orders", json=order()).status_code == 201
        assert time.perf_counter() - started < 2
    finally:
        stalled.close()


def test_an_absurd_timestamp_header_is_401_not_a_crash(http):
    headers = http.headers("GET", "/portfolio/balance")
    headers["KALSHI-ACCESS-TIMESTAMP"] = "9" * 5000
    response = http.get("/portfolio/balance", signed=False, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "authentication_error")


@pytest.mark.parametrize("count", ["1e30", "1e999999999", "-1e999999999", "NaN", "Infinity"])
def test_counts_decimal_cannot_hold_are_400_not_500(exchange, http, count):
    before = exchange.engine.state_snapshot()
    response = http.post("/portfolio/events/orders", json=order(count=count))
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid_order_size", "invalid_parameters")
    for path in ("amend", "decrease"):
        assert http.post(f"/portfolio/events/orders/nope/{path}", json={"reduce_by": count}).status_code in (400, 404)
    assert exchange.engine.state_snapshot() == before


# --- threads --------------------------------------------------------------------------------------

def _trader(http: PaperHttp, seed: int, statuses: list[int]) -> None:
    """Buys only (IOC lifts the asks, GTC bids rest below them), cancels some of its resting bids."""
    resting: list[str] = []
    for i in range(30):
        if i % 3 == 2 and resting:
            response = http.delete(f"/portfolio/events/orders/{resting.pop()}")
        elif i % 2:
            response = http.post("/portfolio/events/orders",
                                 json=order(count=str(1 + (seed + i) % 7), price=("0.46", "0.48")[i % 4 == 1]))
        else:
            response = http.post("/portfolio/events/orders",
                                 json=order(count="2", price=f"0.{30 + (seed + i) % 14}", time_in_force="good_till_canceled"))
            if response.status_code == 201:
                resting.append(response.json()["order_id"])
        statuses.append(response.status_code)
        statuses.append(http.get("/portfolio/balance").status_code)


def test_concurrent_traders_lose_no_update(exchange, rsa_private_key, other_rsa_private_key):
    keys = {"alice": rsa_private_key, "bob": other_rsa_private_key}
    clients = [PaperHttp(exchange.base_url, name, keys[name]) for name in ("alice", "bob") for _ in range(4)]
    statuses: list[int] = []
    threads = [threading.Thread(target=_trader, args=(c, n, statuses)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not [t.name for t in threads if t.is_alive()], "trader threads still running after 60 s"
    assert len(statuses) == 8 * 60 and set(statuses) <= {200, 201}
    taken: dict[str, Decimal] = defaultdict(Decimal)
    for name in ("alice", "bob"):
        http = clients[0] if name == "alice" else clients[-1]
        for resting in http.get_all("/portfolio/orders", "orders", params={"status": "resting"}):
            assert http.delete(f"/portfolio/events/orders/{resting['order_id']}").status_code == 200
        fills = http.get_all("/portfolio/fills", "fills")
        orders = http.get_all("/portfolio/orders", "orders")
        assert len(orders) == 4 * 20                       # every create was answered 201 and kept
        per_order: dict[str, Decimal] = defaultdict(Decimal)
        for fill in fills:
            per_order[fill["order_id"]] += Decimal(fill["count_fp"])
            taken[fill["yes_price_dollars"]] += Decimal(fill["count_fp"])
        assert {o["order_id"]: Decimal(o["fill_count_fp"]) for o in orders if o["fill_count_fp"] != "0.00"} == per_order
        spent = sum(Decimal(f["yes_price_dollars"]) * Decimal(f["count_fp"]) + Decimal(f["fee_cost"]) for f in fills)
        assert Decimal(http.get("/portfolio/balance").json()["balance_dollars"]) == Decimal(1000) - spent
        held = sum(Decimal(f["count_fp"]) for f in fills)
        assert http.get("/portfolio/positions").json()["market_positions"][0]["position_fp"] == f"{held:.2f}"
    # the crowd's asks shrank by exactly what both users bought at each price
    asks = {f"{1 - Decimal(p):.4f}": Decimal(n) for p, n in
            clients[0].get(f"/markets/{TICKER}/orderbook").json()["orderbook_fp"]["no_dollars"]}
    for price in ("0.4600", "0.4800", "0.5000"):
        assert asks.get(price, Decimal(0)) == Decimal(500) - taken.get(price, Decimal(0))
    snapshot = exchange.engine.state_snapshot()
    for client in clients:
        client.close()
    exchange.stop()
    with start_paper_exchange(exchange.data_dir, universe=exchange.engine.universe,
                              public_keys={"alice": pem_public(rsa_private_key)}) as again:
        restored = again.engine.state_snapshot()
    assert {k: restored[k] for k in ("orders", "positions", "fills")} == {
        k: snapshot[k] for k in ("orders", "positions", "fills")}
    assert {u: tuple(map(Decimal, a)) for u, a in restored["accounts"].items()} == {
        u: tuple(map(Decimal, a)) for u, a in snapshot["accounts"].items()}
    assert restored["markets"][TICKER][1] == snapshot["markets"][TICKER][1]      # the consumed crowd too


# --- one exchange per data dir --------------------------------------------------------------------

def test_a_second_exchange_on_the_same_data_dir_is_refused(exchange, http):
    with pytest.raises(ConfigError, match="already using"):
        start_paper_exchange(exchange.data_dir, universe=make_universe(utc_now()))
    assert http.get("/portfolio/balance").status_code == 200        # the first one is unharmed


def test_paper_reset_refuses_while_an_exchange_runs_and_works_after(exchange, http):
    http.post("/portfolio/events/orders", json=order())
    out = io.StringIO()
    assert paper_reset_main(["--data-dir", str(exchange.data_dir), "--yes"], stdin=io.StringIO(""), stdout=out) == 1
    assert "already using" in out.getvalue() and (exchange.data_dir / STATE_FILE).exists()
    exchange.stop()
    assert paper_reset_main(["--data-dir", str(exchange.data_dir), "--yes"], stdin=io.StringIO(""),
                            stdout=io.StringIO()) == 0
    assert not (exchange.data_dir / STATE_FILE).exists()


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_paper_server_refuses_a_port_out_of_range(tmp_path, capsys, port):
    assert paper_server_main(["--data-dir", str(tmp_path), "--port", port]) == 2
    assert "Traceback" not in capsys.readouterr().err


# --- the market data changes under a data dir --------------------------------------------------

def test_restart_on_other_market_data_cancels_orphaned_orders_and_keeps_the_account_usable(
        tmp_path, rsa_private_key):
    keys = {"alice": pem_public(rsa_private_key)}
    with start_paper_exchange(tmp_path, universe=make_universe(utc_now()), public_keys=keys) as running:
        http = PaperHttp(running.base_url, "alice", rsa_private_key)
        assert http.post("/portfolio/events/orders", json=order(count="4")).status_code == 201
        resting = http.post("/portfolio/events/orders", json=order(price="0.30", count="10",
                                                                   time_in_force="good_till_canceled")).json()
        held_back = http.get("/portfolio/balance").json()["balance"]
        http.close()
    other = make_universe(utc_now(), series_ticker="KXOTHER")          # none of the old markets
    with start_paper_exchange(tmp_path, universe=other, public_keys=keys) as running:
        http = PaperHttp(running.base_url, "alice", rsa_private_key)
        gone = http.get(f"/portfolio/orders/{resting['order_id']}").json()["order"]
        assert (gone["status"], gone["remaining_count_fp"]) == ("canceled", "0.00")
        balance = http.get("/portfolio/balance").json()
        # 4 @ 0.46 cost 1.84 + fee 0.07; the 10 x (0.30 + 0.0147 fee bound) held back is free again
        assert (held_back, balance["balance_dollars"]) == (99494, "998.0900")
        assert balance["portfolio_value"] == 0                      # the position has no price any more
        assert http.get("/portfolio/positions").json()["market_positions"][0]["position_fp"] == "4.00"
        assert http.get("/portfolio/orders", params={"event_ticker": "KXTEST-E0"}).status_code == 200
        assert http.post("/portfolio/events/orders", json=order(ticker="KXOTHER-E0-M0")).status_code == 201
        http.close()
    with start_paper_exchange(tmp_path, universe=other, public_keys=keys) as running:   # canceled for good
        http = PaperHttp(running.base_url, "alice", rsa_private_key)
        assert http.get(f"/portfolio/orders/{resting['order_id']}").json()["order"]["status"] == "canceled"
        http.close()


def test_junk_fee_fields_in_recorded_data_do_not_break_trading(tmp_path, rsa_private_key):
    universe = make_universe(utc_now())
    universe.series["KXTEST"]["fee_multiplier"] = "n/a"
    universe.markets[TICKER]["fee_waiver_expiration_time"] = "someday"
    with start_paper_exchange(tmp_path, universe=universe, public_keys={"alice": pem_public(rsa_private_key)}) as running:
        http = PaperHttp(running.base_url, "alice", rsa_private_key)
        response = http.post("/portfolio/events/orders", json=order(count="10"))
        assert response.status_code == 201
        fill = http.get("/portfolio/fills").json()["fills"][0]
        assert fill["fee_cost"] == "0.1800"          # multiplier 1: 0.1739 -> cent rounding 0.18
        http.close()


@pytest.mark.parametrize("zero", ["0", "0.000", 0, "0E+2"])
def test_decrease_to_any_spelling_of_zero_cancels_the_rest(http, zero):
    placed = http.post("/portfolio/events/orders", json=order(price="0.30", count="5",
                                                              time_in_force="good_till_canceled")).json()
    response = http.post(f"/portfolio/events/orders/{placed['order_id']}/decrease", json={"reduce_to": zero})
    assert (response.status_code, response.json()["remaining_count"]) == (200, "0.00")
    assert http.get(f"/portfolio/orders/{placed['order_id']}").json()["order"]["status"] == "canceled"


def test_a_damaged_state_file_is_one_line_that_points_at_paper_reset_which_then_works(tmp_path, capsys):
    """paper-server printed a sqlite3.DatabaseError traceback (and the app an "unexpected" error)."""
    data_dir = tmp_path / "paper"
    data_dir.mkdir()
    (data_dir / STATE_FILE).write_bytes(b"not a database, just bytes " * 200)
    assert paper_server_main(["--data-dir", str(data_dir), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "paper-reset" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert paper_reset_main(["--data-dir", str(data_dir), "--yes"], stdin=io.StringIO(""),
                            stdout=io.StringIO()) == 0       # the data dir lock was released
    with start_paper_exchange(data_dir, universe=make_universe(utc_now())) as running:
        assert running.engine.balance("u")["balance_dollars"] == "1000.0000"
