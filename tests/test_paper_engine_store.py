"""PaperEngine persistence: restart on the same SQLite file, atomic writes, kill -9, wire shapes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from engine_fixtures import NOW, SUB, A, Clock, book, ioc, make_universe, order

from kalshi_trading.paper.engine import PaperEngine
from kalshi_trading.paper.store import Store
from kalshi_trading.paper.universe import MarketUpdate, TradePrint
from tests.waiting import read_line

REPO = Path(__file__).resolve().parent.parent


def user_view(engine: PaperEngine, user: str) -> tuple:
    return (engine.balance(user), engine.positions(user), engine.list_orders(user),
            engine.list_fills(user), engine.list_settlements(user))


def crossing_timeline() -> list[MarketUpdate]:
    return [MarketUpdate(NOW + timedelta(seconds=20), A,
                         book=book(yes=(("0.40", "10"),), no=(("0.60", "4"), ("0.55", "7"))))]


def busy_engine(path: Path, clock: Clock) -> tuple[PaperEngine, dict]:
    engine = PaperEngine(make_universe(crossing_timeline()), Store(path), clock=clock)
    engine.create_order("u1", ioc(count="5", price="0.45", client_order_id="taker"))
    rest = engine.create_order("u1", order(count="10", price="0.42", client_order_id="rest"))
    engine.create_order("u2", ioc(side="ask", count="2", price="0.42"))          # fills u1 as maker
    engine.create_order("u1", ioc(ticker=SUB, count="3", price="0.09"))
    engine.settle_market(SUB, "no")
    return engine, rest


def test_restart_on_the_same_file_reloads_user_state_and_continues(tmp_path: Path) -> None:
    clock, path = Clock(), tmp_path / "paper.sqlite"
    first, rest = busy_engine(path, clock)
    views = {user: user_view(first, user) for user in ("u1", "u2")}
    market, depth = first.get_market(A), first.orderbook(A)
    queue = first.queue_position("u1", rest["order_id"])
    first.store.close()

    second = PaperEngine(make_universe(crossing_timeline()), Store(path), clock=clock)
    assert {user: user_view(second, user) for user in ("u1", "u2")} == views
    assert (second.get_market(A), second.orderbook(A)) == (market, depth)   # crowd as users left it
    assert second.queue_position("u1", rest["order_id"]) == queue
    assert second.get_market(SUB)["status"] == "finalized"
    with pytest.raises(Exception) as dup:
        second.create_order("u1", order(client_order_id="rest"))
    assert getattr(dup.value, "code", None) == "order_already_exists"
    clock.tick(20)
    second.advance()                                 # the crossing snapshot fills the resting bid
    filled = second.get_order("u1", rest["order_id"])["fill_count_fp"]
    assert filled == "6.00"                          # 2 from u2 earlier + 4 from the crowd now
    second.store.close()

    third = PaperEngine(make_universe(crossing_timeline()), Store(path), clock=clock)
    assert third.get_order("u1", rest["order_id"])["fill_count_fp"] == "6.00"   # not filled twice
    assert third.settle_market(SUB, "yes")["settled"] is False


class FailingStore(Store):
    """Raises once inside the transaction, as a full disk would."""

    fail_next = False

    def put_fill(self, seq: int, user_id: str, body: dict) -> None:
        if self.fail_next:
            self.fail_next = False
            raise sqlite3.OperationalError("disk I/O error (injected)")
        super().put_fill(seq, user_id, body)


def test_a_write_that_fails_in_the_store_leaves_memory_and_disk_unchanged(tmp_path: Path) -> None:
    clock, path = Clock(), tmp_path / "paper.sqlite"
    store = FailingStore(path)
    engine = PaperEngine(make_universe(), store, clock=clock)
    engine.create_order("u1", ioc(count="2", price="0.45"))
    engine.create_order("u1", order(count="4", price="0.41"))
    before = engine.state_snapshot()
    store.fail_next = True
    with pytest.raises(sqlite3.OperationalError):
        engine.create_order("u2", ioc(side="ask", count="8", price="0.40"))
    assert engine.state_snapshot() == before
    reopened = PaperEngine(make_universe(), Store(path), clock=clock)
    assert reopened.state_snapshot() == before
    engine.create_order("u2", ioc(side="ask", count="8", price="0.40"))       # works once the disk does
    assert len(engine.list_fills("u2")) == 2


@pytest.mark.parametrize("call", [
    lambda e, oid: e.create_order("u1", ioc(count="11", price="0.45", time_in_force="fill_or_kill")),
    lambda e, oid: e.create_order("u1", order(price="0.43", post_only=True)),
    lambda e, oid: e.amend_order("u1", oid, {"ticker": A, "side": "ask", "price": "0.40", "count": "9"}),
    lambda e, oid: e.amend_order("u1", oid, {"ticker": A, "side": "bid", "price": "0.40", "count": "9000"}),
    lambda e, oid: e.decrease_order("u1", oid, {"reduce_to": "99"}),
    lambda e, oid: e.cancel_order("u2", oid),
    lambda e, oid: e.batch_create("u1", {"orders": []}),
    lambda e, oid: e.settle_market(A, "maybe"),
])
def test_every_rejected_write_leaves_state_unchanged(call) -> None:
    engine = PaperEngine(make_universe(), Store(":memory:"), clock=Clock())
    engine.create_order("u1", ioc(count="2", price="0.45"))
    placed = engine.create_order("u1", order(count="4", price="0.40"))
    before = engine.state_snapshot()
    with pytest.raises(Exception) as info:
        call(engine, placed["order_id"])
    assert type(info.value).__name__ == "ExchangeRejection"
    assert engine.state_snapshot() == before


WRITER = textwrap.dedent("""
    import sys
    from decimal import Decimal as D
    sys.path[:0] = [{repo!r}, {tests!r}]
    from kalshi_trading.paper.engine import PaperEngine
    from kalshi_trading.paper.store import Store
    from engine_fixtures import Clock, make_universe, order, ioc
    engine = PaperEngine(make_universe(), Store({path!r}), clock=Clock())
    n = 0
    while True:
        n += 1
        side = "bid" if n % 2 else "ask"
        engine.create_order("u%d" % (n % 3), order(side=side, count="1", price="0.42"))
        if n % 25 == 0:
            print(n, flush=True)   # n orders are committed; the loop goes straight on writing
""")


def test_kill_minus_9_mid_writes_leaves_a_consistent_file(tmp_path: Path) -> None:
    path = tmp_path / "paper.sqlite"
    script = WRITER.format(repo=str(REPO), tests=str(REPO / "tests"), path=str(path))
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:  # closes the pipes
        try:
            written = 0
            while written < 100:       # proof the child is committing orders, and still is
                written = int(read_line(proc, 30, f"the writer to report {written + 25} orders"))
            assert proc.poll() is None
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    engine = PaperEngine(make_universe(), Store(path), clock=Clock())
    assert sum(len(engine.list_orders(f"u{n}")) for n in range(3)) >= written   # every reported order
    for user in ("u0", "u1", "u2"):
        fills = list(reversed(engine.list_fills(user)))
        held = D(0)
        cash = D("1000")
        for fill in fills:              # every fill is 1 contract at 0.42, opening or closing
            sign = 1 if fill["book_side"] == "bid" else -1
            closing = (held < 0 and sign > 0) or (held > 0 and sign < 0)
            unit = D("0.42") if sign > 0 else D("0.58")
            cash += (1 - unit) if closing else -unit
            cash -= D(fill["fee_cost"])
            held += sign
        assert engine.accounts[user].cash == cash          # account and fills were written together
        position = engine.positions(user)[0]
        assert [p["position_fp"] for p in position] == ([f"{held:.2f}"] if fills else [])


def test_responses_match_the_openapi_component_schemas() -> None:
    from tests import schema_check
    spec = schema_check.load_spec()
    schemas = spec["components"]["schemas"]
    clock = Clock()
    timeline = [MarketUpdate(NOW + timedelta(seconds=70), A, trade=TradePrint(D("0.41"), D("2"), "no"))]
    engine = PaperEngine(make_universe(timeline), Store(":memory:"), clock=clock)
    created = engine.create_order("u1", ioc(count="5", price="0.45", client_order_id="x"))
    resting = engine.create_order("u1", order(count="3", price="0.40"))
    amended = engine.amend_order("u1", resting["order_id"], {"ticker": A, "side": "bid", "price": "0.41", "count": "4"})
    decreased = engine.decrease_order("u1", resting["order_id"], {"reduce_by": "1"})
    clock.tick(70)
    batch = engine.batch_create("u1", {"orders": [order(price="0.30"), order(price="0.305")]})
    cancels = engine.batch_cancel("u1", {"orders": [{"order_id": batch["orders"][0]["order_id"]}]})
    canceled = engine.cancel_order("u1", resting["order_id"])
    engine.settle_market(SUB, "no")
    engine.create_order("u2", ioc(ticker=A, side="ask", count="1", price="0.01"))
    engine.settle_market(A, "yes")
    checks = [("CreateOrderV2Response", created), ("AmendOrderV2Response", amended),
              ("DecreaseOrderV2Response", decreased), ("CancelOrderV2Response", canceled),
              ("BatchCreateOrdersV2Response", batch), ("BatchCancelOrdersV2Response", cancels),
              ("GetBalanceResponse", engine.balance("u1")), ("GetMarketOrderbookResponse", engine.orderbook(A)),
              ("GetAccountApiLimitsResponse", engine.account_limits("u1"))]
    checks += [("Order", o) for o in engine.list_orders("u1")]
    checks += [("Fill", f) for f in engine.list_fills("u1")]
    checks += [("Settlement", s) for s in engine.list_settlements("u1")]
    checks += [("Trade", t) for t in engine.list_trades()]
    checks += [("Market", m) for m in engine.list_markets()]
    start = int(NOW.timestamp()) - 60
    checks += [("MarketCandlestick", c) for c in engine.candlesticks(A, start, start + 600, 1)]
    fresh = PaperEngine(make_universe(), Store(":memory:"), clock=Clock())
    fresh.create_order("u3", order(count="2", price="0.40"))
    fresh.create_order("u3", ioc(count="2", price="0.45"))
    markets, events = fresh.positions("u3")
    checks += [("MarketPosition", p) for p in markets] + [("EventPosition", e) for e in events]
    assert len(checks) > 20
    problems = [p for name, value in checks for p in schema_check.validate(spec, schemas[name], value, name)]
    assert problems == []


def test_concurrent_writers_keep_accounts_consistent() -> None:
    engine = PaperEngine(make_universe(), Store(":memory:"), clock=Clock())
    errors: list[BaseException] = []

    def trade(user: str) -> None:
        try:
            for n in range(40):
                side = "bid" if n % 2 else "ask"
                engine.create_order(user, order(side=side, count="1", price="0.42", client_order_id=f"{user}-{n}"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=trade, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not [t.name for t in threads if t.is_alive()], "writer threads still running after 30 s"
    assert errors == []
    assert sum(len(engine.list_orders(f"t{i}")) for i in range(4)) == 160
    fills = [f for i in range(4) for f in engine.list_fills(f"t{i}")]
    assert sum(D(f["count_fp"]) for f in fills if f["book_side"] == "bid") == \
        sum(D(f["count_fp"]) for f in fills if f["book_side"] == "ask")     # every match has two sides


def test_candlesticks_aggregate_recorded_prices_per_period() -> None:
    clock = Clock()
    prints = [MarketUpdate(NOW + timedelta(seconds=s), A, trade=TradePrint(D(p), D(c), "yes"))
              for s, p, c in ((30, "0.43", "1"), (90, "0.45", "2"), (100, "0.44", "3"))]
    engine = PaperEngine(make_universe(prints), Store(":memory:"), clock=clock)
    clock.tick(120)
    start = int(NOW.timestamp())
    candles = engine.candlesticks(A, start, start + 120, 1)
    assert [c["end_period_ts"] for c in candles] == [start, start + 60, start + 120]
    second, third = candles[1], candles[2]
    assert (second["price"]["close_dollars"], second["volume_fp"]) == ("0.4300", "1.00")
    assert (third["price"]["open_dollars"], third["price"]["close_dollars"], third["price"]["high_dollars"],
            third["price"]["previous_dollars"], third["volume_fp"]) == ("0.4500", "0.4400", "0.4500", "0.4300", "5.00")
    assert third["price"]["mean_dollars"] == "0.4440"          # (0.90 + 1.32) / 5
    assert candles[0]["price"]["close_dollars"] is None and candles[0]["yes_bid"]["close_dollars"] == "0.4100"
