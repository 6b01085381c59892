"""Line editing at the prompts when a person types at a terminal: arrow keys move the cursor
instead of landing in the ticker, Up recalls the tickers entered, Tab completes tickers seen in
this session.

Only the standard library's `readline` (GNU readline, or libedit on macOS), and only when stdin
and stdout are the process's own terminal. Tests inject streams, pipes carry scripts and Windows
has no `readline`; all of them keep reading the stream line by line, as before.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Iterable, Protocol, TextIO

__all__ = ["TickerMemory", "LineEditor", "ReadlineEditor", "terminal_editor"]

MAX_SEEN = 5000     # a session that lists every market must not make Tab crawl


class TickerMemory:
    """The tickers of this session: those seen on a screen (for Tab) and those typed (for Up)."""

    def __init__(self) -> None:
        self._seen: dict[str, None] = {}    # insertion-ordered set
        self.typed: list[str] = []

    def see(self, tickers: Iterable[str]) -> None:
        for ticker in tickers:
            if ticker and len(self._seen) < MAX_SEEN:
                self._seen[ticker.upper()] = None

    def type(self, ticker: str) -> bool:
        """Record a ticker the trader typed; False when it repeats the last one (no history entry)."""
        ticker = ticker.upper()
        self.see([ticker])
        if self.typed and self.typed[-1] == ticker:
            return False
        self.typed.append(ticker)
        return True

    def completions(self, text: str) -> list[str]:
        """The tickers starting with `text` (any case), sorted."""
        start = text.upper()
        return sorted(t for t in self._seen if t.startswith(start))


class LineEditor(Protocol):
    """What `TradingCLI` reads through when a terminal can edit lines."""

    def read(self, prompt: str) -> str:
        """One line without its newline; `EOFError` on Ctrl-D."""

    def add_history(self, ticker: str) -> None: ...


class ReadlineEditor:
    """`input()` with `readline`: history holds only the tickers typed, Tab completes the seen ones."""

    def __init__(self, readline: ModuleType, memory: TickerMemory) -> None:
        self._readline = readline
        self._memory = memory
        readline.set_auto_history(False)         # a count or a `y` is no history worth recalling
        readline.set_completer(self._complete)
        readline.set_completer_delims(" \t\n")   # `-` and `.` are part of a ticker
        if "libedit" in (readline.__doc__ or ""):
            readline.parse_and_bind("bind ^I rl_complete")
        else:
            readline.parse_and_bind("tab: complete")

    def read(self, prompt: str) -> str:
        return input(prompt)

    def add_history(self, ticker: str) -> None:
        self._readline.add_history(ticker)

    def _complete(self, text: str, state: int) -> str | None:
        matches = self._memory.completions(text)
        return matches[state] if state < len(matches) else None


def terminal_editor(stdin: TextIO, stdout: TextIO, memory: TickerMemory) -> LineEditor | None:
    """A `ReadlineEditor` when stdin and stdout are this process's terminal and `readline`
    exists; otherwise None (read the stream as it is)."""
    if stdin is not sys.stdin or stdout is not sys.stdout:
        return None   # input() reads sys.stdin: an injected stream must be read directly
    try:
        if not (stdin.isatty() and stdout.isatty()):
            return None
    except (AttributeError, ValueError):    # a closed or unusual stream
        return None
    try:
        import readline
    except ImportError:                      # Windows, or a Python built without it
        return None
    return ReadlineEditor(readline, memory)
