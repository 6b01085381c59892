"""A trader's day against the bundled XRP replay at speed 60, on an injected clock (no sleeping):
orders in markets that then close and settle, restarts of the app and of the exchange, two apps on
one exchange, a market closing between preview and confirmation.

What must hold at the end of the day: the resting order shows canceled on the exchange AND in the
history; settlements, positions, `pnl`, menu 5 and the balance agree to the cent; the history holds
each order's submission, each fill once and the cancellation, and `export` gives the same rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from kalshi_trading.client.rate_limiter import RateLimiter
from kalshi_trading.errors import OrderRejected
from kalshi_trading.main_app import MainApp
from kalshi_trading.order_request import Action, OrderIntent, OutcomeSide, TimeInForce
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.trade_executor import TradeExecutor
from tests.cli_harness import command, config_for, journal

D = Decimal


class Clock:
    """The exchange's and the apps' time; tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Day:
    """One paper exchange (restartable) in `root/paper`, apps logging to `root/logs`."""

    def __init__(self, root: Path) -> None:
        self.root, self.clock = root, Clock()
        self.exchange = self._start()
        self.config = config_for(self.exchange, root)

    def _start(self, port: int = 0):
        # The apps sign with the real clock; the exchange's clock runs ahead of it in these tests.
        return start_paper_exchange(self.root / "paper", port=port, speed=60, clock=self.clock,
                                    max_clock_skew_s=86_400, live_refresh_interval=None)

    def restart_exchange(self) -> None:
        port = self.exchange.port
        self.exchange.stop()
        self.exchange = self._start(port)

    def app(self, stdin: str = "", *, log_dir: Path | None = None) -> tuple[MainApp, io.StringIO]:
        out = io.StringIO()
        config = replace(self.config, log_dir=log_dir or self.config.log_dir)
        app = MainApp.build(config, stdin=io.StringIO(stdin), stdout=out, clock=self.clock,
                            terminal_size=lambda: os.terminal_size((100, 30)),
                            rate_limiter=RateLimiter("prestige"))
        return app, out

    def menu(self, keys: str) -> str:
        app, out = self.app(keys)
        try:
            assert app.run() == 0
        finally:
            app.close()
        return out.getvalue()

    def json(self, *argv: str) -> dict:
        code, out, err = command(self.config, [*argv, "--json"])
        assert code == 0, err
        return json.loads(out)

    def open_markets(self) -> list[dict]:
        """Active XRP markets, soonest close first (advancing to the next opening if none)."""
        with self.exchange.engine.lock:
            self.exchange.engine.advance(self.clock())
            markets = self.exchange.engine.list_markets(series_ticker="KXXRP15M")
        active = sorted((m for m in markets if m["status"] == "active"), key=lambda m: m["close_time"])
        return [m for m in active if _when(m["close_time"]) - self.clock() > timedelta(seconds=4)]

    def settle_everything(self) -> None:
        """Move the clock past every close and settlement of the markets traded so far."""
        self.clock.now += timedelta(minutes=3)
        with self.exchange.engine.lock:
            self.exchange.engine.advance(self.clock())

    def close(self) -> None:
        self.exchange.stop()


@pytest.fixture
def day(tmp_path: Path):
    d = Day(tmp_path)
    yield d
    d.close()


def _buy(day: Day, ticker: str, side: str, count: str, *price: str) -> dict:
    return day.json("order", "--ticker", ticker, "--side", side, "--action", "buy", "--count", count,
                    *price, "--yes")["order"]


def _trade_a_day(day: Day) -> tuple[str, str, dict]:
    """Buy YES in one market, NO in another, and leave a GTC bid far below the market there."""
    first, second = day.open_markets()[:2]
    a, b = first["ticker"], second["ticker"]
    assert _buy(day, a, "yes", "3", "--market", "--worst-price", "0.99")["status"] == "executed"
    assert _buy(day, b, "no", "2", "--market", "--worst-price", "0.99")["status"] == "executed"
    resting = _buy(day, b, "yes", "5", "--price", "0.001")
    assert resting["status"] == "resting"
    return a, b, resting


def _settled_pnl_matches_the_balance(day: Day) -> Decimal:
    pnl = day.json("pnl")
    balance = D(day.json("balance")["balance_dollars"])
    realized = D(pnl["realized_pnl_dollars"])
    assert D(pnl["unrealized_pnl_dollars"]) == 0 and not pnl["warnings"]
    assert realized == balance - D("1000.00")          # to the cent, fees included
    assert sum(D(m["realized_pnl_dollars"]) for m in pnl["markets"]) == realized
    return realized


def test_a_day_of_trading_settles_and_every_view_agrees(day: Day, tmp_path: Path) -> None:
    a, b, resting = _trade_a_day(day)
    day.settle_everything()

    orders = {o["order_id"]: o for o in day.json("orders")["orders"]}
    assert orders[resting["order_id"]]["status"] == "canceled"
    assert {s["ticker"] for s in day.json("settlements")["settlements"]} == {a, b}
    assert all(D(p["position_fp"]) == 0 for p in day.json("positions")["market_positions"])
    realized = _settled_pnl_matches_the_balance(day)

    events = day.json("history")["events"]
    fills = [e["fill_id"] for e in events if e["event_type"] == "fill"]
    assert len(fills) == len(set(fills)) == len(day.json("fills")["fills"])
    cancels = [e for e in events if e["event_type"] == "cancellation"]
    assert [(c["order_id"], c["count_fp"]) for c in cancels] == [(resting["order_id"], "5.00")]
    assert "market closed" in cancels[0]["message"]
    assert day.json("history")["events"] == events                 # a second sync adds nothing

    menu = day.menu("5\n6\n\n\n\n\n\n0\n")
    assert f"{realized:.4f}" in menu and "cancellation" in menu
    out = tmp_path / "day.csv"
    assert day.json("export", "--out", str(out))["rows"] == len(events)
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["event_type"], r["order_id"], r["fill_id"]) for r in rows] == [
        (e["event_type"], e.get("order_id", ""), e.get("fill_id", "")) for e in events]


def test_history_bounds_are_utc_and_to_is_inclusive_at_the_precision_written(day: Day) -> None:
    _trade_a_day(day)
    events = day.json("history")["events"]
    first = events[0]["created_time"]                      # e.g. 2026-11-21T05:12:49.748Z
    exact = day.json("history", "--from", first, "--to", first)["events"]
    assert exact and {e["created_time"] for e in exact} == {first}
    minute = first[:16]                                    # as the table shows it: 2026-11-21T05:12
    assert day.json("history", "--from", minute, "--to", minute)["events"] == [
        e for e in events if e["created_time"].startswith(minute)]
    day_text = first[:10]
    assert day.json("history", "--from", day_text, "--to", day_text)["events"] == [
        e for e in events if e["created_time"].startswith(day_text)]
    code, out, err = command(day.config, ["history", "--from", day_text, "--to", "2000-01-01"])
    assert code == 1 and "--to is before --from" in err


def test_restarts_of_app_and_exchange_change_nothing(day: Day) -> None:
    _trade_a_day(day)
    day.settle_everything()
    before_events, before_pnl = day.json("history")["events"], day.json("pnl")
    day.restart_exchange()
    day.clock.now += timedelta(minutes=1)
    assert day.json("history")["events"] == before_events
    assert day.json("pnl")["realized_pnl_dollars"] == before_pnl["realized_pnl_dollars"]
    _settled_pnl_matches_the_balance(day)
    banner = day.menu("0\n")
    assert "Note:" not in banner and "never got an answer" not in banner


def test_two_apps_on_one_exchange_see_each_other_and_log_each_fill_once(day: Day, tmp_path: Path) -> None:
    ticker = day.open_markets()[0]["ticker"]
    first, _ = day.app()
    second, _ = day.app()                          # same log folder, both running
    alone, _ = day.app(log_dir=tmp_path / "other-logs")
    try:
        intent = OrderIntent(ticker, Action.BUY, OutcomeSide.YES, D("2"), D("0.99"), TimeInForce.IOC)
        placed = first.services.executor.submit(intent)
        rest = second.services.executor.submit(OrderIntent(ticker, Action.BUY, OutcomeSide.YES, D("1"), D("0.001")))
        assert {placed.order_id, rest.order_id} <= {o.order_id for o in alone.services.client.iter_orders()}
        for app in (second, first, second):
            app.services.history.query()
        shared = [r["fill_id"] for r in journal(day.config) if r["event_type"] == "fill"]
        assert shared and len(shared) == len(set(shared))
        # the other folder holds only the imported fills: none of the submissions it did not make
        own = alone.services.history.query()
        assert {r["event_type"] for r in own} == {"fill"} and len(own) == len(shared)
        second.services.executor.cancel(rest.order_id)
        assert [r["order_id"] for r in first.services.history.query(event_types=["cancellation"])] == [rest.order_id]
    finally:
        for app in (first, second, alone):
            app.close()


class _ClosesOnConfirm(io.StringIO):
    """Stdin whose confirmation answer arrives after the market has closed."""

    def __init__(self, text: str, day: Day, close_at: datetime) -> None:
        super().__init__(text)
        self.day, self.close_at = day, close_at

    def readline(self, *args: object) -> str:
        line = super().readline(*args)
        if line == "y\n":
            self.day.clock.now = self.close_at + timedelta(seconds=1)
        return line


def test_a_market_closing_between_preview_and_confirmation_is_one_line_nothing_logged(day: Day) -> None:
    market = day.open_markets()[0]
    ticker = market["ticker"]
    keys = f"3\n{ticker}\nb\nyes\n2\n0.50\ngtc\n\nn\nn\ny\n0\n"
    out = io.StringIO()
    app = MainApp.build(day.config, stdin=_ClosesOnConfirm(keys, day, _when(market["close_time"])),
                        stdout=out, clock=day.clock, rate_limiter=RateLimiter("prestige"),
                        terminal_size=lambda: os.terminal_size((100, 30)))
    try:
        assert app.run() == 0
    finally:
        app.close()
    text = out.getvalue()
    assert "Order preview" in text
    errors = [line for line in text.splitlines() if "Error:" in line]
    assert len(errors) == 1 and ticker in errors[0] and "not open" in errors[0]
    assert [r for r in journal(day.config) if r.get("ticker") == ticker] == []


def test_a_market_closing_while_the_order_is_on_its_way_is_logged_whole(day: Day) -> None:
    """The close lands after the executor's last check: the exchange refuses it, and the log holds
    the submission and its rejection (nothing left unanswered for the banner)."""
    market = day.open_markets()[0]
    app, _ = day.app()

    class ClosingClient:
        def __getattr__(self, name: str) -> object:
            return getattr(app.services.client, name)

        def create_order(self, request: object) -> object:
            day.clock.now = _when(market["close_time"]) + timedelta(seconds=1)
            return app.services.client.create_order(request)

    executor = TradeExecutor(ClosingClient(), app.services.logger, app.services.config.risk, clock=day.clock)
    try:
        with pytest.raises(OrderRejected, match="market_closed|not open|closed"):
            executor.submit(OrderIntent(market["ticker"], Action.BUY, OutcomeSide.YES, D("1"), D("0.50")))
        records = [r for r in journal(day.config) if r.get("ticker") == market["ticker"]]
        assert [(r["event_type"], r["status"]) for r in records] == [("submission", "sending"),
                                                                     ("error", "rejected")]
        assert app.services.logger.unanswered_submissions() == []
    finally:
        app.close()
