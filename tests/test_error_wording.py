"""What a trader reads when the exchange says no: one plain sentence for each known Kalshi error code,
in the menu and on a subcommand's stderr, with the raw error (status, code, message) kept in app.log;
unknown codes and transient failures keep their own text."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from cli_harness import work_in_tmp  # noqa: F401 (autouse fixture)
from cli_harness import command, config_for, drive, journal, orders_on, terminal_exchange, ticker

from kalshi_trading.errors import ApiError, OrderRejected, TransientApiError
from kalshi_trading.kalshi_client import KalshiClient
from kalshi_trading.terminal.error_text import WORDING, plain_words
from kalshi_trading.trading_cli import TradingCLI

NAMES = ["fokmenu", "fokcmd", "postonly", "cash", "cashcmd"]
FOK_SENTENCE = ("Error: Not enough resting volume to fill the whole order at your price (fill-or-kill): "
                "nothing was traded.")


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory):
    with terminal_exchange(tmp_path_factory, "wording-exchange", NAMES) as running:
        yield running


@pytest.fixture()
def config(exchange, tmp_path):
    return config_for(exchange, tmp_path, max_order_cost=Decimal("100000"))


def fok_in_menu(tick: str) -> str:
    """Menu 3: buy 200 YES at 0.45 fill-or-kill; the book offers only 160 up to 0.45."""
    return "\n".join(["3", tick, "b", "y", "200", "0.45", "fok", "", "y", "0"]) + "\n"


def fok_command(tick: str) -> list[str]:
    return ["order", "--ticker", tick, "--side", "yes", "--action", "buy", "--count", "200",
            "--price", "0.45", "--tif", "fok", "--yes"]


def error_lines(out: str) -> list[str]:
    return [line[line.index("Error:"):] for line in out.splitlines() if "Error:" in line]


def app_log(config) -> str:
    return (config.log_dir / "app.log").read_text(encoding="utf-8")


def test_a_fill_or_kill_that_cannot_fill_is_one_plain_sentence_in_the_menu(config, exchange) -> None:
    out = drive(config, fok_in_menu(ticker("fokmenu")))
    assert error_lines(out) == [FOK_SENTENCE]
    assert "HTTP 409" not in out and "fill_or_kill_insufficient_resting_volume" not in out
    assert [o["status"] for o in orders_on(exchange, ticker("fokmenu"))] == []


def test_app_log_keeps_the_status_code_and_message_behind_the_menus_sentence(config) -> None:
    drive(config, fok_in_menu(ticker("fokmenu")))
    (line,) = [line for line in app_log(config).splitlines() if "shown as" in line]
    assert "HTTP 409 [fill_or_kill_insufficient_resting_volume]" in line
    assert "POST /portfolio/events/orders" in line and "nothing was traded" in line


def test_the_order_subcommand_says_the_same_sentence_on_stderr(config) -> None:
    code, out, err = command(config, fok_command(ticker("fokcmd")))
    assert (code, out, err) == (1, "", FOK_SENTENCE + "\n")


def test_the_order_subcommand_keeps_the_code_in_app_log(config) -> None:
    command(config, [*fok_command(ticker("fokcmd")), "--json"])
    assert "HTTP 409 [fill_or_kill_insufficient_resting_volume]" in app_log(config)


def test_the_trade_log_still_records_the_raw_rejection(config) -> None:
    command(config, fok_command(ticker("fokcmd")))
    (error,) = [r for r in journal(config) if r["event_type"] == "error"]
    assert error["status"] == "rejected" and "[fill_or_kill_insufficient_resting_volume]" in error["message"]


def test_a_post_only_order_that_would_cross_is_said_in_plain_words(config) -> None:
    # GTC buy YES at 0.45, post-only: the best YES ask is 0.43, so it would take at once
    out = drive(config, "\n".join(["3", ticker("postonly"), "b", "y", "2", "0.45", "gtc", "", "y", "",
                                   "y", "0"]) + "\n")
    assert error_lines(out) == ["Error: A post-only order must rest on the book, and at this price it "
                                "would have traded at once: nothing was placed."]


def test_an_order_the_cash_cannot_cover_names_the_shortfall_in_the_menu(config) -> None:
    out = drive(config, "\n".join(["3", ticker("cash"), "b", "y", "4000", "0.30", "gtc", "", "", "",
                                   "y", "0"]) + "\n")
    (line,) = error_lines(out)
    assert line.startswith("Error: Not enough available cash for this order's cost and fees (needs ")
    assert line.endswith("available 1000.0000): nothing was placed.") and "insufficient_balance" not in line


def test_an_order_the_cash_cannot_cover_is_the_same_sentence_from_the_subcommand(config) -> None:
    code, out, err = command(config, ["order", "--ticker", ticker("cashcmd"), "--side", "yes", "--action",
                                      "buy", "--count", "4000", "--price", "0.30", "--yes", "--json"])
    assert (code, out) == (1, "")
    assert err.startswith("Error: Not enough available cash") and err.count("\n") == 1


def test_a_filter_the_exchange_refuses_reads_as_its_reason(config) -> None:
    # `orders --status` is checked by the parser first, so ask the exchange directly
    with KalshiClient.for_config(config) as client:
        with pytest.raises(ApiError) as refused:
            list(client.iter_orders(status="someday"))
    assert plain_words(refused.value) == ("The exchange refused the request "
                                          "(status must be one of resting, canceled, executed).")
    code, out, err = command(config, ["orders", "--status", "someday"])
    assert code == 2 and "invalid choice: 'someday'" in err    # and the command line never sends it


def test_a_key_the_exchange_does_not_know_is_said_without_the_key(config) -> None:
    stranger = str(uuid.uuid4())
    code, out, err = command(replace(config, key_id=stranger), ["balance"])
    assert (code, out) == (1, "")
    assert err.startswith("Error: The exchange did not accept this app's API key") and err.count("\n") == 1
    assert "KALSHI_API_KEY_ID" in err and stranger not in err and stranger[-4:] not in err, err


@pytest.mark.parametrize("code", sorted(WORDING))
def test_every_known_code_reads_without_the_code_or_the_http_status(code: str) -> None:
    exc = OrderRejected(code, status=400, code=code, method="POST", path="/portfolio/events/orders")
    sentence = plain_words(exc)
    assert sentence and sentence[0].isupper() and sentence.endswith(".")
    assert code not in sentence and "HTTP" not in sentence and "{" not in sentence


@pytest.mark.parametrize("exc, shown", [
    (ApiError("I'm a teapot", status=418, code="brand_new_code", method="GET", path="/exchange/status"),
     "Error: GET /exchange/status: HTTP 418 [brand_new_code] I'm a teapot"),
    (TransientApiError("no answer from the exchange (timeout): the order may or may not be placed",
                       status=503, code="service_unavailable"),
     "Error: HTTP 503 [service_unavailable] no answer from the exchange (timeout): the order may or may "
     "not be placed"),
    (ApiError("not found", status=404), "Error: HTTP 404 not found"),
])
def test_unknown_codes_transient_failures_and_codeless_errors_keep_their_text(exc, shown) -> None:
    out = io.StringIO()
    TradingCLI(io.StringIO(), out).error(exc)
    assert out.getvalue() == shown + "\n"
