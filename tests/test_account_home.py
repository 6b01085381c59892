"""One home per account under the log folder: two keys (or environments) keep two trails; the
embedded paper exchange keeps one home across restarts; `paper-reset` starts a new trail and keeps
the old one, archived; an earlier version's trail at the top of the log folder moves into its
account only when that account's exchange knows its orders, and the trader is told once.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from cli_harness import (app_environ, command, make_universe, ticker,  # noqa: F401 (work_in_tmp is autouse)
                         trail_dir, work_in_tmp)
from conftest import pem_private, pem_public

from kalshi_trading.audit.account_home import ACCOUNT_FILE, AccountHomes, AccountIdentity
from kalshi_trading.audit.legacy_trail import adopt_legacy_trail
from kalshi_trading.client.signing import KalshiSigner
from kalshi_trading.config import BASE_URLS, Config, Mode, RiskLimits
from kalshi_trading.errors import ConfigError
from kalshi_trading.kalshi_client import KalshiClient
from kalshi_trading.order_request import Action, OrderIntent, OutcomeSide
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.timeutil import utc_now
from kalshi_trading.trade_executor import TradeExecutor
from kalshi_trading.trade_logger import TradeLogger

KEY_A = "0b5e2c1d-4f3a-4e8b-9d7c-6a5b4c3daaaa"
KEY_B = "7e6d5c4b-3a29-4f18-8e07-f6e5d4c3bbbb"
NAMES = ["homea", "homeb", "legacy1", "legacy2", "legacy3", "legacy4"]


@pytest.fixture(scope="module")
def two_key_exchange(tmp_path_factory: pytest.TempPathFactory, rsa_private_key, other_rsa_private_key):
    """An exchange that knows two users' keys, and where their key files are."""
    root = tmp_path_factory.mktemp("homes")
    keys = {KEY_A: rsa_private_key, KEY_B: other_rsa_private_key}
    paths = {}
    for key_id, key in keys.items():
        paths[key_id] = root / f"{key_id[-4:]}.pem"
        paths[key_id].write_bytes(pem_private(key))
    with start_paper_exchange(root / "exchange", universe=make_universe(NAMES),
                              public_keys={k: pem_public(v) for k, v in keys.items()}) as running:
        yield running, paths


def config_with_key(exchange, paths: dict[str, Path], key_id: str, root: Path) -> Config:
    return Config(mode=Mode.PAPER, base_url=exchange.base_url, key_id=key_id, private_key_path=paths[key_id],
                  paper_dir=root / "paper", log_dir=root / "logs",
                  risk=RiskLimits(max_order_cost=Decimal("1000"), max_position=Decimal("5000")))


def ok_json(config: Config, argv: list[str]) -> tuple[dict, str]:
    code, out, err = command(config, [*argv, "--json"])
    assert code == 0, err
    return json.loads(out), err


def buy(config: Config, tick: str) -> dict:
    doc, _ = ok_json(config, ["order", "--ticker", tick, "--side", "yes", "--action", "buy", "--count", "1",
                              "--price", "0.20", "--yes"])
    return doc["order"]


def history_tickers(config: Config) -> set[str]:
    doc, _ = ok_json(config, ["history"])
    return {event.get("ticker") for event in doc["events"]}


# --- two accounts, two homes -------------------------------------------------------------------------

def test_two_keys_on_one_log_folder_keep_two_trails(two_key_exchange, tmp_path: Path) -> None:
    exchange, paths = two_key_exchange
    alice = config_with_key(exchange, paths, KEY_A, tmp_path)
    bob = config_with_key(exchange, paths, KEY_B, tmp_path)
    buy(alice, ticker("homea"))
    buy(bob, ticker("homeb"))
    assert history_tickers(alice) == {ticker("homea")}
    assert history_tickers(bob) == {ticker("homeb")}
    assert trail_dir(alice) != trail_dir(bob)
    assert trail_dir(alice).parent.name.endswith("-aaaa") and trail_dir(bob).parent.name.endswith("-bbbb")


@pytest.mark.parametrize("first, second", [
    (("demo", BASE_URLS[Mode.DEMO], KEY_A), ("prod", BASE_URLS[Mode.PROD], KEY_A)),      # environments
    (("demo", BASE_URLS[Mode.DEMO], KEY_A), ("demo", BASE_URLS[Mode.DEMO], KEY_B)),      # keys
    (("paper", "http://127.0.0.1:8765/trade-api/v2", KEY_A),
     ("paper", "http://127.0.0.1:8766/trade-api/v2", KEY_A)),                           # exchanges
], ids=["environment", "key", "exchange"])
def test_accounts_that_differ_in_one_part_get_two_homes_named_by_the_last_four_only(
        tmp_path: Path, first: tuple, second: tuple) -> None:
    homes = AccountHomes(tmp_path / "logs")
    made = [homes.open(AccountIdentity.for_exchange(*parts), utc_now())[0] for parts in (first, second)]
    assert made[0].path != made[1].path and [h.path for h in homes.homes()] == sorted(h.path for h in made)
    for home, (environment, _, key_id) in zip(made, (first, second)):
        assert home.name.startswith(f"{environment}-") and home.name.endswith(f"-{key_id[-4:]}")
        text = (home.path / ACCOUNT_FILE).read_text()
        assert key_id not in home.name and key_id not in text and key_id[:-4] not in text


def test_the_production_home_is_named_by_its_host(tmp_path: Path) -> None:
    identity = AccountIdentity.for_exchange("prod", BASE_URLS[Mode.PROD], KEY_A)
    assert identity.name == "prod-external-api.kalshi.com-aaaa"


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/trade-api/v2", "http://127.0.0.1:abc/trade-api/v2"],
                         ids=["port-out-of-range", "port-not-a-number"])
def test_a_base_url_with_a_bad_port_is_one_configuration_line(two_key_exchange, tmp_path: Path,
                                                              url: str) -> None:
    exchange, paths = two_key_exchange
    with pytest.raises(ConfigError):
        AccountIdentity.for_exchange("paper", url, KEY_A)
    code, _, err = command(replace(config_with_key(exchange, paths, KEY_A, tmp_path), base_url=url),
                           ["balance"])
    assert code == 1 and err.startswith("Error: configuration: KALSHI_BASE_URL is not a valid URL (")
    assert "unexpected" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("name", ["", "../outside.json", "sub/file.json", ACCOUNT_FILE, "trail", ".hidden"])
def test_a_home_refuses_to_name_a_file_outside_it_or_one_of_its_own(tmp_path: Path, name: str) -> None:
    home, _ = AccountHomes(tmp_path).open(AccountIdentity.for_exchange("demo", BASE_URLS[Mode.DEMO], KEY_A),
                                          utc_now())
    assert home.file("risk_state.json") == home.path / "risk_state.json"
    with pytest.raises(ValueError):
        home.file(name)


# --- the embedded paper exchange: real processes --------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No .env, no KALSHI_* but the paper and log folders of this test."""
    return app_environ(tmp_path)


def run(env: dict[str, str], *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "kalshi_trading", *argv], capture_output=True, text=True,
                          input=stdin, timeout=60, env=env, cwd=Path(env["KALSHI_LOG_DIR"]).parent)
    assert done.returncode == 0, done.stderr
    return done


def place_resting_order(env: dict[str, str]) -> dict:
    markets = json.loads(run(env, "markets", "--status", "open", "--limit", "50", "--json").stdout)["markets"]
    tick = max(markets, key=lambda m: m["close_time"])["ticker"]
    return json.loads(run(env, "order", "--ticker", tick, "--side", "yes", "--action", "buy", "--count", "1",
                          "--price", "0.01", "--tif", "gtc", "--yes", "--json").stdout)["order"]


def events(env: dict[str, str]) -> tuple[list[dict], str]:
    done = run(env, "history", "--json")
    return json.loads(done.stdout)["events"], done.stderr


def test_the_embedded_exchange_keeps_one_home_across_restarts(env: dict[str, str]) -> None:
    order = place_resting_order(env)          # the exchange starts and stops with each process
    found, _ = events(env)                    # a new exchange, on another port
    assert order["order_id"] in {event.get("order_id") for event in found}
    homes = AccountHomes(Path(env["KALSHI_LOG_DIR"])).homes()
    assert [home.name.startswith("paper-embedded-") for home in homes] == [True]


def test_after_a_paper_reset_history_shows_none_of_the_old_accounts_records(env: dict[str, str]) -> None:
    old = place_resting_order(env)
    before, _ = events(env)
    assert old["order_id"] in {event.get("order_id") for event in before}
    said = run(env, "paper-reset", "--yes").stdout
    assert "keeps the old account's trade log, archived" in said
    found, err = events(env)
    assert found == [] and "archived" in err
    assert json.loads(run(env, "balance", "--json").stdout)["balance_dollars"] == "1000.0000"


def test_a_paper_reset_keeps_the_old_trail_archived_and_says_so_once(env: dict[str, str]) -> None:
    old = place_resting_order(env)
    (before,) = AccountHomes(Path(env["KALSHI_LOG_DIR"])).homes()
    run(env, "paper-reset", "--yes")
    _, told = events(env)
    _, again = events(env)
    homes = AccountHomes(Path(env["KALSHI_LOG_DIR"])).homes()
    (archived,) = [home for home in homes if home.archived]
    (current,) = [home for home in homes if not home.archived]
    assert f"the old account's trade log is kept, archived, in {archived.path}" in told
    assert "archived" not in again
    assert re.fullmatch(re.escape(f"{before.name}-archived-") + r"\d{8}T\d{6}Z", archived.name)
    assert archived.info()["archived_reason"].endswith(f"{current.name} replaced it")
    with TradeLogger(archived.trail_dir) as kept:
        assert old["order_id"] in {rec.get("order_id") for rec in kept.query()}


# --- an earlier version's trail at the top of the log folder -------------------------------------------

@pytest.fixture
def legacy(two_key_exchange, tmp_path: Path) -> tuple[Config, KalshiClient]:
    exchange, paths = two_key_exchange
    config = config_with_key(exchange, paths, KEY_A, tmp_path)
    client = KalshiClient(exchange.base_url, KalshiSigner.from_key_file(KEY_A, paths[KEY_A]))
    yield config, client
    client.close()


def earlier_version_order(config: Config, client: KalshiClient, name: str) -> str:
    """What an earlier version did: its trade logger wrote at the top of the log folder."""
    with TradeLogger(config.log_dir) as logger:
        executor = TradeExecutor(client, logger, config.risk)
        intent = OrderIntent(ticker(name), Action.BUY, OutcomeSide.YES, Decimal("1"), Decimal("0.20"))
        return executor.submit(intent).order_id


def test_an_earlier_versions_trail_moves_into_the_account_that_knows_its_orders_once(legacy) -> None:
    config, client = legacy
    order_id = earlier_version_order(config, client, "legacy1")
    doc, told = ok_json(config, ["history"])
    assert "Moved the trade log of an earlier version" in told and str(trail_dir(config)) in told
    assert order_id in {event.get("order_id") for event in doc["events"]}
    assert not (config.log_dir / "trades.jsonl").exists() and (trail_dir(config) / "trades.jsonl").exists()
    _, again = ok_json(config, ["history"])
    assert "earlier version" not in again


@pytest.mark.parametrize("record, why", [
    ({"order_id": str(uuid.uuid4()), "status": "resting"}, "this account's exchange does not know its orders"),
    ({"status": "rejected"}, "it placed no order, so whose it is cannot be told"),
], ids=["unknown-order", "no-order"])
def test_an_earlier_versions_trail_that_cannot_be_placed_stays_and_is_said_once(
        legacy, record: dict, why: str) -> None:
    config, _ = legacy
    with TradeLogger(config.log_dir) as logger:
        logger.record("submission", ticker=ticker("legacy2"), client_order_id=str(uuid.uuid4()), **record)
    doc, told = ok_json(config, ["history"])
    assert f"is from an earlier version and was left where it is ({why})" in told
    assert doc["events"] == [] and (config.log_dir / "trades.jsonl").exists()
    _, again = ok_json(config, ["history"])
    assert "earlier version" not in again


def test_an_earlier_versions_trail_is_left_for_its_owner_by_another_account_that_starts_first(
        two_key_exchange, legacy, tmp_path: Path) -> None:
    alice, client = legacy
    exchange, paths = two_key_exchange
    bob = config_with_key(exchange, paths, KEY_B, tmp_path)
    order_id = earlier_version_order(alice, client, "legacy3")
    _, told_bob = ok_json(bob, ["history"])
    assert "this account's exchange does not know its orders" in told_bob
    assert not any(trail_dir(bob).glob("trades*.jsonl"))
    doc, told_alice = ok_json(alice, ["history"])
    assert "Moved the trade log of an earlier version" in told_alice
    assert order_id in {event.get("order_id") for event in doc["events"]}


def test_an_earlier_versions_trail_never_replaces_a_file_already_in_the_trail(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    home, _ = AccountHomes(log_dir).open(AccountIdentity.for_exchange("demo", BASE_URLS[Mode.DEMO], KEY_A),
                                         utc_now())
    (home.trail_dir / "trades.log").write_text("this account's own log\n")
    (log_dir / "trades.jsonl").write_text(json.dumps({"event_type": "submission", "order_id": "o-1"}) + "\n")
    (log_dir / "trades.log").write_text("the earlier version's log\n")
    said = adopt_legacy_trail(log_dir, home, lambda order_id: True)
    assert said is not None and "this account already has a trail of its own" in said
    assert (home.trail_dir / "trades.log").read_text() == "this account's own log\n"
    assert (log_dir / "trades.jsonl").exists() and (log_dir / "trades.log").exists()
