"""Menu 1 (markets) and menu 2 (order book): finding markets and reading their depth.

The data functions (`search_markets`, `popular_series`, `market_details`, `book_summary`) are what
the `markets`, `market` and `book` subcommands call too, so menu and command line show the same
facts; the `show_*` functions only render them.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Iterable, Sequence

from ..client.fees import market_fees, market_series, series_of
from ..errors import KalshiTradingError, NotFoundError, UserInputError
from ..models import Market, Order, Orderbook, Series
from ..money import ONE, ZERO, FeeRounding, fmt_count, fmt_dollars
from ..order_request import BookSide, OutcomeSide
from ..trading_cli import Column, TradingCLI
from .input_parsing import parse_choice, parse_count, parse_optional, parse_positive_int, parse_ticker
from .screen_links import ScreenLinks

if TYPE_CHECKING:
    from ..kalshi_client import KalshiClient

__all__ = ["MARKET_STATUSES", "MAX_SCAN", "search_markets", "popular_series", "market_details",
           "MarketDetails", "market_rows", "MARKET_COLUMNS", "show_markets_menu", "show_book",
           "book_lines", "trade_cost", "series_of", "fmt_time", "fmt_short_times", "ask_market",
           "taker_rate", "by_strike", "my_resting_orders"]

MARKET_STATUSES = ("unopened", "open", "paused", "closed", "settled")
MAX_SCAN = 5000     # a keyword search reads at most this many markets (Kalshi has no text search)
MAX_RESULTS = 200
MARKET_COLUMNS = (Column("#", align=">"), Column("ticker", whole=True),
                  Column("title", flex=True, min_width=12), Column("yes bid", align=">"),
                  Column("yes ask", align=">"), Column("last", align=">", drop=3),
                  Column("volume", align=">", drop=2), Column("closes (UTC)", drop=1))


def fmt_time(moment: datetime | None) -> str:
    """`2026-11-21 16:34:25Z`: UTC to the second, since a market that closes at 16:34:25 does
    not close at 16:34 (a 15-minute market's last minute is a fifteenth of its life)."""
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def fmt_short_times(moments: Sequence[datetime | None]) -> list[str]:
    """`2026-11-21 15:00` for a table column (UTC; the header says so): to the second when any
    of them falls inside a minute, else to the minute, so a column of round times stays narrow.
    A two-digit year would make 2100 read as 2000, and some recorded markets close in 2100."""
    form = "%Y-%m-%d %H:%M:%S" if any(m and m.second for m in moments) else "%Y-%m-%d %H:%M"
    return [m.strftime(form) if m else "-" for m in moments]


def _price(value: Decimal | None) -> str:
    return fmt_dollars(value) if value else "-"


def search_markets(client: "KalshiClient", *, text: str | None = None, series: str | None = None,
                   event: str | None = None, status: str | None = None,
                   limit: int = MAX_RESULTS) -> list[Market]:
    """Markets matching every filter given, deduplicated by ticker: events in the exchange's
    order, the markets of each event by strike (`by_strike`).

    A keyword is matched (case-insensitively) against ticker, title and subtitles; since the API has
    no text search, it scans at most MAX_SCAN markets (open ones unless a status is given).
    """
    if status is not None and status not in MARKET_STATUSES:
        raise UserInputError(f"status must be one of {', '.join(MARKET_STATUSES)}, not {status!r}")
    if text is not None and status is None:
        status = "open"
    needle = text.strip().lower() if text else None
    seen: dict[str, Market] = {}
    scanned = 0
    for market in client.iter_markets(status=status, series_ticker=series or None,
                                      event_ticker=event or None):
        scanned += 1
        if market.ticker not in seen and (needle is None or _matches(market, needle)):
            seen[market.ticker] = market
            if len(seen) >= limit:
                break
        if scanned >= MAX_SCAN:
            break
    return by_strike(list(seen.values()))


def by_strike(markets: Sequence[Market]) -> list[Market]:
    """Each event's markets together, where the event first appears, ordered by strike
    (`floor_strike`, else `cap_strike`), then by ticker with its numbers read as numbers, so a
    ladder reads 1, 10, 50, 100 rather than 1, 10, 100, 50."""
    first: dict[str, int] = {}
    for n, market in enumerate(markets):
        first.setdefault(market.event_ticker, n)

    def key(market: Market) -> tuple:
        strike = market.floor_strike if market.floor_strike is not None else market.cap_strike
        return (first[market.event_ticker], strike is None, strike or 0, _natural(market.ticker))
    return sorted(markets, key=key)


def _natural(ticker: str) -> tuple:
    """`KX-T9` before `KX-T10`: digit runs compare as numbers (split keeps text, number, text...)."""
    parts = re.split(r"(\d+)", ticker, flags=re.ASCII)
    return tuple(int(part) if n % 2 else part for n, part in enumerate(parts))


def _matches(market: Market, needle: str) -> bool:
    haystack = " ".join((market.ticker, market.event_ticker, market.title, market.yes_sub_title,
                         market.no_sub_title)).lower()
    return all(word in haystack for word in needle.split())


def popular_series(client: "KalshiClient", *, top: int = 15) -> list[tuple[Series | None, str, Decimal, int]]:
    """(series, ticker, volume, open markets) for the series with the most volume among open markets."""
    volume: dict[str, Decimal] = {}
    markets: dict[str, int] = {}
    for scanned, market in enumerate(client.iter_markets(status="open"), start=1):
        key = series_of(market.event_ticker)
        volume[key] = volume.get(key, Decimal(0)) + market.volume
        markets[key] = markets.get(key, 0) + 1
        if scanned >= MAX_SCAN:
            break
    try:
        known = {s.ticker: s for s in client.get_series_list()}
    except KalshiTradingError:
        known = {}
    ranked = sorted(volume, key=lambda k: (-volume[k], k))[:top]
    return [(known.get(k), k, volume[k], markets[k]) for k in ranked]


@dataclass(frozen=True)
class MarketDetails:
    """A market with the series that sets its fee rule (None when the series cannot be read)."""

    market: Market
    series: Series | None


def market_details(client: "KalshiClient", ticker: str) -> MarketDetails:
    """The market and its series (for the fee type)."""
    market = client.get_market(ticker)
    return MarketDetails(market, market_series(client, market))


def market_rows(markets: Iterable[Market]) -> list[list[str]]:
    markets = list(markets)
    closes = fmt_short_times([m.close_time for m in markets])
    return [[str(i), m.ticker, m.title or m.yes_sub_title, _price(m.yes_bid), _price(m.yes_ask),
             _price(m.last_price), fmt_count(m.volume), closes[i - 1]]
            for i, m in enumerate(markets, start=1)]


def detail_lines(details: MarketDetails, width: int = 80) -> list[str]:
    m, s = details.market, details.series
    fee = f"{s.fee_type} (x{s.fee_multiplier})" if s else "unknown (series not found)"
    lines = [f"Ticker:      {m.ticker}", f"Event:       {m.event_ticker}", f"Title:       {m.title}",
             f"Yes means:   {m.yes_sub_title}", f"Status:      {m.status}",
             f"Opens:       {fmt_time(m.open_time)}", f"Closes:      {fmt_time(m.close_time)}",
             f"YES bid/ask: {_price(m.yes_bid)} / {_price(m.yes_ask)}   last {_price(m.last_price)}",
             f"Volume:      {fmt_count(m.volume)}   open interest {fmt_count(m.open_interest)}",
             f"Price grid:  {m.price_grid.describe()} ({m.price_level_structure})",
             f"Fee type:    {fee}"]
    lines = [part for line in lines for part in
             (textwrap.wrap(line, max(20, width), subsequent_indent=" " * 13, break_on_hyphens=False,
                            break_long_words=False) or [line])]    # a ticker stays whole
    if m.result:
        lines.append(f"Result:      {m.result}")
    rules = [m.rules_primary or "-"] + ([m.rules_secondary] if m.rules_secondary else [])
    for n, paragraph in enumerate(rules):
        wrapped = textwrap.wrap(paragraph, max(20, width - 13), break_long_words=False,
                                break_on_hyphens=False) or ["-"]
        lines += [("Rules:       " if n == 0 and i == 0 else " " * 13) + part for i, part in enumerate(wrapped)]
    return lines


def ask_market(cli: TradingCLI, client: "KalshiClient", prompt: str = "Market ticker", *,
               links: ScreenLinks | None = None) -> Market:
    """Ask for a ticker until the exchange knows it (unknown tickers re-prompt, never crash).
    With `links`, the ticker used last is the default (`[KX...]`; Enter takes it)."""
    while True:
        ticker = cli.ask(prompt, parse_ticker, default=links.last_ticker if links else None)
        try:
            market = client.get_market(ticker)
        except NotFoundError:
            cli.error(f"unknown market {ticker}")
            continue
        cli.typed_ticker(market.ticker)    # Up recalls it, Tab completes it, at later prompts
        if links is not None:
            links.remember(market.ticker)
        return market


def show_markets_menu(cli: TradingCLI, client: "KalshiClient", *, links: ScreenLinks | None = None) -> None:
    """Menu 1: search, list, pick one for details (then, with `links`, `o` opens its order form)."""
    cli.heading("Markets")
    cli.write("  k) keyword  s) series  e) event  t) status  p) popular series  Enter) back")
    how = cli.ask("Search by", parse_optional(lambda t: parse_choice(
        t, {"k": "k", "keyword": "k", "s": "s", "series": "s", "e": "e", "event": "e",
            "t": "t", "status": "t", "p": "p", "popular": "p"}, what="search")))
    if how is None:
        return
    if how == "p":
        _show_popular(cli, client, links)
        return
    if how == "k":
        text = cli.ask("Keyword", _non_empty)
        markets = search_markets(client, text=text)
    elif how == "s":
        markets = search_markets(client, series=_typed(cli, cli.ask("Series ticker", parse_ticker)))
    elif how == "e":
        markets = search_markets(client, event=_typed(cli, cli.ask("Event ticker", parse_ticker)))
    else:
        status = cli.ask(f"Status ({'/'.join(MARKET_STATUSES)})",
                         lambda t: parse_choice(t, {s: s for s in MARKET_STATUSES}, what="status"))
        markets = search_markets(client, status=status)
    _pick_details(cli, client, markets, links)


def _typed(cli: TradingCLI, ticker: str) -> str:
    cli.typed_ticker(ticker)
    return ticker


def _non_empty(text: str) -> str:
    if not text.strip():
        raise UserInputError("type at least one word")
    return text.strip()


def _show_popular(cli: TradingCLI, client: "KalshiClient", links: ScreenLinks | None = None) -> None:
    rows = popular_series(client)
    if not rows:
        cli.write("No open markets.")
        return
    cli.saw_tickers(ticker for _, ticker, _, _ in rows)
    cli.table((Column("#", align=">"), Column("series", whole=True), Column("title", flex=True),
               Column("volume", align=">"), Column("markets", align=">")),
              [[str(i), ticker, s.title if s else "", fmt_count(vol), str(n)]
               for i, (s, ticker, vol, n) in enumerate(rows, start=1)])
    pick = cli.ask("Pick # to list its markets (Enter to go back)",
                   parse_optional(lambda t: parse_positive_int(t, what="row", maximum=len(rows))))
    if pick is not None:
        _pick_details(cli, client, search_markets(client, series=rows[pick - 1][1], status="open"), links)


def _pick_details(cli: TradingCLI, client: "KalshiClient", markets: list[Market],
                  links: ScreenLinks | None = None) -> None:
    if not markets:
        cli.write("No markets found.")
        return
    cli.write(f"{len(markets)} market(s):")
    cli.saw_tickers(m.ticker for m in markets)
    cli.table(MARKET_COLUMNS, market_rows(markets))
    pick = cli.ask("Pick # for details (Enter to go back)",
                   parse_optional(lambda t: parse_positive_int(t, what="row", maximum=len(markets))))
    if pick is not None:
        cli.lines(detail_lines(market_details(client, markets[pick - 1].ticker), cli.width))
        if links is not None:
            links.offer_order(cli, markets[pick - 1])


# --- order book --------------------------------------------------------------------------

def taker_rate(client: "KalshiClient", market: Market) -> Decimal | None:
    """The taker fee rate of the market's series; None when the series cannot be read, so the
    book screen shows no fee rather than one assumed (the order preview does assume one)."""
    try:
        fees = market_fees(client, market)
    except KalshiTradingError:
        return None
    return fees.taker if fees.known else None


def trade_cost(book: Orderbook, outcome: OutcomeSide, buying: bool, count: Decimal,
               rate: Decimal | None = None) -> dict:
    """What trading `count` contracts now would do: available, total value, average price and,
    given the series' taker `rate`, the taker fee as the exchange books it (per fill, with its
    per-order rounding to the cent: the same figure the order preview shows)."""
    walk = book.walk(outcome, buying, count, taker_rate=rate or ZERO, rounding=FeeRounding())
    average = walk.average_price
    doc = {"outcome_side": outcome.value, "action": "buy" if buying else "sell",
           "count_fp": fmt_count(count), "available_fp": fmt_count(walk.count),
           "total_dollars": fmt_dollars(walk.cost),
           "average_price_dollars": fmt_dollars(average) if average is not None else None}
    if rate is not None:
        doc["fee_dollars"] = fmt_dollars(walk.taker_fee)
    return doc


def book_lines(book: Orderbook, *, depth: int = 10, mine: Iterable[Order] = ()) -> list[str]:
    """Both sides of the book: YES and NO bids with the asks they imply, and the spread.

    Two blocks of two columns (bids | implied asks), each under 50 characters, so the book stays
    readable on an 80-column terminal. A level where one of `mine` (the trader's resting orders)
    rests is marked `*`, on both of its faces: a YES bid at 0.40 is also the NO ask at 0.60.
    """
    mine = [o for o in mine if o.ticker == book.ticker]
    yes_bid = {o.yes_price for o in mine if o.book_side is BookSide.BID}
    yes_ask = {o.yes_price for o in mine if o.book_side is BookSide.ASK}
    lines = [f"Order book {book.ticker}"]
    blocks = (("YES", list(reversed(book.yes_bids))[:depth], list(book.yes_asks)[:depth],
               lambda p: p in yes_bid, lambda p: p in yes_ask),
              ("NO", list(reversed(book.no_bids))[:depth], list(book.no_asks)[:depth],
               lambda p: ONE - p in yes_ask, lambda p: ONE - p in yes_bid))
    marked = False
    for name, bids, asks, bid_mine, ask_mine in blocks:
        lines.append(f"{name + ' bid':>10} {'size':>10}   {name + ' ask':>10} {'size':>10}")
        if not bids and not asks:
            lines.append("  (no orders)")
        for i in range(max(len(bids), len(asks))):
            cells = []
            for side, is_mine in ((bids, bid_mine), (asks, ask_mine)):
                if i >= len(side):
                    cells.append(" " * 22)
                    continue
                star = is_mine(side[i].price)
                marked = marked or star
                cells.append(f"{fmt_dollars(side[i].price):>10} {fmt_count(side[i].count):>10}"
                             + ("*" if star else " "))
            lines.append("  ".join(cells).rstrip())
    spread = book.spread
    lines.append(f"Spread: {fmt_dollars(spread) if spread is not None else '-'}   "
                 f"best YES bid {_price(book.best_yes_bid)}  best YES ask {_price(book.best_yes_ask)}")
    if mine:
        where = "* marks the levels where they rest" if marked else "none at the levels shown"
        lines.append(f"You have {len(mine)} resting order{'s' if len(mine) != 1 else ''} here: {where}")
    return lines


def my_resting_orders(client: "KalshiClient", ticker: str) -> list[Order]:
    """The trader's resting orders on `ticker`, to mark in the book; none when they cannot be read
    (the book is worth showing without its marks)."""
    try:
        return list(client.iter_orders(status="resting", ticker=ticker))
    except KalshiTradingError:
        return []


def cost_lines(book: Orderbook, count: Decimal, rate: Decimal | None = None) -> list[str]:
    """Buying pays the total plus the taker fee; selling receives the total less the fee."""
    fees = "" if rate is None else ", taker fees estimated"
    lines = [f"Trading {fmt_count(count)} contracts now (dollars; prices in each side's own terms{fees}):"]
    for outcome in (OutcomeSide.YES, OutcomeSide.NO):
        for buying in (True, False):
            c = trade_cost(book, outcome, buying, count, rate)
            avg = c["average_price_dollars"] or "-"
            short = "" if c["available_fp"] == c["count_fp"] else f" (only {c['available_fp']} available)"
            verb = "pay" if buying else "receive"
            fee = f" {'+' if buying else '-'} fee ${c['fee_dollars']}" if "fee_dollars" in c else ""
            lines.append(f"  {c['action']:<4} {outcome.value.upper():<3}: {verb:<7} ${c['total_dollars']}"
                         f"{fee}  average {avg}{short}")
    return lines


def show_book(cli: TradingCLI, client: "KalshiClient", *, links: ScreenLinks | None = None) -> None:
    """Menu 2: depth, spread and the cost of trading N contracts now (then, with `links`, `o`
    opens the order form on this market)."""
    cli.heading("Order book")
    market = ask_market(cli, client, links=links)
    book = client.get_orderbook(market.ticker)
    cli.lines(book_lines(book, mine=my_resting_orders(client, market.ticker)))
    count = cli.ask("Contracts to price (Enter to skip)", parse_optional(parse_count))
    if count is not None:
        cli.lines(cost_lines(book, count, taker_rate(client, market)))
    if links is not None:
        links.offer_order(cli, market)
