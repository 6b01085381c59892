"""The error boundary of every run: build the app, run the menu or one command, map errors to codes.

Loaded only once `commands.main` has parsed a command line that has work to do. An API or input error
is one `Error: ...` line on stderr and exit code 1; bad usage is 2; anything unexpected goes, with its
traceback, to `<log_dir>/errors.log` and is shown as one line. No traceback reaches the user.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Mapping, TextIO

from ..errors import ConfigError, KalshiTradingError, UserInputError
from ..trading_cli import EndOfInput

__all__ = ["run", "UsageError"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UsageError(UserInputError):
    """A command line that argparse accepted but that makes no sense (exit code 2)."""


def _check_usage(args: argparse.Namespace) -> None:
    if args.command == "order":
        if args.market and not args.worst_price:
            raise UsageError("order --market needs --worst-price P (the worst price you accept)")
        if args.worst_price and not args.market:
            raise UsageError("--worst-price goes with --market; use --price for a limit order")
        if args.market and args.tif == "gtc":
            raise UsageError("order --market takes liquidity now: use --tif ioc or fok, not gtc")
    if args.command == "cancel" and bool(args.order_id) == bool(args.all):
        raise UsageError("cancel takes either ORDER_ID or --all")


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO,
        environ: Mapping[str, str], dotenv_path: Path) -> int:
    """Run the menu (no command) or one subcommand; returns the exit code."""
    from ..main_app import ErrorLog
    log_dir = Path("logs")
    try:
        if args.command:
            _check_usage(args)
        from ..config import Config
        config = Config.load(environ, dotenv_path)
        log_dir = config.log_dir
        return _run_with_config(args, config, stdin=stdin, stdout=stdout, stderr=stderr)
    except UsageError as exc:
        stderr.write(f"Error: {exc}\n")
        return EXIT_USAGE
    except EndOfInput:
        stderr.write("Error: no answer (end of input); nothing was sent\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        stderr.write("Interrupted; nothing more was sent.\n")
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR  # the reader of our output went away (`| head`): nothing to tell it
    except ConfigError as exc:
        stderr.write(f"Error: configuration: {_one_line(exc)}\n")
        return EXIT_ERROR
    except KalshiTradingError as exc:
        stderr.write(f"Error: {_one_line(exc)}\n")
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the boundary: log the traceback, show one line
        errors = ErrorLog(log_dir)
        errors.record(exc, f"command {args.command or 'menu'}")
        stderr.write(f"Error: unexpected {type(exc).__name__}: {_one_line(exc)} "
                     f"(details in {errors.path})\n")
        return EXIT_ERROR


def _run_with_config(args: argparse.Namespace, config: object, *, stdin: TextIO, stdout: TextIO,
                     stderr: TextIO) -> int:
    from .command_handlers import HANDLERS
    from ..main_app import MainApp
    from .json_views import dumps
    if args.command is None:
        with MainApp.build(config, stdin=stdin, stdout=stdout) as app:  # type: ignore[arg-type]
            return app.run()
    as_json = bool(getattr(args, "json", False))
    # With --json stdout carries exactly one document, so prompts and previews go to stderr.
    with MainApp.build(config, stdin=stdin, stdout=stderr if as_json else stdout) as app:  # type: ignore[arg-type]
        document, lines = HANDLERS[args.command](app, args)
    if as_json:
        stdout.write(dumps(document) + "\n")
    else:
        stdout.write("".join(f"{line}\n" for line in lines))
    stdout.flush()
    return EXIT_OK


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
