"""The one table-layout engine: every table the app prints is fitted to the terminal here.

Columns are as wide as their widest cell, header included; a `None` row is drawn as a rule. What
happens when a table is wider than the terminal is its style's `overflow`, and either way the
trader can tell: nothing shrinks silently.

- "cut" (`LIST`, the lists a trader reads and picks from: markets, orders, history): flexible
  columns (titles) shrink first, and a title too long for its column wraps onto a second line,
  then ends in `…`; then low-priority columns are left out, and a line under the table names
  them (`(hidden at this width: fees, volume; widen the terminal)`). A `whole` column (a ticker,
  an order id, copied into the next command) is never cut: when the table cannot fit with it, or
  when two columns fewer would be left out that way, each row's whole cells move to a line of
  their own. Figures are never cut: when even the kept
  columns cannot sit side by side, each row continues on indented lines below.
- "wrap" (`REPORT`, the portfolio, where every figure counts): nothing is cut or left out. The
  whole column narrows down to its `min_width`, a cell longer than that gets a line of its own;
  when even that does not fit, every row's whole cells go on a line of their own and the other
  cells wrap, by whole columns, onto indented lines below.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

__all__ = ["Column", "TableStyle", "LIST", "REPORT", "render_table", "clip", "hidden_note",
           "MENU_HINT", "COMMAND_HINT"]

Cells = list[list[str] | None]   # rows of cell text; None is a rule
WRAP_INDENT = "  "               # the wrapped cells of a "wrap" table, under their row's whole cells
FLEX_LINES = 2                   # lines a title may take before it is cut with `…`
FLEX_WRAP = 16                   # a flexible column narrower than this is cut on one line instead
MENU_HINT = "widen the terminal to see them"
COMMAND_HINT = "widen the terminal or use --json"


class Column:
    """A table column: a header, an alignment, whether it may be shortened (`flex`) and, for
    narrow terminals, its `drop` rank (higher ranks are left out first; 0 is never left out).

    A `whole` column (a ticker, an order id) is never cut: a trader copies it into the next
    command. When the table cannot fit with it whole, each row's whole cells move to a line of
    their own above the row's other cells.
    """

    def __init__(self, header: str, *, align: str = "<", flex: bool = False, min_width: int = 4,
                 drop: int = 0, whole: bool = False) -> None:
        self.header = header
        self.align = align
        self.flex = flex and not whole
        self.min_width = min_width
        self.drop = drop
        self.whole = whole


@dataclass(frozen=True)
class TableStyle:
    """Spaces between columns; the rule under the header and at `None` rows ("columns": dashes
    under each column, "across": one line); and what a too-wide table does (see the module)."""

    gap: int = 2
    rule: Literal["columns", "across"] = "columns"
    overflow: Literal["cut", "wrap"] = "cut"


LIST = TableStyle()
REPORT = TableStyle(gap=1, rule="across", overflow="wrap")


def clip(text: str, width: int) -> str:
    """`text` cut to `width` characters, the cut marked with `…`."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width > 0 else ""


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[object] | None], width: int,
                 style: TableStyle = LIST, *, hint: str = MENU_HINT) -> list[str]:
    """The lines of a table: headers, their rule, then the rows, fitted to `width` as `style`
    says; under a "cut" table that left columns out, a note naming them and `hint`."""
    cells: Cells = [None if row is None else [str(cell) for cell in row] for row in rows]
    if style.overflow == "wrap":
        return _wrapped(list(columns), cells, width, style)
    laid = _cut(list(columns), cells, width, style)
    return laid.lines() + hidden_note(laid.hidden, width, hint)


# --- shared pieces ---------------------------------------------------------------------------

def _pick(cells: Cells, keep: Sequence[int]) -> Cells:
    return [None if row is None else [row[i] for i in keep] for row in cells]


def _measure(columns: Sequence[Column], cells: Cells) -> list[int]:
    """Each column's natural width: its widest cell, header included."""
    return [max([len(col.header)] + [len(row[i]) for row in cells if row is not None])
            for i, col in enumerate(columns)]


def _shrunk(columns: Sequence[Column], widths: Sequence[int], width: int, gap: int,
            passes: Sequence[Callable[[Column], bool]]) -> tuple[list[int], bool]:
    """The widths after shrinking, pass by pass, the columns each pass picks (each down to its
    `min_width`, and never below 3 characters); and whether the table now fits `width`."""
    widths = list(widths)
    excess = sum(widths) + gap * (len(columns) - 1) - width
    for picks in passes:
        for n, col in enumerate(columns):
            if excess > 0 and picks(col):
                cut = min(excess, max(0, widths[n] - max(col.min_width, 3)))
                widths[n] -= cut
                excess -= cut
    return widths, excess <= 0


def _rule(widths: Sequence[int], style: TableStyle) -> str:
    if style.rule == "across":
        return "-" * (sum(widths) + style.gap * (len(widths) - 1))
    return (" " * style.gap).join("-" * w for w in widths)


def _line(columns: Sequence[Column], row: list[str] | None, widths: Sequence[int], style: TableStyle) -> str:
    """One row with each cell aligned in (and, if longer, cut to) its column's width."""
    if row is None:
        return _rule(widths, style)
    return (" " * style.gap).join(f"{clip(text, w):{col.align}{w}}"
                                  for col, text, w in zip(columns, row, widths)).rstrip()


def _headed(columns: Sequence[Column], cells: Cells) -> Cells:
    return [[col.header for col in columns], None, *cells]


# --- "cut": shrink, leave out (and say so), stack the whole columns, wrap by runs -------------

@dataclass
class _Laid:
    """A laid-out "cut" table: its header lines, each input row's lines, the columns left out."""

    head: list[str]
    rows: list[list[str]]
    hidden: list[str]

    def lines(self) -> list[str]:
        return self.head + [line for block in self.rows for line in block]


def _fitted(columns: Sequence[Column], cells: Cells, keep: Sequence[int], width: int,
            style: TableStyle) -> tuple[list[int], bool]:
    """Widths of the `keep` columns after shrinking the flexible ones; and whether they fit."""
    shown = [columns[i] for i in keep]
    return _shrunk(shown, _measure(shown, _pick(cells, keep)), width, style.gap, ((lambda c: c.flex),))


def _cut(columns: list[Column], cells: Cells, width: int, style: TableStyle) -> _Laid:
    whole = [i for i, col in enumerate(columns) if col.whole]
    kept = [i for i, col in enumerate(columns) if col.drop == 0]
    if whole and len(whole) < len(columns) and not _fitted(columns, cells, kept, width, style)[1]:
        return _stacked(columns, cells, width, whole, style)
    keep = list(range(len(columns)))
    while True:
        widths, fits = _fitted(columns, cells, keep, width, style)
        droppable = [i for i in keep if columns[i].drop > 0]
        if fits or not droppable:
            break
        keep.remove(max(droppable, key=lambda i: columns[i].drop))
    shown, picked = [columns[i] for i in keep], _pick(cells, keep)
    hidden = [col.header for i, col in enumerate(columns) if i not in keep]
    if len(hidden) >= 2 and whole and len(whole) < len(columns):
        # A long ticker pushes columns out: on lines of their own, the tickers may leave room.
        # One line per row is worth one hidden column, not two.
        stacked = _stacked(columns, cells, width, whole, style)
        if len(stacked.hidden) <= len(hidden) - 2:
            return stacked
    if not fits:
        head, rows = _in_runs(shown, picked, widths, width, style)
        return _Laid(head, rows, hidden)
    rule = _rule(widths, style)
    return _Laid([_line(shown, [col.header for col in shown], widths, style), rule],
                 [[rule] if row is None else _row_lines(shown, row, widths, style) for row in picked],
                 hidden)


def _row_lines(columns: Sequence[Column], row: list[str], widths: Sequence[int],
               style: TableStyle) -> list[str]:
    """One row: a flexible cell too long for its column wraps onto a second line (then ends in
    `…`) rather than losing its end, unless the column is too narrow for wrapping to help; any
    other cell is aligned (and, if it must be, cut)."""
    pieces = [(_wrap_cell(text, w) if col.flex and w >= FLEX_WRAP else [clip(text, w)])
              if len(text) > w else [text] for col, text, w in zip(columns, row, widths)]
    return [(" " * style.gap).join(f"{(piece[k] if k < len(piece) else ''):{col.align}{w}}"
                                   for col, piece, w in zip(columns, pieces, widths)).rstrip()
            for k in range(max(map(len, pieces), default=1))]


def _wrap_cell(text: str, width: int) -> list[str]:
    """`text` in lines of `width` broken between words, at most FLEX_LINES of them."""
    parts = [clip(part, width) for part in textwrap.wrap(text, max(width, 1), break_long_words=False,
                                                          break_on_hyphens=False)] or [""]
    if len(parts) > FLEX_LINES:
        parts = parts[:FLEX_LINES]
        last = parts[-1]
        if not last.endswith("…"):
            parts[-1] = (last if len(last) < width else last[:width - 1]) + "…"
    return parts


def _in_runs(columns: list[Column], cells: Cells, widths: list[int], width: int,
             style: TableStyle) -> tuple[list[str], list[list[str]]]:
    """The last resort when even the kept columns do not fit side by side: each row's cells in
    runs of whole columns, the later runs on indented lines below, so no figure is cut."""
    widths = [min(w, width - len(WRAP_INDENT)) for w in widths]
    groups = _groups(widths, width - len(WRAP_INDENT), style.gap)

    def runs(row: list[str]) -> list[str]:
        out = []
        for n, group in enumerate(groups):
            line = _line([columns[i] for i in group], [row[i] for i in group],
                         [widths[i] for i in group], style)
            if line.strip() or n == 0:
                out.append(((WRAP_INDENT if n else "") + line).rstrip())
        return out

    span = max(sum(widths[i] for i in g) + style.gap * (len(g) - 1) + (len(WRAP_INDENT) if n else 0)
               for n, g in enumerate(groups))
    rule = "-" * min(width, span)
    head = runs([col.header for col in columns]) + [rule]
    return head, [[rule] if row is None else runs(row) for row in cells]


def _stacked(columns: list[Column], cells: Cells, width: int, whole: list[int],
             style: TableStyle) -> _Laid:
    """The table with its whole columns on a line of their own above each row (never cut).

    A leading `#` column goes on that line too, so the number a trader picks sits beside the
    ticker it picks; the other cells follow on the next line(s), indented under it.
    """
    gap = " " * style.gap
    lead = [0] if columns[0].header == "#" and 0 not in whole else []
    rest = [i for i in range(len(columns)) if i not in whole and i not in lead]
    pad = max([len(columns[0].header)] + [len(row[0]) for row in cells if row is not None]) + style.gap \
        if lead else 0
    inner = _cut([columns[i] for i in rest], _pick(cells, rest), max(10, width - pad), style)
    heads = [columns[i].header for i in lead + whole]
    head = [gap.join([f"{heads[0]:>{pad - style.gap}}"] + heads[1:]) if lead else gap.join(heads)]
    head += [" " * pad + line for line in inner.head]
    rows = []
    for row, block in zip(cells, inner.rows):
        lines = [" " * pad + line for line in block]
        if row is not None:
            first = [f"{row[0]:>{pad - style.gap}}"] if lead else []
            lines.insert(0, gap.join(first + [row[i] for i in whole]))
        rows.append(lines)
    return _Laid(head, rows, inner.hidden)


def hidden_note(hidden: Sequence[str], width: int, hint: str = MENU_HINT) -> list[str]:
    """The line(s) saying which columns a table left out, and how to see them."""
    if not hidden:
        return []
    return textwrap.wrap(f"(hidden at this width: {', '.join(hidden)}; {hint})", max(width, 20),
                         break_long_words=False)


# --- "wrap": narrow the whole column, then stack it and wrap the rest -------------------------

def _groups(sizes: Sequence[int], room: int, gap: int) -> list[list[int]]:
    """Column indexes split, in order, into runs whose cells fit side by side in `room`."""
    groups: list[list[int]] = [[]]
    used = 0
    for index, size in enumerate(sizes):
        if groups[-1] and used + gap + size > room:
            groups.append([])
            used = 0
        used += size + (gap if groups[-1] else 0)
        groups[-1].append(index)
    return groups


def _wrapped(columns: list[Column], cells: Cells, width: int, style: TableStyle) -> list[str]:
    rows = _headed(columns, cells)
    natural = _measure(columns, cells)
    whole = [i for i, col in enumerate(columns) if col.whole]
    widths, fits = _shrunk(columns, natural, width, style.gap, ((lambda c: c.whole),))
    # (a whole column narrower than its min_width by nature, "Ticker" over no rows, is fine)
    if fits and all(widths[i] >= min(columns[i].min_width, natural[i]) for i in whole):
        lines = []
        for row in rows:
            if row is not None and any(len(row[i]) > widths[i] for i in whole):
                lines.append((" " * style.gap).join(row[i] for i in whole).rstrip())
                row = ["" if i in whole else text for i, text in enumerate(row)]
            lines.append(_line(columns, row, widths, style))
        return lines
    return _wrapped_stacked(columns, rows, natural, whole, width, style)


def _wrapped_stacked(columns: list[Column], rows: Cells, widths: list[int], whole: list[int], width: int,
                     style: TableStyle) -> list[str]:
    """Each row's whole cells on a line of their own, its other cells below in runs that fit."""
    rest = [i for i in range(len(columns)) if i not in whole]
    shown, sizes = [columns[i] for i in rest], [widths[i] for i in rest]
    span = len(WRAP_INDENT) + sum(sizes) + style.gap * (len(sizes) - 1)
    rule = "-" * min(width, span) if style.rule == "across" else (WRAP_INDENT + _rule(sizes, style))[:width]
    groups = _groups(sizes, width - len(WRAP_INDENT), style.gap)
    lines = []
    for row in rows:
        if row is None:
            lines.append(rule)
            continue
        label = (" " * style.gap).join(row[i] for i in whole if row[i])
        if label:
            lines.append(label)
        for group in groups:
            part = [row[rest[n]] for n in group]
            if any(part):    # (a totals row may leave whole runs empty)
                line = _line([shown[n] for n in group], part, [sizes[n] for n in group], style)
                lines.append((WRAP_INDENT + line).rstrip())
    return lines
