"""Fault injection over real HTTP: --fail-rate answers errors or drops BEFORE doing anything,
--lose-response-rate commits an order creation and then drops the connection; --seed repeats."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
import requests

from kalshi_trading.errors import ConfigError
from kalshi_trading.paper.faults import Fault, FaultInjector
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.timeutil import utc_now
from tests.conftest import pem_public
from tests.paper_http import PaperHttp, make_universe

TICKER = "KXTEST-E0-M0"


def start(tmp_path, key, **faults):
    return start_paper_exchange(tmp_path, universe=make_universe(utc_now()),
                                public_keys={"test-key": pem_public(key)}, **faults)


def outcome(send) -> str:
    try:
        response = send()
    except requests.ConnectionError:
        return "drop"
    return str(response.status_code)


def create_body(client_order_id: str) -> dict:
    return {"ticker": TICKER, "side": "bid", "count": "1", "price": "0.46",
            "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross",
            "client_order_id": client_order_id}


def test_fail_rate_gives_each_fault_kind_at_roughly_the_configured_rate(tmp_path, rsa_private_key):
    with start(tmp_path, rsa_private_key, fail_rate=0.3, seed=7) as running:
        http = PaperHttp(running.base_url)
        seen = Counter(outcome(lambda: http.get("/exchange/status", signed=False)) for _ in range(400))
        http.close()
    failed = 400 - seen["200"]
    assert 0.22 * 400 <= failed <= 0.38 * 400, seen
    assert {"500", "503", "429", "drop"} <= set(seen), seen


def test_fault_bodies_look_like_kalshis(tmp_path, rsa_private_key):
    bodies = {}
    with start(tmp_path, rsa_private_key, fail_rate=1.0, seed=3) as running:
        for _ in range(60):
            try:
                response = requests.get(running.base_url + "/exchange/status", timeout=5)
            except requests.ConnectionError:
                continue
            bodies[response.status_code] = response.json()
    assert bodies[429] == {"error": "too many requests"}
    assert bodies[500]["error"]["code"] == "internal_server_error"
    assert bodies[503]["error"]["code"] == "service_unavailable"


def test_the_same_seed_repeats_the_same_faults(tmp_path, rsa_private_key):
    runs = []
    for attempt in range(2):
        with start(tmp_path / str(attempt), rsa_private_key, fail_rate=0.5, seed=42) as running:
            http = PaperHttp(running.base_url)
            runs.append([outcome(lambda: http.get("/exchange/status", signed=False)) for _ in range(40)])
            http.close()
    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 1


def place_many(running, rsa_private_key, n: int) -> dict[str, str]:
    """Send `n` new orders, each with its own client_order_id; returns id -> outcome."""
    http = PaperHttp(running.base_url, "test-key", rsa_private_key)
    try:
        results = {}
        for _ in range(n):
            coid = str(uuid.uuid4())
            results[coid] = outcome(lambda: http.post("/portfolio/events/orders", json=create_body(coid)))
        return results
    finally:
        http.close()


def test_failed_requests_did_nothing_and_served_ones_did(tmp_path, rsa_private_key):
    with start(tmp_path, rsa_private_key, fail_rate=0.4, seed=11) as running:
        results = place_many(running, rsa_private_key, 60)
        stored = {o["client_order_id"] for o in running.engine.list_orders("test-key")}
    served = {coid for coid, result in results.items() if result == "201"}
    assert stored == served
    assert 0 < len(served) < 60


def test_lost_responses_were_really_committed(tmp_path, rsa_private_key):
    with start(tmp_path, rsa_private_key, lose_response_rate=0.5, seed=5) as running:
        results = place_many(running, rsa_private_key, 40)
        lost = [coid for coid, result in results.items() if result == "drop"]
        stored = {o["client_order_id"] for o in running.engine.list_orders("test-key")}
        assert stored == set(results)             # every creation committed, answered or not
        assert 10 <= len(lost) <= 30, results
        # the client's recovery path: resending a lost create finds it already there
        http = PaperHttp(running.base_url, "test-key", rsa_private_key)
        retry = outcome(lambda: http.post("/portfolio/events/orders", json=create_body(lost[0])))
        http.close()
        assert retry in ("409", "drop")
        assert sum(1 for o in running.engine.list_orders("test-key")
                   if o["client_order_id"] == lost[0]) == 1


def test_lose_response_rate_never_touches_reads(tmp_path, rsa_private_key):
    with start(tmp_path, rsa_private_key, lose_response_rate=1.0, seed=1) as running:
        http = PaperHttp(running.base_url, "test-key", rsa_private_key)
        assert all(http.get("/portfolio/balance").status_code == 200 for _ in range(20))
        rejected = http.post("/portfolio/events/orders", json={**create_body("x"), "price": "0.455"})
        assert rejected.status_code == 400  # nothing committed, so the answer is not lost
        http.close()


def test_rates_outside_zero_to_one_are_refused():
    with pytest.raises(ConfigError):
        FaultInjector(fail_rate=1.5)
    with pytest.raises(ConfigError):
        FaultInjector(lose_response_rate=-0.1)


def test_zero_rates_never_fire():
    faults = FaultInjector(seed=1)
    assert not faults.active
    assert all(faults.before_request() is None and not faults.lose_response() for _ in range(1000))


def test_injector_draws_every_kind_of_fault():
    faults = FaultInjector(fail_rate=1.0, seed=2)
    assert {faults.before_request() for _ in range(200)} == set(Fault)
