"""Input built for clumsy fingers: numbers are ASCII digits only (menu, subcommands, config);
at a real terminal (a pseudo-terminal here, the app in a child process) arrow keys edit the line,
Up recalls the tickers entered and Tab completes the ones seen; Ctrl-D at a prompt goes back to
the menu like Ctrl-C, and at the menu both leave with the logs flushed."""

from __future__ import annotations

import io
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_harness import (command, drive, journal, orders_on,  # noqa: F401 (autouse fixture)
                         terminal_fixtures, ticker, work_in_tmp)

from kalshi_trading.__main__ import main
from kalshi_trading.client.rate_limiter import RateLimiter
from kalshi_trading.main_app import MainApp

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["digits", "digitcmd", "tabby", "alpha", "bravo", "keyd", "keyc", "flush"]
OTHER_DIGITS = ["٣", "３", "৩", "1٣"]   # Arabic-Indic, fullwidth, Bengali three; a mixed number


exchange, config = terminal_fixtures("keys-exchange", NAMES)


# --- 4. ASCII digits only -----------------------------------------------------------------------

@pytest.mark.parametrize("digit", OTHER_DIGITS)
def test_a_count_in_other_digits_is_refused_at_the_menu_and_asked_again(config, exchange, digit) -> None:
    tick = ticker("digits")
    out = drive(config, "\n".join(["3", tick, "b", "y", digit, "5", "0.30", "", "", "", "", "n", "0"]) + "\n")
    errors = [line for line in out.splitlines() if "Error:" in line]
    assert len(errors) == 1 and "type numbers with the digits 0-9" in errors[0]
    assert "BUY 5.00 YES" in out and orders_on(exchange, tick) == []   # the re-asked 5 was taken


def test_a_price_in_other_digits_is_refused_at_the_menu(config) -> None:
    keys = ["3", ticker("digits"), "b", "y", "5", "0.٣٠", "0.30", "", "", "", "", "n", "0"]
    out = drive(config, "\n".join(keys) + "\n")
    (error,) = [line for line in out.splitlines() if "Error:" in line]
    assert "type numbers with the digits 0-9" in error and "at 0.3000" in out


@pytest.mark.parametrize("digit", OTHER_DIGITS)
def test_the_order_command_refuses_a_count_in_other_digits(config, exchange, digit) -> None:
    tick = ticker("digitcmd")
    code, out, err = command(config, ["order", "--ticker", tick, "--side", "yes", "--action", "buy",
                                      "--count", digit, "--price", "0.30", "--yes"])
    assert (code, out) == (1, "") and err.count("\n") == 1 and "digits 0-9" in err
    assert orders_on(exchange, tick) == []


def test_a_row_limit_in_other_digits_is_bad_usage(config) -> None:
    code, _, err = command(config, ["markets", "--limit", "٣"])
    assert code == 2 and "not a whole number (digits 0-9)" in err


def test_a_config_number_in_other_digits_is_a_configuration_error(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["balance"], stdin=io.StringIO(), stdout=out, stderr=err, dotenv_path=tmp_path / ".env",
                environ={"KALSHI_MAX_ORDER_COST": "٣", "KALSHI_LOG_DIR": str(tmp_path / "logs"),
                         "KALSHI_PAPER_DIR": str(tmp_path / "paper")})
    assert code == 1 and err.getvalue().startswith("Error: configuration:")
    assert "KALSHI_MAX_ORDER_COST must be a positive number" in err.getvalue()


# --- 6. Ctrl-D and Ctrl-C -----------------------------------------------------------------------

class Keys(io.StringIO):
    """A terminal's stdin: a line `^C` is a Ctrl-C; a line `^D` is a Ctrl-D, an end of input that
    lasts one read (a terminal goes on reading after it, unlike a file)."""

    def readline(self, *args):  # type: ignore[override]
        line = super().readline(*args)
        if line.strip() == "^C":
            raise KeyboardInterrupt
        return "" if line.strip() == "^D" else line


def run_keys(config, keys: str) -> str:
    out = io.StringIO()
    app = MainApp.build(config, stdin=Keys(keys), stdout=out, rate_limiter=RateLimiter("prestige"),
                        terminal_size=lambda: os.terminal_size((80, 24)))
    try:
        assert app.run() == 0
    finally:
        app.close()
    return out.getvalue()


@pytest.mark.parametrize("key, said", [("^D", "End of input (Ctrl-D); back to the menu."),
                                       ("^C", "Interrupted; back to the menu.")])
def test_ctrl_d_or_ctrl_c_at_a_prompt_goes_back_to_the_menu(config, key, said) -> None:
    out = run_keys(config, f"3\n{ticker('keyd')}\nb\n{key}\n8\n0\n")
    assert said in out
    assert "Settings (read-only" in out.split(said, 1)[1]     # the menu went on
    assert out.rstrip().endswith("Bye.")


@pytest.mark.parametrize("key", ["^D", "^C"])
def test_ctrl_d_or_ctrl_c_at_the_menu_leaves_with_the_trade_log_written(config, exchange, key) -> None:
    tick = ticker("flush")
    out = run_keys(config, "\n".join(["3", tick, "b", "y", "1", "0.45", "ioc", "", "y", key, "8"]) + "\n")
    assert out.rstrip().endswith("Bye.") and "Settings (read-only" not in out
    assert {r["event_type"] for r in journal(config) if r.get("ticker") == tick} >= {"submission", "fill"}


# --- 5. line editing at a real terminal ----------------------------------------------------------

UP, LEFT, TAB, CTRL_D = "\x1b[A", "\x1b[D", "\t", "\x04"


class Terminal:
    """The app in a child process on a pseudo-terminal of 80x24, the way a person runs it."""

    def __init__(self, config, cwd: Path) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
        env.update({"KALSHI_BASE_URL": config.base_url, "KALSHI_API_KEY_ID": config.key_id,
                    "KALSHI_PRIVATE_KEY_PATH": str(config.private_key_path),
                    "KALSHI_PAPER_DIR": str(config.paper_dir), "KALSHI_LOG_DIR": str(config.log_dir),
                    "KALSHI_RATE_TIER": "prestige", "PYTHON_DOTENV_DISABLED": "1", "TERM": "xterm",
                    "HOME": str(cwd), "INPUTRC": "/dev/null", "PYTHONPATH": str(ROOT)})
        self.proc = subprocess.Popen([sys.executable, "-m", "kalshi_trading"], stdin=slave, stdout=slave,
                                     stderr=slave, cwd=cwd, env=env, start_new_session=True)
        os.close(slave)
        self.seen = ""

    def until(self, text: str, timeout: float = 15) -> str:
        """Everything the screen showed up to and including the next `text` (fails after `timeout` s)."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                pytest.fail(f"timed out waiting for {text!r}; the screen ends with {self.seen[-400:]!r}")
            try:
                chunk = os.read(self.master, 65536).decode("utf-8", "replace")
            except OSError:    # the child closed the terminal
                pytest.fail(f"the app ended before showing {text!r}: {self.seen[-400:]!r}")
            self.seen += chunk
        shown, self.seen = self.seen.split(text, 1)
        return shown + text

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def leave(self) -> int:
        """Ctrl-D until the app ends (a prompt goes back to the menu, the menu leaves); the exit
        code. Ctrl-U first: Ctrl-D on a line with text deletes a character instead."""
        if self.proc.poll() is None:
            self.type(("\x15" + CTRL_D) * 3)     # read one prompt at a time; the rest waits its turn
        return self.close()

    def close(self) -> int:
        """The exit code, once the app has ended (killed if it will not); idempotent."""
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()
        finally:
            if self.master >= 0:
                os.close(self.master)
                self.master = -1


@pytest.fixture()
def terminal(config, tmp_path: Path):
    if sys.platform == "win32":
        pytest.skip("pseudo-terminals are POSIX")
    term = Terminal(config, tmp_path)
    yield term
    term.leave()


def book_of(term: Terminal, keys: str) -> None:
    """Menu 2 with `keys` typed at its ticker prompt; back at the menu after the book shows."""
    term.until("Choose: ")
    term.type("2\r")
    term.until("Market ticker")
    term.type(keys + "\r")


def test_at_a_terminal_tab_completes_a_ticker_seen_on_a_screen(terminal) -> None:
    terminal.until("Choose: ")
    terminal.type(f"1\re\r{ticker('tabby').rsplit('-', 1)[0]}\r")
    terminal.until("Pick # for details")
    terminal.type("\r")
    book_of(terminal, "kxterm-26dec31-ta" + TAB)
    assert f"Order book {ticker('tabby')}" in terminal.until("Contracts to price")


def test_at_a_terminal_up_recalls_the_tickers_entered(terminal) -> None:
    for name in ("alpha", "bravo"):
        book_of(terminal, ticker(name))
        terminal.until("Contracts to price")
        terminal.type("\r")
        terminal.until("Choice: ")
        terminal.type("\r")
    book_of(terminal, UP + UP)           # the one before the last
    assert f"Order book {ticker('alpha')}" in terminal.until("Contracts to price")


def test_at_a_terminal_arrow_keys_move_the_cursor_instead_of_landing_in_the_ticker(terminal) -> None:
    book_of(terminal, ticker("alpha")[:-2] + "A" + LEFT + "H")  # ALPA, back one, H: ALPHA
    shown = terminal.until("Contracts to price")
    assert f"Order book {ticker('alpha')}" in shown and "Error" not in shown


def test_at_a_terminal_ctrl_d_goes_back_from_a_prompt_and_leaves_from_the_menu(terminal) -> None:
    terminal.until("Choose: ")
    terminal.type("3\r")
    terminal.until("Market ticker")
    terminal.type(CTRL_D)
    terminal.until("back to the menu.")
    terminal.until("Choose: ")
    terminal.type(CTRL_D)
    assert "Bye." in terminal.until("Bye.")
    assert terminal.close() == 0
