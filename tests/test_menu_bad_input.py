"""Bad input at every prompt: one `Error:` line per bad answer, a re-prompt, and nothing sent or
logged as sent (checked on the exchange and in the JSONL); end of input then exits cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_harness import (CLOSED, DECI, config_for, drive,  # noqa: F401 (work_in_tmp is an autouse fixture)
                         journal, make_universe, orders_on, terminal_fixtures, ticker, work_in_tmp)

from kalshi_trading.paper.server import start_paper_exchange

TICK = ticker("bad")
RESTING = ticker("badrest")


exchange, config = terminal_fixtures("bad-input-exchange", ["bad", "badrest"])


# (answers that reach the prompt, bad answers at it)
PLACE_PROMPTS = {
    "ticker": ([], ["", "no such ticker", "KXNOPE-26DEC31-X", CLOSED, "!!"]),
    "action": ([TICK], ["", "x", "42", "hold"]),
    "side": ([TICK, "b"], ["", "maybe", "1"]),
    "count": ([TICK, "b", "y"], ["", "abc", "-5", "0", "1.234", "ten"]),
    "price": ([TICK, "b", "y", "10"], ["", "abc", "-0.30", "0", "0.305", "1.5", "42", "0c", "0.3.0"]),
    "worst price": ([TICK, "b", "y", "10", "market"], ["", "abc", "-1", "0.305", "0"]),
    "time in force": ([TICK, "b", "y", "10", "0.30"], ["forever", "1", "gtd"]),
    "expiry": ([TICK, "b", "y", "10", "0.30", "gtc"], ["yesterday", "-5m", "2000-01-01T00:00:00Z"]),
    "post-only": ([TICK, "b", "y", "10", "0.30", "gtc", ""], ["maybe", "2"]),
    "reduce-only": ([TICK, "b", "y", "10", "0.30", "gtc", "", ""], ["maybe"]),
    "confirmation": ([TICK, "b", "y", "10", "0.30", "gtc", "", "", ""], ["maybe", "yy", "ok"]),
}


def errors_in(out: str) -> list[str]:
    return [line for line in out.splitlines() if "Error:" in line]


@pytest.mark.parametrize("prompt", list(PLACE_PROMPTS))
def test_place_order_prompt_rejects_bad_input_and_sends_nothing(config, exchange, prompt: str) -> None:
    reach, bad = PLACE_PROMPTS[prompt]
    out = drive(config, "\n".join(["3", *reach, *bad]) + "\n")  # then end of input
    assert len(errors_in(out)) == len(bad), out
    assert "Traceback" not in out and out.rstrip().endswith("Bye.")
    assert orders_on(exchange, TICK) == []
    assert not [r for r in journal(config) if r.get("event_type") == "submission"]


def test_an_off_grid_sub_penny_price_is_refused(config, exchange) -> None:
    out = drive(config, "\n".join(["3", DECI, "b", "y", "1", "0.555", "0.5555"]) + "\n")
    assert len(errors_in(out)) == 2 and "grid" in errors_in(out)[0]
    assert orders_on(exchange, DECI) == []


def test_three_decimals_on_a_cent_market_names_the_grid(config) -> None:
    out = drive(config, "\n".join(["3", TICK, "b", "y", "1", "0.425"]) + "\n")
    (line,) = errors_in(out)
    assert "grid" in line and "0.0100" in line


@pytest.fixture()
def resting(config, exchange) -> dict:
    if not [o for o in orders_on(exchange, RESTING) if o["status"] == "resting"]:
        drive(config, "\n".join(["3", RESTING, "b", "y", "10", "0.20", "", "", "", "", "y", "0"]) + "\n")
    (order,) = [o for o in orders_on(exchange, RESTING) if o["status"] == "resting"]
    return order


OPEN_ORDER_PROMPTS = {
    "action": (["4"], ["q", "5", "cancel everything"]),
    "amend price": (["4", "a"], ["abc", "0.205", "1.2", "-0.2"]),
    "amend size": (["4", "a", ""], ["abc", "-1", "0", "1.001"]),
    "decrease": (["4", "d"], ["abc", "0", "-2", "1000", "0.001"]),
    "cancel confirmation": (["4", "c"], ["maybe"]),
    "amend confirmation": (["4", "a", "0.21", ""], ["maybe", "yess"]),
    "decrease confirmation": (["4", "d", "1"], ["maybe"]),
    "cancel all confirmation": (["4", "x"], ["maybe", "1"]),
}


@pytest.mark.parametrize("prompt", list(OPEN_ORDER_PROMPTS))
def test_open_order_prompts_reject_bad_input_and_change_nothing(config, exchange, resting, prompt: str) -> None:
    reach, bad = OPEN_ORDER_PROMPTS[prompt]
    out = drive(config, "\n".join([*reach, *bad]) + "\n")
    assert len(errors_in(out)) == len(bad), out
    (after,) = [o for o in orders_on(exchange, RESTING) if o["status"] == "resting"]
    assert after["yes_price_dollars"] == resting["yes_price_dollars"]
    assert after["remaining_count_fp"] == resting["remaining_count_fp"]


OTHER_PROMPTS = {
    "search kind": (["1"], ["z", "42"]),
    "keyword": (["1", "k"], ["", "   "]),
    "status": (["1", "t"], ["bogus", "active"]),
    "series ticker": (["1", "s"], ["", "a b"]),
    "market pick": (["1", "s", "KXTERM"], ["abc", "0", "99"]),
    "book ticker": (["2"], ["", "KXNOPE-26DEC31-X", "!!"]),
    "book count": (["2", TICK], ["abc", "-1", "0", "1.234"]),
    "event ticker": (["1", "e"], ["", "a b"]),
    "popular pick": (["1", "p"], ["abc", "0", "99"]),
    "history from": (["6"], ["21/11/2026", "abc"]),
    "history to": (["6", ""], ["abc", "2026-02-30"]),
    "history ticker": (["6", "", "", ], ["bad ticker!"]),
    "history type": (["6", "", "", ""], ["trade", "fills"]),
}


@pytest.mark.parametrize("prompt", list(OTHER_PROMPTS))
def test_other_prompts_reject_bad_input(config, prompt: str) -> None:
    reach, bad = OTHER_PROMPTS[prompt]
    out = drive(config, "\n".join([*reach, *bad]) + "\n")
    assert len(errors_in(out)) == len(bad), out
    assert "Traceback" not in out


def test_export_to_a_missing_folder_a_folder_or_a_non_csv_name_is_refused(config, tmp_path: Path) -> None:
    out = drive(config, "\n".join(["6", "", "", "", "", str(tmp_path / "nope" / "x.csv"),
                                   str(tmp_path), "y", "history"]) + "\n")
    assert len(errors_in(out)) == 4
    assert not (tmp_path / "nope").exists() and not (tmp_path / "y").exists()


@pytest.mark.parametrize("stop_after", [0, 1, 3, 5])
def test_end_of_input_anywhere_exits_cleanly(config, exchange, stop_after: int) -> None:
    answers = ["3", TICK, "b", "y", "10", "0.30"][:stop_after + 1]
    out = drive(config, "\n".join(answers))  # no final newline: end of input mid-line
    assert out.rstrip().endswith("Bye.")
    assert orders_on(exchange, TICK) == []


def test_export_replace_confirmation_rejects_bad_answers_and_keeps_the_file(config, tmp_path: Path) -> None:
    config.log_dir.mkdir(parents=True, exist_ok=True)   # a relative name lands in the export folder
    (config.log_dir / "old.csv").write_text("keep me\n")
    out = drive(config, "\n".join(["6", "", "", "", "", "old.csv", "maybe", "2"]) + "\n")
    assert len(errors_in(out)) == 2, out
    assert (config.log_dir / "old.csv").read_text() == "keep me\n"


def test_order_number_prompt_rejects_bad_input_and_cancels_nothing(tmp_path: Path) -> None:
    names = ["pick1", "pick2"]
    with start_paper_exchange(tmp_path / "exchange", universe=make_universe(names)) as running:
        config = config_for(running, tmp_path)
        for name in names:
            drive(config, "\n".join(["3", ticker(name), "b", "y", "2", "0.20", "", "", "", "", "y", "0"]) + "\n")
        before = journal(config)
        out = drive(config, "\n".join(["4", "c", "abc", "0", "3", "-1", "1.5", ""]) + "\n")
        assert len(errors_in(out)) == 5, out
        assert all(o["status"] == "resting" for name in names for o in orders_on(running, ticker(name)))
        assert journal(config) == before


def test_export_to_a_path_that_cannot_be_written_is_one_line_and_the_menu_goes_on(config, tmp_path: Path) -> None:
    config.log_dir.mkdir(parents=True, exist_ok=True)   # a relative name lands in the export folder
    (config.log_dir / "a-file").write_text("not a folder")
    out = drive(config, "\n".join(["6", "", "", "", "", "a-file/x.csv", "8"]) + "\n")
    (line,) = errors_in(out)
    assert f"cannot write {config.log_dir.resolve() / 'a-file' / 'x.csv'}" in line and "unexpected" not in line
    assert "Settings (read-only" in out
    assert (config.log_dir / "a-file").read_text() == "not a folder"
