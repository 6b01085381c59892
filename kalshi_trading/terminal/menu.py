"""What the main menu and the banner say: the lines `MainApp`'s loop prints, kept apart from the loop.

The full menu is one item a line; after the first screen the loop shows the compact form, one line
that fits 80 columns, so a screen's result is not pushed off a 24-line terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..config import Mode
from ..money import fmt_cash
from .services import AppServices

__all__ = ["MenuItem", "FULL_MENU", "COMPACT_LABELS", "menu_lines", "banner_lines"]

FULL_MENU = ("", "?")    # what shows the full menu again
COMPACT_LABELS = {"Markets": "Mkts", "Order book": "Book", "Place order": "Order", "Open orders": "Open",
                  "Portfolio": "Port", "Trade history": "Hist", "Strategies": "Strat", "Settings": "Set"}


@dataclass(frozen=True)
class MenuItem:
    """One menu line: its number, a letter shortcut, a label and what it does."""

    key: str
    letter: str
    label: str
    action: Callable[[], None]


def menu_lines(items: list[MenuItem], mode: Mode, width: int, *, compact: bool = False) -> list[str]:
    """The full menu, or the compact one (`1 Mkts 2 Book ... ? menu`) wrapped at whole words;
    outside paper mode the compact form names the environment first."""
    if compact:
        brief = [f"{item.key} {COMPACT_LABELS.get(item.label, item.label.split()[0][:6])}" for item in items]
        if mode is not Mode.PAPER:    # real money (or the demo) is named on every menu
            brief.insert(0, f"[{mode.value}]")
        return _in_width(brief, "? menu", width)
    return [f"-- kalshi_trading [{mode.value}] --"] + [f"  {item.key}) {item.label:<14} [{item.letter}]"
                                                       for item in items]


def banner_lines(services: AppServices, *, embedded: bool, exchange_line: str | None,
                 width: int) -> list[str]:
    """Environment, base URL, unanswered orders and the balance (one read of the exchange)."""
    mode = services.config.mode
    if mode is Mode.PROD:
        bar = "!" * min(width, 72)
        lines = [bar, "!!  PRODUCTION: REAL MONEY. Orders you confirm are real trades.",
                 "!!  Every order asks you to type its ticker to confirm.", bar]
    elif mode is Mode.DEMO:
        lines = ["== DEMO environment (Kalshi's test exchange; no real money) =="]
    elif embedded:
        lines = ["== PAPER mode: embedded paper exchange, recorded market data; no real money =="]
        lines += [exchange_line] if exchange_line else []
    else:
        lines = ["== PAPER mode: external paper exchange; no real money =="]
    lines.append(f"Environment: {mode.value}   Base URL: {services.base_url}")
    unanswered = services.logger.unanswered_submissions()
    if unanswered:
        markets = ", ".join(sorted({str(rec.get("ticker")) for rec in unanswered}))
        lines.append(f"Note: {len(unanswered)} order(s) sent earlier never got an answer ({markets}); "
                     "each is looked up before your next order on its market")
    lines.append(f"Balance: ${fmt_cash(services.client.get_balance().balance)}")
    return lines


def _in_width(words: list[str], tail: str, width: int) -> list[str]:
    """`words` joined by spaces, then two spaces and `tail`, in as few lines of `width` as whole
    words allow."""
    lines = [""]
    for word in words + [tail]:
        sep = ("  " if word == tail else " ") if lines[-1] else ""
        if lines[-1] and len(lines[-1]) + len(sep) + len(word) > width:
            lines.append(word)
        else:
            lines[-1] += sep + word
    return lines
