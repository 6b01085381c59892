"""A process appending to the audit trail is SIGKILLed; the trail still reads, grows and exports."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kalshi_trading.trade_logger import TradeLogger

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


def kill_while_writing(log_dir: Path, pad: int, min_lines: int) -> None:
    """Start the writer, wait until it has fsynced `min_lines` records, SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(log_dir), str(pad)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    path = log_dir / "trades.jsonl"
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            if path.exists() and path.read_bytes().count(b"\n") >= min_lines:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.01)
        else:
            pytest.fail("the writer never wrote enough records")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stderr.close()


def sequence_numbers(records: list[dict]) -> list[int]:
    return [int(r["message"].split(" ", 1)[0]) for r in records]


@pytest.mark.parametrize("pad", [0, 20_000])
def test_records_survive_sigkill_in_order_without_holes(tmp_path: Path, pad: int) -> None:
    kill_while_writing(tmp_path, pad, min_lines=40)
    with TradeLogger(tmp_path) as logger:
        records = logger.query()
        seqs = sequence_numbers(records)
        assert len(seqs) >= 40 and seqs == list(range(len(seqs)))
        logger.record("cancellation", ticker="KXCRASH-A", message="after the crash")
        assert logger.query()[-1]["message"] == "after the crash"
        assert logger.export_csv(tmp_path / "out.csv") == len(records) + 1
    with open(tmp_path / "out.csv", newline="") as handle:
        assert len(list(csv.reader(handle))) == len(records) + 2


def test_torn_line_after_sigkill_is_skipped_and_appends_stay_valid(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kill_while_writing(tmp_path, 200, min_lines=20)
    path = tmp_path / "trades.jsonl"
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
