"""Money is conserved over HTTP: after a random (seeded) signed order flow between two users and the
settlement of every market, each balance equals start + payouts - costs + sale proceeds - fees,
to the $0.0001, computed only from what the API returned (fills and settlements)."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from decimal import Decimal

import pytest

from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.timeutil import utc_now
from tests.conftest import pem_public
from tests.paper_http import PaperHttp, make_universe

START = Decimal("1000")
PRICES = [f"0.{cents:02d}" for cents in range(36, 60, 2)] + ["0.45", "0.47"]
TIFS = ["immediate_or_cancel"] * 4 + ["good_till_canceled"] * 5 + ["fill_or_kill"]


def _random_create(rng: random.Random, tickers: list[str]) -> dict:
    count = str(rng.randint(1, 12)) if rng.random() < 0.8 else f"{rng.randint(1, 900) / 100:.2f}"
    return {"ticker": rng.choice(tickers), "side": rng.choice(["bid", "ask"]), "count": count,
            "price": rng.choice(PRICES), "time_in_force": rng.choice(TIFS),
            "self_trade_prevention_type": rng.choice(["taker_at_cross", "maker"]),
            "client_order_id": str(uuid.uuid4())}


def _random_flow(rng: random.Random, users: list[PaperHttp], tickers: list[str], steps: int) -> int:
    """Creates, cancels, decreases and amends; rejections are part of the flow. Returns 2xx count."""
    accepted = 0
    resting: dict[int, list[tuple[str, dict]]] = defaultdict(list)
    for _ in range(steps):
        who = rng.randrange(len(users))
        http, roll = users[who], rng.random()
        if roll < 0.75 or not resting[who]:
            body = _random_create(rng, tickers)
            response = http.post("/portfolio/events/orders", json=body)
            if response.status_code == 201 and response.json()["remaining_count"] != "0.00":
                resting[who].append((response.json()["order_id"], body))
        else:
            order_id, body = resting[who].pop(rng.randrange(len(resting[who])))
            if roll < 0.85:
                response = http.delete(f"/portfolio/events/orders/{order_id}")
            elif roll < 0.92:
                response = http.post(f"/portfolio/events/orders/{order_id}/decrease", json={"reduce_by": "1"})
            else:
                response = http.post(f"/portfolio/events/orders/{order_id}/amend",
                                     json={"ticker": body["ticker"], "side": body["side"],
                                           "price": rng.choice(PRICES), "count": str(rng.randint(13, 20))})
        accepted += response.status_code < 300
    return accepted


def _expected_balance(fills_newest_first: list[dict], settlements: list[dict]) -> tuple[Decimal, dict]:
    """Replay the user's fills oldest first with one netted position per market."""
    cash, position = START, defaultdict(Decimal)
    for fill in reversed(fills_newest_first):
        price, count, ticker = Decimal(fill["yes_price_dollars"]), Decimal(fill["count_fp"]), fill["ticker"]
        held = position[ticker]
        if fill["book_side"] == "bid":       # buy YES; first closes any NO held (sold back at 1 - p)
            closing = min(count, max(-held, Decimal(0)))
            cash += (1 - price) * closing - price * (count - closing)
            position[ticker] = held + count
        else:                                # sell YES; first closes any YES held, then buys NO at 1 - p
            closing = min(count, max(held, Decimal(0)))
            cash += price * closing - (1 - price) * (count - closing)
            position[ticker] = held - count
        cash -= Decimal(fill["fee_cost"])
    for settlement in settlements:
        cash += Decimal(settlement["revenue"]) / 100
    return cash, dict(position)


@pytest.fixture()
def two_users(tmp_path, rsa_private_key, other_rsa_private_key):
    keys = {"alice": pem_public(rsa_private_key), "bob": pem_public(other_rsa_private_key)}
    universe = make_universe(utc_now())
    # makers pay fees too, at a multiplier, so every fee path is in the sum
    universe.series["KXTEST"].update(fee_type="quadratic_with_maker_fees", fee_multiplier=1.5)
    running = start_paper_exchange(tmp_path, universe=universe, public_keys=keys)
    users = [PaperHttp(running.base_url, "alice", rsa_private_key),
             PaperHttp(running.base_url, "bob", other_rsa_private_key)]
    yield running, users
    for user in users:
        user.close()
    running.stop()


def test_money_is_conserved_through_trading_and_settlement(two_users):
    running, users = two_users
    tickers = [m["ticker"] for m in users[0].get("/markets").json()["markets"]]
    rng = random.Random(20261121)
    assert _random_flow(rng, users, tickers, steps=300) > 100
    results = ["yes", "no", "yes", "no", "scalar", "no"]
    for ticker, result in zip(tickers, results):
        running.engine.settle_market(ticker, result, Decimal("0.37") if result == "scalar" else None)
    traded = makers = maker_fees = 0
    for http in users:
        fills = http.get_all("/portfolio/fills", "fills", limit=50)
        settlements = http.get_all("/portfolio/settlements", "settlements", limit=2)
        expected, positions = _expected_balance(fills, settlements)
        balance = http.get("/portfolio/balance").json()
        assert Decimal(balance["balance_dollars"]) == expected
        assert balance["balance"] == int(expected * 100)
        settled = {s["ticker"]: Decimal(s["yes_count_fp"]) - Decimal(s["no_count_fp"]) for s in settlements}
        assert settled == {t: n for t, n in positions.items() if n != 0}
        assert http.get("/portfolio/positions").json()["market_positions"] == []
        assert http.get("/portfolio/orders", params={"status": "resting"}).json()["orders"] == []
        traded += len(fills)
        makers += sum(1 for f in fills if not f["is_taker"])
        maker_fees += sum(1 for f in fills if not f["is_taker"] and Decimal(f["fee_cost"]) > 0)
    assert traded > 50 and makers > 0 and maker_fees > 0   # takers and fee-paying makers exercised
