"""Command-line usage: exit code 2 on bad usage, 1 with one line on a config error, a light --help."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from kalshi_trading.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str], environ: dict | None = None, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err,
                environ=environ if environ is not None else {}, dotenv_path=Path("/nonexistent/.env"))
    return code, out.getvalue(), err.getvalue()


def test_help_lists_every_subcommand_and_exits_0() -> None:
    code, out, _ = run(["--help"])
    assert code == 0
    for name in ("markets", "market", "book", "balance", "positions", "orders", "fills", "settlements",
                 "pnl", "history", "order", "cancel", "export", "paper-server", "paper-reset"):
        assert name in out


@pytest.mark.parametrize("argv", [
    ["no-such-command"],
    ["order", "--ticker", "X", "--side", "maybe", "--action", "buy", "--count", "1", "--price", "0.5"],
    ["order", "--ticker", "X", "--side", "yes", "--action", "buy", "--count", "1"],
    ["order", "--ticker", "X", "--side", "yes", "--action", "buy", "--count", "1", "--market"],
    ["order", "--ticker", "X", "--side", "yes", "--action", "buy", "--count", "1", "--price", "0.5",
     "--worst-price", "0.6"],
    ["cancel"],
    ["cancel", "ORDER", "--all"],
    ["export"],
    ["markets", "--limit", "many"],
])
def test_bad_usage_exits_2_with_a_message_and_no_traceback(argv: list[str]) -> None:
    code, out, err = run(argv)
    assert code == 2
    assert err.strip() and "Traceback" not in err + out


def test_a_config_error_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    code, out, err = run(["balance"], environ={"KALSHI_ENV": "prod", "KALSHI_LOG_DIR": str(tmp_path)})
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("Error: configuration:")


def test_help_is_fast_because_it_imports_nothing_heavy() -> None:
    probe = ("import runpy, sys\nsys.argv=['kalshi_trading','--help']\n"
             "try:\n    runpy.run_module('kalshi_trading', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "heavy=[m for m in ('requests','cryptography','sqlite3','kalshi_trading.paper.server',"
             "'kalshi_trading.main_app') if m in sys.modules]\nsys.stderr.write('HEAVY=%s' % heavy)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, check=False)
    assert "HEAVY=[]" in done.stderr
