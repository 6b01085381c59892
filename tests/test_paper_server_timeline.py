"""Market data moving under resting orders, over real loopback HTTP on an injected clock.

A scripted timeline (prints, a crossing snapshot, a result) plays against a user's resting bid:
it fills only when a later print or book crosses it, and only behind the size displayed ahead of
it; fees show in fills, orders, positions and the settlement; GTC orders expire on time; and a
restart never applies an update twice. No test sleeps: the exchange and the signer share a clock
the test moves.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, Decimal

import pytest

from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.paper.universe import (BookSnapshot, MarketUniverse, MarketUpdate, TradePrint,
                                           synthetic_market, synthetic_series)
from kalshi_trading.timeutil import to_iso_z
from tests.conftest import pem_public
from tests.paper_http import PaperHttp, synthetic_event

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
TICKER = "KXMAKER-E0-M0"
D = Decimal


class Clock:
    """The one clock of the exchange and of the signer; tests move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def ms(self) -> int:
        return int(self.now.timestamp() * 1000)

    def at(self, seconds: float) -> None:
        self.now = T0 + timedelta(seconds=seconds)


def _levels(*pairs: tuple[str, int]) -> tuple:
    return tuple((D(p), D(n)) for p, n in pairs)


BOOK = BookSnapshot(_levels(("0.40", 500), ("0.42", 500), ("0.44", 500)),      # YES bids
                    _levels(("0.50", 500), ("0.52", 500), ("0.54", 500)))      # NO bids: YES asks .46/.48/.50
CROSSING = BookSnapshot(_levels(("0.40", 500), ("0.42", 500), ("0.44", 500)),
                        _levels(("0.50", 500), ("0.52", 500), ("0.57", 30)))  # a YES ask at 0.43 x 30


def universe(timeline: list[MarketUpdate], *, start: datetime = T0) -> MarketUniverse:
    """One market on a series with maker fees, with `timeline` on top of BOOK."""
    u = MarketUniverse()
    u.series["KXMAKER"] = synthetic_series("KXMAKER", fee_type="quadratic_with_maker_fees")
    u.events["KXMAKER-E0"] = synthetic_event("KXMAKER-E0", "KXMAKER")
    u.markets[TICKER] = synthetic_market(TICKER, "KXMAKER-E0", now=start)
    u.books[TICKER] = BOOK
    u.timeline = sorted(timeline, key=lambda update: update.at)
    return u


def print_at(seconds: float, price: str, count: int, taker: str) -> MarketUpdate:
    return MarketUpdate(T0 + timedelta(seconds=seconds), TICKER, trade=TradePrint(D(price), D(count), taker))


SCRIPT = [
    print_at(10, "0.44", 300, "no"),     # a seller hits 300 at 0.44: eats crowd ahead of us only
    print_at(20, "0.44", 250, "no"),     # 200 crowd left ahead, then 50 of ours
    MarketUpdate(T0 + timedelta(seconds=30), TICKER, book=CROSSING),   # ask 0.43 x 30 crosses us
    print_at(40, "0.44", 500, "yes"),    # a BUYER at 0.44 lifts asks; never fills a bid
    MarketUpdate(T0 + timedelta(seconds=50), TICKER, status="finalized", result="yes"),
]


@pytest.fixture()
def clock() -> Clock:
    return Clock(T0)


def start(tmp_path, key, clock: Clock, timeline: list[MarketUpdate]):
    return start_paper_exchange(tmp_path / "paper", universe=universe(timeline), clock=clock,
                                public_keys={"k": pem_public(key)})


def gtc(price: str, count: str, **extra) -> dict:
    return {"ticker": TICKER, "side": "bid", "count": count, "price": price,
            "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross",
            "client_order_id": str(uuid.uuid4()), **extra}


def fills_of(http: PaperHttp, order_id: str) -> list[dict]:
    return list(reversed(http.get("/portfolio/fills", params={"order_id": order_id}).json()["fills"]))


def test_resting_bid_fills_only_when_later_prints_or_books_cross_it_behind_displayed_size(
        tmp_path, rsa_private_key, clock):
    with start(tmp_path, rsa_private_key, clock, SCRIPT) as running:
        http = PaperHttp(running.base_url, "k", rsa_private_key, clock_ms=clock.ms)
        clock.at(1)
        taker = http.post("/portfolio/events/orders", json={**gtc("0.46", "10"), "time_in_force": "immediate_or_cancel"})
        assert taker.json()["fill_count"] == "10.00"
        clock.at(2)
        placed = http.post("/portfolio/events/orders", json=gtc("0.44", "100"))
        assert (placed.status_code, placed.json()["fill_count"]) == (201, "0.00")
        order_id = placed.json()["order_id"]
        queue = f"/portfolio/orders/{order_id}/queue_position"
        assert http.get(queue).json()["queue_position_fp"] == "500.00"   # behind the displayed crowd

        clock.at(15)   # 300 printed at our price: all of it was crowd ahead of us
        assert http.get(queue).json()["queue_position_fp"] == "200.00"
        assert fills_of(http, order_id) == []

        clock.at(25)   # 250 more: 200 crowd, then 50 of ours, as maker at our price
        clock.at(35)   # then a book whose ask (0.43 x 30) crosses our bid: 30 more at our limit
        fills = fills_of(http, order_id)
        assert [(f["count_fp"], f["yes_price_dollars"], f["is_taker"], f["created_time"]) for f in fills] == [
            ("50.00", "0.4400", False, to_iso_z(T0 + timedelta(seconds=20))),
            ("30.00", "0.4400", False, to_iso_z(T0 + timedelta(seconds=30)))]
        # maker fee 0.0175 x C x P x (1-P), rounded up to $0.0001, then the per-order cent rounding:
        # 50 @ 0.44: 0.2156 -> balance moves 22.2156 -> 22.22, so fee_cost 0.2200 (0.0044 accrued)
        # 30 @ 0.44: 0.1294 -> 13.3294 -> 13.33, fee_cost 0.1300 (accrued 0.0050, no cent rebate yet)
        assert [f["fee_cost"] for f in fills] == ["0.2200", "0.1300"]

        clock.at(45)   # a buyer's print at 0.44 hits asks, not our bid
        order = http.get(f"/portfolio/orders/{order_id}").json()["order"]
        assert (order["status"], order["fill_count_fp"], order["remaining_count_fp"]) == ("resting", "80.00", "20.00")
        assert (order["maker_fees_dollars"], order["taker_fees_dollars"]) == ("0.3500", "0.0000")
        assert order["maker_fill_cost_dollars"] == "35.2000"
        taker_order = http.get(f"/portfolio/orders/{taker.json()['order_id']}").json()["order"]
        # taker 10 @ 0.46: 0.07 x 10 x 0.46 x 0.54 = 0.17388 -> 0.1739 -> 4.7739 -> 4.78: fee_cost 0.1800
        assert (taker_order["taker_fees_dollars"], taker_order["maker_fees_dollars"]) == ("0.1800", "0.0000")
        position = http.get("/portfolio/positions").json()["market_positions"][0]
        assert (position["position_fp"], position["fees_paid_dollars"]) == ("90.00", "0.5300")
        assert position["market_exposure_dollars"] == "39.8000"
        cash = D("1000") - D("4.60") - D("0.18") - D("22.00") - D("0.22") - D("13.20") - D("0.13")
        reserved_for_20 = 20 * (D("0.44") + D("0.07") * D("0.44") * D("0.56"))
        available = cash - reserved_for_20.quantize(D("0.01"), rounding=ROUND_CEILING)  # hold 9.14496 -> 9.15
        assert D(http.get("/portfolio/balance").json()["balance_dollars"]) == available == D("950.52")

        clock.at(55)   # the result arrives on the timeline: paid, recorded, position dropped
        settlement = http.get("/portfolio/settlements").json()["settlements"]
        assert len(settlement) == 1
        s = settlement[0]
        assert (s["ticker"], s["market_result"], s["revenue"], s["yes_count_fp"], s["no_count_fp"]) == (
            TICKER, "yes", 9000, "90.00", "0.00")
        assert (s["yes_total_cost_dollars"], s["fee_cost"]) == ("39.8000", "0.5300")
        assert http.get("/portfolio/positions").json()["market_positions"] == []
        assert http.get(f"/portfolio/orders/{order_id}").json()["order"]["status"] == "canceled"
        balance = http.get("/portfolio/balance").json()
        assert (balance["balance"], balance["balance_dollars"]) == (104967, "1049.6700")
        market = http.get(f"/markets/{TICKER}").json()["market"]
        assert (market["status"], market["result"]) == ("finalized", "yes")
        http.close()


def test_a_print_through_a_better_user_price_fills_the_user_at_once(tmp_path, rsa_private_key, clock):
    with start(tmp_path, rsa_private_key, clock, [print_at(10, "0.43", 5, "no")]) as running:
        http = PaperHttp(running.base_url, "k", rsa_private_key, clock_ms=clock.ms)
        placed = http.post("/portfolio/events/orders", json=gtc("0.45", "3")).json()   # inside the spread
        assert fills_of(http, placed["order_id"]) == []
        clock.at(11)
        fills = fills_of(http, placed["order_id"])
        assert [(f["count_fp"], f["yes_price_dollars"], f["is_taker"]) for f in fills] == [("3.00", "0.4500", False)]
        http.close()


def test_gtc_expiration_time_cancels_the_order_and_frees_its_collateral(tmp_path, rsa_private_key, clock):
    with start(tmp_path, rsa_private_key, clock, []) as running:
        http = PaperHttp(running.base_url, "k", rsa_private_key, clock_ms=clock.ms)
        expiry = int(T0.timestamp()) + 100
        before = http.get("/portfolio/balance").json()
        placed = http.post("/portfolio/events/orders", json=gtc("0.30", "10", expiration_time=expiry))
        assert placed.status_code == 201
        order_id = placed.json()["order_id"]
        order = http.get(f"/portfolio/orders/{order_id}").json()["order"]
        assert order["expiration_time"] == to_iso_z(T0 + timedelta(seconds=100))
        assert http.get("/portfolio/balance").json()["balance"] < before["balance"]
        clock.at(99.999)
        assert http.get(f"/portfolio/orders/{order_id}").json()["order"]["status"] == "resting"
        clock.at(100)
        order = http.get(f"/portfolio/orders/{order_id}").json()["order"]
        assert (order["status"], order["remaining_count_fp"], order["fill_count_fp"]) == ("canceled", "0.00", "0.00")
        assert http.get("/portfolio/balance").json() == {**before, "updated_ts": int(T0.timestamp()) + 100}
        assert http.get(f"/markets/{TICKER}/orderbook").json()["orderbook_fp"]["yes_dollars"][0][0] == "0.4000"
        assert http.get("/portfolio/fills").json()["fills"] == []
        http.close()


@pytest.mark.parametrize("extra, code", [
    ({"expiration_time": int(T0.timestamp())}, "invalid_order"),             # not in the future
    ({"expiration_time": int(T0.timestamp()) + 60, "time_in_force": "immediate_or_cancel"}, "invalid_order"),
    ({"expiration_time": "1795300000"}, "invalid_parameters"),               # a string
    ({"expiration_time": 10 ** 30}, "invalid_parameters"),                   # beyond any date
])
def test_bad_expiration_times_are_400_and_change_nothing(tmp_path, rsa_private_key, clock, extra, code):
    with start(tmp_path, rsa_private_key, clock, []) as running:
        http = PaperHttp(running.base_url, "k", rsa_private_key, clock_ms=clock.ms)
        before = running.engine.state_snapshot()
        response = http.post("/portfolio/events/orders", json=gtc("0.30", "1", **extra))
        assert (response.status_code, response.json()["error"]["code"]) == (400, code)
        assert running.engine.state_snapshot() == before
        assert http.get("/portfolio/orders").status_code == 200
        http.close()


def test_restart_never_applies_a_timeline_update_twice(tmp_path, rsa_private_key, clock):
    """An update stamped between two milliseconds must be replayed, not re-applied, on restart."""
    sub_ms = [MarketUpdate(T0 + timedelta(seconds=10, microseconds=400), TICKER,
                           trade=TradePrint(D("0.44"), D(600), "no"))]
    with start(tmp_path, rsa_private_key, clock, sub_ms) as running:
        http = PaperHttp(running.base_url, "k", rsa_private_key, clock_ms=clock.ms)
        order_id = http.post("/portfolio/events/orders", json=gtc("0.44", "200")).json()["order_id"]
        clock.now = T0 + timedelta(seconds=10, microseconds=900)   # same millisecond, after the print
        assert sum(D(f["count_fp"]) for f in fills_of(http, order_id)) == 100   # 500 ahead, then 100 of ours
        http.close()
    clock.at(20)
    with start(tmp_path, rsa_private_key, clock, sub_ms) as running:
        http = PaperHttp(running.base_url, "k", rsa_private_key, clock_ms=clock.ms)
        assert sum(D(f["count_fp"]) for f in fills_of(http, order_id)) == 100
        assert http.get(f"/portfolio/orders/{order_id}").json()["order"]["remaining_count_fp"] == "100.00"
        trades = http.get("/markets/trades", params={"ticker": TICKER}).json()["trades"]
        assert [t["count_fp"] for t in trades] == ["600.00"]   # the print once (print fills are not re-printed)
        http.close()
