"""Market-data sources through the real server: the bundled replay at `--speed`, a folder of
recordings and the live fallback, the last two through the `paper-server` command itself.

The replay test moves an injected clock (no sleeping through a 15-minute market): a bundled XRP
market opens, is traded over HTTP, closes and is finalized, and the settlement shows up in
/portfolio/settlements with the position gone.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import requests

from kalshi_trading.paper.server import start_paper_exchange
from tests.conftest import pem_public
from tests.paper_http import PaperHttp
from tests.waiting import read_line

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def ms(self) -> int:
        return int(self.now.timestamp() * 1000)


def test_speed_replays_a_bundled_market_from_open_to_settlement_over_http(tmp_path, rsa_private_key):
    clock = Clock()
    with start_paper_exchange(tmp_path, market_data="bundled", speed=60, clock=clock,
                              public_keys={"k": pem_public(rsa_private_key)}) as running:
        http = PaperHttp(running.base_url, "k", rsa_private_key, clock_ms=clock.ms)
        markets = http.get_all("/markets", "markets", params={"series_ticker": "KXXRP15M"})
        upcoming = min((m for m in markets if m["status"] == "initialized"), key=lambda m: m["open_time"])
        ticker, opens = upcoming["ticker"], datetime.fromisoformat(upcoming["open_time"].replace("Z", "+00:00"))
        closes = datetime.fromisoformat(upcoming["close_time"].replace("Z", "+00:00"))
        assert closes - opens == timedelta(seconds=15)          # a 15-minute market at speed 60
        early = {"ticker": ticker, "side": "bid", "count": "5", "price": "0.5000",
                 "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross"}
        assert http.post("/portfolio/events/orders", json=early).status_code == 409   # not open yet

        clock.now = opens + timedelta(seconds=1)
        market = http.get(f"/markets/{ticker}").json()["market"]
        assert market["status"] == "active"
        ask = market["yes_ask_dollars"]
        bought = http.post("/portfolio/events/orders",
                           json={**early, "price": ask, "client_order_id": str(uuid.uuid4())}).json()
        count = Decimal(bought["fill_count"])
        assert count > 0
        fill = http.get("/portfolio/fills", params={"ticker": ticker}).json()["fills"]
        spent = sum(Decimal(f["yes_price_dollars"]) * Decimal(f["count_fp"]) + Decimal(f["fee_cost"]) for f in fill)
        position = http.get("/portfolio/positions", params={"ticker": ticker}).json()["market_positions"]
        assert Decimal(position[0]["position_fp"]) == count

        clock.now = closes + timedelta(milliseconds=500)          # closed, not yet finalized
        assert http.get(f"/markets/{ticker}").json()["market"]["status"] == "closed"
        late = http.post("/portfolio/events/orders", json={**early, "price": ask})
        assert (late.status_code, late.json()["error"]["code"]) == (409, "market_closed")
        assert http.get("/portfolio/settlements").json()["settlements"] == []

        clock.now = closes + timedelta(seconds=2)                 # finalized 60 s / 60 after close
        market = http.get(f"/markets/{ticker}").json()["market"]
        assert market["status"] == "finalized" and market["result"] in ("yes", "no")
        settlements = http.get("/portfolio/settlements").json()["settlements"]
        assert [(s["ticker"], s["market_result"]) for s in settlements] == [(ticker, market["result"])]
        payout = count if market["result"] == "yes" else Decimal(0)
        assert settlements[0]["revenue"] == int(payout * 100)
        assert Decimal(settlements[0]["yes_count_fp"]) == count
        assert http.get("/portfolio/positions").json()["market_positions"] == []
        balance = Decimal(http.get("/portfolio/balance").json()["balance_dollars"])
        assert balance == Decimal(1000) - spent + payout
        http.close()


def _free_closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _paper_server(*args: str) -> subprocess.Popen:
    """`python -m kalshi_trading paper-server ...`, the documented entry point."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    return subprocess.Popen([sys.executable, "-m", "kalshi_trading", "paper-server", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**env, "PYTHONPATH": str(REPO), "PYTHON_DOTENV_DISABLED": "1"})


def _stop(child: subprocess.Popen) -> tuple[str, str]:
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=15)
    assert child.returncode == 0, err
    return out, err


def test_paper_server_live_falls_back_to_bundled_with_one_line(tmp_path):
    dead = f"http://127.0.0.1:{_free_closed_port()}/trade-api/v2"
    child = _paper_server("--data-dir", str(tmp_path), "--market-data", "live", "--live-url", dead,
                          "--speed", "60")
    try:
        line = read_line(child, 30, "the paper server's serving line")
        assert line.startswith("Paper exchange serving at http://127.0.0.1:"), line
        base = line.split()[4]
        markets = requests.get(base + "/markets", params={"series_ticker": "KXXRP15M", "limit": 5},
                               timeout=5).json()["markets"]
        assert markets, "the bundled replay is served instead"
        m = markets[0]
        span = (datetime.fromisoformat(m["close_time"].replace("Z", "+00:00"))
                - datetime.fromisoformat(m["open_time"].replace("Z", "+00:00")))
        assert span == timedelta(seconds=15)                      # --speed 60 reached the replay
    finally:
        out, err = _stop(child)
    assert out == ""
    notices = [text for text in err.splitlines() if text.strip()]
    assert len(notices) == 1 and "live market data unreachable" in notices[0], err


def test_paper_server_serves_a_folder_of_legacy_recordings(tmp_path):
    folder = tmp_path / "recorded"
    folder.mkdir()
    market = {"ticker": "OLDMKT-26DEC31-T1", "event_ticker": "OLDMKT-26DEC31", "status": "open",
              "title": "Old era market", "yes_bid": 41, "yes_ask": 45, "no_bid": 55, "no_ask": 59,
              "last_price": 43, "volume": 120, "open_interest": 80, "open_time": "2026-11-01T00:00:00Z",
              "close_time": "2026-12-31T00:00:00Z", "result": ""}
    (folder / "markets.json").write_text(json.dumps({"markets": [market], "cursor": ""}))
    (folder / "OLDMKT-26DEC31-T1.json").write_text(
        json.dumps({"orderbook": {"yes": [[40, 100], [41, 200]], "no": [[54, 100], [55, 300]]}}))
    child = _paper_server("--data-dir", str(tmp_path / "d"), "--market-data", str(folder))
    try:
        line = read_line(child, 30, "the paper server's serving line")
        base = line.split()[4]
        body = requests.get(base + "/markets/OLDMKT-26DEC31-T1", timeout=5).json()["market"]
        assert (body["yes_bid_dollars"], body["yes_ask_dollars"], body["status"]) == ("0.4100", "0.4500", "active")
        book = requests.get(base + "/markets/OLDMKT-26DEC31-T1/orderbook", timeout=5).json()["orderbook_fp"]
        assert book["yes_dollars"] == [["0.4000", "100.00"], ["0.4100", "200.00"]]
        assert book["no_dollars"] == [["0.5400", "100.00"], ["0.5500", "300.00"]]
        assert [m["ticker"] for m in requests.get(base + "/markets", timeout=5).json()["markets"]] == [
            "OLDMKT-26DEC31-T1"]                                      # only the folder's market
    finally:
        _stop(child)
