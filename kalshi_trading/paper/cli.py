"""`paper-server` and `paper-reset`: run the paper exchange in the foreground, or wipe its state.

`paper_server_main` prints exactly one line (the base URL, and where a new key was put) so scripts
can read it, then serves until Ctrl-C or SIGTERM and exits 0 without a traceback.
`paper_reset_main` deletes the paper account state (sqlite database and its WAL/SHM files) but keeps
the API key, after a confirmation whose default is No.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, TextIO, TypeVar

from ..errors import KalshiTradingError

__all__ = ["paper_server_main", "paper_reset_main", "default_data_dir"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


def default_data_dir(environ: dict[str, str] | None = None) -> Path:
    """`KALSHI_PAPER_DIR`, else `~/.kalshi_trading/paper`."""
    env = os.environ if environ is None else environ
    configured = env.get("KALSHI_PAPER_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".kalshi_trading" / "paper"


def _checked(convert: Callable[[str], T], noun: str, ok: Callable[[T], bool], rule: str) -> Callable[[str], T]:
    """An argparse `type`: `convert` the text (a ValueError says it is not a `noun`), then insist
    on `ok`, saying `rule` when it fails."""
    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(rule)
        return value
    return parse


# Rates and speeds are probabilities and factors, not money: float is right here.
_rate = _checked(float, "number", lambda v: 0.0 <= v <= 1.0, "must be between 0 and 1")
_positive = _checked(float, "number", lambda v: v > 0, "must be greater than 0")
_port = _checked(int, "port number", lambda v: 0 <= v <= 65535, "must be between 0 and 65535")


def _server_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kalshi_trading paper-server",
                                     description="Run the paper exchange (Kalshi Trade API v2 on loopback).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8765, help="port; 0 picks a free one (default 8765)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="state and key folder (default $KALSHI_PAPER_DIR or ~/.kalshi_trading/paper)")
    parser.add_argument("--key-id", default=None, help="register your own API key id (with --public-key)")
    parser.add_argument("--public-key", type=Path, default=None, help="PEM public key for --key-id")
    parser.add_argument("--market-data", default="bundled", help="bundled | live | a folder of recordings")
    parser.add_argument("--live-url", default=None,
                        help="Trade API base URL that `live` reads (default production's public API)")
    parser.add_argument("--fail-rate", type=_rate, default=0.0,
                        help="fraction of requests answered 500/503/429 or dropped (default 0)")
    parser.add_argument("--lose-response-rate", type=_rate, default=0.0,
                        help="fraction of order creations committed but never answered (default 0)")
    parser.add_argument("--seed", type=int, default=None, help="seed for fault injection")
    parser.add_argument("--speed", type=_positive, default=1.0, help="market-data replay speed (default 1)")
    return parser


def paper_server_main(argv: list[str]) -> int:
    """Serve the paper exchange until Ctrl-C / SIGTERM. Exit codes: 0 clean stop, 1 error, 2 usage."""
    parser = _server_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if (args.key_id is None) != (args.public_key is None):
        print("error: --key-id and --public-key go together", file=sys.stderr)
        return 2
    from .server import start_paper_exchange  # lazily: keeps --help fast

    data_dir = args.data_dir.expanduser() if args.data_dir else default_data_dir()
    public_keys = None
    if args.key_id is not None:
        try:
            public_keys = {args.key_id: args.public_key.expanduser().read_bytes()}
        except OSError:
            print("error: cannot read the --public-key file", file=sys.stderr)
            return 1
    try:
        running = start_paper_exchange(
            data_dir, host=args.host, port=args.port, market_data=args.market_data,
            public_keys=public_keys, fail_rate=args.fail_rate,
            lose_response_rate=args.lose_response_rate, seed=args.seed, speed=args.speed,
            on_notice=lambda text: print(text, file=sys.stderr, flush=True),
            live_base_url=args.live_url)
    except (KalshiTradingError, OSError) as exc:
        print(f"error: cannot start the paper exchange: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        note = f" (new paper API key created in {data_dir})" if running.key_created else ""
        print(f"Paper exchange serving at {running.base_url}{note}", flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        running.stop()
    return 0


def paper_reset_main(argv: list[str], *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Delete the paper account state (keeps the API key). Asks first unless --yes."""
    parser = argparse.ArgumentParser(prog="python -m kalshi_trading paper-reset",
                                     description="Delete paper balances, orders, fills and positions.")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from .server import STATE_FILE  # lazily, like start_paper_exchange: keeps --help fast

    data_dir = args.data_dir.expanduser() if args.data_dir else default_data_dir()
    targets = [data_dir / name for name in (STATE_FILE, f"{STATE_FILE}-wal", f"{STATE_FILE}-shm",
                                            f"{STATE_FILE}-journal")]
    present = [path for path in targets if path.exists()]
    if present:
        from .dir_lock import DataDirLock  # lazily: only when there are files to delete

        try:   # deleting the files under a running exchange would lose nothing it holds in memory
            DataDirLock.acquire(data_dir).release()
        except KalshiTradingError as exc:
            stdout.write(f"{exc}\nNothing was deleted.\n")
            return 1
    if not present:
        stdout.write(f"Nothing to reset: no paper state in {data_dir}.\n")
        return 0
    if not args.yes:
        stdout.write(f"Delete the paper account state in {data_dir} (balance, orders, fills, "
                     "positions)? The API key is kept. [y/N] ")
        stdout.flush()
        answer = stdin.readline()
        if answer.strip().lower() not in ("y", "yes"):
            if not answer:
                stdout.write("\n")
            stdout.write("Cancelled; nothing was deleted.\n")
            return 0
    for path in present:
        path.unlink(missing_ok=True)
    stdout.write("Paper state deleted; the next start begins with a fresh account.\n")
    return 0


if __name__ == "__main__":
    sys.exit(paper_server_main(sys.argv[1:]))
