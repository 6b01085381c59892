"""MainApp: composition (embedded vs external paper exchange), Ctrl-C, and the loop surviving bugs."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import requests
from cli_harness import (Keys, config_for, make_universe,  # noqa: F401 (work_in_tmp is an autouse fixture)
                         terminal_exchange, ticker, work_in_tmp)
from requests.adapters import BaseAdapter, HTTPAdapter

from kalshi_trading.client.rate_limiter import RateLimiter
from kalshi_trading.config import Config, Mode
from kalshi_trading.errors import ConfigError
from kalshi_trading.main_app import MainApp


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory):
    with terminal_exchange(tmp_path_factory, "main-app-exchange", ["app"]) as running:
        yield running


def run_app(config: Config, stdin: io.StringIO, **kwargs) -> str:
    out = io.StringIO()
    app = MainApp.build(config, stdin=stdin, stdout=out, rate_limiter=RateLimiter("prestige"),
                        terminal_size=lambda: os.terminal_size((100, 30)), **kwargs)
    try:
        assert app.run() == 0
    finally:
        app.close()
    return out.getvalue()


def test_ctrl_c_in_a_screen_returns_to_the_menu(exchange, tmp_path: Path) -> None:
    out = run_app(config_for(exchange, tmp_path), Keys(f"3\n{ticker('app')}\nb\n^C\n8\n0\n"))
    assert "Interrupted; back to the menu." in out
    assert "Settings (read-only" in out and out.rstrip().endswith("Bye.")


def test_ctrl_c_at_the_menu_exits_cleanly(exchange, tmp_path: Path) -> None:
    out = run_app(config_for(exchange, tmp_path), Keys("^C\n8\n"))
    assert out.rstrip().endswith("Bye.") and "Settings (read-only" not in out


class Exploding(BaseAdapter):
    """A fake network where order-book requests hit a bug; everything else is real."""

    def __init__(self) -> None:
        super().__init__()
        self.real = HTTPAdapter()

    def send(self, request, **kwargs):  # type: ignore[override]
        if "/orderbook" in request.url:
            raise RuntimeError("boom in the order book")
        return self.real.send(request, **kwargs)

    def close(self) -> None:
        self.real.close()


def test_an_unexpected_error_is_logged_with_traceback_shown_as_one_line_and_the_loop_goes_on(
        exchange, tmp_path: Path) -> None:
    session = requests.Session()
    session.mount("http://", Exploding())
    config = config_for(exchange, tmp_path)
    out = run_app(config, io.StringIO(f"2\n{ticker('app')}\n8\n0\n"), session=session)
    (line,) = [l for l in out.splitlines() if "Error: unexpected" in l]
    assert "Error: unexpected RuntimeError: boom in the order book" in line
    assert "Settings (read-only" in out and "Traceback" not in out
    logged = (config.log_dir / "errors.log").read_text()
    assert "Traceback" in logged and "RuntimeError: boom in the order book" in logged


def test_paper_mode_without_a_base_url_embeds_an_exchange(tmp_path: Path) -> None:
    config = Config(mode=Mode.PAPER, paper_dir=tmp_path / "paper", log_dir=tmp_path / "logs")
    out = run_app(config, io.StringIO("0\n"), paper_universe=make_universe(["embedded"]))
    assert "PAPER mode: embedded paper exchange" in out and "http://127.0.0.1:" in out


def test_an_external_paper_server_is_signed_with_the_key_in_its_data_dir(exchange, tmp_path: Path) -> None:
    config = Config(mode=Mode.PAPER, base_url=exchange.base_url, paper_dir=exchange.data_dir,
                    log_dir=tmp_path / "logs")
    out = run_app(config, io.StringIO("0\n"))
    assert "external paper exchange" in out and "Balance: $" in out


def test_an_external_url_with_no_key_anywhere_is_a_config_error(tmp_path: Path) -> None:
    config = Config(mode=Mode.PAPER, base_url="http://127.0.0.1:9/trade-api/v2",
                    paper_dir=tmp_path / "empty", log_dir=tmp_path / "logs")
    with pytest.raises(ConfigError, match="KALSHI_API_KEY_ID"):
        MainApp.build(config, stdin=io.StringIO(""), stdout=io.StringIO())


class ClosedAfter(io.StringIO):
    """stdout whose reader goes away (like `| head`) after a few writes."""

    def __init__(self, writes: int) -> None:
        super().__init__()
        self.left = writes

    def write(self, text: str) -> int:  # type: ignore[override]
        self.left -= 1
        if self.left < 0:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_reader_that_goes_away_ends_the_session_quietly(exchange, tmp_path: Path) -> None:
    out = ClosedAfter(8)
    app = MainApp.build(config_for(exchange, tmp_path), stdin=io.StringIO("1\nk\nterminal\n" * 50),
                        stdout=out, rate_limiter=RateLimiter("prestige"))
    try:
        assert app.run() == 0
    finally:
        app.close()
    assert not (tmp_path / "logs" / "errors.log").exists()


def test_two_apps_in_one_process_closing_in_any_order_leave_logging_as_it_was(exchange, tmp_path: Path) -> None:
    """Closing the first of two open apps must not leave the package's warnings swallowed (nor
    sent to a closed app.log): the state before the first app is back once both are closed."""
    import logging
    package = logging.getLogger("kalshi_trading")
    before = (package.level, package.propagate, list(package.handlers))
    first = MainApp.build(config_for(exchange, tmp_path / "a"), stdin=io.StringIO(), stdout=io.StringIO(),
                          rate_limiter=RateLimiter("prestige"))
    second = MainApp.build(config_for(exchange, tmp_path / "b"), stdin=io.StringIO(), stdout=io.StringIO(),
                           rate_limiter=RateLimiter("prestige"))
    first.close()
    assert package.propagate is False          # the second app still keeps its warnings off the screen
    second.close()
    assert (package.level, package.propagate, list(package.handlers)) == before
