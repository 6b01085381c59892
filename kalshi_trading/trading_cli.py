"""`TradingCLI`: the terminal's input and output, with streams injected so tests can drive it.

Prompts follow click's habit: read a line, parse it, and on bad input print ONE `Error: ...` line
and ask again. End of input raises `EndOfInput` (the menu loop exits cleanly on it); Ctrl-C is left
as `KeyboardInterrupt` for the loop to turn into "back to the menu". Confirmations default to No.
Tables are fitted to the terminal width, whose source (`shutil.get_terminal_size`) is injectable,
by the one layout engine in terminal/tables.py (`Column` and `render_table` are re-exported here,
where the screens have always found them).
"""

from __future__ import annotations

import shutil
import sys
from typing import Callable, Sequence, TextIO, TypeVar

from .errors import UserInputError
from .terminal.tables import Column, render_table

__all__ = ["TradingCLI", "EndOfInput", "Column", "render_table", "MIN_WIDTH"]

T = TypeVar("T")
MIN_WIDTH = 40
MAX_ERROR = 240  # an error line echoes what was typed; a pasted novel must not flood the screen


class EndOfInput(Exception):
    """stdin is exhausted (Ctrl-D or the end of a piped file): leave cleanly."""


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

