"""`python -m kalshi_trading [subcommand]`: the argument parser and its usage rules.

No subcommand opens the interactive menu. Every subcommand runs the same functions the menu uses
(see `command_handlers.py`), takes `--json` to print ONE Kalshi-shaped JSON document, and exits
0 on success, 1 on an API or input error (one `Error: ...` line on stderr) and 2 on bad usage.
`main` parses and then hands the arguments to the app runner it is given (`MainApp`'s, wired by
`__main__`), so this module never imports the app. Only `argparse` is imported at module level so
`--help` stays fast; requests, cryptography and the paper exchange load when a command needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Mapping, Protocol, TextIO

from ..errors import UserInputError
from ..paper import cli as paper_cli

__all__ = ["main", "build_parser", "check_usage", "UsageError", "AppRunner", "EXIT_OK", "EXIT_ERROR",
           "EXIT_USAGE"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UsageError(UserInputError):
    """A command line that argparse accepted but that makes no sense (exit code 2)."""


class AppRunner(Protocol):
    """Runs the menu (no command) or one parsed subcommand; returns the exit code, never raises."""

    def __call__(self, args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO,
                 environ: Mapping[str, str], dotenv_path: Path) -> int: ...
PASSTHROUGH = ("paper-server", "paper-reset")


def build_parser() -> argparse.ArgumentParser:
    """The full command line; each subparser records its handler name in `command`."""
    parser = argparse.ArgumentParser(
        prog="python -m kalshi_trading",
        description="Trade on Kalshi from the terminal. With no subcommand, opens the menu "
                    "(paper mode on an embedded exchange unless .env says otherwise).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print one JSON document")
        return p

    p = add("markets", "search markets (keyword, series, status)")
    p.add_argument("--search", metavar="TEXT", help="keyword in ticker or title")
    p.add_argument("--series", metavar="S", help="series ticker")
    p.add_argument("--event", metavar="E", help="event ticker")
    p.add_argument("--status", metavar="S", help="unopened|open|paused|closed|settled")
    p.add_argument("--limit", type=_whole_number, default=200, help="at most this many rows (default 200)")
    add("market", "one market's details").add_argument("ticker")
    p = add("book", "order book depth, spread and the cost of N contracts")
    p.add_argument("ticker")
    p.add_argument("--count", metavar="N", help="also price trading N contracts now")
    add("balance", "available cash")
    add("positions", "open positions")
    p = add("orders", "your orders")
    p.add_argument("--status", metavar="S", choices=("resting", "canceled", "executed"), type=str.lower,
                   help="resting|canceled|executed")
    p.add_argument("--ticker", metavar="T")
    add("fills", "your fills").add_argument("--ticker", metavar="T")
    add("settlements", "settled positions")
    add("pnl", "positions, marks and P&L with fees")
    p = add("history", "trade log events")
    _date_filters(p)
    p.add_argument("--ticker", metavar="T")
    p.add_argument("--type", dest="event_type", metavar="TYPE",
                   help="submission|fill|cancellation|amend|error|settlement")
    p = add("order", "place one order (prices in dollars)")
    p.add_argument("--ticker", required=True)
    p.add_argument("--side", required=True, choices=("yes", "no"), type=str.lower)
    p.add_argument("--action", required=True, choices=("buy", "sell"), type=str.lower)
    p.add_argument("--count", required=True, metavar="N")
    price = p.add_mutually_exclusive_group(required=True)
    price.add_argument("--price", metavar="P", help="limit price in dollars, e.g. 0.42")
    price.add_argument("--market", action="store_true", help="take liquidity now (IOC) ...")
    p.add_argument("--worst-price", metavar="P", help="... at no worse than this price (required with --market)")
    p.add_argument("--tif", choices=("gtc", "ioc", "fok"), type=str.lower)
    p.add_argument("--expires", metavar="WHEN", help="GTC expiry: 30m, 2h, 1d or an ISO time")
    p.add_argument("--post-only", action="store_true")
    p.add_argument("--reduce-only", action="store_true")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = add("cancel", "cancel one order, or all resting orders")
    p.add_argument("order_id", nargs="?")
    p.add_argument("--all", action="store_true")
    p.add_argument("--ticker", metavar="T", help="with --all: only this market")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = add("export", "export the trade log to CSV")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="a .csv file; a relative name goes in KALSHI_LOG_DIR (default logs/)")
    p.add_argument("--force", action="store_true",
                   help="replace FILE if it exists (without it, an existing file is refused)")
    _date_filters(p)
    p.add_argument("--ticker", metavar="T")
    sub.add_parser("paper-server", help="run the paper exchange in the foreground (see its --help)",
                   add_help=False)
    sub.add_parser("paper-reset", help="wipe the paper exchange's data (see its --help)",
                   add_help=False)
    return parser


def _date_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="date_from", metavar="DATE", help="YYYY-MM-DD or ISO time (UTC)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="inclusive; YYYY-MM-DD or ISO time")


def _whole_number(text: str) -> int:
    """An argparse `type` for counts of rows: ASCII digits only (`int("٣")` would be 3)."""
    if not (text.isascii() and text.strip().isdigit()) or len(text.strip()) > 9:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (digits 0-9)")
    return int(text)


def check_usage(args: argparse.Namespace) -> None:
    """The combinations argparse cannot express; `UsageError` names what is wrong."""
    if args.command == "order":
        if args.market and not args.worst_price:
            raise UsageError("order --market needs --worst-price P (the worst price you accept)")
        if args.worst_price and not args.market:
            raise UsageError("--worst-price goes with --market; use --price for a limit order")
        if args.market and args.tif == "gtc":
            raise UsageError("order --market takes liquidity now: use --tif ioc or fok, not gtc")
    if args.command == "cancel" and bool(args.order_id) == bool(args.all):
        raise UsageError("cancel takes either ORDER_ID or --all")


def main(argv: list[str] | None = None, *, run: AppRunner, stdin: TextIO | None = None,
         stdout: TextIO | None = None, stderr: TextIO | None = None,
         environ: Mapping[str, str] | None = None, dotenv_path: Path | None = None) -> int:
    """Parse one command line and `run` it; never raises, returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    if argv and argv[0] in PASSTHROUGH:
        return _passthrough(argv, stdin, stdout, stderr)
    try:
        with redirect_stdout(stdout), redirect_stderr(stderr):
            args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        check_usage(args)
    except UsageError as exc:
        stderr.write(f"Error: {exc}\n")
        return EXIT_USAGE
    return run(args, stdin=stdin, stdout=stdout, stderr=stderr,
               environ=os.environ if environ is None else environ,
               dotenv_path=Path.cwd() / ".env" if dotenv_path is None else dotenv_path)


def _passthrough(argv: list[str], stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """`paper-server` and `paper-reset` belong to the paper exchange's own command line."""
    try:
        if argv[0] == "paper-server":
            with redirect_stdout(stdout), redirect_stderr(stderr):
                return int(paper_cli.paper_server_main(argv[1:]) or 0)
        with redirect_stdout(stdout), redirect_stderr(stderr):   # argparse's --help prints to sys.stdout
            return int(paper_cli.paper_reset_main(argv[1:], stdin=stdin, stdout=stdout) or 0)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the error boundary: one line, never a traceback
        stderr.write(f"Error: {type(exc).__name__}: {' '.join(str(exc).split())}\n")
        return EXIT_ERROR
