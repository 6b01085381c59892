"""Every paper-exchange endpoint's response body validated against the official spec (v3.28.0).

The validator below is deliberately small: it resolves `$ref`, follows `allOf` / `oneOf` / `anyOf`,
honours `nullable` (also beside a `$ref`), checks required fields and JSON types (string / number /
integer / boolean / array / object) and string enums, recursively. Formats and extra fields are not
checked. Fields the spec requires that the paper exchange cannot sensibly emit are listed in
KNOWN_DIFFERENCES (and in KALSHI_API_NOTES) instead of weakening the validator.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest

from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.timeutil import utc_now
from tests.conftest import pem_public
from tests.paper_http import PaperHttp, make_universe
from tests.schema_check import _resolve, load_spec, response_schema, validate

TICKER = "KXTEST-E0-M0"
SETTLED = "KXTEST-E1-M1"

# (spec path, problem suffix) pairs the paper exchange is known not to satisfy, with the reason.
KNOWN_DIFFERENCES: dict[str, str] = {}


# The validator lives in tests/schema_check.py, shared with the engine's own schema test.


@pytest.fixture(scope="module")
def spec() -> dict:
    return load_spec()


def test_validator_catches_missing_wrong_typed_and_null_fields(spec):
    schema = response_schema(spec, "/portfolio/balance", "GET")
    good = {"balance": 100, "balance_dollars": "1.0000", "portfolio_value": 0, "updated_ts": 1}
    assert validate(spec, schema, good) == []
    assert validate(spec, schema, {**good, "balance": "100"}) == ["$.balance: expected integer, got str '100'"]
    assert validate(spec, schema, {k: v for k, v in good.items() if k != "updated_ts"}) == [
        "$.updated_ts: required but missing"]
    assert validate(spec, schema, {**good, "balance": True})
    assert validate(spec, schema, {**good, "portfolio_value": None})
    order = response_schema(spec, "/portfolio/orders/{order_id}", "GET")
    assert any("not in enum" in p for p in validate(spec, order, {"order": {"status": "pending"}}))


# --- every endpoint, for real ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def traded(tmp_path_factory, rsa_private_key):
    """An exchange where the user has a fill, a resting order, a position and a settlement."""
    running = start_paper_exchange(tmp_path_factory.mktemp("paper"), universe=make_universe(utc_now()),
                                   public_keys={"test-key": pem_public(rsa_private_key)})
    http = PaperHttp(running.base_url, "test-key", rsa_private_key)
    ids = {}
    for name, ticker, price, tif in (("filled", TICKER, "0.46", "immediate_or_cancel"),
                                     ("resting", TICKER, "0.30", "good_till_canceled"),
                                     ("to_settle", SETTLED, "0.46", "immediate_or_cancel")):
        response = http.post("/portfolio/events/orders", json=_order(ticker, price, tif))
        assert response.status_code == 201
        ids[name] = response.json()["order_id"]
    running.engine.settle_market(SETTLED, "no")
    yield running, http, ids
    http.close()
    running.stop()


def _order(ticker: str = TICKER, price: str = "0.46", tif: str = "immediate_or_cancel", count: str = "2") -> dict:
    return {"ticker": ticker, "side": "bid", "count": count, "price": price, "time_in_force": tif,
            "self_trade_prevention_type": "taker_at_cross", "client_order_id": str(uuid.uuid4())}


def _now() -> int:
    return int(time.time())


# (spec path, method, request path, params or None, json body or None, expected status)
READS = [
    ("/exchange/status", "GET", "/exchange/status", None),
    ("/exchange/schedule", "GET", "/exchange/schedule", None),
    ("/series", "GET", "/series", None),
    ("/series/{series_ticker}", "GET", "/series/KXTEST", None),
    ("/events", "GET", "/events", {"with_nested_markets": "true"}),
    ("/events", "GET", "/events", None),
    ("/events/{event_ticker}", "GET", "/events/KXTEST-E0", {"with_nested_markets": "true"}),
    ("/markets", "GET", "/markets", None),
    ("/markets/{ticker}", "GET", f"/markets/{TICKER}", None),
    ("/markets/{ticker}", "GET", f"/markets/{SETTLED}", None),
    ("/markets/{ticker}/orderbook", "GET", f"/markets/{TICKER}/orderbook", None),
    ("/markets/trades", "GET", "/markets/trades", None),
    ("/series/{series_ticker}/markets/{ticker}/candlesticks", "GET",
     f"/series/KXTEST/markets/{TICKER}/candlesticks", "candles"),
    ("/historical/cutoff", "GET", "/historical/cutoff", None),
    ("/historical/fills", "GET", "/historical/fills", None),
    ("/account/limits", "GET", "/account/limits", None),
    ("/portfolio/balance", "GET", "/portfolio/balance", None),
    ("/portfolio/positions", "GET", "/portfolio/positions", None),
    ("/portfolio/orders", "GET", "/portfolio/orders", None),
    ("/portfolio/orders/{order_id}", "GET", "/portfolio/orders/{filled}", None),
    ("/portfolio/orders/{order_id}", "GET", "/portfolio/orders/{resting}", None),
    ("/portfolio/orders/{order_id}/queue_position", "GET", "/portfolio/orders/{resting}/queue_position", None),
    ("/portfolio/fills", "GET", "/portfolio/fills", None),
    ("/portfolio/settlements", "GET", "/portfolio/settlements", None),
]


def _check(spec: dict, spec_path: str, method: str, response) -> None:
    body = response.json()
    problems = validate(spec, response_schema(spec, spec_path, method), body)
    unexpected = [p for p in problems if p not in KNOWN_DIFFERENCES]
    assert unexpected == [], f"{method} {spec_path}: {unexpected}"


@pytest.mark.parametrize("spec_path, method, path, params", READS,
                         ids=[f"{r[1]} {r[2]}" for r in READS])
def test_read_responses_match_the_spec(spec, traded, spec_path, method, path, params):
    running, http, ids = traded
    if params == "candles":
        params = {"start_ts": _now() - 3600, "end_ts": _now() + 60, "period_interval": 1}
    response = http.get(path.format(**ids), params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body, "empty body proves nothing"
    _check(spec, spec_path, method, response)


def test_validator_sees_deep_into_real_responses(spec, traded):
    _, http, _ = traded
    body = http.get("/events", params={"with_nested_markets": "true"}).json()
    del body["events"][0]["markets"][1]["price_ranges"]
    body["events"][1]["markets"][0]["yes_bid_size_fp"] = 5
    problems = validate(spec, response_schema(spec, "/events", "GET"), body)
    assert problems == ["$.events[0].markets[1].price_ranges: required but missing",
                        "$.events[1].markets[0].yes_bid_size_fp: expected string, got int 5"]


def test_lists_used_for_validation_are_not_empty(traded):
    _, http, _ = traded
    assert http.get("/portfolio/fills").json()["fills"]
    assert http.get("/portfolio/settlements").json()["settlements"]
    assert http.get("/portfolio/positions").json()["market_positions"]
    assert http.get("/markets/trades").json()["trades"]


def test_write_responses_match_the_spec(spec, traded):
    running, http, ids = traded
    created = http.post("/portfolio/events/orders", json=_order(count="3"))
    assert created.status_code == 201
    _check(spec, "/portfolio/events/orders", "POST", created)
    resting = http.post("/portfolio/events/orders", json=_order(price="0.20", tif="good_till_canceled", count="9"))
    _check(spec, "/portfolio/events/orders", "POST", resting)
    order_id = resting.json()["order_id"]
    decreased = http.post(f"/portfolio/events/orders/{order_id}/decrease", json={"reduce_to": "5"})
    assert decreased.status_code == 200
    _check(spec, "/portfolio/events/orders/{order_id}/decrease", "POST", decreased)
    amended = http.post(f"/portfolio/events/orders/{order_id}/amend",
                        json={"ticker": TICKER, "side": "bid", "price": "0.21", "count": "6"})
    assert amended.status_code == 200
    _check(spec, "/portfolio/events/orders/{order_id}/amend", "POST", amended)
    cancelled = http.delete(f"/portfolio/events/orders/{order_id}")
    assert cancelled.status_code == 200
    _check(spec, "/portfolio/events/orders/{order_id}", "DELETE", cancelled)
    batch = http.post("/portfolio/events/orders/batched",
                      json={"orders": [_order(price="0.22", tif="good_till_canceled"), _order(price="0.225")]})
    assert batch.status_code == 201
    _check(spec, "/portfolio/events/orders/batched", "POST", batch)
    batch_ids = [item["order_id"] for item in batch.json()["orders"] if item.get("order_id")]
    batch_cancel = http.delete("/portfolio/events/orders/batched",
                               json={"orders": [{"order_id": i} for i in batch_ids + ["missing"]]})
    assert batch_cancel.status_code == 200
    _check(spec, "/portfolio/events/orders/batched", "DELETE", batch_cancel)


def test_error_bodies_match_the_spec_error_response(spec, traded):
    _, http, _ = traded
    schema = _resolve(spec, "#/components/schemas/ErrorResponse")
    for response in (http.get("/markets/NOPE"), http.post("/portfolio/events/orders", data=b"{"),
                     http.get("/portfolio/balance", signed=False),
                     http.post("/portfolio/orders", json={}),
                     http.session.request("OPTIONS", http.base_url + "/markets", timeout=5),
                     http.session.request("BREW", http.base_url + "/markets", timeout=5)):
        error = response.json()["error"]
        assert validate(spec, schema, error) == []
        assert set(error) == {"code", "message", "details"}


def test_settled_market_reports_its_settlement_value(traded):
    _, http, _ = traded
    market = http.get(f"/markets/{SETTLED}").json()["market"]
    assert (market["status"], market["result"]) == ("finalized", "no")
    assert Decimal(market.get("settlement_value_dollars", "0")) == 0
