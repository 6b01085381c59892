"""`TradingCLI`: the terminal's input and output, with streams injected so tests can drive it.

Prompts follow click's habit: read a line, parse it, and on bad input print ONE `Error: ...` line
and ask again. End of input (Ctrl-D) raises `EndOfInput` and Ctrl-C is left as `KeyboardInterrupt`:
inside a screen the menu loop turns both into "back to the menu", at the menu both exit. A reader
of our output that went away raises `OutputClosed`, which always ends the session. Confirmations
default to No. At a real terminal, prompts read through `readline` (terminal/line_editing.py).
Every line is fitted to the terminal width, whose source (`shutil.get_terminal_size`) is
injectable: a long line wraps between words, never mid-word or mid-number, and tables are laid
out by the one engine in terminal/tables.py (`Column` and `render_table` are re-exported here,
where the screens have always found them).
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from typing import Callable, Iterable, Sequence, TextIO, TypeVar

from .errors import UserInputError
from .terminal.error_text import error_line
from .terminal.line_editing import LineEditor, TickerMemory, terminal_editor
from .terminal.tables import MENU_HINT, Column, render_table

__all__ = ["TradingCLI", "EndOfInput", "OutputClosed", "Column", "render_table", "MIN_WIDTH"]

T = TypeVar("T")
MIN_WIDTH = 40
MAX_ERROR = 240  # an error line echoes what was typed; a pasted novel must not flood the screen


class EndOfInput(Exception):
    """stdin is exhausted (Ctrl-D or the end of a piped file): back to the menu, or leave cleanly."""


class OutputClosed(EndOfInput):
    """The reader of our output went away (`| head`): nothing more can be shown, so leave."""


class TradingCLI:
    """Line-oriented terminal I/O: prompts that re-ask, confirmations, tables, one-line errors."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None, *,
                 terminal_size: Callable[[], object] | None = None,
                 line_editor: LineEditor | None = None) -> None:
        self._in = stdin if stdin is not None else sys.stdin
        self._out = stdout if stdout is not None else sys.stdout
        self._terminal_size = terminal_size or shutil.get_terminal_size
        self._gone = False
        self.tickers = TickerMemory()
        self._editor = line_editor or terminal_editor(self._in, self._out, self.tickers)

    @property
    def streams(self) -> tuple[TextIO, TextIO]:
        """(input, output) as given: the watch view waits for a key on a terminal's input with
        `select`, and clears the screen only when the output is a terminal."""
        return self._in, self._out

    # --- output --------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """Usable width in columns (at least MIN_WIDTH)."""
        try:
            columns = int(getattr(self._terminal_size(), "columns", 80))
        except (OSError, ValueError, TypeError):
            columns = 80
        return max(MIN_WIDTH, columns)

    @property
    def closed(self) -> bool:
        """Whether the reader of our output went away."""
        return self._gone

    def write(self, line: str = "") -> None:
        """Print one line (or several joined by newlines), wrapped between words to the width."""
        self._emit("".join(f"{part}\n" for text in line.split("\n") for part in self._fit(text)))

    def _fit(self, text: str) -> list[str]:
        """`text` as lines of at most `width`, broken at spaces and continued two columns past
        its own indent. A line holding a word longer than that (a long ticker beside its row
        number, a path) is left whole: breaking it elsewhere would not make it fit."""
        width = self.width
        indent = " " * (len(text) - len(text.lstrip()) + 2)
        if len(text) <= width or max(map(len, text.split()), default=0) > width - len(indent):
            return [text]
        return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=False,
                             break_on_hyphens=False) or [text]

    def _emit(self, text: str) -> None:
        """Write and flush; a reader that went away (`| head`) ends the session like end of input."""
        if self._gone:
            return
        try:
            self._out.write(text)
            self._out.flush()
        except BrokenPipeError:
            self._gone = True
            raise OutputClosed() from None

    def lines(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.write(line)

    def error(self, message: object) -> None:
        """One `Error: ...` line; newlines inside the message are folded so it stays one line.

        An exception is said in plain words when it carries a known Kalshi error code
        (`terminal/error_text.py`; the raw error goes to app.log)."""
        text = error_line(message if isinstance(message, BaseException) else str(message)) or "unknown error"
        if len(text) > MAX_ERROR:
            text = text[: MAX_ERROR - 1] + "…"
        self._emit(f"Error: {text}\n")   # one line, as the standard says: never wrapped

    def heading(self, title: str) -> None:
        self.write("")
        self.write(f"== {title} ==")

    # --- input ---------------------------------------------------------------------------

    def read(self, prompt: str) -> str:
        """Show `prompt`, read one line without its newline; `EndOfInput` when stdin is done."""
        if self._gone:
            raise OutputClosed()
        if self._editor is not None:
            try:
                return self._editor.read(prompt).rstrip("\r\n")
            except EOFError:
                self._emit("\n")
                raise EndOfInput() from None
        self._emit(prompt)
        line = self._in.readline()
        if line == "":
            self._emit("\n")
            raise EndOfInput()
        return line.rstrip("\r\n")

    def saw_tickers(self, tickers: Iterable[str]) -> None:
        """Tickers a screen showed: Tab completes them at later prompts."""
        self.tickers.see(tickers)

    def typed_ticker(self, ticker: str) -> None:
        """A ticker the trader typed and the exchange knew: Up recalls it at later prompts."""
        if self.tickers.type(ticker) and self._editor is not None:
            self._editor.add_history(ticker.upper())

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
                hint = " (Ctrl-C or Ctrl-D goes back to the menu)" if failures % 3 == 0 else ""
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

    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]], *,
              hint: str = MENU_HINT) -> list[str]:
        """Render rows under headers fitted to the width (terminal/tables.py); a column left
        out is named under the table, with `hint` saying how to see it."""
        lines = render_table(columns, rows, self.width, hint=hint)
        self.lines(lines)
        return lines

