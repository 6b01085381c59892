"""Menu 9 (watch) and the menu's notice line, against a paper exchange of their own per test.

The watch view is driven through `watch()` with an injected clock and an injected wait-for-a-key
function; what "happens while it runs" is made to happen inside that function, between two frames:
another paper account crossing the trader's resting order. The notice line is driven through the
real menu, with a stdin that makes the event happen just before it hands the menu its next line.
Each test has its own exchange, so no other test's fills can reach its feed.
"""

from __future__ import annotations

import io
import os
import pty
import re
import termios
from collections import deque
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path
from typing import Callable, Iterator

import pytest
from cli_harness import (command, config_for, drive, make_universe, orders_on, ticker,  # noqa: F401
                         work_in_tmp)
from waiting import wait_until

from kalshi_trading.client.rate_limiter import RateLimiter
from kalshi_trading.models import Market
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.paper.universe import BookSnapshot, synthetic_market
from kalshi_trading.terminal.notices import ActivityFeed
from kalshi_trading.terminal.watch_screen import keys_from, time_to_close, watch
from kalshi_trading.trading_cli import TradingCLI

A, B, ONE_SIDED = ticker("wa"), ticker("wb"), ticker("wone")
OTHER = "another-paper-trader"


@pytest.fixture
def exchange(tmp_path: Path):
    universe = make_universe(["wa", "wb", "wone"])
    universe.books[ONE_SIDED] = BookSnapshot(yes_bids=((D("0.40"), D("10")),), no_bids=())  # no ask
    with start_paper_exchange(tmp_path / "exchange", universe=universe) as running:
        yield running


@pytest.fixture
def config(exchange, tmp_path: Path):
    return config_for(exchange, tmp_path)


@contextmanager
def services_for(config) -> Iterator[tuple[object, io.StringIO]]:
    """A whole app's services on `config`, writing to a StringIO 80 columns wide."""
    from kalshi_trading.main_app import MainApp

    out = io.StringIO()
    app = MainApp.build(config, stdin=io.StringIO(""), stdout=out,
                        terminal_size=lambda: os.terminal_size((80, 24)), rate_limiter=RateLimiter("prestige"))
    try:
        yield app.services, out
    finally:
        app.close()


def feed_of(services) -> ActivityFeed:
    return ActivityFeed(services.client, services.logger, clock=services.clock)


def frames(output: str) -> list[list[str]]:
    """The frames the watch drew, each as its lines (a frame starts at its `Watch  <time>` line,
    which a prompt the test answered without an echo may precede on the same line)."""
    found: list[list[str]] = []
    for line in output.splitlines():
        head = re.search(r"Watch  \d{4}-\d\d-\d\d ", line)
        if head:
            found.append([])
            line = line[head.start():]
        if found:
            found[-1].append(line)
    return found


def row(frame: list[str], tick: str) -> str:
    """The table line of `tick` in `frame` (the ticker, and the cells after it)."""
    (line,) = [line for line in frame if line.startswith(tick)]
    return line


def keys(*steps: Callable[[], None] | None) -> tuple[Callable[[float], bool], list[float]]:
    """A wait-for-key function: the n-th call runs `steps[n]` (something happening between two
    frames) and says "no key"; the call after the last step says "a key". Also the timeouts asked."""
    pending, asked = deque(steps), []

    def wait_for_key(timeout: float) -> bool:
        asked.append(timeout)
        if not pending:
            return True
        step = pending.popleft()
        if step is not None:
            step()
        return False
    return wait_for_key, asked


def order(config, tick: str, *args: str) -> None:
    code, out, err = command(config, ["order", "--ticker", tick, *args, "--yes"])
    assert code == 0, err


def other_sells_yes(exchange, tick: str, count: str, price: str = "0.42") -> None:
    """Another paper account sells YES into the bids at `price` (the crowd's 25 there come first)."""
    exchange.engine.create_order(OTHER, {"ticker": tick, "side": "ask", "count": count, "price": price,
                                         "time_in_force": "immediate_or_cancel",
                                         "self_trade_prevention_type": "taker_at_cross"})


# --- the view --------------------------------------------------------------------------------

def test_watch_redraws_and_the_second_frame_shows_the_close_three_seconds_nearer(config) -> None:
    with services_for(config) as (services, out):
        closes = services.client.get_market(A).close_time
        moments = iter([closes - timedelta(seconds=50), closes - timedelta(seconds=47)])
        wait_for_key, _ = keys(None)
        watch(services, feed=feed_of(services), watchlist=[A], wait_for_key=wait_for_key,
              clock=lambda: next(moments))
    first, second = frames(out.getvalue())
    assert row(first, A).endswith(" 50s") and row(second, A).endswith(" 47s")
    assert first[0] != second[0]   # the frame's own time moved too


def test_watch_stops_at_the_first_key_after_one_frame_waiting_the_interval(config) -> None:
    with services_for(config) as (services, out):
        wait_for_key, asked = keys()
        drawn = watch(services, feed=feed_of(services), watchlist=[A], wait_for_key=wait_for_key,
                      interval=2.5)
    assert drawn == 1 and asked == [2.5]
    assert len(frames(out.getvalue())) == 1


def test_a_fill_of_a_resting_order_while_watching_shows_under_the_table_and_in_the_row(
        config, exchange) -> None:
    order(config, A, "--side", "yes", "--action", "buy", "--count", "3", "--price", "0.42")
    with services_for(config) as (services, out):
        wait_for_key, _ = keys(lambda: other_sells_yes(exchange, A, "28"))
        watch(services, feed=feed_of(services), watchlist=[], wait_for_key=wait_for_key)
    first, second = frames(out.getvalue())
    assert "buy 3 YES@0.42" in row(first, A) and "No fills, expiries or settlements" in "\n".join(first)
    assert " 3 YES " in row(second, A)
    (event,) = [line for line in second if " fill: " in line]
    assert event.endswith(f"fill: bought 3 YES {A} @ 0.42")
    assert datetime.strptime(event.split()[0], "%H:%M:%SZ")   # the fill's time, UTC


def test_events_are_listed_newest_first(config, exchange) -> None:
    order(config, A, "--side", "yes", "--action", "buy", "--count", "3", "--price", "0.42")
    with services_for(config) as (services, out):
        wait_for_key, _ = keys(lambda: other_sells_yes(exchange, A, "26"),    # the crowd's 25, then 1 of ours
                               lambda: other_sells_yes(exchange, A, "2"))
        watch(services, feed=feed_of(services), watchlist=[], wait_for_key=wait_for_key)
    last = frames(out.getvalue())[-1]
    assert [line.split(": ", 1)[1] for line in last if " fill: " in line] == [
        f"bought 2 YES {A} @ 0.42", f"bought 1 YES {A} @ 0.42"]


def test_an_order_canceled_elsewhere_while_watching_is_an_event(config, exchange) -> None:
    order(config, A, "--side", "yes", "--action", "buy", "--count", "3", "--price", "0.40")
    (resting,) = orders_on(exchange, A)
    with services_for(config) as (services, out):
        wait_for_key, _ = keys(lambda: exchange.engine.cancel_order(exchange.key_id, resting["order_id"]))
        watch(services, feed=feed_of(services), watchlist=[], wait_for_key=wait_for_key)
    first, second = frames(out.getvalue())
    assert "buy 3 YES@0.40" in row(first, A)
    assert not [line for line in second if line.startswith(A)]   # nothing left to watch there
    assert [line.strip().split(" ", 1)[1] for line in second if " canceled: " in line] == [
        f"canceled: buy 3 YES {A} @ 0.40"]


def test_a_settlement_while_watching_is_an_event_with_what_it_made(config, exchange) -> None:
    order(config, B, "--side", "no", "--action", "buy", "--count", "5", "--market", "--worst-price", "0.60")
    with services_for(config) as (services, out):
        wait_for_key, _ = keys(lambda: exchange.engine.settle_market(B, "no"))
        watch(services, feed=feed_of(services), watchlist=[], wait_for_key=wait_for_key)
    second = frames(out.getvalue())[-1]
    # 5 NO bought at 0.58 = $2.90 plus a $0.09 fee, paid $5.00: net of fees, as pnl counts it
    assert [line.strip().split(" ", 1)[1] for line in second if " settled " in line] == [f"{B} settled NO: +$2.01"]


def test_a_row_shows_the_position_its_mark_and_the_pnl_at_that_mark(config) -> None:
    order(config, B, "--side", "no", "--action", "buy", "--count", "2", "--market", "--worst-price", "0.60")
    with services_for(config) as (services, out):
        watch(services, feed=feed_of(services), watchlist=[], wait_for_key=keys()[0])
    (frame,) = frames(out.getvalue())
    # 2 NO bought at 0.58 = 1.16; at the YES mid 0.425 they are worth 2 x 0.575 = 1.15
    assert row(frame, B).split() == [B, "0.42", "0.43", "0.42", "2", "NO", "-", "0.425", "-0.01", "29d", "23h"]
    assert frame[1].split() == ["ticker", "bid", "ask", "last", "pos", "resting", "mid", "P&L", "closes"]
    assert "Total unrealized P&L: -$0.01" in frame
    assert any("YES mid" in line for line in frame)   # the frame says what the mark is


def test_a_market_marked_at_its_last_trade_says_so_in_its_cell(config) -> None:
    with services_for(config) as (services, out):
        watch(services, feed=feed_of(services), watchlist=[A, ONE_SIDED], wait_for_key=keys()[0])
    (frame,) = frames(out.getvalue())
    assert frame[1].split()[6] == "mark"
    assert "mid 0.425" in row(frame, A) and "last 0.42" in row(frame, ONE_SIDED)


@pytest.mark.parametrize("seconds, shown", [(45, "45s"), (59, "59s"), (60, "1m 00s"), (727, "12m 07s"),
                                            (3600 * 4 + 300, "4h 05m"), (86400 * 29 + 3600 * 23, "29d 23h"),
                                            (0, "closing")])
def test_time_to_close_counts_seconds_once_under_a_minute(seconds: int, shown: str) -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    market = Market.from_api(synthetic_market("KXT-1", "KXT", now=now, close_in=timedelta(seconds=seconds)))
    assert time_to_close(market, now) == shown


def test_time_to_close_of_a_closed_market_is_its_status() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    market = Market.from_api(synthetic_market("KXT-1", "KXT", now=now, status="closed"))
    assert time_to_close(market, now) == "closed"


def test_on_a_terminal_any_key_stops_the_wait_and_the_terminal_mode_is_restored() -> None:
    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r")
    try:
        before = termios.tcgetattr(slave)
        with keys_from(TradingCLI(stdin, io.StringIO()), stdin) as (wait_for_key, hint):
            assert hint == "any key stops"
            assert wait_for_key(0.01) is False        # no key: the wait times out
            os.write(master, b"q")                     # one key, no Enter
            assert wait_for_key(5) is True
        assert termios.tcgetattr(slave) == before
    finally:
        stdin.close()
        os.close(master)


# --- through the menu ------------------------------------------------------------------------

def test_menu_9_watches_the_tickers_added_and_remembers_them_for_the_session(config) -> None:
    out = drive(config, f"9\n{A}\n\n9\n\n\n0\n", columns=80)
    first, second = frames(out)
    assert row(first, A) and row(second, A)
    assert f"Watching: {A}" in out


def test_an_unknown_ticker_to_watch_is_one_error_and_a_new_prompt(config) -> None:
    out = drive(config, "9\nKXNOSUCH-1\n\n\n0\n", columns=80)
    assert out.count("Error: unknown market KXNOSUCH-1; nothing was added") == 1
    assert out.count("Tickers to add") == 2


# --- the notice line -------------------------------------------------------------------------

class Script(io.StringIO):
    """stdin for the menu: strings are lines; a callable runs (an event happens) when the menu
    reaches it, just before the next line is handed over."""

    def __init__(self, *items: str | Callable[[], None]) -> None:
        super().__init__()
        self._items = deque(items)

    def readline(self, size: int = -1) -> str:  # noqa: ARG002 - the menu reads whole lines
        while self._items and callable(self._items[0]):
            self._items.popleft()()
        return self._items.popleft() if self._items else ""


def menu(config, *items: str | Callable[[], None]) -> str:
    from kalshi_trading.main_app import MainApp

    out = io.StringIO()
    with MainApp.build(config, stdin=Script(*items), stdout=out,
                       terminal_size=lambda: os.terminal_size((80, 24)),
                       rate_limiter=RateLimiter("prestige")) as app:
        assert app.run() == 0
    return out.getvalue()


def notices(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Since the last screen")]


def test_the_menu_says_how_many_fills_came_since_the_last_screen(config, exchange) -> None:
    order(config, A, "--side", "yes", "--action", "buy", "--count", "3", "--price", "0.42")
    out = menu(config, lambda: other_sells_yes(exchange, A, "28"), "8\n", "8\n", "0\n")
    assert notices(out) == ["Since the last screen: 1 fill"]   # once: the second screen saw nothing new


def test_the_menu_names_a_settled_market_with_what_it_made(config, exchange) -> None:
    order(config, B, "--side", "yes", "--action", "buy", "--count", "10", "--market", "--worst-price", "0.45")
    out = menu(config, lambda: exchange.engine.settle_market(B, "yes"), "8\n", "0\n")
    # 10 YES bought at 0.43 = $4.30 plus a $0.18 fee, paid $10.00: net of fees, as pnl counts it
    assert notices(out) == [f"Since the last screen: {B} settled YES: +$5.52"]


def test_the_menu_says_an_order_expired(config, exchange) -> None:
    expires = (datetime.now(timezone.utc) + timedelta(seconds=2)).replace(microsecond=0)
    order(config, A, "--side", "yes", "--action", "buy", "--count", "2", "--price", "0.40",
          "--expires", expires.isoformat())

    def expired() -> None:
        def gone() -> bool:
            exchange.engine.advance()
            return not [o for o in exchange.engine.list_orders(exchange.key_id, status="resting")]
        wait_until(gone, 10, "the order's expiry")
    out = menu(config, expired, "8\n", "0\n")
    assert notices(out) == ["Since the last screen: 1 order expired"]


def test_nothing_happened_means_no_notice(config) -> None:
    out = menu(config, "8\n", "7\n", "0\n")
    assert notices(out) == []


def test_a_fill_shown_in_the_watch_is_not_announced_again_at_the_menu(config, exchange) -> None:
    order(config, A, "--side", "yes", "--action", "buy", "--count", "3", "--price", "0.42")
    out = menu(config, lambda: other_sells_yes(exchange, A, "28"), "9\n", "\n", "\n", "0\n")
    assert f"fill: bought 3 YES {A} @ 0.42" in out
    assert notices(out) == []


def test_the_watch_lists_what_the_session_already_reported(config, exchange) -> None:
    order(config, A, "--side", "yes", "--action", "buy", "--count", "3", "--price", "0.42")
    out = menu(config, lambda: other_sells_yes(exchange, A, "28"), "8\n", "9\n", "\n", "\n", "0\n")
    assert notices(out) == ["Since the last screen: 1 fill"]
    (frame,) = frames(out)
    assert any(line.endswith(f"fill: bought 3 YES {A} @ 0.42") for line in frame)
