"""The subcommands against a loopback paper exchange: one JSON document in Kalshi's names with
`--json`, exit codes 0/1/2, confirmations on stdin; some run as real `python -m kalshi_trading`."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from cli_harness import (CLOSED, RAIN_SERIES, command, config_for, journal, orders_on, terminal_fixtures,
                         ticker, trail_dir)

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["cmdbook", "cmdbuy", "cmdask", "cmdno", "cmdcancel", "cmdall", "cmdexp", "sub1", "sub2",
         "cmdwide", "cmdrisk"]


exchange, config = terminal_fixtures("commands-exchange", NAMES)


def ok_json(config, argv: list[str], stdin: str = "") -> dict:
    code, out, err = command(config, [*argv, "--json"], stdin)
    assert code == 0, err
    return json.loads(out)  # exactly one document: json.loads fails on anything extra


def buy(config, tick: str, *extra: str) -> dict:
    return ok_json(config, ["order", "--ticker", tick, "--side", "yes", "--action", "buy", *extra, "--yes"])


def test_markets_and_market_use_kalshi_names(config) -> None:
    doc = ok_json(config, ["markets", "--series", RAIN_SERIES])
    assert {m["ticker"] for m in doc["markets"]} == {"KXRAIN-26DEC31-T1", "KXRAIN-26DEC31-T2"}
    first = doc["markets"][0]
    assert first["yes_bid_dollars"] == "0.4200" and first["yes_ask_dollars"] == "0.4300"
    assert ok_json(config, ["markets", "--search", "springfield"])["markets"]
    detail = ok_json(config, ["market", "KXRAIN-26DEC31-T1"])
    assert detail["market"]["price_ranges"][0]["step"] == "0.0100"
    assert detail["series"]["fee_type"] == "quadratic_with_maker_fees"


def test_book_gives_the_wire_shape_and_the_cost_of_n(config) -> None:
    doc = ok_json(config, ["book", ticker("cmdbook"), "--count", "30"])
    assert doc["orderbook_fp"]["yes_dollars"][-1] == ["0.4200", "25.00"]
    assert doc["spread_dollars"] == "0.0100"
    buy_yes = next(c for c in doc["cost_to_trade"] if c["outcome_side"] == "yes" and c["action"] == "buy")
    assert buy_yes["total_dollars"] == "13.0000"
    # 0.3432 on 20 at 0.43 + 0.1725 on 10 at 0.44, as the exchange books it: whole cents per order
    assert buy_yes["fee_dollars"] == "0.5200"


def test_order_then_positions_orders_fills_pnl_balance(config, exchange) -> None:
    tick = ticker("cmdbuy")
    placed = buy(config, tick, "--count", "5", "--price", "0.45", "--tif", "ioc")
    assert placed["order"]["fill_count"] == "5.00"
    positions = ok_json(config, ["positions"])["market_positions"]
    mine = next(p for p in positions if p["ticker"] == tick)
    assert mine["position_fp"] == "5.00" and mine["market_exposure_dollars"]
    fills = ok_json(config, ["fills"])["fills"]
    assert any(f["ticker"] == tick and f["count_fp"] == "5.00" for f in fills)
    orders = ok_json(config, ["orders", "--status", "executed"])["orders"]
    assert any(o["ticker"] == tick for o in orders)
    assert isinstance(ok_json(config, ["balance"])["balance"], int)
    pnl = ok_json(config, ["pnl"])
    line = next(m for m in pnl["markets"] if m["ticker"] == tick)
    assert (line["position_fp"], line["settled"]) == ("5.00", False)
    assert set(pnl) == {"realized_pnl_dollars", "unrealized_pnl_dollars", "fees_paid_dollars", "markets",
                        "warnings", "notes"}
    assert "settlements" in ok_json(config, ["settlements"])
    history = ok_json(config, ["history"])["events"]
    assert {"submission", "fill"} <= {e["event_type"] for e in history if e.get("ticker") == tick}


def test_order_without_yes_asks_and_sends_only_on_y(config, exchange) -> None:
    tick = ticker("cmdask")
    argv = ["order", "--ticker", tick, "--side", "yes", "--action", "buy", "--count", "2", "--price", "0.30"]
    code, out, err = command(config, argv, stdin="\n")
    assert code == 1 and "not confirmed" in err and orders_on(exchange, tick) == []
    assert "Order preview:" in out and "V2 order:" in out
    code, out, err = command(config, argv, stdin="y\n")
    assert code == 0 and len(orders_on(exchange, tick)) == 1
    code, out, err = command(config, argv + ["--json"], stdin="y\n")
    assert code == 0 and json.loads(out)["order"]["status"] == "resting"
    assert "Order preview:" in err  # with --json the preview goes to stderr


def test_market_order_takes_at_no_worse_than_the_worst_price(config, exchange) -> None:
    tick = ticker("cmdno")
    doc = ok_json(config, ["order", "--ticker", tick, "--side", "no", "--action", "buy", "--count", "30",
                           "--market", "--worst-price", "0.58", "--yes"])
    assert doc["order"]["fill_count"] == "25.00"  # only 25 NO are offered at 0.58
    (order,) = orders_on(exchange, tick)
    assert order["status"] == "canceled" and Decimal(order["remaining_count_fp"]) == 0  # IOC rest


@pytest.mark.parametrize("extra, message", [
    (["--count", "0", "--price", "0.30"], "count"),
    (["--count", "1.234", "--price", "0.30"], "decimal"),
    (["--count", "1", "--price", "0.305"], "grid"),
    (["--count", "1", "--price", "42c"], "price"),
    (["--count", "abc", "--price", "0.30"], "count"),
    (["--count", "1", "--price", "0.30", "--tif", "ioc", "--expires", "2h"], "gtc"),
    (["--count", "1", "--price", "0.30", "--tif", "fok", "--post-only"], "post-only"),
    (["--count", "1", "--price", "0.30", "--expires", "2000-01-01T00:00:00Z"], "future"),
    (["--count", "-3", "--price", "0.30"], "count"),
    (["--count", "1", "--price", "1.00"], "price"),
])
def test_bad_order_input_is_exit_1_one_line_and_nothing_sent(config, exchange, extra, message) -> None:
    tick = ticker("cmdbook")
    before = len(orders_on(exchange, tick))
    code, out, err = command(config, ["order", "--ticker", tick, "--side", "yes", "--action", "buy",
                                      *extra, "--yes"])
    assert code == 1 and len(err.strip().splitlines()) == 1 and message in err
    assert len(orders_on(exchange, tick)) == before
    assert not [r for r in journal(config) if r.get("event_type") == "submission"]


def test_unknown_ticker_is_exit_1(config) -> None:
    code, _, err = command(config, ["market", "KXNOPE-26DEC31-X"])
    assert code == 1 and err.startswith("Error:") and "Traceback" not in err
    for argv in (["book", "KXNOPE-26DEC31-X"], ["market", "KXNOPE-26DEC31-X"]):
        code, _, err = command(config, argv)
        assert code == 1 and err == "Error: unknown market KXNOPE-26DEC31-X (search with: markets --search WORDS)\n"


def test_orders_at_80_columns_keep_the_full_order_id_and_ticker(config, exchange, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    tick = ticker("cmdwide")
    order_id = buy(config, tick, "--count", "1", "--price", "0.20")["order"]["order_id"]
    code, out, _ = command(config, ["orders", "--ticker", tick])
    assert code == 0 and f"{order_id}  {tick}" in out  # copyable into `cancel ORDER_ID`
    assert all(len(line) <= 80 for line in out.splitlines())
    hidden = " ".join(line for line in out.splitlines() if line.startswith("(hidden at this width:"))
    assert "buy YES @ 0.2000" in out or "placed as" in hidden   # shown right, or named as hidden
    code, out, _ = command(config, ["cancel", order_id])
    assert code == 0


def test_cancel_one_and_cancel_all(config, exchange) -> None:
    one = buy(config, ticker("cmdcancel"), "--count", "1", "--price", "0.20")["order"]["order_id"]
    assert ok_json(config, ["cancel", one])["order_id"] == one
    buy(config, ticker("cmdall"), "--count", "1", "--price", "0.20")
    code, _, err = command(config, ["cancel", "--all"], stdin="n\n")
    assert code == 1 and [o for o in orders_on(exchange, ticker("cmdall")) if o["status"] == "resting"]
    assert ok_json(config, ["cancel", "--all", "--yes"])["canceled"] >= 1
    assert not [o for o in exchange.engine.list_orders(exchange.key_id) if o["status"] == "resting"]


def test_export_writes_csv_for_the_range(config, tmp_path: Path) -> None:
    buy(config, ticker("cmdexp"), "--count", "1", "--price", "0.45", "--tif", "ioc")
    target = tmp_path / "out" / "trades.csv"
    target.parent.mkdir()
    doc = ok_json(config, ["export", "--out", str(target), "--from", "2020-01-01"])
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert doc["rows"] == len(rows) >= 2
    assert ok_json(config, ["export", "--out", str(tmp_path / "none.csv"), "--to", "2000-01-01"])["rows"] == 0


def subprocess_env(config) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    env.update({"KALSHI_BASE_URL": config.base_url, "KALSHI_API_KEY_ID": config.key_id,
                "KALSHI_PRIVATE_KEY_PATH": str(config.private_key_path),
                "KALSHI_PAPER_DIR": str(config.paper_dir), "KALSHI_LOG_DIR": str(config.log_dir),
                "PYTHON_DOTENV_DISABLED": "1"})
    return env


def run_module(config, argv: list[str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kalshi_trading", *argv], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60, env=subprocess_env(config))


def test_real_subprocess_order_and_positions(config, exchange) -> None:
    tick = ticker("sub1")
    done = run_module(config, ["order", "--ticker", tick, "--side", "yes", "--action", "buy", "--count", "2",
                               "--price", "0.45", "--tif", "fok", "--yes", "--json"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["order"]["fill_count"] == "2.00"
    done = run_module(config, ["positions", "--json"])
    positions = json.loads(done.stdout)["market_positions"]
    assert any(p["ticker"] == tick and p["position_fp"] == "2.00" for p in positions)


def test_real_subprocess_errors_are_one_line_and_exit_1(config) -> None:
    done = run_module(config, ["book", "KXNOPE-26DEC31-X"])
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    done = run_module(config, ["order", "--ticker", ticker("sub2")])
    assert done.returncode == 2


def test_real_subprocess_menu_through_a_pipe(config) -> None:
    done = run_module(config, [], stdin=f"2\n{ticker('sub2')}\n\n0\n")
    assert done.returncode == 0 and "Spread:" in done.stdout and "Traceback" not in done.stderr


def test_no_env_starts_the_embedded_exchange_with_bundled_data(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    env.update({"KALSHI_PAPER_DIR": str(tmp_path / "paper"), "KALSHI_LOG_DIR": str(tmp_path / "logs"),
                "PYTHONPATH": str(ROOT)})
    done = subprocess.run([sys.executable, "-m", "kalshi_trading"], cwd=tmp_path, input="0\n",
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "PAPER mode: embedded paper exchange" in done.stdout and "Balance: $" in done.stdout
    assert "http://127.0.0.1:" in done.stdout and "Traceback" not in done.stderr


def test_an_order_over_the_risk_limit_is_exit_1_one_line_and_nothing_sent(exchange, tmp_path) -> None:
    config = config_for(exchange, tmp_path, max_position=Decimal("15"))
    tick = ticker("cmdrisk")
    code, out, err = command(config, ["order", "--ticker", tick, "--side", "no", "--action", "buy", "--count", "20",
                                      "--price", "0.50", "--yes", "--json"])
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "KALSHI_MAX_POSITION" in err and "Traceback" not in err
    assert orders_on(exchange, tick) == [] and journal(config) == []


def test_export_to_a_path_that_cannot_be_written_is_one_friendly_line(config, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    code, out, err = command(config, ["export", "--out", str(tmp_path / "a-file" / "x.csv")])
    assert (code, out) == (1, "")
    assert err.startswith("Error: cannot write") and err.count("\n") == 1 and "unexpected" not in err
    assert not (config.log_dir / "errors.log").exists()


def test_export_replaces_an_existing_csv_says_so_and_never_writes_over_the_trade_log(config, tmp_path) -> None:
    buy(config, ticker("cmdexp"), "--count", "1", "--price", "0.45", "--tif", "ioc")
    target = tmp_path / "day.csv"
    target.write_text("yesterday's export\n")
    code, out, err = command(config, ["export", "--out", str(target), "--force"])
    assert code == 0 and "(replaced the file that was there)" in out
    assert target.read_text().startswith("created_time,event_type")
    trail = (trail_dir(config) / "trades.jsonl").read_bytes()
    for victim in ("trades.jsonl", "trades.log"):
        code, out, err = command(config, ["export", "--out", str(trail_dir(config) / victim)])
        assert (code, out) == (1, "") and ".csv" in err and err.count("\n") == 1
    assert (trail_dir(config) / "trades.jsonl").read_bytes() == trail


def test_an_order_on_a_closed_market_is_exit_1_and_nothing_sent(config, exchange) -> None:
    code, out, err = command(config, ["order", "--ticker", CLOSED, "--side", "yes", "--action", "buy",
                                      "--count", "1", "--price", "0.30", "--yes"])
    assert (code, out) == (1, "") and "closed" in err and err.count("\n") == 1
    assert orders_on(exchange, CLOSED) == [] and journal(config) == []
