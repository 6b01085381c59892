"""Subcommands keep the menu's rules: `cancel` takes the 8-character id the menu shows (any unique
start of a resting order's id), `export` refuses an existing file unless `--force` as the menu asks
first, and both put a relative name in the export folder and say the full path; every subcommand
takes `--json`, `paper-server` and `paper-reset` included."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from cli_harness import command, drive, terminal_fixtures, ticker, work_in_tmp  # noqa: F401 (autouse fixture)
from waiting import read_line

from kalshi_trading.__main__ import main
from kalshi_trading.paper.auth import KEY_ID_FILE, PRIVATE_KEY_FILE
from kalshi_trading.paper.server import STATE_FILE, start_paper_exchange
from kalshi_trading.terminal.commands import build_parser

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["prefix", "crowd", "gone", "blank", "export", "bookfee"]
WIDE = 400   # columns: lines holding a full temporary path stay whole on the screen


exchange, config = terminal_fixtures("rules-exchange", NAMES)


def rest(config, name: str) -> str:
    """A resting GTC buy of 1 YES at 0.20 on `ticker(name)`; returns its order id."""
    code, out, err = command(config, ["order", "--ticker", ticker(name), "--side", "yes", "--action", "buy",
                                      "--count", "1", "--price", "0.20", "--yes", "--json"])
    assert code == 0, err
    return json.loads(out)["order"]["order_id"]


def status_of(exchange, order_id: str) -> str:
    with exchange.engine.lock:
        return next(o["status"] for o in exchange.engine.list_orders(exchange.key_id) if o["order_id"] == order_id)


# --- cancel: the id as the menu shows it -------------------------------------------------------

def test_cancel_takes_the_8_character_id_the_open_orders_screen_shows(config, exchange) -> None:
    order_id = rest(config, "prefix")
    assert f" {order_id[:8]} " in drive(config, "4\n\n0\n")
    code, out, err = command(config, ["cancel", order_id[:8]])
    assert (code, out, err) == (0, f"Canceled {order_id}.\n", "")
    assert status_of(exchange, order_id) == "canceled"


def test_a_prefix_several_resting_orders_share_is_one_line_saying_how_many(config, exchange) -> None:
    for _ in range(17):   # 17 ids over 16 hex digits: two of them share a first character
        rest(config, "crowd")
    with exchange.engine.lock:
        resting = [o["order_id"] for o in exchange.engine.list_orders(exchange.key_id) if o["status"] == "resting"]
    first, count = Counter(order_id[0] for order_id in resting).most_common(1)[0]
    code, out, err = command(config, ["cancel", first])
    assert (code, out) == (1, "")
    assert err == (f"Error: {count} resting orders have ids starting with {first!r}; give more of the id "
                   "(see: orders --status resting)\n")
    assert all(status_of(exchange, order_id) == "resting" for order_id in resting)


def test_a_start_no_resting_order_has_is_one_line(config) -> None:
    code, out, err = command(config, ["cancel", "zzzz"])
    assert (code, out) == (1, "")
    assert err == "Error: no resting order has an id starting with 'zzzz' (see: orders --status resting)\n"


def test_the_whole_id_of_a_canceled_order_says_what_became_of_it(config) -> None:
    order_id = rest(config, "gone")
    assert command(config, ["cancel", order_id])[0] == 0
    code, out, err = command(config, ["cancel", order_id])
    assert (code, out) == (1, "")
    assert err == f"Error: order {order_id} is canceled; only resting orders can change\n"


def test_a_blank_order_id_cancels_nothing(config, exchange) -> None:
    order_id = rest(config, "blank")
    code, out, err = command(config, ["cancel", "   "])
    assert (code, out) == (1, "") and err.startswith("Error: give an order id")
    assert status_of(exchange, order_id) == "resting"


# --- export: one rule with the menu ------------------------------------------------------------

def test_export_refuses_an_existing_file_without_force(config, tmp_path: Path) -> None:
    target = tmp_path / "day.csv"
    target.write_text("yesterday's export\n")
    code, out, err = command(config, ["export", "--out", str(target)])
    assert (code, out) == (1, "")
    assert err == f"Error: {target.resolve()} exists; add --force to replace it (nothing was exported)\n"
    assert target.read_text() == "yesterday's export\n"


def test_export_with_force_replaces_the_file_and_says_so(config, tmp_path: Path) -> None:
    target = tmp_path / "day.csv"
    target.write_text("yesterday's export\n")
    code, out, err = command(config, ["export", "--out", str(target), "--force"])
    assert code == 0, err
    assert out.endswith(f" row(s) to {target.resolve()} (replaced the file that was there)\n")
    assert target.read_text().startswith("created_time,")


def test_the_menu_asks_before_replacing_and_no_keeps_the_file_and_asks_another_name(config, tmp_path: Path) -> None:
    target, other = tmp_path / "day.csv", tmp_path / "day2.csv"
    target.write_text("yesterday's export\n")
    out = drive(config, f"6\n\n\n\n\n{target}\nn\n{other}\n0\n", columns=WIDE)
    assert f"{target.resolve()} exists. Replace it? [y/N]: Kept it; give another name, or Enter to skip." in out
    assert target.read_text() == "yesterday's export\n"
    assert f"to {other.resolve()}" in out and other.read_text().startswith("created_time,")


def test_the_history_screen_re_asks_an_end_date_before_the_start_date(config) -> None:
    out = drive(config, "6\n2030-01-01\n2020-01-01\n2030-01-02\n\n\n\n0\n", columns=WIDE)
    assert "Error: the end date is before the start date; give a later one" in out
    assert "No events match." in out        # the screen went on with the dates typed, not the menu


def test_export_puts_a_relative_name_in_the_log_folder_and_says_the_full_path(config, exchange, tmp_path) -> None:
    rest(config, "export")
    code, out, err = command(config, ["export", "--out", "day.csv"])
    written = (config.log_dir / "day.csv").resolve()
    assert code == 0, err
    assert out.startswith("Exported ") and out.endswith(f" row(s) to {written}\n")
    assert written.read_text().startswith("created_time,") and not (tmp_path / "day.csv").exists()


def test_the_menu_puts_a_relative_name_in_the_log_folder_and_says_the_full_path(config, tmp_path) -> None:
    rest(config, "export")
    out = drive(config, "6\n\n\n\n\nmenu-day.csv\n0\n", columns=WIDE)
    written = (config.log_dir / "menu-day.csv").resolve()
    assert f" row(s) to {written}\n" in out and f"a relative name goes in {config.log_dir}/" in out
    assert written.is_file() and not (tmp_path / "menu-day.csv").exists()


# --- --json everywhere -------------------------------------------------------------------------

def subcommands() -> list[str]:
    (group,) = [a for a in build_parser()._actions if a.dest == "command"]  # argparse's subparsers
    return sorted(group.choices)


@pytest.mark.parametrize("name", subcommands())
def test_every_subcommand_offers_json_in_its_help(name: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main([name, "--help"], stdin=io.StringIO(), stdout=out, stderr=err, environ={},
                dotenv_path=Path("/nonexistent/.env"))
    assert code == 0 and "--json" in out.getvalue(), err.getvalue()


def paper_state(folder: Path) -> None:
    """A paper data folder holding an account (state file) and its key, as a real run leaves it."""
    with start_paper_exchange(folder, universe=None) as running:
        running.engine.balance(running.key_id)


def test_paper_reset_json_is_one_document_of_what_was_deleted_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "paper"
    paper_state(folder)
    code, out, err = command_line(["paper-reset", "--data-dir", str(folder), "--yes", "--json"])
    doc = json.loads(out)
    assert (code, doc["reset"], doc["data_dir"]) == (0, True, str(folder))
    assert str(folder / STATE_FILE) in doc["deleted"] and not (folder / STATE_FILE).exists()
    assert {str(folder / PRIVATE_KEY_FILE), str(folder / KEY_ID_FILE)} <= set(doc["kept"])


def test_paper_reset_json_asks_on_stderr_and_no_deletes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "paper"
    paper_state(folder)
    code, out, err = command_line(["paper-reset", "--data-dir", str(folder), "--json"], stdin="n\n")
    doc = json.loads(out)
    assert (code, doc["reset"], doc["deleted"]) == (0, False, [])
    assert "[y/N]" in err and (folder / STATE_FILE).exists()


def command_line(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err, environ={},
                dotenv_path=Path("/nonexistent/.env"))
    return code, out.getvalue(), err.getvalue()


def test_paper_server_json_is_one_line_with_url_port_key_last_four_and_data_dir(tmp_path: Path) -> None:
    folder = tmp_path / "paper"
    child = subprocess.Popen([sys.executable, "-m", "kalshi_trading", "paper-server", "--port", "0",
                              "--data-dir", str(folder), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = read_line(child, 30, "the paper server's JSON serving line")
    finally:
        child.send_signal(signal.SIGTERM)
        rest_of_out, err = child.communicate(timeout=10)
    doc = json.loads(line)
    key_id = (folder / KEY_ID_FILE).read_text().strip()
    assert doc["base_url"] == f"http://127.0.0.1:{doc['port']}/trade-api/v2" and doc["port"] > 0
    assert (doc["key_id_last4"], doc["data_dir"], doc["key_created"]) == (key_id[-4:], str(folder), True)
    assert key_id not in line and (child.returncode, rest_of_out) == (0, "") and "Traceback" not in err


def test_the_books_cost_of_n_fee_is_the_fee_the_exchange_then_books(config) -> None:
    """30 YES across two levels (20 at 0.43, 10 at 0.44): the book's fee is the order's fee_cost."""
    tick = ticker("bookfee")
    code, out, err = command(config, ["book", tick, "--count", "30", "--json"])
    assert code == 0, err
    (buy_yes,) = [c for c in json.loads(out)["cost_to_trade"]
                  if (c["outcome_side"], c["action"]) == ("yes", "buy")]
    code, out, err = command(config, ["order", "--ticker", tick, "--side", "yes", "--action", "buy", "--count",
                                      "30", "--market", "--worst-price", "0.44", "--tif", "ioc", "--yes"])
    assert code == 0, err
    code, out, err = command(config, ["fills", "--ticker", tick, "--json"])
    booked = sum(Decimal(f["fee_cost"]) for f in json.loads(out)["fills"])
    assert Decimal(buy_yes["fee_dollars"]) == booked == Decimal("0.52")


@pytest.mark.parametrize("argv, expected", [
    (["orders", "--status", "weird"], "invalid choice: 'weird'"),
    (["history", "--type", "bogus"], "event type must be one of submission, fill"),
])
def test_a_bad_filter_value_is_one_line_naming_the_choices_before_anything_is_asked(config, argv, expected) -> None:
    code, out, err = command(config, argv)
    assert code in (1, 2) and expected in err and "[" not in err.splitlines()[-1].split("must be")[-1]

