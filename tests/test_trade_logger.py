"""TradeLogger: what lands on disk, what queries and exports return, rotation and retention."""

from __future__ import annotations

import csv
import json
import logging
import os
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from kalshi_trading.errors import UserInputError
from kalshi_trading.models import Fill
from kalshi_trading.order_request import Action, BookSide, OutcomeSide
from kalshi_trading.trade_logger import CSV_COLUMNS, TradeLogger

T0 = datetime(2026, 11, 21, 10, 0, 0, tzinfo=timezone.utc)


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_fill(fill_id: str, *, order_id: str = "ord-1", ticker: str = "KXTEST-A",
              side: str = "bid", price: str = "0.4200", count: str = "3.00",
              when: str = "2026-11-21T09:59:00Z", fee: str = "0.0500") -> Fill:
    return Fill.from_api({"fill_id": fill_id, "order_id": order_id, "ticker": ticker,
                          "book_side": side, "count_fp": count, "yes_price_dollars": price,
                          "is_taker": True, "fee_cost": fee, "created_time": when})


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tlog(tmp_path: Path, clock: Clock):
    with TradeLogger(tmp_path / "logs", clock=clock) as logger:
        yield logger


def test_record_is_one_sorted_compact_json_line_on_disk_before_close(tlog: TradeLogger) -> None:
    tlog.record("submission", ticker="KXTEST-A", outcome_side=OutcomeSide.NO, action=Action.BUY,
                count_fp=Decimal("10.00"), yes_price_dollars=Decimal("0.6300"), status="sending")
    [line] = lines(tlog.log_dir / "trades.jsonl")
    rec = json.loads(line)
    assert line == json.dumps(rec, sort_keys=True, separators=(",", ":"))
    assert rec["created_time"] == "2026-11-21T10:00:00.000Z"
    assert rec["outcome_side"] == "no" and rec["count_fp"] == "10.00"
    assert rec["yes_price_dollars"] == "0.6300"


def test_record_leaves_out_none_fields(tlog: TradeLogger) -> None:
    rec = tlog.record("cancellation", order_id="o1", message=None)
    assert "message" not in rec


def test_record_refuses_float_money(tlog: TradeLogger) -> None:
    with pytest.raises(TypeError, match="Decimal"):
        tlog.record("fill", yes_price_dollars=0.42)
    assert not (tlog.log_dir / "trades.jsonl").exists()


def test_record_refuses_unknown_event_type(tlog: TradeLogger) -> None:
    with pytest.raises(ValueError):
        tlog.record("deposit", ticker="X")


def test_import_fills_skips_fills_already_logged(tlog: TradeLogger) -> None:
    assert tlog.import_fills([make_fill("f1"), make_fill("f2"), make_fill("f1")]) == 2
    assert tlog.import_fills([make_fill("f2"), make_fill("f3")]) == 1
    assert [r["fill_id"] for r in tlog.query(event_types="fill")] == ["f1", "f2", "f3"]


def test_import_fills_deduplicates_across_restarts(tmp_path: Path, clock: Clock) -> None:
    with TradeLogger(tmp_path, clock=clock) as first:
        first.import_fills([make_fill("f1")])
    with TradeLogger(tmp_path, clock=clock) as second:
        assert second.import_fills([make_fill("f1"), make_fill("f2")]) == 1
        assert len(second.query(event_types=["fill"])) == 2


def test_fill_keeps_exchange_time_and_exact_values(tlog: TradeLogger) -> None:
    tlog.import_fills([make_fill("f1", price="0.4235", count="2.50", fee="0.0179")])
    [rec] = tlog.query()
    assert rec["created_time"] == "2026-11-21T09:59:00.000Z"
    assert (rec["yes_price_dollars"], rec["no_price_dollars"]) == ("0.4235", "0.5765")
    assert (rec["count_fp"], rec["fee_cost"], rec["book_side"]) == ("2.50", "0.0179", "bid")


def test_fill_is_described_in_the_submitted_orders_terms(tlog: TradeLogger) -> None:
    # "sell YES" is an ask on the book; its fill must not read as "buy NO" in the history.
    tlog.record("submission", order_id="ord-9", ticker="KXTEST-A", outcome_side="yes",
                action="sell", book_side=BookSide.ASK, status="resting")
    tlog.import_fills([make_fill("f1", order_id="ord-9", side="ask")])
    [fill] = tlog.query(event_types="fill")
    assert (fill["outcome_side"], fill["action"]) == ("yes", "sell")


def test_fill_of_an_unknown_order_reads_its_book_side_as_a_buy(tlog: TradeLogger) -> None:
    tlog.import_fills([make_fill("f1", order_id="elsewhere", side="ask")])
    [fill] = tlog.query()
    assert (fill["outcome_side"], fill["action"]) == ("no", "buy")


def test_query_filters_by_ticker_case_insensitively(tlog: TradeLogger) -> None:
    tlog.record("submission", ticker="KXTEST-A")
    tlog.record("submission", ticker="KXTEST-B")
    assert [r["ticker"] for r in tlog.query(ticker="kxtest-b")] == ["KXTEST-B"]


def test_query_filters_by_event_types(tlog: TradeLogger) -> None:
    for kind in ("submission", "cancellation", "amend", "error"):
        tlog.record(kind, ticker="KXTEST-A")
    assert [r["event_type"] for r in tlog.query(event_types=["error", "amend"])] == ["amend", "error"]


def test_query_rejects_unknown_event_type_with_one_line(tlog: TradeLogger) -> None:
    with pytest.raises(UserInputError, match="event type must be one of"):
        tlog.query(event_types="deposit")


def test_query_date_range_start_inclusive_end_exclusive_and_naive_is_utc(tlog: TradeLogger,
                                                                         clock: Clock) -> None:
    for hour in (8, 9, 10):
        clock.now = T0.replace(hour=hour)
        tlog.record("submission", ticker="KXTEST-A", message=f"h{hour}")
    got = tlog.query(start=datetime(2026, 11, 21, 9), end=datetime(2026, 11, 21, 10))
    assert [r["message"] for r in got] == ["h9"]
    eastern = timezone(timedelta(hours=-5))
    got = tlog.query(start=datetime(2026, 11, 21, 4, tzinfo=eastern))  # 09:00Z
    assert [r["message"] for r in got] == ["h9", "h10"]


def test_query_with_a_date_end_includes_that_whole_day(tlog: TradeLogger, clock: Clock) -> None:
    clock.now = T0.replace(hour=23, minute=59)
    tlog.record("submission", ticker="KXTEST-A")
    assert len(tlog.query(start=date(2026, 11, 21), end=date(2026, 11, 21))) == 1
    assert tlog.query(end=date(2026, 11, 20)) == []


def test_query_returns_records_in_created_time_order(tlog: TradeLogger) -> None:
    tlog.record("submission", ticker="KXTEST-A", order_id="ord-1")        # 10:00
    tlog.import_fills([make_fill("f1", when="2026-11-21T09:30:00Z")])     # traded earlier
    assert [r["event_type"] for r in tlog.query()] == ["fill", "submission"]


def test_torn_last_line_is_skipped_with_a_warning_and_next_record_starts_fresh(
        tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    with TradeLogger(tmp_path, clock=clock) as logger:
        logger.record("submission", ticker="KXTEST-A", message="kept")
    with open(tmp_path / "trades.jsonl", "ab") as raw:
        raw.write(b'{"event_type":"submission","tick')          # a crash mid-write
    with caplog.at_level(logging.WARNING, logger="kalshi_trading.trade_logger"):
        with TradeLogger(tmp_path, clock=clock) as logger:
            logger.record("cancellation", ticker="KXTEST-A", message="after")
            assert [r["message"] for r in logger.query()] == ["kept", "after"]
    assert "line 2 is unreadable" in caplog.text
    text = lines(tmp_path / "trades.jsonl")
    assert len(text) == 3 and json.loads(text[2])["message"] == "after"


def test_new_day_rotates_jsonl_and_queries_read_every_file(tlog: TradeLogger, clock: Clock) -> None:
    tlog.record("submission", ticker="KXTEST-A", message="day1")
    clock.now = T0 + timedelta(days=1)
    tlog.record("submission", ticker="KXTEST-A", message="day2")
    old = tlog.log_dir / "trades-2026-11-21.jsonl"
    assert [json.loads(x)["message"] for x in lines(old)] == ["day1"]
    assert [json.loads(x)["message"] for x in lines(tlog.log_dir / "trades.jsonl")] == ["day2"]
    assert [r["message"] for r in tlog.query()] == ["day1", "day2"]


def test_restart_on_a_later_day_rotates_yesterdays_file(tmp_path: Path, clock: Clock) -> None:
    with TradeLogger(tmp_path, clock=clock) as logger:
        logger.import_fills([make_fill("f1")])
    clock.now = T0 + timedelta(days=1)
    with TradeLogger(tmp_path, clock=clock) as logger:
        assert logger.import_fills([make_fill("f1"), make_fill("f2")]) == 1
        assert (tmp_path / "trades-2026-11-21.jsonl").exists()
        assert [r["fill_id"] for r in logger.query()] == ["f1", "f2"]


@pytest.mark.parametrize("name, age_days, kept", [
    ("trades-{d}.jsonl", 29, True),
    ("trades-{d}.jsonl", 31, False),
    ("trades.log.{d}", 31, False),
    ("errors.log.{d}", 89, True),
    ("errors.log.{d}", 91, False),
    ("notes-{d}.txt", 400, True),
])
def test_start_up_deletes_files_past_retention(tmp_path: Path, clock: Clock, name: str,
                                               age_days: int, kept: bool) -> None:
    path = tmp_path / name.format(d=(T0.date() - timedelta(days=age_days)).isoformat())
    path.write_text("{}\n")
    TradeLogger(tmp_path, clock=clock).close()
    assert path.exists() is kept


def test_trades_log_is_human_and_errors_log_has_only_errors(tlog: TradeLogger) -> None:
    tlog.record("submission", ticker="KXTEST-A", action="buy", outcome_side="no",
                count_fp="10.00", yes_price_dollars="0.6300", status="sending")
    tlog.record("error", ticker="KXTEST-A", message="HTTP 409 [market_closed] market closed")
    trades = (tlog.log_dir / "trades.log").read_text()
    errors = (tlog.log_dir / "errors.log").read_text()
    assert "SUBMISSION KXTEST-A buy NO 10.00 @ 0.3700 (yes 0.6300) status=sending" in trades
    assert "market_closed" in trades and "market_closed" in errors
    assert "SUBMISSION" not in errors


def test_human_log_rotates_at_midnight_utc(tmp_path: Path, clock: Clock) -> None:
    stale = tmp_path / "trades.log"
    stale.write_text("old line\n")
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).timestamp()
    os.utime(stale, (two_days_ago, two_days_ago))
    with TradeLogger(tmp_path, clock=clock) as logger:
        logger.record("submission", ticker="KXTEST-A")
    day = datetime.fromtimestamp(two_days_ago, timezone.utc).date().isoformat()
    assert (tmp_path / f"trades.log.{day}").read_text() == "old line\n"
    assert "SUBMISSION" in stale.read_text()


def test_export_csv_has_exact_columns_and_the_filtered_rows(tlog: TradeLogger, tmp_path: Path) -> None:
    tlog.record("submission", ticker="KXTEST-A", outcome_side="no", action="buy",
                book_side="ask", count_fp="10.00", yes_price_dollars="0.6300",
                no_price_dollars="0.3700", client_order_id="cid-1", status="sending")
    tlog.import_fills([make_fill("f1", ticker="KXTEST-B")])
    target = tmp_path / "out" / "history.csv"
    assert tlog.export_csv(target, ticker="KXTEST-A") == 1
    with open(target, newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0] == ["created_time", "event_type", "ticker", "outcome_side", "book_side",
                       "action", "count_fp", "price_dollars", "yes_price_dollars", "no_price_dollars",
                       "fee_cost", "cash_change_dollars", "order_status", "fill_count_fp",
                       "remaining_count_fp", "market_result", "revenue_dollars", "fees_paid_dollars",
                       "order_id", "client_order_id", "fill_id", "status", "message"]
    row = dict(zip(rows[0], rows[1]))
    assert len(rows) == 2
    assert row["client_order_id"] == "cid-1" and row["no_price_dollars"] == "0.3700"
    assert row["fill_id"] == "" and row["created_time"] == "2026-11-21T10:00:00.000Z"


def test_export_csv_replaces_an_existing_file_whole(tlog: TradeLogger, tmp_path: Path) -> None:
    target = tmp_path / "history.csv"
    target.write_text("stale\n" * 100)
    tlog.record("error", ticker="KXTEST-A", message="boom")
    assert tlog.export_csv(target) == 1
    assert "stale" not in target.read_text()


def test_failed_export_leaves_no_temp_file(tlog: TradeLogger, tmp_path: Path) -> None:
    target = tmp_path / "history.csv"
    target.mkdir()                      # os.replace onto a directory fails
    tlog.record("error", ticker="KXTEST-A", message="boom")
    with pytest.raises(OSError):
        tlog.export_csv(target)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".history")] == []


def test_export_quotes_cells_a_spreadsheet_would_run(tlog: TradeLogger, tmp_path: Path) -> None:
    tlog.record("error", ticker="KXTEST-A", message="=HYPERLINK(\"x\")")
    tlog.export_csv(tmp_path / "h.csv")
    with open(tmp_path / "h.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["message"] == "'=HYPERLINK(\"x\")"


def test_a_multi_line_message_stays_one_line_in_the_human_log(tlog: TradeLogger) -> None:
    tlog.record("error", ticker="KXTEST-A", message="first\nsecond")
    assert lines(tlog.log_dir / "errors.log") == [
        "2026-11-21T10:00:00.000Z ERROR KXTEST-A - first second"]
    assert tlog.query()[0]["message"] == "first\nsecond"


def test_submissions_without_an_outcome_stay_unanswered_across_restarts(tmp_path: Path, clock: Clock) -> None:
    with TradeLogger(tmp_path / "logs", clock=clock) as logger:
        for coid in ("c-placed", "c-rejected", "c-unknown", "c-crash", "c-never", "c-cancel"):
            logger.record("submission", ticker="KXTEST-A", client_order_id=coid, status="sending")
        logger.record("submission", ticker="KXTEST-A", client_order_id="c-placed", order_id="o1",
                      status="resting")
        logger.record("error", ticker="KXTEST-A", client_order_id="c-rejected", status="rejected")
        logger.record("error", ticker="KXTEST-A", client_order_id="c-unknown", status="unknown")
        logger.record("error", ticker="KXTEST-A", client_order_id="c-never", status="not_sent")
        # a failed cancel of some placed order names its order id: it settles no submission
        logger.record("error", ticker="KXTEST-A", client_order_id="c-cancel", order_id="o9",
                      status="rejected")
    with TradeLogger(tmp_path / "logs", clock=clock) as again:
        assert [r["client_order_id"] for r in again.unanswered_submissions()] == [
            "c-unknown", "c-crash", "c-cancel"]
        assert again.unanswered_submissions("KXTEST-B") == []
        again.record("error", ticker="KXTEST-A", client_order_id="c-crash", status="not_placed")
        assert [r["client_order_id"] for r in again.unanswered_submissions("KXTEST-A")] == [
            "c-unknown", "c-cancel"]


def test_every_record_is_fsynced_before_record_returns(tlog: TradeLogger, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    for n in range(1, 4):
        tlog.record("submission", ticker="KXTEST-A", client_order_id=f"c{n}", status="sending")
        assert synced.count(tlog._journal._fh.fileno()) == n


def test_two_apps_sharing_a_log_folder_log_each_fill_once(tmp_path: Path, clock: Clock) -> None:
    """Two terminals with the same KALSHI_LOG_DIR: what one imported, the other does not repeat,
    and an order one of them left unanswered is looked up by the other too."""
    with TradeLogger(tmp_path, clock=clock) as first, TradeLogger(tmp_path, clock=clock) as second:
        assert second.import_fills([make_fill("f1")]) == 1
        assert first.import_fills([make_fill("f1"), make_fill("f2")]) == 1
        assert second.import_fills([make_fill("f2")]) == 0 and second.known_fill("f2")
        second.record("submission", ticker="KXTEST-A", client_order_id="c-lost", status="sending")
        assert [r["client_order_id"] for r in first.unanswered_submissions()] == ["c-lost"]
        first.record("error", ticker="KXTEST-A", client_order_id="c-lost", status="not_placed")
        assert second.unanswered_submissions() == []
        assert [r["fill_id"] for r in first.query(event_types="fill")] == ["f1", "f2"]


def test_two_apps_sharing_a_log_folder_rotate_it_once(tmp_path: Path, clock: Clock) -> None:
    with TradeLogger(tmp_path, clock=clock) as first, TradeLogger(tmp_path, clock=clock) as second:
        first.record("submission", ticker="KXTEST-A", message="day1 first")
        second.record("submission", ticker="KXTEST-A", message="day1 second")
        clock.now = T0 + timedelta(days=1)
        first.record("submission", ticker="KXTEST-A", message="day2 first")
        second.record("submission", ticker="KXTEST-A", message="day2 second")
        first.import_fills([make_fill("f9", when="2026-11-22T10:00:00Z")])
        assert second.import_fills([make_fill("f9", when="2026-11-22T10:00:00Z")]) == 0
    assert sorted(p.name for p in tmp_path.glob("trades*.jsonl")) == ["trades-2026-11-21.jsonl", "trades.jsonl"]
    day1 = [json.loads(x)["message"] for x in lines(tmp_path / "trades-2026-11-21.jsonl")]
    day2 = [json.loads(x).get("message", "fill") for x in lines(tmp_path / "trades.jsonl")]
    assert day1 == ["day1 first", "day1 second"] and day2 == ["day2 first", "day2 second", "fill"]
