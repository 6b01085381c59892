"""`paper-server` and `paper-reset`: run the paper exchange in the foreground, or wipe its state.

`paper_server_main` prints exactly one line (the base URL, and where a new key was put; with
`--json`, one JSON object) so scripts can read it, then serves until Ctrl-C or SIGTERM and exits 0
without a traceback. `paper_reset_main` deletes the paper account state (sqlite database and its
WAL/SHM files) but keeps the API key, after a confirmation whose default is No; with `--json` it
prints one JSON document of what was deleted and what is left, and asks on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO, TypeVar

from ..errors import KalshiTradingError

if TYPE_CHECKING:
    from .server import RunningExchange
    from .shared_exchange import ExchangeRecord, IdleWatch

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
            if not text.isascii():   # int("٣") is 3: numbers are typed with 0-9 only
                raise ValueError(text)
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
_seed = _checked(int, "whole number", lambda v: True, "")


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
    parser.add_argument("--seed", type=_seed, default=None, help="seed for fault injection")
    parser.add_argument("--speed", type=_positive, default=1.0, help="market-data replay speed (default 1)")
    parser.add_argument("--json", action="store_true",
                        help="print the serving line as one JSON object (base_url, port, key id's "
                             "last four, data_dir)")
    parser.add_argument("--until-unused", type=_positive, default=None, metavar="SECONDS",
                        help="serve the app sessions on this folder and stop once none has used it "
                             "for SECONDS (how the app starts its shared exchange)")
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
    data_dir = args.data_dir.expanduser() if args.data_dir else default_data_dir()
    public_keys = None
    if args.key_id is not None:
        try:
            public_keys = {args.key_id: args.public_key.expanduser().read_bytes()}
        except OSError:
            print("error: cannot read the --public-key file", file=sys.stderr)
            return 1
    stop = threading.Event()
    try:
        running, record, watch = _start_published(args, data_dir, public_keys, stop)
    except (KalshiTradingError, OSError) as exc:
        print(f"error: cannot start the paper exchange: {exc}", file=sys.stderr)
        return 1
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(_serving_line(running, data_dir, as_json=args.json), flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if record is not None:
            record.withdraw(data_dir)     # first, so no session joins an exchange that is stopping
        running.stop()
        if watch is not None:
            watch.stop()
    return 0


def _start_published(args: argparse.Namespace, data_dir: Path, public_keys: dict[str, bytes] | None,
                     stop: threading.Event) -> tuple[RunningExchange, ExchangeRecord | None, IdleWatch | None]:
    """Start the exchange and, when it signs with the folder's paper key, publish it in
    `exchange.json` so app sessions on the folder join it (paper/shared_exchange.py).

    By hand, the start happens under the folder's `start.lock`, as a session's does; with
    `--until-unused` the session that spawned this process already holds it, and an `IdleWatch`
    sets `stop` once no session has held a lease for that long."""
    from contextlib import nullcontext

    from .server import start_paper_exchange  # lazily: keeps --help fast
    from .shared_exchange import ExchangeRecord, IdleWatch, start_lock

    managed = args.until_unused is not None
    publish = public_keys is None
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with start_lock(data_dir) if publish and not managed else nullcontext():
        running = start_paper_exchange(
            data_dir, host=args.host, port=args.port, market_data=args.market_data,
            public_keys=public_keys, fail_rate=args.fail_rate,
            lose_response_rate=args.lose_response_rate, seed=args.seed, speed=args.speed,
            on_notice=lambda text: print(text, file=sys.stderr, flush=True),
            live_base_url=args.live_url)
        try:
            record = ExchangeRecord.publish(data_dir, url=running.base_url, account_id=running.account_id,
                                            managed=managed, market_data=args.market_data) if publish else None
        except BaseException:
            running.stop()
            raise
    watch = IdleWatch(data_dir, grace=args.until_unused, on_idle=stop.set).start() if managed else None
    return running, record, watch


def _serving_line(running: RunningExchange, data_dir: Path, *, as_json: bool) -> str:
    """The one line a script reads: the base URL (and where a new key was put), or as JSON."""
    if as_json:   # the key id's last four only, as the settings screen shows it
        return json.dumps({"base_url": running.base_url, "port": running.port,
                           "key_id_last4": (running.key_id or "")[-4:], "data_dir": str(data_dir),
                           "key_created": running.key_created}, sort_keys=True)
    note = f" (new paper API key created in {data_dir})" if running.key_created else ""
    return f"Paper exchange serving at {running.base_url}{note}"


def paper_reset_main(argv: list[str], *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Delete the paper account state (keeps the API key). Asks first unless --yes."""
    parser = argparse.ArgumentParser(prog="python -m kalshi_trading paper-reset",
                                     description="Delete paper balances, orders, fills and positions.")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (deleted, kept); the question goes to stderr")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    # With --json stdout carries exactly one document, so the question and notes go to stderr.
    screen = sys.stderr if args.json else stdout
    from .server import STATE_FILE  # lazily, like start_paper_exchange: keeps --help fast

    data_dir = args.data_dir.expanduser() if args.data_dir else default_data_dir()
    targets = [data_dir / name for name in (STATE_FILE, f"{STATE_FILE}-wal", f"{STATE_FILE}-shm",
                                            f"{STATE_FILE}-journal")]
    present = [path for path in targets if path.exists()]
    if present and not _delete_unused(data_dir, [], stdout, args.json):   # in use: say so before asking
        return 1
    if not present:
        return _reset_said(stdout, args.json, data_dir, [],
                           f"Nothing to reset: no paper state in {data_dir}.")
    if not args.yes:
        screen.write(f"Delete the paper account state in {data_dir} (balance, orders, fills, "
                     "positions)? The API key is kept. [y/N] ")
        screen.flush()
        answer = stdin.readline()
        if answer.strip().lower() not in ("y", "yes"):
            if not answer:
                screen.write("\n")
            return _reset_said(stdout, args.json, data_dir, [], "Cancelled; nothing was deleted.")
    if not _delete_unused(data_dir, present, stdout, args.json):   # a session may have started meanwhile
        return 1
    return _reset_said(stdout, args.json, data_dir, present,
                       "Paper state deleted; the next start begins with a fresh account. The app "
                       "keeps the old account's trade log, archived, in its log folder.")


def _delete_unused(data_dir: Path, paths: list[Path], stdout: TextIO, as_json: bool) -> bool:
    """Delete `paths` while no exchange uses the folder, holding its locks so none starts meanwhile
    (deleting the files under a running exchange would reset nothing it holds in memory). False,
    with the reason said, when one uses it: then nothing was deleted."""
    from .dir_lock import DataDirLock  # lazily: only when there are files to delete
    from .shared_exchange import start_lock

    try:
        with start_lock(data_dir):   # a session starting now waits until the files are gone
            lock = DataDirLock.acquire(data_dir)
            try:
                for path in paths:
                    path.unlink(missing_ok=True)
            finally:
                lock.release()
    except KalshiTradingError as exc:
        said = _in_use(data_dir) or str(exc)
        if as_json:
            sys.stderr.write(f"Error: {said} Nothing was deleted.\n")
        else:
            stdout.write(f"Error: {said}\nNothing was deleted.\n")
        return False
    return True


def _in_use(data_dir: Path) -> str | None:
    """Who uses the folder's shared exchange, in words, or None when it is not a shared one."""
    from .leases import live_leases
    from .shared_exchange import ExchangeRecord

    record = ExchangeRecord.read(data_dir)
    if record is None or not record.alive():
        return None
    if not record.managed:
        return (f"the paper-server (pid {record.pid}) is already using {data_dir}; stop it first "
                "(Ctrl-C where it runs).")
    pids = sorted({str(lease.pid) for lease in live_leases(data_dir) if lease.pid is not None})
    if not pids:
        return (f"the paper exchange on {data_dir} is stopping (no session uses it any more); "
                "try again in a few seconds.")
    return (f"the paper exchange on {data_dir} is in use by {len(pids)} open session"
            f"{'s' if len(pids) != 1 else ''} (pid {', '.join(pids) or '?'}); leave them first "
            "(the exchange stops when the last one leaves).")


def _reset_said(stdout: TextIO, as_json: bool, data_dir: Path, deleted: list[Path], text: str) -> int:
    """The outcome of `paper-reset` (exit 0): its sentence, or one JSON document naming the files
    deleted and every file left in the data folder (the API key among them)."""
    if not as_json:
        stdout.write(f"{text}\n")
        return 0
    kept = sorted(str(path) for path in data_dir.iterdir()) if data_dir.is_dir() else []
    stdout.write(json.dumps({"data_dir": str(data_dir), "reset": bool(deleted),
                             "deleted": [str(path) for path in deleted], "kept": kept,
                             "message": text}, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(paper_server_main(sys.argv[1:]))
