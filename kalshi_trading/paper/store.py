"""Durable state of the paper exchange: one SQLite file in WAL mode, one transaction per API write.

The engine keeps everything in memory and writes what a request changed at its end, inside one
`with store.transaction():` block, so a crash (even kill -9) leaves either all of a request or
none of it. Records are stored as JSON text next to the few columns we look them up by; money
inside is Decimal written as strings. `Store(":memory:")` keeps the same code path without a
file (fast tests); `NullStore` writes nothing at all (benchmarks of the engine alone).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import ConfigError

__all__ = ["Store", "NullStore", "LoadedState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (user_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
    user_id TEXT NOT NULL, ticker TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,
    ahead INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE TABLE IF NOT EXISTS fills (fill_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
    user_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (user_id TEXT NOT NULL, ticker TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (user_id, ticker));
CREATE TABLE IF NOT EXISTS settlements (seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL,
    ticker TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trades (trade_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settled (ticker TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS books (ticker TEXT PRIMARY KEY, body TEXT NOT NULL);
"""


def _dump(body: dict) -> str:
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


class LoadedState:
    """Everything a restarted engine reads back, each list in insertion order."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict] = {}
        self.orders: list[dict] = []
        self.fills: list[tuple[str, dict]] = []        # (user_id, Fill JSON)
        self.positions: list[dict] = []
        self.settlements: list[tuple[str, dict]] = []  # (user_id, Settlement JSON)
        self.trades: list[dict] = []
        self.settled: dict[str, dict] = {}
        self.books: dict[str, dict] = {}    # ticker -> {"bids": [[price_cc, count_ct]...], "asks": [...]}
        self.max_seq = 0


class Store:
    """SQLite persistence; `path` is a file (WAL, synchronous=NORMAL) or ":memory:"."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            # a damaged or foreign file: one line that says what to do, not a traceback
            self._conn.close()
            raise ConfigError(f"the paper state file {self.path} cannot be used ({exc}); move it "
                              "away or run `python -m kalshi_trading paper-reset` to start a fresh "
                              "paper account") from None
        self._depth = 0

    # ------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write; nested uses join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def _exec(self, sql: str, args: tuple) -> None:
        with self._lock:
            self._conn.execute(sql, args)

    # ------------------------------------------------------------ writes
    def put_account(self, user_id: str, body: dict) -> None:
        self._exec("INSERT OR REPLACE INTO accounts VALUES (?, ?)", (user_id, _dump(body)))

    def put_order(self, body: dict) -> None:
        self._exec("INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (body["order_id"], body["seq"], body["user_id"], body["ticker"], body["status"],
                    _dump(body), body["ahead_ct"]))

    def put_order_queue(self, order_id: str, ahead_ct: int) -> None:
        """Only the queue-ahead of a resting order moved (the cheap, frequent update)."""
        self._exec("UPDATE orders SET ahead = ? WHERE order_id = ?", (ahead_ct, order_id))

    def put_fill(self, seq: int, user_id: str, body: dict) -> None:
        self._exec("INSERT INTO fills VALUES (?, ?, ?, ?)", (body["fill_id"], seq, user_id, _dump(body)))

    def put_position(self, user_id: str, ticker: str, body: dict | None) -> None:
        """Upsert a position, or delete it when `body` is None (settled)."""
        if body is None:
            self._exec("DELETE FROM positions WHERE user_id = ? AND ticker = ?", (user_id, ticker))
        else:
            self._exec("INSERT OR REPLACE INTO positions VALUES (?, ?, ?)", (user_id, ticker, _dump(body)))

    def put_settlement(self, seq: int, user_id: str, body: dict) -> None:
        self._exec("INSERT INTO settlements VALUES (?, ?, ?, ?)", (seq, user_id, body["ticker"], _dump(body)))

    def put_trade(self, seq: int, body: dict) -> None:
        self._exec("INSERT INTO trades VALUES (?, ?, ?)", (body["trade_id"], seq, _dump(body)))

    def put_settled(self, ticker: str, body: dict) -> None:
        self._exec("INSERT OR REPLACE INTO settled VALUES (?, ?)", (ticker, _dump(body)))

    def put_book(self, ticker: str, body: dict) -> None:
        """The crowd's current levels of a market (what users have not yet consumed)."""
        self._exec("INSERT OR REPLACE INTO books VALUES (?, ?)", (ticker, _dump(body)))

    # ------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        """A value from the key/value table (e.g. `replay_start`), or None."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a key; joins the current transaction if one is open, else commits on its own."""
        self._exec("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------ reads
    def load(self) -> LoadedState:
        """Every stored record, for a restarting engine."""
        state = LoadedState()
        with self._lock:
            q = self._conn.execute
            state.accounts = {uid: json.loads(b) for uid, b in q("SELECT user_id, body FROM accounts")}
            state.orders = [{**json.loads(b), "ahead_ct": ahead}
                            for b, ahead in q("SELECT body, ahead FROM orders ORDER BY seq")]
            state.fills = [(u, json.loads(b)) for u, b in q("SELECT user_id, body FROM fills ORDER BY seq")]
            state.positions = [json.loads(b) for (b,) in q("SELECT body FROM positions")]
            state.settlements = [(u, json.loads(b))
                                 for u, b in q("SELECT user_id, body FROM settlements ORDER BY seq")]
            state.trades = [json.loads(b) for (b,) in q("SELECT body FROM trades ORDER BY seq")]
            state.settled = {t: json.loads(b) for t, b in q("SELECT ticker, body FROM settled")}
            state.books = {t: json.loads(b) for t, b in q("SELECT ticker, body FROM books")}
            state.max_seq = max(q(f"SELECT COALESCE(MAX(seq), 0) FROM {table}").fetchone()[0]
                                for table in ("orders", "fills", "settlements", "trades"))
        return state

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class NullStore(Store):
    """Keeps nothing: for benchmarks of the engine without SQLite. Meta lives in a dict."""

    def __init__(self) -> None:  # no connection on purpose
        self.path = ""
        self._meta: dict[str, str] = {}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def _exec(self, sql: str, args: tuple) -> None:
        return None

    def put_account(self, user_id: str, body: dict) -> None:
        return None

    def put_order(self, body: dict) -> None:
        return None

    def put_order_queue(self, order_id: str, ahead_ct: int) -> None:
        return None

    def put_fill(self, seq: int, user_id: str, body: dict) -> None:
        return None

    def put_position(self, user_id: str, ticker: str, body: dict | None) -> None:
        return None

    def put_settlement(self, seq: int, user_id: str, body: dict) -> None:
        return None

    def put_trade(self, seq: int, body: dict) -> None:
        return None

    def put_settled(self, ticker: str, body: dict) -> None:
        return None

    def put_book(self, ticker: str, body: dict) -> None:
        return None

    def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value

    def load(self) -> LoadedState:
        return LoadedState()

    def close(self) -> None:
        return None
