"""A process appending to the audit trail is SIGKILLed; the trail still reads, grows and exports."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kalshi_trading.trade_logger import TradeLogger
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent

WRITER = """
import sys
from decimal import Decimal
from kalshi_trading.trade_logger import TradeLogger
logger = TradeLogger(sys.argv[1])
pad = "x" * int(sys.argv[2])
seq = 0
while True:
    logger.record("submission", ticker="KXCRASH-A", count_fp=Decimal("1.00"),
                  client_order_id=f"cid-{seq}", message=f"{seq} {pad}")
    seq += 1
"""

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def kill_while_writing(log_dir: Path, pad: int, min_lines: int) -> int:
    """Start the writer, wait until the file holds `min_lines` records, SIGKILL it while it is
    still writing; returns how many records the file held just before the kill."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(log_dir), str(pad)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    path = log_dir / "trades.jsonl"

    def lines_written() -> int:
        assert proc.poll() is None, proc.stderr.read().decode()   # the writer never stops by itself
        return path.read_bytes().count(b"\n") if path.exists() else 0

    try:
        wait_until(lambda: lines_written() >= min_lines, 30, f"the writer to write {min_lines} records")
        before_kill = lines_written()        # and it is alive, so the kill lands mid-write
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL    # killed, not ended some other way
    return before_kill


def sequence_numbers(records: list[dict]) -> list[int]:
    return [int(r["message"].split(" ", 1)[0]) for r in records]


@pytest.mark.parametrize("pad", [0, 20_000])
def test_records_survive_sigkill_in_order_without_holes(tmp_path: Path, pad: int) -> None:
    seen = kill_while_writing(tmp_path, pad, min_lines=40)
    with TradeLogger(tmp_path) as logger:
        records = logger.query()
        seqs = sequence_numbers(records)
        assert len(seqs) >= seen >= 40 and seqs == list(range(len(seqs)))   # nothing seen was lost
        logger.record("cancellation", ticker="KXCRASH-A", message="after the crash")
        assert logger.query()[-1]["message"] == "after the crash"
        assert logger.export_csv(tmp_path / "out.csv") == len(records) + 1
    with open(tmp_path / "out.csv", newline="") as handle:
        assert len(list(csv.reader(handle))) == len(records) + 2


def test_torn_line_after_sigkill_is_skipped_and_appends_stay_valid(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seen = kill_while_writing(tmp_path, 200, min_lines=20)
    path = tmp_path / "trades.jsonl"
    assert path.read_bytes().count(b"\n") >= seen
    # A kill rarely lands inside write(2); cut the last record to make the tear certain.
    with open(path, "r+b") as raw:
        raw.truncate(os.path.getsize(path) - 37)
    complete = path.read_bytes().count(b"\n")
    with caplog.at_level(logging.WARNING, logger="kalshi_trading.trade_logger"):
        with TradeLogger(tmp_path) as logger:
            logger.record("error", ticker="KXCRASH-A", message="next")
            records = logger.query()
            assert logger.export_csv(tmp_path / "out.csv") == complete + 1
    assert "unreadable" in caplog.text
    assert sequence_numbers(records[:-1]) == list(range(complete))
    assert records[-1]["message"] == "next"
    last_line = path.read_text().splitlines()[-1]
    assert json.loads(last_line)["message"] == "next"
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
