"""`TradingCLI`: the terminal's input and output, with streams injected so tests can drive it.

Prompts follow click's habit: read a line, parse it, and on bad input print ONE `Error: ...` line
and ask again. End of input raises `EndOfInput` (the menu loop exits cleanly on it); Ctrl-C is left
as `KeyboardInterrupt` for the loop to turn into "back to the menu". Confirmations default to No.
Tables are fitted to the terminal width, whose source (`shutil.get_terminal_size`) is injectable.
"""

from __future__ import annotations

import shutil
import sys
from typing import Callable, Sequence, TextIO, TypeVar

from .errors import UserInputError

__all__ = ["TradingCLI", "EndOfInput", "Column", "MIN_WIDTH"]

T = TypeVar("T")
MIN_WIDTH = 40
MAX_ERROR = 240  # an error line echoes what was typed; a pasted novel must not flood the screen


class EndOfInput(Exception):
    """stdin is exhausted (Ctrl-D or the end of a piped file): leave cleanly."""


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


class TradingCLI:
    """Line-oriented terminal I/O: prompts that re-ask, confirmations, tables, one-line errors."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None, *,
                 terminal_size: Callable[[], object] | None = None) -> None:
        self._in = stdin if stdin is not None else sys.stdin
        self._out = stdout if stdout is not None else sys.stdout
        self._terminal_size = terminal_size or shutil.get_terminal_size
        self._gone = False

    # --- output --------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """Usable width in columns (at least MIN_WIDTH)."""
        try:
            columns = int(getattr(self._terminal_size(), "columns", 80))
        except (OSError, ValueError, TypeError):
            columns = 80
        return max(MIN_WIDTH, columns)

    def write(self, line: str = "") -> None:
        """Print one line (or several joined by newlines)."""
        self._emit(f"{line}\n")

    def _emit(self, text: str) -> None:
        """Write and flush; a reader that went away (`| head`) ends the session like end of input."""
        if self._gone:
            return
        try:
            self._out.write(text)
            self._out.flush()
        except BrokenPipeError:
            self._gone = True
            raise EndOfInput() from None

    def lines(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.write(line)

    def error(self, message: object) -> None:
        """One `Error: ...` line; newlines inside the message are folded so it stays one line."""
        text = " ".join(str(message).split()) or "unknown error"
        if len(text) > MAX_ERROR:
            text = text[: MAX_ERROR - 1] + "…"
        self.write(f"Error: {text}")

    def heading(self, title: str) -> None:
        self.write("")
        self.write(f"== {title} ==")

    # --- input ---------------------------------------------------------------------------

    def read(self, prompt: str) -> str:
        """Show `prompt`, read one line without its newline; `EndOfInput` when stdin is done."""
        self._emit(prompt)
        line = self._in.readline()
        if line == "":
            self._emit("\n")
            raise EndOfInput()
        return line.rstrip("\r\n")

    def ask(self, prompt: str, parse: Callable[[str], T], *, default: str | None = None) -> T:
        """Ask until `parse` accepts the line. An empty line uses `default` when one is given."""
        shown = f"{prompt} [{default}]: " if default is not None else f"{prompt}: "
        failures = 0
        while True:
            text = self.read(shown)
            if not text.strip() and default is not None:
                text = default
            try:
                return parse(text)
            except UserInputError as exc:
                failures += 1
                hint = " (Ctrl-C goes back to the menu)" if failures % 3 == 0 else ""
                self.error(f"{exc}{hint}")

    def confirm(self, prompt: str) -> bool:
        """A yes/no question whose default is No: only `y`/`yes` says yes."""
        while True:
            answer = self.read(f"{prompt} [y/N]: ").strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("", "n", "no"):
                return False
            self.error(f"answer y or n, not {answer!r}")

    def confirm_typed(self, prompt: str, expected: str) -> bool:
        """Confirm by typing `expected` exactly (production orders); anything else is No."""
        answer = self.read(f"{prompt} (type {expected} to confirm, anything else cancels): ")
        return answer.strip() == expected

    # --- tables --------------------------------------------------------------------------

    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[str]:
        """Render rows under headers, shrinking flexible columns (then all) to fit the width."""
        lines = render_table(columns, rows, self.width)
        self.lines(lines)
        return lines


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """The lines of a table no wider than `width`.

    First flexible columns shrink (cut cells end in `…`), then low-priority columns are left out,
    and only as a last resort are other cells cut, so prices and tickers stay whole when possible.
    """
    keep = list(range(len(columns)))
    cells = [[str(cell) for cell in row] for row in rows]
    whole = [i for i, col in enumerate(columns) if col.whole]
    if whole and len(whole) < len(columns):
        widths, fits = _fitted_widths(columns, cells, width, shrink_fixed=False)
        dropped = [i for i in keep if columns[i].drop > 0]
        if not fits and not _fits_after_drops(columns, cells, width, dropped):
            return _stacked(columns, cells, width, whole)
    while True:
        widths, fits = _fitted_widths([columns[i] for i in keep], [[r[i] for i in keep] for r in cells],
                                      width, shrink_fixed=False)
        droppable = [i for i in keep if columns[i].drop > 0]
        if fits or not droppable:
            break
        keep.remove(max(droppable, key=lambda i: columns[i].drop))
    if not fits:
        widths, _ = _fitted_widths([columns[i] for i in keep], [[r[i] for i in keep] for r in cells],
                                   width, shrink_fixed=True)
    shown = [columns[i] for i in keep]
    header = "  ".join(_fit(col.header, widths[n], col.align) for n, col in enumerate(shown))
    out = [header.rstrip(), "  ".join("-" * w for w in widths)]
    for row in cells:
        out.append("  ".join(_fit(row[i], widths[n], columns[i].align) for n, i in enumerate(keep)).rstrip())
    return [line[:width] for line in out]


def _fits_after_drops(columns: Sequence[Column], cells: Sequence[Sequence[str]], width: int,
                      droppable: list[int]) -> bool:
    """Whether leaving out every droppable column makes the table fit without cutting."""
    keep = [i for i in range(len(columns)) if i not in droppable]
    _, fits = _fitted_widths([columns[i] for i in keep], [[r[i] for i in keep] for r in cells],
                             width, shrink_fixed=False)
    return fits


def _stacked(columns: Sequence[Column], cells: Sequence[Sequence[str]], width: int,
             whole: list[int]) -> list[str]:
    """The table with its whole columns on a line of their own above each row (never cut).

    A leading `#` column goes on that line too, so the number a trader picks sits beside the
    ticker it picks; the other cells follow on the next line, indented under it.
    """
    lead = [0] if columns[0].header == "#" and 0 not in whole else []
    rest = [i for i in range(len(columns)) if i not in whole and i not in lead]
    pad = max([len(columns[0].header)] + [len(row[0]) for row in cells]) + 2 if lead else 0
    inner = render_table([columns[i] for i in rest], [[row[i] for i in rest] for row in cells],
                         max(10, width - pad))
    heads = [columns[i].header for i in lead + whole]
    out = ["  ".join([f"{heads[0]:>{pad - 2}}"] + heads[1:]) if lead else "  ".join(heads)]
    out += [" " * pad + line for line in inner[:2]]
    for row, line in zip(cells, inner[2:]):
        first = [f"{row[0]:>{pad - 2}}"] if lead else []
        out += ["  ".join(first + [row[i] for i in whole]), " " * pad + line]
    return out


def _fitted_widths(columns: Sequence[Column], cells: Sequence[Sequence[str]], width: int, *,
                   shrink_fixed: bool) -> tuple[list[int], bool]:
    """Column widths after shrinking flexible columns (and, if allowed, the others); fits?"""
    widths = [max([len(col.header)] + [len(row[i]) for row in cells]) for i, col in enumerate(columns)]
    excess = sum(widths) + 2 * (len(columns) - 1) - width
    for flex_pass in ((True, False) if shrink_fixed else (True,)):
        for i, col in enumerate(columns):
            if excess > 0 and col.flex == flex_pass:
                cut = min(excess, max(0, widths[i] - max(col.min_width, 3)))
                widths[i] -= cut
                excess -= cut
    return widths, excess <= 0


def _fit(text: str, width: int, align: str) -> str:
    if len(text) > width:
        text = text[: max(0, width - 1)] + "…" if width > 0 else ""
    return f"{text:{align}{width}}"
