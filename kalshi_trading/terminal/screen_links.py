"""What the menu's screens share for one session: the ticker used last, the way from a market's
screen into the order form, the watchlist, and the feed behind the notice line.

The screens must not import each other (the order form imports the market screens), so a market
screen reaches the order form through `ScreenLinks.open_order`, a function `MainApp` supplies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..errors import UserInputError
from ..models import Market
from ..trading_cli import TradingCLI
from .input_parsing import parse_optional
from .notices import ActivityFeed

__all__ = ["ScreenLinks", "ScreenSession"]


@dataclass
class ScreenLinks:
    """The last ticker (the default at the next ticker prompt) and the link into the order form."""

    open_order: Callable[["ScreenLinks"], None] | None = None
    last_ticker: str | None = None
    preset_ticker: str | None = None   # the order form opens on this market without asking

    def remember(self, ticker: str) -> None:
        """`ticker` becomes the default at the next ticker prompt."""
        self.last_ticker = ticker

    def take_preset(self) -> str | None:
        """The market a link opened the order form on (once), else None."""
        ticker, self.preset_ticker = self.preset_ticker, None
        return ticker

    def offer_order(self, cli: TradingCLI, market: Market) -> None:
        """After a market's details or its book: `o) order this market   Enter) back` (an open
        market only: the order form refuses any other)."""
        self.remember(market.ticker)
        if self.open_order is None or not market.is_open:
            return
        cli.write("  o) order this market   Enter) back")
        if cli.ask("Choice", parse_optional(lambda text: _order_key(text, market.ticker))):
            self.preset_ticker = market.ticker
            self.open_order(self)


def _order_key(text: str, ticker: str) -> bool:
    if text.strip().lower() in ("o", "order"):
        return True
    raise UserInputError(f"type o to order {ticker}, or press Enter to go back (not {text.strip()[:20]!r})")


@dataclass
class ScreenSession:
    """One menu session's shared state; `MainApp` makes it when the menu starts."""

    feed: ActivityFeed
    links: ScreenLinks = field(default_factory=ScreenLinks)
    watchlist: list[str] = field(default_factory=list)   # tickers the trader added, in order

    def show_notice(self, cli: TradingCLI) -> None:
        """One line of what happened since the last screen; nothing when nothing did."""
        line = self.feed.notice_line()
        if line:
            cli.write(line)
