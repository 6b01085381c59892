"""The portfolio screen (menu item 5): table, totals, daily realized P&L and an equity sparkline.

Pure functions of a `PortfolioReport` that return lines no wider than the terminal, so the CLI,
the `positions` subcommand and tests all share one rendering.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from typing import Sequence

from .money import fmt_count, fmt_dollars
from .portfolio_report import MarketLine, MarkSource, PortfolioReport

__all__ = ["render_portfolio", "render_table", "render_daily", "sparkline", "BLOCKS", "CLOSED_ROWS"]

BLOCKS = "▁▂▃▄▅▆▇█"
CLOSED_ROWS = 20    # closed or settled markets listed before "... and N more"

# (header, width) of every column after the ticker
_COLUMNS = (("Position", 9), ("Avg cost", 8), ("Mark", 12), ("Unrealized", 10), ("Realized", 10),
            ("Fees", 8))
_MIN_TICKER = 12    # below this, each ticker gets a line of its own above its figures


def sparkline(values: Sequence[Decimal], *, zero_as: str | None = None) -> str:
    """One block character per value, scaled between the lowest and the highest; with
    `zero_as`, zero values are drawn as that character instead (days without activity)."""
    if not values:
        return ""
    low, high = min(values), max(values)
    top = len(BLOCKS) - 1
    blocks = []
    for value in values:
        if zero_as is not None and not value:
            blocks.append(zero_as)
        elif high == low:
            blocks.append(BLOCKS[0])
        else:
            blocks.append(BLOCKS[int((value - low) * top / (high - low) + Decimal("0.5"))])
    return "".join(blocks)


def _money(value: Decimal | None) -> str:
    return fmt_dollars(value) if value is not None else "-"


def _signed(value: Decimal) -> str:
    text = fmt_dollars(value)
    return text if text.startswith("-") else "+" + text


def _mark(line: MarketLine) -> str:
    if line.mark_source == MarkSource.FLAT:
        return "-"
    if line.mark is None:
        return "no price"
    tag = {MarkSource.MID: "mid", MarkSource.LAST: "last", MarkSource.SETTLEMENT: "final"}
    return f"{fmt_dollars(line.mark)} {tag.get(line.mark_source, '')}".rstrip()


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _row(first: str, cells: Sequence[str], ticker_width: int) -> list[str]:
    figures = " ".join(cell.rjust(size) for cell, (_, size) in zip(cells, _COLUMNS))
    if ticker_width < _MIN_TICKER:     # narrow screen: the ticker on a line of its own
        return [first, "  " + figures] if first else ["  " + figures]
    return [(_fit(first, ticker_width).ljust(ticker_width) + " " + figures).rstrip()]


def render_table(report: PortfolioReport, width: int) -> list[str]:
    """Ticker, position, average cost (YES), mark, unrealized, realized, fees; then totals."""
    fixed = sum(size + 1 for _, size in _COLUMNS)
    ticker_width = width - fixed
    rule = "-" * min(width, max(ticker_width, 0) + fixed)
    lines = _row("Ticker", [name for name, _ in _COLUMNS], ticker_width)
    lines.append(rule)
    shown_closed = 0
    hidden = 0
    for market in report.markets:
        if not market.position:
            if shown_closed >= CLOSED_ROWS:
                hidden += 1
                continue
            shown_closed += 1
        lines += _row(market.ticker, [
            fmt_count(market.position), _money(market.average_cost), _mark(market),
            _money(market.unrealized), fmt_dollars(market.realized), fmt_dollars(market.fees)],
            ticker_width)
    if not report.markets:
        lines.append("No positions, fills or settlements yet.")
    if hidden:
        lines.append(f"... and {hidden} more closed markets (pnl --json lists them all)")
    lines.append(rule)
    lines += _row("Total", ["", "", "", fmt_dollars(report.unrealized),
                            fmt_dollars(report.realized), fmt_dollars(report.fees)], ticker_width)
    return [_fit(line, width) for line in lines]


def render_daily(report: PortfolioReport, width: int) -> list[str]:
    """Realized P&L per day with activity, then the daily and cumulative sparklines."""
    days = report.daily
    if not days:
        return []
    lines = [f"Realized P&L by UTC day, {days[0].day.isoformat()} to {days[-1].day.isoformat()}:"]
    active = [d for d in days if d.realized]
    if not active:
        lines.append("  nothing realized in these days")
    for entry in active:
        lines.append(f"  {entry.day.isoformat()}  {_signed(entry.realized):>12}  "
                     f"total {_signed(entry.cumulative)}")
    lines.append(f"  daily   {sparkline([d.realized for d in days], zero_as='·')}")
    curve = [d.cumulative for d in days]
    lines.append(f"  equity  {sparkline(curve)}  {_signed(curve[0])} -> {_signed(curve[-1])} realized")
    return [_fit(line, width) for line in lines]


def render_portfolio(report: PortfolioReport, width: int = 100) -> list[str]:
    """The whole menu-5 screen as lines of at most `width` characters."""
    width = max(width, 40)   # narrower than this, lines are cut with an ellipsis
    lines = [f"Portfolio at {report.describe_time()}  ({report.fills_read} fills read)", ""]
    lines += render_table(report, width)
    lines.append(f"Total P&L (realized + unrealized, net of fees): "
                 f"{_signed(report.realized + report.unrealized)}")
    lines.append("")
    lines += render_daily(report, width)
    if report.warnings:
        lines += ["", f"Warnings ({len(report.warnings)}):"]
        for warning in report.warnings:
            lines += textwrap.wrap(warning, width, initial_indent="  ! ", subsequent_indent="    ")
    return lines
