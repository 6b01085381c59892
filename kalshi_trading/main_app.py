"""`MainApp`: the one composition root, and the numbered-menu loop.

`MainApp.build(config, ...)` constructs the session, signer, client, trade logger, portfolio
tracker, executor, strategy registry and CLI once and hands each its dependencies; nothing is a
module-level singleton, so tests build a whole app against a loopback paper exchange with their
own stdin/stdout. In paper mode without `KALSHI_BASE_URL` it starts the paper folder's embedded
exchange, or joins it when another session already did (paper/shared_exchange.py), and each
account's trail goes in its own home under the log folder (audit/account_home.py).

The loop is built for clumsy fingers: an empty line or unknown key only redraws the menu (never
repeats an action); after the first screen the menu is one line, so a screen's result stays on an
80x24 terminal (`?` or an empty line shows the full one); Ctrl-C or Ctrl-D (end of input) inside a
screen returns to the menu; either at the menu exits with logs flushed, saying how many resting
orders stay on the exchange; `KalshiTradingError` prints one line; anything unexpected is written
with its traceback to `errors.log` and shown as one line, and the loop goes on.

`run_command_line` is the error boundary of every run (menu or one subcommand): it maps errors to
exit codes, so no traceback reaches the user. Screens and subcommand handlers receive the typed
`AppServices` record, never the app itself.
"""

from __future__ import annotations

import argparse
import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, TextIO

import requests

from .audit.account_home import AccountHome, AccountHomes, AccountIdentity
from .audit.legacy_trail import adopt_legacy_trail
from .audit.trade_history import TradeHistory
from .client.rate_limiter import RateLimiter
from .client.signing import KalshiSigner, load_private_key
from .config import Config, Mode
from .errors import ConfigError, KalshiTradingError, NotFoundError
from .kalshi_client import KalshiClient
from .paper.auth import KEY_ID_FILE, PRIVATE_KEY_FILE
from .paper.server import RunningExchange
from .paper.shared_exchange import SharedExchange, embedded_exchange, published_account_id
from .paper.universe import MarketUniverse
from .portfolio_tracker import PortfolioTracker
from .strategies import discover_strategies
from .terminal import (history_screens as history, market_screens as markets, order_screens as orders,
                       watch_screen as watch)
from .terminal.command_handlers import HANDLERS
from .terminal.commands import EXIT_ERROR, EXIT_OK
from .terminal.error_text import error_line
from .terminal.json_views import dumps
from .terminal.menu import FULL_MENU, MenuItem, banner_lines, menu_lines
from .terminal.notices import ActivityFeed
from .terminal.screen_links import ScreenLinks, ScreenSession
from .terminal.services import AppServices
from .timeutil import Clock, to_iso_z, utc_now
from .trade_executor import TradeExecutor
from .trade_logger import TradeLogger
from .trading_cli import EndOfInput, OutputClosed, TradingCLI

__all__ = ["MainApp", "ErrorLog", "ERRORS_LOG", "run_command_line"]

ERRORS_LOG = "errors.log"
APP_LOG = "app.log"


class ErrorLog:
    """Appends unexpected exceptions, with traceback, to `<log_dir>/errors.log` (append-only)."""

    def __init__(self, log_dir: Path, *, clock: Clock = utc_now) -> None:
        self.path = Path(log_dir) / ERRORS_LOG
        self._clock = clock

    def record(self, exc: BaseException, where: str) -> None:
        """Write the traceback; a failure to write must never hide the original error."""
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(f"{to_iso_z(self._clock())} unexpected error in {where}\n{text}\n")
        except OSError:
            pass


@dataclass
class MainApp:
    """Every component of one session, built once; `run()` is the menu, `close()` flushes logs."""

    services: AppServices
    error_log: ErrorLog
    # the embedded exchange: the paper folder's shared one (started or joined), or one in-process
    exchange: RunningExchange | SharedExchange | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    screens: ScreenSession | None = field(default=None, repr=False)   # made when the menu starts

    @property
    def cli(self) -> TradingCLI:
        """The terminal this app reads from and writes to."""
        return self.services.cli

    # --- construction --------------------------------------------------------------------

    @classmethod
    def build(cls, config: Config, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
              terminal_size: Callable[[], object] | None = None,
              session: requests.Session | None = None, rate_limiter: RateLimiter | None = None,
              clock: Clock | None = None, market_data: str = "bundled",
              paper_universe: MarketUniverse | None = None,
              client_options: dict[str, object] | None = None) -> "MainApp":
        """Construct the whole session for `config`; every dependency is passed explicitly.

        `client_options` go to `KalshiClient` (tests: fewer retries, no real sleeps)."""
        clock = clock or utc_now
        closers: list[Callable[[], None]] = [_log_to_file(config.log_dir)]
        exchange = None
        try:
            if config.mode is Mode.PAPER and config.base_url is None:
                exchange = embedded_exchange(config.paper_dir, market_data=market_data, universe=paper_universe)
                closers.append(exchange.leave if isinstance(exchange, SharedExchange) else exchange.stop)
                base_url, key_id, key_path = exchange.base_url, exchange.key_id, exchange.private_key_path
            else:
                base_url = config.base_url or ""
                key_id, key_path = _credentials(config)
            signer = KalshiSigner(key_id, load_private_key(Path(key_path)))
            session = session if session is not None else requests.Session()
            client = KalshiClient(base_url, signer, session=session,
                                  rate_limiter=rate_limiter or RateLimiter(config.rate_tier),
                                  **(client_options or {}))  # type: ignore[arg-type]
            closers.append(client.close)
            home, notices = _account_home(config, exchange, base_url, key_id, client, clock)
            logger = TradeLogger(home.trail_dir, clock=clock)
            closers.append(logger.close)
            cli = TradingCLI(stdin, stdout, terminal_size=terminal_size)
            for notice in notices:
                cli.write(notice)
            services = AppServices(
                config=config, cli=cli,
                client=client, logger=logger, history=TradeHistory(client, logger, clock=clock),
                tracker=PortfolioTracker(client, clock=clock),
                executor=TradeExecutor(client, logger, config.risk, clock=clock),
                strategies=discover_strategies(), base_url=base_url, clock=clock)
        except BaseException:
            for close in reversed(closers):
                _quietly(close)
            raise
        return cls(services=services, error_log=ErrorLog(config.log_dir, clock=clock),
                   exchange=exchange, _closers=closers)

    def close(self) -> None:
        """Flush and close the logs, the HTTP session and the embedded exchange (idempotent)."""
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            _quietly(close)

    def __enter__(self) -> "MainApp":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the menu ------------------------------------------------------------------------

    def menu_items(self) -> list[MenuItem]:
        s, screens = self.services, self._screen_session()
        links = screens.links
        return [
            MenuItem("1", "m", "Markets", lambda: markets.show_markets_menu(s.cli, s.client, links=links)),
            MenuItem("2", "b", "Order book", lambda: markets.show_book(s.cli, s.client, links=links)),
            MenuItem("3", "p", "Place order", lambda: orders.place_order_screen(s, links)),
            MenuItem("4", "o", "Open orders", lambda: orders.open_orders_screen(s)),
            MenuItem("5", "f", "Portfolio", lambda: history.portfolio_screen(s)),
            MenuItem("6", "h", "Trade history", lambda: history.history_screen(s)),
            MenuItem("7", "s", "Strategies", lambda: history.strategies_screen(s)),
            MenuItem("8", "t", "Settings", lambda: history.settings_screen(s)),
            MenuItem("9", "w", "Watch", lambda: watch.watch_screen(s, screens)),
            MenuItem("0", "q", "Exit", lambda: None),
        ]

    def _screen_session(self) -> ScreenSession:
        """What the screens share this session (last ticker, links, watchlist, the notice feed)."""
        if self.screens is None:
            s = self.services
            self.screens = ScreenSession(
                feed=ActivityFeed(s.client, s.logger, clock=s.clock),
                links=ScreenLinks(open_order=lambda links: orders.place_order_screen(s, links)))
        return self.screens

    def run(self) -> int:
        """The menu loop; returns the process exit code (0: the user left)."""
        items = self.menu_items()
        by_key = {k: item for item in items for k in (item.key, item.letter)}
        try:
            try:
                self.show_banner()
            except KalshiTradingError as exc:
                self.cli.error(exc)
            compact = False
            while True:
                item, compact = self._choose(items, by_key, compact)
                if item is not None and item.key == "0":
                    break
                if item is not None:
                    self.run_screen(item)
                    compact = True
        except EndOfInput:
            pass
        return self._leave()

    def _choose(self, items: list[MenuItem], by_key: dict[str, MenuItem],
                compact: bool) -> tuple[MenuItem | None, bool]:
        """Draw the menu (one line when `compact`) and read one choice: the item, or None (just
        redraw) for an empty, `?` or unknown key; and whether the next menu is compact."""
        self._draw_menu(items, compact)
        try:
            choice = self.cli.read("Choose: ").strip().lower()
        except KeyboardInterrupt:
            self.cli.write("")
            raise EndOfInput() from None  # Ctrl-C at the menu leaves, like end of input
        if choice in FULL_MENU:
            return None, False
        item = by_key.get(choice)
        if item is None:
            self.cli.error(f"no menu item {choice[:20]!r}; type a number from the list (? shows it)")
        return item, compact

    def run_screen(self, item: MenuItem) -> None:
        """Run one screen; every error becomes one line and the menu comes back."""
        try:
            item.action()
        except KeyboardInterrupt:
            self.cli.write("")
            self.cli.write("Interrupted; back to the menu.")
        except OutputClosed:
            raise
        except EndOfInput:   # Ctrl-D at a prompt; a script that ended meets the menu's prompt next
            self.cli.write("End of input (Ctrl-D); back to the menu.")
        except KalshiTradingError as exc:
            self.cli.error(exc)
        except Exception as exc:  # noqa: BLE001 - the loop must survive any bug in a screen
            self.error_log.record(exc, f"menu {item.key} ({item.label})")
            self.cli.error(f"unexpected {type(exc).__name__}: {_one_line(exc)} "
                           f"(details in {self.error_log.path})")
        self._screen_session().show_notice(self.cli)   # what happened meanwhile, in one line

    def _leave(self) -> int:
        """Say goodbye, and what is still working for the trader on the exchange."""
        try:
            if not self.cli.closed:
                resting = self._resting_count()
                if resting:
                    self.cli.write(f"You have {resting} resting order{'s' if resting != 1 else ''} "
                                   f"({'they stay' if resting != 1 else 'it stays'} on the exchange)")
            self.cli.write("Bye.")
        except EndOfInput:
            pass
        return 0

    def _resting_count(self) -> int:
        """How many of the account's orders rest; 0 when the exchange cannot say (leaving anyway)."""
        try:
            return sum(1 for _ in self.services.client.iter_orders(status="resting"))
        except KalshiTradingError:
            return 0

    def _draw_menu(self, items: list[MenuItem], compact: bool = False) -> None:
        self.cli.write("")
        self.cli.lines(menu_lines(items, self.services.config.mode, self.cli.width, compact=compact))

    def show_banner(self) -> None:
        """Environment, base URL and balance; production is impossible to miss."""
        exchange_line = self.exchange.banner_line() if self.exchange is not None else None
        self.cli.lines(banner_lines(self.services, embedded=self.exchange is not None,
                                    exchange_line=exchange_line, width=self.cli.width))


def _log_to_file(log_dir: Path) -> Callable[[], None]:
    """Send this package's log records (warnings, retries) to `<log_dir>/app.log`, not the screen.

    Returns the function that detaches the handler again (each app cleans up after itself).
    """
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(Path(log_dir) / APP_LOG, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package = logging.getLogger("kalshi_trading")
    # Several apps may live in one process (tests, two sessions): the state before the FIRST one
    # is what the last one to close restores, whatever order they close in.
    if not any(getattr(h, "kalshi_app_log", False) for h in package.handlers):
        setattr(package, "kalshi_before_apps", (package.level, package.propagate))
    setattr(handler, "kalshi_app_log", True)
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    package.propagate = False

    def detach() -> None:
        package.removeHandler(handler)
        handler.close()
        if not any(getattr(h, "kalshi_app_log", False) for h in package.handlers):
            level, propagate = getattr(package, "kalshi_before_apps", (logging.NOTSET, True))
            package.setLevel(level)
            package.propagate = propagate
    return detach


def _account_identity(config: Config, exchange: RunningExchange | SharedExchange | None,
                      base_url: str, key_id: str) -> AccountIdentity:
    """Which account this session trades. The embedded paper exchange (or a published
    `paper-server` this session reaches by URL) is named by its folder and paper account id,
    since its port changes every start; anything else by environment, base URL and key."""
    if exchange is not None and exchange.account_id:
        return AccountIdentity.for_paper_folder(exchange.data_dir, exchange.account_id, key_id)
    published = published_account_id(config.paper_dir, base_url) if config.mode is Mode.PAPER else None
    if published:
        return AccountIdentity.for_paper_folder(config.paper_dir, published, key_id)
    return AccountIdentity.for_exchange(config.mode.value, base_url, key_id)


def _account_home(config: Config, exchange: RunningExchange | SharedExchange | None, base_url: str,
                  key_id: str, client: KalshiClient, clock: Clock) -> tuple[AccountHome, list[str]]:
    """This account's home under the log folder, and the lines to tell the trader once: homes
    archived because their paper account was reset, and what became of an earlier version's
    trade log at the top of the log folder (audit/legacy_trail.py)."""
    home, archived = AccountHomes(config.log_dir).open(
        _account_identity(config, exchange, base_url, key_id), clock())
    notices = [f"The paper account was reset: the old account's trade log is kept, archived, in {old.path}"
               for old in archived]

    def knows_order(order_id: str) -> bool:
        try:
            client.get_order(order_id)
        except NotFoundError:
            return False
        return True

    try:
        legacy = adopt_legacy_trail(config.log_dir, home, knows_order)
    except (KalshiTradingError, OSError):   # undecided: the next start asks again
        legacy = None
    return home, notices + ([legacy] if legacy else [])


def _credentials(config: Config) -> tuple[str, Path]:
    """The key to sign with outside the embedded exchange: from config, or the paper dir's key."""
    if config.key_id and config.private_key_path:
        return config.key_id, config.private_key_path
    if config.mode is Mode.PAPER:
        key_file, id_file = config.paper_dir / PRIVATE_KEY_FILE, config.paper_dir / KEY_ID_FILE
        if key_file.is_file() and id_file.is_file():
            return id_file.read_text(encoding="ascii").strip(), key_file
    raise ConfigError("KALSHI_BASE_URL is set: also set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH "
                      "(or point KALSHI_PAPER_DIR at the paper server's data folder)")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _quietly(close: Callable[[], None]) -> None:
    try:
        close()
    except Exception:  # noqa: BLE001 - shutting down: one failing close must not stop the rest
        pass


# --- the error boundary of every run ------------------------------------------------------------

def run_command_line(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO,
                     environ: Mapping[str, str], dotenv_path: Path) -> int:
    """Run the menu (no command) or one subcommand; returns the exit code (0 ok, 1 error).

    An API or input error is one `Error: ...` line on stderr; anything unexpected goes, with its
    traceback, to `<log_dir>/errors.log` and is shown as one line. No traceback reaches the user.
    """
    log_dir = Path("logs")
    try:
        config = Config.load(environ, dotenv_path)
        log_dir = config.log_dir
        return _run_with_config(args, config, stdin=stdin, stdout=stdout, stderr=stderr)
    except EndOfInput:
        stderr.write("Error: no answer (end of input); nothing was sent\n")
    except KeyboardInterrupt:
        stderr.write("Interrupted; nothing more was sent.\n")
    except BrokenPipeError:
        pass  # the reader of our output went away (`| head`): nothing to tell it
    except ConfigError as exc:
        stderr.write(f"Error: configuration: {_one_line(exc)}\n")
    except KalshiTradingError as exc:
        # The app (and its app.log handler) is closed by now: reopen app.log for the raw error
        # that the plain-words line replaces (terminal/error_text.py).
        try:
            detach = _log_to_file(log_dir)
        except OSError:   # an unwritable log folder must not hide the error itself
            detach = None
        try:
            stderr.write(f"Error: {error_line(exc)[:300] or _one_line(exc)}\n")
        finally:
            if detach is not None:
                detach()
    except Exception as exc:  # noqa: BLE001 - the boundary: log the traceback, show one line
        errors = ErrorLog(log_dir)
        errors.record(exc, f"command {args.command or 'menu'}")
        stderr.write(f"Error: unexpected {type(exc).__name__}: {_one_line(exc)} "
                     f"(details in {errors.path})\n")
    return EXIT_ERROR


def _run_with_config(args: argparse.Namespace, config: Config, *, stdin: TextIO, stdout: TextIO,
                     stderr: TextIO) -> int:
    if args.command is None:
        with MainApp.build(config, stdin=stdin, stdout=stdout) as app:
            return app.run()
    as_json = bool(getattr(args, "json", False))   # not every subcommand has --json
    # With --json stdout carries exactly one document, so prompts and previews go to stderr.
    with MainApp.build(config, stdin=stdin, stdout=stderr if as_json else stdout) as app:
        document, lines = HANDLERS[args.command](app.services, args)
    if as_json:
        stdout.write(dumps(document) + "\n")
    else:
        stdout.write("".join(f"{line}\n" for line in lines))
    stdout.flush()
    return EXIT_OK
