"""State that must survive: a clean restart, a kill -9 mid-flight, the paper key; and the two CLIs."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from kalshi_trading.paper.auth import KEY_ID_FILE, PRIVATE_KEY_FILE
from kalshi_trading.paper.cli import paper_reset_main, paper_server_main
from kalshi_trading.paper.server import STATE_FILE, start_paper_exchange
from kalshi_trading.timeutil import parse_iso, utc_now
from tests.conftest import pem_public
from tests.paper_http import PaperHttp, make_universe
from tests.waiting import read_line

REPO = Path(__file__).resolve().parent.parent
TICKER = "KXTEST-E0-M0"


def order(**extra) -> dict:
    body = {"ticker": TICKER, "side": "bid", "count": "3", "price": "0.46",
            "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross",
            "client_order_id": str(uuid.uuid4())}
    return {**body, **extra}


def account_view(http: PaperHttp) -> dict:
    return {"balance": http.get("/portfolio/balance").json()["balance_dollars"],
            "orders": http.get_all("/portfolio/orders", "orders"),
            "fills": http.get_all("/portfolio/fills", "fills"),
            "positions": http.get_all("/portfolio/positions", "market_positions")}


def paper_signer(running) -> PaperHttp:
    key = serialization.load_pem_private_key(running.private_key_path.read_bytes(), password=None)
    return PaperHttp(running.base_url, running.key_id, key)


def test_balance_orders_and_fills_survive_a_restart(tmp_path, rsa_private_key):
    now = utc_now()
    keys = {"test-key": pem_public(rsa_private_key)}
    with start_paper_exchange(tmp_path, universe=make_universe(now), public_keys=keys) as first:
        http = PaperHttp(first.base_url, "test-key", rsa_private_key)
        assert http.post("/portfolio/events/orders", json=order()).status_code == 201
        assert http.post("/portfolio/events/orders",
                         json=order(price="0.30", time_in_force="good_till_canceled")).status_code == 201
        before = account_view(http)
        replay_start = first.engine.store.get_meta("replay_start")
        http.close()
    with start_paper_exchange(tmp_path, universe=make_universe(now), public_keys=keys) as second:
        http = PaperHttp(second.base_url, "test-key", rsa_private_key)
        after = account_view(http)
        assert second.engine.store.get_meta("replay_start") == replay_start
        http.close()
    assert after["balance"] == before["balance"] != "1000.0000"
    assert after["orders"] == before["orders"] and len(after["orders"]) == 2
    assert after["fills"] == before["fills"] and len(after["fills"]) == 1
    assert after["positions"] == before["positions"]


def test_the_paper_key_is_made_once_and_reused(tmp_path):
    with start_paper_exchange(tmp_path, universe=make_universe(utc_now())) as first:
        assert first.key_created and first.key_id
        assert first.private_key_path == tmp_path / PRIVATE_KEY_FILE
        http = paper_signer(first)
        assert http.get("/portfolio/balance").status_code == 200
        http.close()
        key_id = first.key_id
    with start_paper_exchange(tmp_path, universe=make_universe(utc_now())) as second:
        assert (second.key_id, second.key_created) == (key_id, False)
        http = paper_signer(second)
        assert http.get("/portfolio/balance").status_code == 200
        http.close()


_CHILD = textwrap.dedent("""
    import sys, uuid, random
    sys.path.insert(0, {repo!r})
    from pathlib import Path
    from cryptography.hazmat.primitives import serialization
    from kalshi_trading.paper.server import start_paper_exchange
    from kalshi_trading.timeutil import parse_iso
    from tests.paper_http import PaperHttp, make_universe
    running = start_paper_exchange(Path({data!r}), universe=make_universe(parse_iso({now!r})))
    key = serialization.load_pem_private_key(running.private_key_path.read_bytes(), password=None)
    http = PaperHttp(running.base_url, running.key_id, key)
    rng = random.Random(3)
    n = 0
    while True:
        ticker = "KXTEST-E0-M%d" % rng.randrange(3)
        body = {{"ticker": ticker, "side": "bid", "count": str(rng.randint(1, 5)),
                "price": rng.choice(["0.46", "0.48", "0.50"]), "time_in_force": "immediate_or_cancel",
                "self_trade_prevention_type": "taker_at_cross", "client_order_id": str(uuid.uuid4())}}
        assert http.post("/portfolio/events/orders", json=body).status_code == 201
        n += 1
        if n % 10 == 0:
            print(n, flush=True)
""")


def test_kill_9_mid_flight_leaves_a_consistent_database(tmp_path):
    now = utc_now().isoformat()
    script = tmp_path / "child.py"
    script.write_text(_CHILD.format(repo=str(REPO), data=str(tmp_path / "paper"), now=now))
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, cwd=REPO) as child:   # closes the pipes
        try:
            placed = 0
            while placed < 70:   # 60 answered orders, then proof that it is still placing more
                placed = int(read_line(child, 30, f"the child to report {placed + 10} orders placed"))
            assert child.poll() is None
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    with start_paper_exchange(tmp_path / "paper", universe=make_universe(parse_iso(now))) as running:
        http = paper_signer(running)
        view = account_view(http)
        http.close()
    assert len(view["orders"]) >= placed            # every order answered 201 before the kill
    fills_by_order: dict[str, Decimal] = defaultdict(Decimal)
    held: dict[str, Decimal] = defaultdict(Decimal)
    spent = Decimal(0)
    for fill in view["fills"]:
        count = Decimal(fill["count_fp"])
        fills_by_order[fill["order_id"]] += count
        held[fill["ticker"]] += count
        spent += Decimal(fill["yes_price_dollars"]) * count + Decimal(fill["fee_cost"])
    for placed_order in view["orders"]:
        assert Decimal(placed_order["fill_count_fp"]) == fills_by_order.pop(placed_order["order_id"], 0)
    assert not fills_by_order  # no fill without its order
    assert {p["ticker"]: Decimal(p["position_fp"]) for p in view["positions"]} == dict(held)
    assert Decimal(view["balance"]) == Decimal("1000") - spent


def _start_cli(data_dir: Path) -> tuple[subprocess.Popen, str]:
    child = subprocess.Popen([sys.executable, "-m", "kalshi_trading.paper.cli", "--port", "0",
                              "--data-dir", str(data_dir)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = read_line(child, 30, "the paper server's serving line")
    except BaseException:
        child.kill()
        child.communicate(timeout=10)
        raise
    return child, line


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_paper_server_cli_prints_one_line_serves_and_stops_cleanly(tmp_path, stop_signal):
    child, line = _start_cli(tmp_path)
    try:
        assert line.startswith("Paper exchange serving at http://127.0.0.1:"), line
        assert "new paper API key" in line
        base_url = line.split()[4]
        assert base_url.endswith("/trade-api/v2")
        assert requests.get(base_url + "/exchange/status", timeout=5).json()["exchange_active"] is True
    finally:
        child.send_signal(stop_signal)
        out, err = child.communicate(timeout=10)
    assert child.returncode == 0
    assert out == ""           # exactly one line in all
    assert "Traceback" not in err
    assert (tmp_path / PRIVATE_KEY_FILE).exists()


def test_paper_server_cli_second_start_does_not_announce_a_new_key(tmp_path):
    for expected in (True, False):
        child, line = _start_cli(tmp_path)
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=10)
        assert ("new paper API key" in line) is expected


def _with_state(tmp_path: Path) -> tuple[str, list[Path]]:
    with start_paper_exchange(tmp_path, universe=make_universe(utc_now())) as running:
        http = paper_signer(running)
        http.post("/portfolio/events/orders", json=order())
        http.close()
        key_id = running.key_id
    return key_id, [p for p in tmp_path.iterdir() if p.name.startswith(STATE_FILE)]


@pytest.mark.parametrize("answer", ["n\n", "\n", ""])
def test_paper_reset_defaults_to_no(tmp_path, answer):
    _, state_files = _with_state(tmp_path)
    out = io.StringIO()
    assert paper_reset_main(["--data-dir", str(tmp_path)], stdin=io.StringIO(answer), stdout=out) == 0
    assert "[y/N]" in out.getvalue() and "nothing was deleted" in out.getvalue()
    assert all(path.exists() for path in state_files)


@pytest.mark.parametrize("argv, answer", [([], "y\n"), (["--yes"], "")])
def test_paper_reset_deletes_state_but_keeps_the_key(tmp_path, argv, answer):
    key_id, _ = _with_state(tmp_path)
    out = io.StringIO()
    assert paper_reset_main(["--data-dir", str(tmp_path), *argv], stdin=io.StringIO(answer), stdout=out) == 0
    assert ("[y/N]" in out.getvalue()) is (not argv)
    assert not any(p.name.startswith(STATE_FILE) for p in tmp_path.iterdir())
    assert (tmp_path / PRIVATE_KEY_FILE).exists() and (tmp_path / KEY_ID_FILE).exists()
    with start_paper_exchange(tmp_path, universe=make_universe(utc_now())) as running:
        assert running.key_id == key_id
        http = paper_signer(running)
        assert http.get("/portfolio/balance").json()["balance_dollars"] == "1000.0000"
        assert http.get("/portfolio/orders").json()["orders"] == []
        http.close()


def test_paper_reset_with_nothing_to_reset_says_so(tmp_path):
    out = io.StringIO()
    assert paper_reset_main(["--data-dir", str(tmp_path)], stdin=io.StringIO("y\n"), stdout=out) == 0
    assert "Nothing to reset" in out.getvalue()


@pytest.mark.parametrize("argv, code", [
    (["--key-id", "abc"], 2), (["--fail-rate", "2"], 2), (["--speed", "0"], 2), (["--port", "x"], 2),
])
def test_paper_server_cli_rejects_bad_arguments(tmp_path, argv, code, capsys):
    assert paper_server_main(["--data-dir", str(tmp_path), *argv]) == code
    assert "Traceback" not in capsys.readouterr().err


def test_paper_server_cli_missing_public_key_file_fails_without_naming_it(tmp_path, capsys):
    missing = tmp_path / "secret-name.pem"
    assert paper_server_main(["--data-dir", str(tmp_path), "--key-id", "k", "--public-key", str(missing)]) == 1
    err = capsys.readouterr().err
    assert "--public-key" in err and "secret-name" not in err


def test_paper_server_cli_serves_a_users_own_key(tmp_path, rsa_private_key):
    public = tmp_path / "mine.pem"
    public.write_bytes(pem_public(rsa_private_key))
    child = subprocess.Popen([sys.executable, "-m", "kalshi_trading.paper.cli", "--port", "0",
                              "--data-dir", str(tmp_path / "d"), "--key-id", "my-key", "--public-key", str(public)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        line = read_line(child, 30, "the paper server's serving line")
        assert "new paper API key" not in line
        http = PaperHttp(line.split()[4], "my-key", rsa_private_key)
        assert http.get("/portfolio/balance").json()["balance_dollars"] == "1000.0000"
        http.close()
    finally:
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=10)
    assert child.returncode == 0
    assert not (tmp_path / "d" / PRIVATE_KEY_FILE).exists()


def _soonest_open_crypto_close(running) -> float:
    """Seconds from now to the close of the open replayed crypto market that closes first."""
    now = utc_now()
    closes = [parse_iso(m["close_time"]) for m in running.engine.list_markets(status="open")
              if m["ticker"].startswith("KXXRP15M")]
    return min((c - now).total_seconds() for c in closes)


def test_the_replay_speed_is_pinned_to_the_account_it_was_created_with(tmp_path):
    """Restarting a speed-60 account at speed 1 would move every market's open, close and
    settlement under the account's orders; the exchange keeps 60 and says so in one line."""
    with start_paper_exchange(tmp_path, speed=60) as running:
        assert _soonest_open_crypto_close(running) < 30           # 15 recorded minutes / 60
    notices: list[str] = []
    with start_paper_exchange(tmp_path, speed=1, on_notice=notices.append) as running:
        assert _soonest_open_crypto_close(running) < 30
    assert len(notices) == 1 and "speed 60" in notices[0] and "paper-reset" in notices[0]
