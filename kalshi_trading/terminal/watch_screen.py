"""Menu 9 (watch): a table of the markets a trader cares about, redrawn every few seconds.

The watchlist is what the trader added this session plus every market with a position or a
resting order. Each line shows the YES bid, ask and last trade, the position, the resting orders,
the unrealized P&L at the mark (the same mark as the portfolio screen: the YES mid, or the last
trade when the book is one-sided) and the time to close. Under the table, newest first, the
fills, expiries and settlements the session's `ActivityFeed` has reported (the menu's notices
included), each as it happens.

`watch()` takes its clock, its wait-for-a-key function and its feed as arguments, so a test draws
frames without real time; `watch_screen` is the menu's entry, which waits on a real terminal with
`select` (no curses) and reads a line per key anywhere else.
"""

from __future__ import annotations

import os
import select
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Callable, Iterator, Sequence, TextIO

from ..errors import KalshiTradingError, UserInputError
from ..kalshi_client import KalshiClient
from ..models import Market, MarketPosition, Order
from ..money import ONE, ZERO
from ..order_request import BookSide
from ..portfolio.report import MarkSource
from ..portfolio_tracker import mark_of
from ..timeutil import Clock
from ..trading_cli import EndOfInput, TradingCLI
from .error_text import error_line
from .input_parsing import parse_optional, parse_ticker
from .notices import Activity, ActivityFeed, short_count, short_price, signed_dollars
from .screen_links import ScreenSession
from .services import AppServices
from .tables import REPORT, Column, render_table

try:   # POSIX terminals; elsewhere the view reads a line per key
    import termios
    import tty
except ImportError:  # pragma: no cover - Windows
    termios = tty = None  # type: ignore[assignment]

__all__ = ["DEFAULT_INTERVAL", "WatchLine", "columns", "unrealized", "watch_lines", "watch_frame", "watch",
           "watch_screen", "time_to_close", "ask_watchlist", "keys_from"]

DEFAULT_INTERVAL = 3.0    # seconds between frames
MAX_EVENTS = 8            # event lines kept under the table
MARKETS_PER_REQUEST = 50  # tickers in one `GET /markets?tickers=` call
CLEAR = "\x1b[H\x1b[2J"   # cursor home, clear screen: the one escape the view sends (terminals only)


def columns(mark: str = "mark") -> tuple[Column, ...]:
    """The table's columns; `mark` heads the mark column (`mid` when every mark is a mid)."""
    return (Column("ticker", whole=True, min_width=12), Column("bid", align=">"), Column("ask", align=">"),
            Column("last", align=">"), Column("pos", align=">"), Column("resting"),
            Column(mark, align=">"), Column("P&L", align=">"), Column("closes", align=">"))


MARK_NOTE = ("P&L: unrealized, the position at its mark less what it cost, before fees. Mark: the "
             "YES mid (the last trade when the book is one-sided), in YES dollars.")


@dataclass(frozen=True)
class WatchLine:
    """One watched market: what the exchange says about it and about the trader's stake in it."""

    ticker: str
    market: Market | None              # None: the exchange did not return it
    position: MarketPosition | None    # None: flat
    orders: tuple[Order, ...]          # resting orders, in the exchange's order


def watch_lines(client: KalshiClient, watchlist: Sequence[str]) -> list[WatchLine]:
    """The watchlist, then every other market with a position or a resting order (three reads)."""
    positions = {p.ticker: p for p in client.iter_positions() if p.position != ZERO}
    orders: dict[str, list[Order]] = {}
    for order in client.iter_orders(status="resting"):
        orders.setdefault(order.ticker, []).append(order)
    tickers = list(dict.fromkeys([*watchlist, *sorted(set(positions) | set(orders))]))
    markets = fetch_markets(client, tickers)
    return [WatchLine(t, markets.get(t), positions.get(t), tuple(orders.get(t, []))) for t in tickers]


def fetch_markets(client: KalshiClient, tickers: Sequence[str]) -> dict[str, Market]:
    """The markets named, by ticker, in as few requests as the `tickers` filter allows."""
    found: dict[str, Market] = {}
    for start in range(0, len(tickers), MARKETS_PER_REQUEST):
        chunk = tickers[start:start + MARKETS_PER_REQUEST]
        # One comma-separated value, the form Kalshi documents for this filter.
        for market in client.iter_markets(tickers=[",".join(chunk)]):
            found[market.ticker] = market
    return found


# --- one frame -------------------------------------------------------------------------------

def time_to_close(market: Market | None, now: datetime) -> str:
    """`29d 23h`, `4h 05m`, `12m 07s`, `45s` (seconds once it matters); the status once closed."""
    if market is None:
        return "-"
    if not market.is_open:
        return market.status
    if market.close_time is None:
        return "-"
    seconds = int((market.close_time - now).total_seconds())
    if seconds <= 0:
        return "closing"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _price(value: Decimal | None) -> str:
    return short_price(value) if value else "-"


def _position(position: MarketPosition | None) -> str:
    if position is None:
        return "-"
    side = "YES" if position.position > 0 else "NO"
    return f"{short_count(abs(position.position))} {side}"


def _order(order: Order, terms: dict[str, tuple[str, str]]) -> str:
    """`buy 5 YES@0.40`: the terms it was placed in when the log knows them, else the book side
    read as a buy (a bid buys YES, an ask buys NO)."""
    action, outcome = terms.get(order.order_id) or (
        "buy", "yes" if order.book_side is BookSide.BID else "no")
    price = order.no_price if outcome == "no" else order.yes_price
    return f"{action} {short_count(order.remaining_count)} {outcome.upper()}@{short_price(price)}"


def unrealized(line: WatchLine) -> tuple[Decimal | None, Decimal | None, MarkSource]:
    """(P&L at the mark, the YES mark, where it came from); the P&L is None when flat or when
    the market has no price."""
    if line.market is None:
        return None, None, MarkSource.NONE
    mark, source = mark_of(line.market)
    if line.position is None or mark is None:
        return None, mark, source
    held = line.position.position
    value = held * mark if held > 0 else -held * (ONE - mark)
    return value - line.position.market_exposure, mark, source


def watch_frame(lines: Sequence[WatchLine], events: Sequence[Activity], *, now: datetime, width: int,
                terms: dict[str, tuple[str, str]] | None = None, hint: str = "",
                interval: float = DEFAULT_INTERVAL) -> list[str]:
    """Every line of one frame, fitted to `width`; `events` newest first."""
    head = f"Watch  {now:%Y-%m-%d %H:%M:%S}Z  every {interval:g}s"
    out = [head + (f"  ({hint})" if hint else "")]
    if not lines:
        out.append("Nothing to watch yet: add tickers, or hold a position or rest an order.")
    else:
        rows, total, marks = [], ZERO, [unrealized(line) for line in lines]
        sources = {source for _, mark, source in marks if mark is not None}
        one_source = len(sources) == 1   # then the header names it and the cells are prices
        for line, (pnl, mark, source) in zip(lines, marks):
            total += pnl or ZERO
            m = line.market
            shown = source.value if mark is None else (
                short_price(mark) if one_source else f"{source.value} {short_price(mark)}")
            rows.append([line.ticker, _price(m.yes_bid if m else None), _price(m.yes_ask if m else None),
                         _price(m.last_price if m else None), _position(line.position),
                         ", ".join(_order(o, terms or {}) for o in line.orders) or "-", shown or "-",
                         signed_dollars(pnl).replace("$", "") if pnl is not None else "-",
                         time_to_close(m, now)])
        header = next(iter(sources)).value if one_source else "mark"
        out += render_table(columns(header), rows, width, REPORT)
        out.append(f"Total unrealized P&L: {signed_dollars(total)}")
        out += textwrap.wrap(MARK_NOTE, width)
    out.append("Events (newest first):" if events else "No fills, expiries or settlements yet this session.")
    out += [f"  {event.line()}" for event in events[:MAX_EVENTS]]
    return out


# --- the loop --------------------------------------------------------------------------------

def watch(services: AppServices, *, feed: ActivityFeed, watchlist: Sequence[str],
          wait_for_key: Callable[[float], bool], clock: Clock | None = None,
          interval: float = DEFAULT_INTERVAL, hint: str = "", clear: bool = False) -> int:
    """Draw frames until `wait_for_key(interval)` says a key was pressed; returns the frame count.

    A failed read is one `Error:` line in place of the frame; the next frame tries again."""
    cli, clock = services.cli, clock or services.clock
    frames = 0
    while True:
        try:
            lines = watch_lines(services.client, watchlist)
            resting = {order.order_id for line in lines for order in line.orders}
            feed.poll(resting)
            frame = watch_frame(lines, list(reversed(feed.recent)), now=clock(),
                                width=cli.width, terms=_order_terms(services), hint=hint,
                                interval=interval)
        except KalshiTradingError as exc:
            frame = [f"Watch  {clock():%Y-%m-%d %H:%M:%S}Z",
                     f"Error: {error_line(exc)} (trying again in {interval:g}s; a key stops)"]
        if clear:
            frame[0] = CLEAR + frame[0]
        cli.lines(frame)
        frames += 1
        if wait_for_key(interval):
            return frames


def _order_terms(services: AppServices) -> dict[str, tuple[str, str]]:
    """Order id -> (action, outcome) as placed, for the orders the trade log believes rest."""
    return {rec["order_id"]: (str(rec.get("action") or "buy"), str(rec.get("outcome_side") or "yes"))
            for rec in services.logger.resting_orders()}


# --- the menu's entry --------------------------------------------------------------------------

def ask_watchlist(cli: TradingCLI, client: KalshiClient, watchlist: list[str]) -> None:
    """Add (or with `-TICKER` remove) tickers; every added one must be a market the exchange knows."""
    if watchlist:
        cli.write(f"Watching: {' '.join(watchlist)}")

    def parse(text: str) -> list[tuple[bool, str]]:
        words = text.replace(",", " ").split()
        changes = [(word.startswith("-"), parse_ticker(word.lstrip("-"))) for word in words]
        added = [t for removing, t in changes if not removing and t not in watchlist]
        unknown = sorted(set(added) - set(fetch_markets(client, added))) if added else []
        if unknown:
            raise UserInputError(f"unknown market{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                                 "nothing was added")
        return changes

    changes = cli.ask("Tickers to add (spaces between; -TICKER removes; Enter for none)",
                      parse_optional(parse)) or []
    for removing, ticker in changes:
        if removing and ticker in watchlist:
            watchlist.remove(ticker)
        elif not removing and ticker not in watchlist:
            watchlist.append(ticker)


def watch_screen(services: AppServices, session: ScreenSession) -> None:
    """Menu 9: ask what to add, then watch until a key is pressed."""
    cli = services.cli
    cli.heading("Watch")
    ask_watchlist(cli, services.client, session.watchlist)
    stdin, stdout = cli.streams
    with keys_from(cli, stdin) as (wait_for_key, hint):
        watch(services, feed=session.feed, watchlist=session.watchlist, wait_for_key=wait_for_key,
              hint=hint, clear=_is_terminal(stdout))


@contextmanager
def keys_from(cli: TradingCLI, stdin: TextIO) -> Iterator[tuple[Callable[[float], bool], str]]:
    """(wait_for_key, what to tell the trader). On a terminal, any key stops the view: the
    terminal is put in cbreak mode for the view's life and `select` waits with a timeout. A pipe
    or a file may hold lines in Python's buffer that `select` cannot see, so there each line is a
    key and the view draws one frame per line."""
    fd = _terminal_fd(stdin)
    if fd is None or termios is None:
        yield (lambda timeout: _next_line(cli)), "Enter stops"
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield (lambda timeout: _key_within(fd, timeout)), "any key stops"
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _next_line(cli: TradingCLI) -> bool:
    try:
        cli.read("")
    except EndOfInput:
        pass   # the menu reads the same end of input next, and leaves
    return True


def _key_within(fd: int, timeout: float) -> bool:
    ready, _, _ = select.select([fd], [], [], timeout)
    if ready:
        os.read(fd, 64)   # the key (or an escape sequence's bytes) is the view's, not the menu's
    return bool(ready)


def _terminal_fd(stream: TextIO) -> int | None:
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if os.isatty(fd) else None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, OSError, ValueError):
        return False
