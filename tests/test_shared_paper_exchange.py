"""One embedded paper exchange shared by several app processes on one paper folder, with REAL
subprocesses: the menu open in one terminal and subcommands in another trade on the same account;
the last process to leave stops the exchange; a killed one leaves state the next start recognises;
processes starting at once end with one exchange. Every wait is bounded (tests/waiting.py).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cli_harness import app_environ
from waiting import read_line, wait_until

from kalshi_trading.paper.cli import paper_reset_main
from kalshi_trading.paper.leases import Lease, live_leases, process_alive
from kalshi_trading.paper.shared_exchange import (IDLE_STOP_S, RECORD_FILE, START_LOCK, ExchangeRecord,
                                                  SharedExchange, attach_or_start, published_account_id)

TIMEOUT = 60


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No .env, no KALSHI_* but the paper and log folders of this test."""
    return app_environ(tmp_path)


@pytest.fixture(autouse=True)
def _no_process_left(request: pytest.FixtureRequest, tmp_path: Path):
    """Whatever a test started (menus, or the exchange they share) is gone when it ends."""
    started: list[subprocess.Popen] = []
    request.node.started = started
    yield
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    record = ExchangeRecord.read(tmp_path / "paper")
    if record is not None and record.alive():
        os.kill(record.pid, signal.SIGKILL)


def run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    """One subcommand in its own process."""
    return subprocess.run([sys.executable, "-m", "kalshi_trading", *argv], capture_output=True, text=True,
                          timeout=TIMEOUT, env=env, cwd=Path(env["KALSHI_LOG_DIR"]).parent)


def ok_json(env: dict[str, str], *argv: str) -> dict:
    done = run(env, *argv, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def open_menu(request: pytest.FixtureRequest, env: dict[str, str]) -> tuple[subprocess.Popen, list[str]]:
    """The menu in its own process, stdin a pipe kept open; returns it and its banner (up to the
    balance line)."""
    proc = subprocess.Popen([sys.executable, "-m", "kalshi_trading"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=Path(env["KALSHI_LOG_DIR"]).parent)
    request.node.started.append(proc)
    return proc, read_until(proc, "Balance: $", "the menu's banner")


def read_until(proc: subprocess.Popen, needle: str, what: str, *, lines: int = 400) -> list[str]:
    """The lines `proc` prints up to and including the first one holding `needle`."""
    seen: list[str] = []
    for _ in range(lines):
        seen.append(str(read_line(proc, TIMEOUT, what)))
        if needle in seen[-1]:
            return seen
    pytest.fail(f"{what}: {needle!r} not among {lines} lines: {''.join(seen)[-2000:]}")


def leave(proc: subprocess.Popen) -> str:
    """Choose Exit; returns what the menu printed meanwhile, after checking it exited 0."""
    out, err = proc.communicate("0\n", timeout=TIMEOUT)
    assert proc.returncode == 0, err
    return out


def banner_says(banner: list[str]) -> str:
    """The banner's words on one line (a narrow terminal wraps long lines)."""
    return " ".join(" ".join(banner).split())


def paper_dir(env: dict[str, str]) -> Path:
    return Path(env["KALSHI_PAPER_DIR"])


def served(env: dict[str, str]) -> ExchangeRecord:
    record = ExchangeRecord.read(paper_dir(env))
    assert record is not None and record.alive(), "an exchange should be serving"
    return record


def port_refuses(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def leases(env: dict[str, str]) -> list[str]:
    folder = paper_dir(env) / "leases"
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def gone(record: ExchangeRecord, env: dict[str, str]) -> bool:
    """The exchange's process is no longer alive, its port refuses, and its files are cleaned."""
    return (not process_alive(record.pid, record.pid_start) and port_refuses(record.url)
            and not (paper_dir(env) / RECORD_FILE).exists() and leases(env) == [])


def exchange_processes(env: dict[str, str]) -> list[int]:
    """Every running `paper-server` process on this test's paper folder (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or not process_alive(int(entry)):
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"paper-server" in argv and str(paper_dir(env).resolve()).encode() in argv:
            found.append(int(entry))
    return found


def resting_market(env: dict[str, str]) -> str:
    """An open market that stays open longest (the bundled replay closes 15-minute markets)."""
    markets = ok_json(env, "markets", "--status", "open", "--limit", "50")["markets"]
    assert markets, "the bundled replay should have an open market"
    return max(markets, key=lambda m: m["close_time"])["ticker"]


# --- (a) the menu and subcommands on one account ---------------------------------------------------

def test_subcommands_run_while_the_menu_is_open_and_the_menu_sees_their_order(request, env) -> None:
    menu, banner = open_menu(request, env)
    assert "started by this session" in banner_says(banner)
    assert ok_json(env, "balance")["balance_dollars"] == "1000.0000"
    tick = resting_market(env)
    placed = ok_json(env, "order", "--ticker", tick, "--side", "yes", "--action", "buy", "--count", "1",
                     "--price", "0.01", "--tif", "gtc", "--yes")["order"]
    assert placed["status"] == "resting"
    menu.stdin.write("4\n")          # open orders, read by the menu's own session
    menu.stdin.flush()
    screen = "".join(read_until(menu, tick, "the order in the menu's open orders"))
    assert "Open orders" in screen
    menu.stdin.write("\n")           # back to the menu
    leave(menu)


def test_a_second_menu_says_it_joined_the_exchange_the_first_one_started(request, env) -> None:
    first, banner = open_menu(request, env)
    second, joined = open_menu(request, env)
    pid = served(env).pid
    assert f"started by this session (pid {pid})" in banner_says(banner)
    assert f"joined, started by another session (pid {pid}; 1 other session on it)" in banner_says(joined)
    leave(first)
    assert served(env).pid == pid    # the second menu still uses it
    leave(second)


# --- (b) the last process to leave stops it -----------------------------------------------------------

def test_when_the_last_process_leaves_the_exchange_process_is_gone_and_its_files_cleaned(request, env) -> None:
    menu, _ = open_menu(request, env)
    record = served(env)
    assert ok_json(env, "balance")["balance"] == 100000      # joins and leaves: not the last one
    assert served(env) == record
    leave(menu)
    # the menu waited for the exchange to end before it exited: nothing left to wait for
    assert gone(record, env)
    assert exchange_processes(env) == []


def test_a_subcommand_alone_starts_the_exchange_and_stops_it_when_it_is_done(env) -> None:
    ok_json(env, "balance")
    assert ExchangeRecord.read(paper_dir(env)) is None and leases(env) == []
    assert exchange_processes(env) == []


# --- (c) a killed process -----------------------------------------------------------------------------

def test_a_killed_menu_and_exchange_leave_stale_files_that_the_next_start_replaces(request, env) -> None:
    menu, _ = open_menu(request, env)
    stale = served(env)
    menu.kill()
    os.kill(stale.pid, signal.SIGKILL)
    menu.wait(timeout=TIMEOUT)
    wait_until(lambda: not process_alive(stale.pid), TIMEOUT, "the killed exchange to die")
    assert ExchangeRecord.read(paper_dir(env)) == stale and len(leases(env)) == 1     # left behind
    fresh, banner = open_menu(request, env)
    record = served(env)
    assert record.pid != stale.pid and record.url != stale.url
    assert "started by this session" in banner_says(banner)
    assert len(leases(env)) == 1                              # the dead menu's lease was swept
    leave(fresh)
    assert gone(record, env)


def test_a_killed_menu_leaves_no_orphan_the_exchange_stops_by_itself(request, env) -> None:
    menu, _ = open_menu(request, env)
    record = served(env)
    menu.kill()
    menu.wait(timeout=TIMEOUT)
    wait_until(lambda: gone(record, env), IDLE_STOP_S + 20, "the unused exchange to stop by itself")


# --- (d) starting at once --------------------------------------------------------------------------

def test_four_processes_starting_at_once_end_with_one_exchange(request, env) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "kalshi_trading"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                              cwd=Path(env["KALSHI_LOG_DIR"]).parent) for _ in range(4)]
    request.node.started.extend(procs)
    banners = [banner_says(read_until(proc, "Balance: $", "a banner")) for proc in procs]
    record = served(env)
    assert sum("started by this session" in text for text in banners) == 1
    assert sum("joined, started by another session" in text for text in banners) == 3
    assert all(record.url in text for text in banners)
    assert exchange_processes(env) == [record.pid]
    for proc in procs:
        leave(proc)
    assert gone(record, env)


# --- a paper-server run by hand, and paper-reset while sessions are open --------------------------------

def test_sessions_join_a_paper_server_run_by_hand_and_leave_it_running(request, env) -> None:
    server = subprocess.Popen([sys.executable, "-m", "kalshi_trading", "paper-server", "--port", "0",
                               "--data-dir", str(paper_dir(env))], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    request.node.started.append(server)
    assert "Paper exchange serving at" in str(read_line(server, TIMEOUT, "the serving line"))
    record = served(env)
    assert record.pid == server.pid and not record.managed
    menu, banner = open_menu(request, env)
    assert f"joined the paper-server (pid {server.pid}); it runs on after you leave" in banner_says(banner)
    leave(menu)
    assert served(env) == record and not port_refuses(record.url)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=TIMEOUT) == 0
    assert ExchangeRecord.read(paper_dir(env)) is None and port_refuses(record.url)


def test_paper_reset_while_a_menu_is_open_names_it_and_deletes_nothing(request, env) -> None:
    menu, _ = open_menu(request, env)
    done = run(env, "paper-reset", "--yes")
    assert done.returncode == 1
    assert f"Error: the paper exchange on {paper_dir(env)} is in use by 1 open session (pid {menu.pid}); leave them first" in done.stdout
    assert "Nothing was deleted." in done.stdout and (paper_dir(env) / "paper.sqlite3").exists()
    leave(menu)


def test_paper_reset_deletes_nothing_when_a_session_starts_while_it_asks(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    attach_or_start(folder).leave()               # an account to reset
    opened: list[SharedExchange] = []

    class AnswerLater(io.StringIO):
        def readline(self, *args: object) -> str:  # a menu opens in another terminal meanwhile
            opened.append(attach_or_start(folder))
            return "y\n"

    out = io.StringIO()
    try:
        assert paper_reset_main(["--data-dir", str(folder)], stdin=AnswerLater(), stdout=out) == 1
    finally:
        for session in opened:
            session.leave()
    assert f"in use by 1 open session (pid {os.getpid()})" in out.getvalue()
    assert "Nothing was deleted." in out.getvalue() and (folder / "paper.sqlite3").exists()


# --- stale or broken files ------------------------------------------------------------------------------

def test_a_record_copied_with_its_paper_folder_is_stale_in_the_copy(tmp_path: Path) -> None:
    original, copy = tmp_path / "original", tmp_path / "copy"
    for folder in (original, copy):
        folder.mkdir()
    record = ExchangeRecord.publish(original, url="http://127.0.0.1:1/trade-api/v2", account_id="acct",
                                    managed=True, market_data="bundled")     # its pid (ours) lives
    shutil.copy(original / RECORD_FILE, copy / RECORD_FILE)
    assert ExchangeRecord.read(original) == record and record.alive()
    assert ExchangeRecord.read(copy) is None and published_account_id(copy, record.url) is None


def test_leaving_gives_up_the_lease_even_when_the_folder_lock_cannot_be_taken(tmp_path: Path) -> None:
    record = ExchangeRecord(url="http://127.0.0.1:1/trade-api/v2", pid=os.getpid(), pid_start=None,
                            account_id=None, managed=False, market_data="bundled", started_time="")
    session = SharedExchange(base_url=record.url, data_dir=tmp_path, record=record, started=False,
                             others=0, _lease=Lease.take(tmp_path))
    (tmp_path / START_LOCK).mkdir()               # os.open on it fails
    session.leave()
    assert live_leases(tmp_path) == []


def test_an_exchange_whose_paper_folder_was_deleted_stops_by_itself(request, env) -> None:
    menu, _ = open_menu(request, env)
    record = served(env)
    try:
        shutil.rmtree(paper_dir(env))             # `rm -rf` as a reset, with the menu still open
        leave(menu)
        wait_until(lambda: not process_alive(record.pid, record.pid_start), IDLE_STOP_S + 20,
                   "the exchange of a deleted folder to stop")
    finally:
        if process_alive(record.pid, record.pid_start):
            os.kill(record.pid, signal.SIGKILL)


def test_a_paper_folder_that_is_a_file_is_one_configuration_line(env) -> None:
    not_a_folder = paper_dir(env).with_name("paper-file")
    not_a_folder.write_text("")
    done = run({**env, "KALSHI_PAPER_DIR": str(not_a_folder)}, "balance")
    assert done.returncode == 1
    said = f"Error: configuration: the paper folder {not_a_folder.resolve()} cannot be used: File exists\n"
    assert done.stderr == said
