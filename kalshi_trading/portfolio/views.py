"""The portfolio screen (menu item 5): table, totals, daily realized P&L and an equity sparkline.

Pure functions of a `PortfolioReport` that return lines no wider than the terminal, so the CLI,
the `positions` subcommand and tests all share one rendering. The table is laid out by the app's
one table engine (terminal/tables.py) in its `REPORT` style: columns as wide as their contents;
on a narrow terminal a ticker gets a line of its own and the figures wrap onto further lines by
whole columns, so no figure is ever cut off while the screen has room for it.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from typing import Sequence

from ..money import fmt_count, fmt_dollars
from ..terminal.tables import REPORT, Column, clip, render_table as layout_table
from .report import MarketLine, MarkSource, PortfolioReport

__all__ = ["render_portfolio", "render_table", "render_daily", "sparkline", "BLOCKS", "CLOSED_ROWS",
           "REALIZED_MEANS", "PNL_NOTES", "LEGEND"]

BLOCKS = "▁▂▃▄▅▆▇█"
CLOSED_ROWS = 20    # closed or settled markets listed before "... and N more"
HEADERS = ("Position", "Avg cost", "Mark", "Unrealized", "Realized", "Fees")
_MIN_TICKER = 12    # below this, each ticker gets a line of its own above its figures
COLUMNS = (Column("Ticker", whole=True, min_width=_MIN_TICKER), *(Column(h, align=">") for h in HEADERS))
_DAILY, _EQUITY = "  daily   ", "  equity  "
# The one definition of realized P&L, said wherever a realized figure is shown (menu 5, `pnl`,
# `positions`): the screens say it under their tables (the headers stay short so a market's
# figures fit on one line from 60 columns), the JSON documents carry these notes.
REALIZED_MEANS = ("net of fees: what closed and settled contracts made after every fee that belongs to "
                  "them (the opening fees of contracts still held count in unrealized P&L)")
LEGEND = ("Realized is net of fees. Avg cost and Mark are in the held side's prices (NO prices "
          "for a NO position).")
PNL_NOTES = {
    "realized_pnl_dollars": REALIZED_MEANS,
    "average_cost_dollars": "in YES terms: the YES price per contract held; a NO position "
                            "(position_fp < 0) paid 1 minus this per NO contract",
    "mark_dollars": "in YES terms: a NO position is worth 1 minus this per contract",
    "position_fp": "signed: YES > 0, NO < 0",
}
EMPTY = "No positions, fills or settlements yet: markets show up here once an order fills."


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


def _held_terms(line: MarketLine, yes_price: Decimal | None) -> Decimal | None:
    """A YES price as the held side's price: a trader who bought NO at 0.64 reads 0.64, not 0.36."""
    if yes_price is None or line.position >= 0:
        return yes_price
    return 1 - yes_price


def _position(line: MarketLine) -> str:
    if not line.position:
        return fmt_count(line.position)
    return f"{fmt_count(abs(line.position))} {'YES' if line.position > 0 else 'NO'}"


def _mark(line: MarketLine) -> str:
    if line.mark_source == MarkSource.FLAT:
        return "-"
    if line.mark is None:
        return "no price"
    tag = {MarkSource.MID: "mid", MarkSource.LAST: "last", MarkSource.SETTLEMENT: "final"}
    return f"{fmt_dollars(_held_terms(line, line.mark))} {tag.get(line.mark_source, '')}".rstrip()


def _cells(market: MarketLine) -> list[str]:
    return [_position(market), _money(_held_terms(market, market.average_cost)), _mark(market),
            _money(market.unrealized), fmt_dollars(market.realized), fmt_dollars(market.fees)]


def render_table(report: PortfolioReport, width: int) -> list[str]:
    """Ticker, position (`10.00 NO`), average cost and mark in the held side's prices,
    unrealized, realized, fees; then totals. (`pnl --json` keeps the API's YES-book terms.)

    An account that never traded (what every new user sees first) gets one sentence instead of
    a table of headers over zeros."""
    if not report.markets:
        return textwrap.wrap(EMPTY, max(width, 1))
    rows: list[list[str] | None] = []
    shown_closed = hidden = 0
    for market in report.markets:
        if not market.position:
            if shown_closed >= CLOSED_ROWS:
                hidden += 1
                continue
            shown_closed += 1
        rows.append([market.ticker, *_cells(market)])
    rows.append(None)
    rows.append(["Total", "", "", "", fmt_dollars(report.unrealized), fmt_dollars(report.realized),
                 fmt_dollars(report.fees)])
    lines = layout_table(COLUMNS, rows, width, REPORT)
    notes = []
    if hidden:
        notes.append(f"... and {hidden} more closed markets (pnl --json lists them all)")
    if notes:    # under the last market, above the totals' rule
        at = max(i for i, line in enumerate(lines) if line.startswith("-"))
        lines[at:at] = [text for note in notes for text in textwrap.wrap(note, width)]
    return [clip(line, width) for line in lines]


def _spark_line(label: str, values: Sequence[Decimal], width: int, **options: str) -> str:
    """A labelled sparkline of the most recent values that fit in `width`."""
    room = max(width - len(label), 1)
    return label + sparkline(values[-room:], **options)


def render_daily(report: PortfolioReport, width: int) -> list[str]:
    """Realized P&L per day with activity, then the daily and cumulative sparklines."""
    days = report.daily
    if not days:
        return []
    lines = textwrap.wrap(f"Net realized P&L by UTC day, {days[0].day.isoformat()} to "
                          f"{days[-1].day.isoformat()}:", width)
    active = [d for d in days if d.realized]
    if not active:
        lines.append("  nothing realized in these days")
    for entry in active:
        full = f"  {entry.day.isoformat()}  {_signed(entry.realized):>12}  total {_signed(entry.cumulative)}"
        lines.append(full if len(full) <= width else f"  {entry.day.isoformat()} {_signed(entry.realized)}")
    lines.append(_spark_line(_DAILY, [d.realized for d in days], width, zero_as="·"))
    curve = [d.cumulative for d in days]
    equity = _spark_line(_EQUITY, curve, width)
    span = f"{_signed(curve[0])} -> {_signed(curve[-1])} realized"
    if len(equity) + 2 + len(span) <= width:
        lines.append(f"{equity}  {span}")
    else:
        lines += [equity, f"{' ' * len(_EQUITY)}{span}"]
    return [clip(line, width) for line in lines]


def render_portfolio(report: PortfolioReport, width: int = 100) -> list[str]:
    """The whole menu-5 screen as lines of at most `width` characters."""
    width = max(width, 1)
    lines = textwrap.wrap(f"Portfolio at {report.describe_time()}  ({report.fills_read} fills read)",
                          width)
    lines.append("")
    lines += render_table(report, width)
    lines += textwrap.wrap(f"Total P&L (realized + unrealized, net of fees): "
                           f"{_signed(report.realized + report.unrealized)}", width)
    if report.markets:
        lines += textwrap.wrap(LEGEND, width)
    if report.markets:     # 30 days of nothing is no news to an account that never traded
        lines.append("")
        lines += render_daily(report, width)
    if report.warnings:
        lines += ["", f"Warnings ({len(report.warnings)}):"]
        for warning in report.warnings:
            lines += textwrap.wrap(warning, width, initial_indent="  ! ", subsequent_indent="    ")
    return [clip(line, width) for line in lines]
