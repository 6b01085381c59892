"""A retry from the UI never makes a second order.

The paper exchange loses every create response (`lose_response_rate=1.0`), and a small mounted
adapter takes away what the client needs to recover by itself (its lookup by client_order_id, or the
request itself), so `create_order` gives up with `maybe_applied=True`. Then the trader simply tries
again: from the executor, from the menu, from a restarted app, from the `order` subcommand.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from cli_harness import command, config_for, drive, journal, make_universe, orders_on, ticker, trail_dir
from requests.adapters import BaseAdapter, HTTPAdapter

from kalshi_trading.client.signing import KalshiSigner
from kalshi_trading.config import RiskLimits
from kalshi_trading.errors import TransientApiError
from kalshi_trading.kalshi_client import KalshiClient
from kalshi_trading.order_request import Action, OrderIntent, OutcomeSide, TimeInForce
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.trade_executor import TradeExecutor
from kalshi_trading.trade_logger import TradeLogger

D = Decimal
NAMES = [f"dup{n}" for n in range(1, 12)]
FEW_RETRIES = {"max_retries": 0, "lookup_rereads": 0, "sleep": lambda _s: None}


class Faults(BaseAdapter):
    """Forwards to a real adapter, except: `drop_creates` order POSTs time out before they are
    forwarded (nothing placed), `refuse_creates` fail to connect (surely not sent), and `fail_lookups` GETs of one market's orders are refused."""

    def __init__(self) -> None:
        super().__init__()
        self.real = HTTPAdapter()
        self.drop_creates = 0
        self.refuse_creates = 0
        self.fail_lookups = 0
        self.lose_decreases = 0
        self.interrupt_creates = 0
        self.creates_sent = 0

    def send(self, request, **kwargs):  # type: ignore[override]
        path = request.path_url
        if request.method == "POST" and path.endswith("/portfolio/events/orders"):
            if self.refuse_creates:
                self.refuse_creates -= 1
                raise requests.ConnectTimeout("connect timed out")
            if self.drop_creates:
                self.drop_creates -= 1
                raise requests.ReadTimeout("read timed out")
            self.creates_sent += 1
        if request.method == "GET" and "/portfolio/orders?" in path and "ticker=" in path and self.fail_lookups:
            self.fail_lookups -= 1
            raise requests.ConnectionError("connection reset by peer")
        if request.method == "POST" and path.endswith("/portfolio/events/orders") and self.interrupt_creates:
            self.interrupt_creates -= 1         # the trader hits Ctrl-C while the order is on its way
            try:
                self.real.send(request, **kwargs).close()   # placed; its answer is lost anyway
            except requests.ConnectionError:
                pass
            raise KeyboardInterrupt
        response = self.real.send(request, **kwargs)
        if request.method == "POST" and path.endswith("/decrease") and self.lose_decreases:
            self.lose_decreases -= 1            # applied, but the answer never comes back
            raise requests.ConnectionError("connection reset by peer")
        return response

    def close(self) -> None:
        self.real.close()


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("dup-exchange")
    with start_paper_exchange(root / "exchange", universe=make_universe(NAMES),
                              lose_response_rate=1.0, seed=11) as running:
        yield running


@pytest.fixture
def faults() -> Faults:
    return Faults()


def session_with(faults: Faults) -> requests.Session:
    """A session whose HTTP goes through `faults`; closed when the test ends (the client and the
    app close only sessions they made themselves)."""
    session = requests.Session()
    session.mount("http://", faults)
    _OPEN_SESSIONS.append(session)
    return session


@pytest.fixture
def client(exchange: Any, faults: Faults) -> Iterator[KalshiClient]:
    signer = KalshiSigner.from_key_file(exchange.key_id, exchange.private_key_path)
    session = session_with(faults)
    api = KalshiClient(exchange.base_url, signer, session=session, **FEW_RETRIES)
    yield api
    api.close()


_OPEN_LOGGERS: list[TradeLogger] = []
_OPEN_SESSIONS: list[requests.Session] = []


@pytest.fixture(autouse=True)
def _close_what_tests_open() -> Iterator[None]:
    """Close every TradeLogger and session a test opened here (no file or socket left open)."""
    yield
    while _OPEN_LOGGERS:
        _OPEN_LOGGERS.pop().close()
    while _OPEN_SESSIONS:
        _OPEN_SESSIONS.pop().close()


def _logger(log_dir: Path) -> TradeLogger:
    logger = TradeLogger(log_dir)
    _OPEN_LOGGERS.append(logger)
    return logger


def executor_for(client: KalshiClient, log_dir: Path) -> tuple[TradeLogger, TradeExecutor]:
    logger = _logger(log_dir)
    return logger, TradeExecutor(client, logger, RiskLimits(max_order_cost=D("1000"), max_position=D("5000"),
                                                            max_open_orders=200))


def buy(name: str, price: str = "0.30", count: str = "5", tif: TimeInForce = TimeInForce.GTC) -> OrderIntent:
    return OrderIntent(ticker(name), Action.BUY, OutcomeSide.YES, D(count), D(price), time_in_force=tif)


def lose_the_answer(executor: TradeExecutor, faults: Faults, intent: OrderIntent, *,
                    placed: bool) -> TransientApiError:
    """Submit so that the client gives up not knowing: the order is placed (answer lost) or not
    (request dropped), and the lookup that would tell is refused."""
    faults.fail_lookups = 1
    faults.drop_creates = 0 if placed else 1
    with pytest.raises(TransientApiError) as caught:
        executor.submit(intent)
    assert caught.value.maybe_applied and faults.fail_lookups == 0
    return caught.value


def events(log_dir: Path, tick: str) -> list[tuple[str, str]]:
    with TradeLogger(log_dir) as reader:
        return [(r["event_type"], r.get("status", "")) for r in reader.query(ticker=tick)]


def test_retrying_a_placed_order_returns_it_and_sends_nothing(exchange, client, faults, tmp_path) -> None:
    logger, executor = executor_for(client, tmp_path / "logs")
    error = lose_the_answer(executor, faults, buy("dup1"), placed=True)
    assert "may or may not be placed" in str(error) and "never placed twice" in str(error)
    sent = faults.creates_sent
    result = executor.submit(buy("dup1"))
    assert faults.creates_sent == sent                       # nothing new reached the exchange
    (order,) = orders_on(exchange, ticker("dup1"))
    assert result.found_existing and result.order_id == order["order_id"]
    assert result.client_order_id == order["client_order_id"] and result.status == "resting"
    assert "not sent again" in result.warnings[0]
    assert events(tmp_path / "logs", ticker("dup1")) == [
        ("submission", "sending"), ("error", "unknown"), ("submission", "resting")]
    assert logger.query()[-1]["message"].startswith("found on the exchange by client_order_id")
    assert logger.unanswered_submissions() == []
    again = executor.submit(buy("dup1"))                      # settled: a third identical order is new
    assert not again.found_existing and len(orders_on(exchange, ticker("dup1"))) == 2


def test_retrying_an_order_that_never_arrived_resends_the_same_client_order_id(
        exchange, client, faults, tmp_path) -> None:
    logger, executor = executor_for(client, tmp_path / "logs")
    lose_the_answer(executor, faults, buy("dup2"), placed=False)
    assert orders_on(exchange, ticker("dup2")) == []
    (first_id,) = {r["client_order_id"] for r in logger.query()}
    result = executor.submit(buy("dup2"))   # lookup: not there -> resend; its answer is lost too
    (order,) = orders_on(exchange, ticker("dup2"))
    assert result.client_order_id == order["client_order_id"] == first_id and not result.found_existing
    sending = [r for r in logger.query() if r.get("status") == "sending"]
    assert len(sending) == 2 and "same client_order_id" in sending[1]["message"]


def test_when_even_the_check_fails_the_resend_keeps_its_id_and_the_exchange_refuses_a_second(
        exchange, client, faults, tmp_path) -> None:
    _, executor = executor_for(client, tmp_path / "logs")
    lose_the_answer(executor, faults, buy("dup3"), placed=True)
    faults.fail_lookups = 1                   # the executor's own check fails this time
    result = executor.submit(buy("dup3"))     # resent with the same id -> 409 -> the existing order
    (order,) = orders_on(exchange, ticker("dup3"))
    assert result.order_id == order["order_id"]


def test_a_restarted_app_still_knows_the_unanswered_order(exchange, client, faults, tmp_path) -> None:
    logger, executor = executor_for(client, tmp_path / "logs")
    lose_the_answer(executor, faults, buy("dup4", tif=TimeInForce.IOC, price="0.45"), placed=True)
    logger.close()
    logger, executor = executor_for(client, tmp_path / "logs")
    preview = executor.preview(buy("dup4", tif=TimeInForce.IOC, price="0.45"))
    assert any("identical order" in w and "never places it twice" in w for w in preview.warnings)
    result = executor.submit(buy("dup4", tif=TimeInForce.IOC, price="0.45"))
    (order,) = orders_on(exchange, ticker("dup4"))
    assert result.found_existing and result.status == "executed" and result.fill_count == D("5")
    fills = logger.query(event_types="fill")
    assert result.fills_imported == len(fills) > 0 and {f["order_id"] for f in fills} == {order["order_id"]}


def test_a_different_order_waits_until_the_unanswered_one_can_be_checked(
        exchange, client, faults, tmp_path) -> None:
    logger, executor = executor_for(client, tmp_path / "logs")
    lose_the_answer(executor, faults, buy("dup5"), placed=True)
    faults.fail_lookups = 1
    with pytest.raises(TransientApiError, match="could not check .* nothing was sent") as caught:
        executor.submit(buy("dup5", price="0.25"))
    assert not caught.value.maybe_applied and len(orders_on(exchange, ticker("dup5"))) == 1
    result = executor.submit(buy("dup5", price="0.25"))
    assert not result.found_existing and any("placed after all" in w for w in result.warnings)
    assert sorted(o["yes_price_dollars"] for o in orders_on(exchange, ticker("dup5"))) == ["0.2500", "0.3000"]
    assert [s for _, s in events(tmp_path / "logs", ticker("dup5"))] == [
        "sending", "unknown", "resting", "sending", "resting"]
    assert logger.unanswered_submissions() == []


def test_a_different_order_marks_an_unanswered_one_that_never_arrived_as_not_placed(
        exchange, client, faults, tmp_path) -> None:
    logger, executor = executor_for(client, tmp_path / "logs")
    lose_the_answer(executor, faults, buy("dup9"), placed=False)
    executor.submit(buy("dup9", price="0.25"))
    assert [o["yes_price_dollars"] for o in orders_on(exchange, ticker("dup9"))] == ["0.2500"]
    assert [s for _, s in events(tmp_path / "logs", ticker("dup9"))] == [
        "sending", "unknown", "not_placed", "sending", "resting"]
    assert logger.unanswered_submissions() == []


def test_a_failure_that_surely_never_arrived_is_logged_as_not_sent_and_forgotten(
        exchange, client, faults, tmp_path) -> None:
    logger, executor = executor_for(client, tmp_path / "logs")
    faults.refuse_creates = 1                                   # connect timeout: never sent
    with pytest.raises(TransientApiError) as caught:
        executor.submit(buy("dup6"))
    assert not caught.value.maybe_applied and "it was not placed" in str(caught.value)
    assert [s for _, s in events(tmp_path / "logs", ticker("dup6"))] == ["sending", "not_sent"]
    assert logger.unanswered_submissions() == []
    result = executor.submit(buy("dup6"))                        # a plain new order, new id
    assert not result.found_existing and len(orders_on(exchange, ticker("dup6"))) == 1


def test_the_menu_after_a_lost_answer_says_so_and_a_retry_after_restart_places_nothing_new(exchange, faults, tmp_path) -> None:
    config = config_for(exchange, tmp_path)
    tick = ticker("dup7")
    place = ["3", tick, "b", "y", "5", "0.30", "", "", "", "", "y"]
    faults.fail_lookups = 1
    first = drive(config, "\n".join(place + ["0"]) + "\n", session=session_with(faults),
                  client_options=FEW_RETRIES)
    (order,) = orders_on(exchange, tick)
    errors = [line for line in first.splitlines() if "Error:" in line]
    assert len(errors) == 1 and "may or may not be placed" in errors[0] and "never placed twice" in errors[0]
    out = drive(config, "\n".join(place + ["0"]) + "\n", session=session_with(faults),   # a new session
                client_options=FEW_RETRIES)
    assert f"Note: 1 order(s) sent earlier never got an answer ({tick})" in out
    assert "got no answer" in out                                   # the preview warns
    assert f"Already placed, not sent again: order {order['order_id']} resting" in out
    assert orders_on(exchange, tick) == [order]
    assert [(r["event_type"], r["status"]) for r in journal(config)] == [
        ("submission", "sending"), ("error", "unknown"), ("submission", "resting")]
    assert "Traceback" not in out


def test_the_order_subcommand_retried_after_a_lost_answer_finds_the_order(
        exchange, client, faults, tmp_path) -> None:
    config = config_for(exchange, tmp_path)
    logger, executor = executor_for(client, trail_dir(config))   # an earlier `order` run: answer lost
    lose_the_answer(executor, faults, buy("dup8"), placed=True)
    logger.close()
    code, out, err = command(config, ["order", "--ticker", ticker("dup8"), "--side", "yes", "--action", "buy",
                                      "--count", "5", "--price", "0.30", "--yes", "--json"])
    assert code == 0, err
    doc = json.loads(out)["order"]
    (order,) = orders_on(exchange, ticker("dup8"))
    assert doc["already_placed"] is True and doc["order_id"] == order["order_id"]
    assert "not sent again" in doc["warnings"][0]
    assert os.path.exists(trail_dir(config) / "trades.jsonl")


def test_a_decrease_whose_answer_is_lost_shrinks_the_order_once(exchange, faults, tmp_path) -> None:
    signer = KalshiSigner.from_key_file(exchange.key_id, exchange.private_key_path)
    with KalshiClient(exchange.base_url, signer, session=session_with(faults), max_retries=1,
                      sleep=lambda _s: None) as api:
        logger, executor = executor_for(api, tmp_path / "logs")
        placed = executor.submit(buy("dup10", count="10"))
        faults.lose_decreases = 1
        result = executor.decrease(placed.order_id, reduce_by="3")   # applied, answer lost, resent
    assert faults.lose_decreases == 0 and result.remaining_count == D("7")
    (order,) = orders_on(exchange, ticker("dup10"))
    assert order["remaining_count_fp"] == "7.00"
    assert logger.query(event_types="amend")[-1]["message"] == "resting 10.00 -> 7.00"


def test_ctrl_c_while_an_order_is_on_its_way_says_it_may_be_placed_and_a_retry_finds_it(
        exchange, faults, tmp_path) -> None:
    config = config_for(exchange, tmp_path)
    tick = ticker("dup11")
    place = ["3", tick, "b", "y", "5", "0.30", "", "", "", "", "y"]
    faults.interrupt_creates = 1
    out = drive(config, "\n".join(place + place + ["0"]) + "\n",
                session=session_with(faults), client_options=FEW_RETRIES)
    (order,) = orders_on(exchange, tick)
    (error,) = [line for line in out.splitlines() if "Error:" in line]
    assert "interrupted while sending: the order may or may not be placed" in error
    assert f"Already placed, not sent again: order {order['order_id']}" in out
    assert [(r["event_type"], r["status"]) for r in journal(config)] == [
        ("submission", "sending"), ("error", "unknown"), ("submission", "resting")]
