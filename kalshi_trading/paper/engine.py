"""`PaperEngine`: the in-process Kalshi-compatible exchange the paper server calls.

It owns accounts, orders, positions, fills, settlements and every market's book, and answers in
today's wire shapes (JSON-ready dicts). Every public method takes `engine.lock`; every write is
validated first, then applied in memory, then persisted as ONE store transaction. If anything
fails after validation (a bug, a full disk), the transaction rolls back and the engine reloads
its whole state from the store, exactly as a restart would, so memory never runs ahead of disk.
Order writes live in trading.py, time and settlement in lifecycle.py, portfolio reads in
portfolio.py.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Callable

from ..errors import ExchangeRejection
from ..money import ZERO, fee_schedule
from ..timeutil import parse_iso, utc_now
from .accounts import Account
from .lifecycle import LifecycleMixin
from .markets import STATUS_FILTERS, MarketState, candlesticks
from .orders import RESTING, UserOrder, reject
from .portfolio import PortfolioMixin
from .store import Store
from .trading import TradingMixin
from .universe import MarketUniverse

__all__ = ["PaperEngine"]

logger = logging.getLogger(__name__)


class _Dirty:
    """What the current write changed, to be persisted in its one transaction."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.accounts: set[str] = set()
        self.orders: set[str] = set()
        self.positions: set[tuple[str, str]] = set()
        self.fills: list[tuple[int, str, dict]] = []
        self.settlements: list[tuple[int, str, dict]] = []
        self.trades: list[tuple[int, dict]] = []
        self.settled: dict[str, dict] = {}
        self.meta: dict[str, str] = {}
        self.markets: set[MarketState] = set()

    def __bool__(self) -> bool:
        return any((self.accounts, self.orders, self.positions, self.fills, self.settlements,
                    self.trades, self.settled, self.meta, self.markets))


def _waiver_until(waiver: object) -> float:
    """Unix seconds until which fees are waived; 0 when there is no (readable) waiver."""
    if not isinstance(waiver, str) or not waiver:
        return 0.0
    try:
        return parse_iso(waiver).timestamp()
    except ValueError:
        logger.warning("unreadable fee_waiver_expiration_time %r ignored", waiver)
        return 0.0


def _in_window(ts: float, min_ts: int | None, max_ts: int | None) -> bool:
    return (min_ts is None or ts >= min_ts) and (max_ts is None or ts <= max_ts)


class PaperEngine(TradingMixin, LifecycleMixin, PortfolioMixin):
    """Accounts, validation, matching, fees, positions and settlement for the paper exchange."""

    max_batch = 20   # basic tier; Kalshi raises it with the tier

    def __init__(self, universe: MarketUniverse, store: Store, *, clock: Callable[[], datetime] = utc_now,
                 starting_balance: Decimal = Decimal("1000.00"),
                 id_factory: Callable[[], str] | None = None) -> None:
        self.universe = universe
        self._store = store
        self._clock = clock
        self._starting_balance = Decimal(starting_balance)
        self._id_factory = id_factory or (lambda: str(uuid.uuid4()))
        self.lock = threading.RLock()
        self._fee_rules: dict[str, tuple[Decimal, Decimal, float]] = {}
        self.on_market_read: Callable[[str], None] | None = None  # live refresh: which books are wanted
        with self.lock:
            self._load_state()

    @property
    def store(self) -> Store:
        return self._store

    # ------------------------------------------------------------------ plumbing
    def _reset_memory(self) -> None:
        self.markets: dict[str, MarketState] = {}
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, UserOrder] = {}
        self._orders_by_user: dict[str, list[UserOrder]] = {}
        self._coids: dict[tuple[str, str], str] = {}
        self._resting: dict[tuple[str, str], dict[str, UserOrder]] = {}
        self._positions: dict = {}
        self.fills: dict[str, list[dict]] = {}
        self.settlements: dict[str, list[dict]] = {}
        self.settled: dict[str, dict] = {}
        self._expiries: list[tuple[int, str]] = []
        self._timeline_pos = 0
        self._seq = 0
        self._dirty = _Dirty()
        self._next_due_s = float("inf")

    def _write(self, fn: Callable, *args: object) -> dict:
        """Run one validated write and persist it in one transaction (see module docstring)."""
        with self.lock:
            now = self._clock()
            self._maybe_advance(now)
            self._dirty.clear()
            try:
                result = fn(*args, int(now.timestamp() * 1000))
                self._flush()
            except ExchangeRejection:
                if self._dirty:
                    self._recover()
                raise
            except BaseException:
                self._recover()
                raise
            return result

    def _maybe_advance(self, now: datetime) -> None:
        if now.timestamp() < self._next_due_s:
            return
        self._dirty.clear()
        try:
            self._advance_body(now)
            self._flush()
        except BaseException:
            self._recover()
            raise

    def _flush(self) -> None:
        dirty = self._dirty
        queue_moves: list[tuple[str, int]] = []
        for market in dirty.markets:
            for order_id in market.book.touched:
                resting, order = market.book.orders.get(order_id), self.orders.get(order_id)
                if resting is not None and order is not None and order.ahead_ct != resting.ahead_ct:
                    order.ahead_ct = resting.ahead_ct
                    if order_id not in dirty.orders:
                        queue_moves.append((order_id, resting.ahead_ct))
            market.book.touched.clear()
        if not dirty and not queue_moves:
            return
        store = self._store
        with store.transaction():
            for user_id in dirty.accounts:
                store.put_account(user_id, self.accounts[user_id].to_store())
            for order_id in dirty.orders:
                store.put_order(self.orders[order_id].to_store())
            for order_id, ahead_ct in queue_moves:
                store.put_order_queue(order_id, ahead_ct)
            for key in dirty.positions:
                position = self._positions.get(key)
                store.put_position(key[0], key[1], position.to_store() if position else None)
            for seq, user_id, body in dirty.fills:
                store.put_fill(seq, user_id, body)
            for seq, user_id, body in dirty.settlements:
                store.put_settlement(seq, user_id, body)
            for seq, body in dirty.trades:
                store.put_trade(seq, body)
            for ticker, body in dirty.settled.items():
                store.put_settled(ticker, body)
            for key, value in dirty.meta.items():
                store.set_meta(key, value)
            for market in dirty.markets:
                store.put_book(market.ticker, {"bids": market.book.crowd_levels(True),
                                               "asks": market.book.crowd_levels(False)})
        dirty.clear()

    def _recover(self) -> None:
        logger.warning("paper engine write failed after validation; reloading state from the store")
        self._load_state()

    def _new_id(self) -> str:
        return self._id_factory()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _touch_market(self, market: MarketState) -> None:
        self._dirty.markets.add(market)

    def _market(self, ticker: str) -> MarketState:
        market = self.markets.get(ticker)
        if market is None:
            raise reject(404, "not_found", f"market {ticker} not found")
        return market

    def _account_view(self, user_id: str) -> Account:
        """The account, or a fresh unsaved one; never changes state."""
        return self.accounts.get(user_id) or Account(user_id, self._starting_balance)

    def _account(self, user_id: str) -> Account:
        account = self.accounts.get(user_id)
        if account is None:
            account = self.accounts[user_id] = Account(user_id, self._starting_balance)
            self._dirty.accounts.add(user_id)
        return account

    def _register(self, order: UserOrder) -> None:
        self.orders[order.order_id] = order
        self._orders_by_user.setdefault(order.user_id, []).append(order)
        if order.client_order_id:
            self._coids[(order.user_id, order.client_order_id)] = order.order_id
        if order.status == RESTING:
            self._resting.setdefault((order.user_id, order.ticker), {})[order.order_id] = order
        self._dirty.orders.add(order.order_id)

    def _unrest(self, order: UserOrder) -> None:
        self._resting.get((order.user_id, order.ticker), {}).pop(order.order_id, None)

    def _user_order(self, user_id: str, order_id: str) -> UserOrder:
        order = self.orders.get(order_id)
        if order is None or order.user_id != user_id:
            raise reject(404, "not_found", f"order {order_id} not found")
        return order

    def _fee_rates(self, market: MarketState, now_s: float) -> tuple[Decimal, Decimal]:
        """(taker, maker) rates; the event's overrides win over the series; waivers give zero."""
        rule = self._fee_rules.get(market.ticker)
        if rule is None:
            series = self.universe.series.get(market.series_ticker, {})
            event = self.universe.events.get(market.event_ticker, {})
            multiplier = event.get("fee_multiplier_override")
            if multiplier is None:
                multiplier = series.get("fee_multiplier", 1)
            fee_type = event.get("fee_type_override") or series.get("fee_type") or None
            fees = fee_schedule(fee_type, multiplier, where=market.ticker)
            rule = (fees.taker, fees.maker, _waiver_until(market.raw.get("fee_waiver_expiration_time")))
            self._fee_rules[market.ticker] = rule
        if now_s < rule[2]:
            return ZERO, ZERO
        return rule[0], rule[1]

    # ------------------------------------------------------------------ writes
    def create_order(self, user_id: str, body: dict) -> dict:
        """`POST /portfolio/events/orders`: the 201 body."""
        return self._write(self._create, user_id, body)

    def cancel_order(self, user_id: str, order_id: str) -> dict:
        return self._write(self._cancel_write, user_id, order_id)

    def amend_order(self, user_id: str, order_id: str, body: dict) -> dict:
        return self._write(self._amend, user_id, order_id, body)

    def decrease_order(self, user_id: str, order_id: str, body: dict) -> dict:
        return self._write(self._decrease, user_id, order_id, body)

    def batch_create(self, user_id: str, body: dict) -> dict:
        """Each item gets its own result or `error`; the whole batch is one transaction."""
        return self._write(self._batch_create, user_id, body)

    def batch_cancel(self, user_id: str, body: dict) -> dict:
        return self._write(self._batch_cancel, user_id, body)

    def settle_market(self, ticker: str, result: str, settlement_value: Decimal | None = None) -> dict:
        """Settle now (also reached through the timeline); a second call changes nothing."""
        def settle(now_ms: int) -> dict:
            market = self._market(ticker)
            done = self._settle(market, result, settlement_value, now_ms)
            return {"ticker": ticker, "settled": done, "result": market.result}
        return self._write(settle)

    def advance(self, now: datetime | None = None) -> None:
        """Apply timeline updates due by `now`, expire GTC orders, cancel orders of closed markets."""
        with self.lock:
            self._maybe_advance(now or self._clock())

    # ------------------------------------------------------------------ public market data
    def _read_now(self) -> float:
        now = self._clock()
        self._maybe_advance(now)
        return now.timestamp()

    def list_series(self, category: str | None = None) -> list[dict]:
        with self.lock:
            return [dict(s) for s in self.universe.series.values()
                    if category is None or s.get("category") == category]

    def get_series(self, ticker: str) -> dict:
        with self.lock:
            series = self.universe.series.get(ticker)
            if series is None:
                raise reject(404, "not_found", f"series {ticker} not found")
            return dict(series)

    def _status_values(self, status: str | None) -> tuple[str, ...] | None:
        if status is None or status == "":
            return None
        if status in STATUS_FILTERS:
            return STATUS_FILTERS[status]
        known = {value for values in STATUS_FILTERS.values() for value in values}
        if status in known:
            return (status,)
        raise reject(400, "invalid_parameters", f"unknown status filter {status!r}")

    def list_markets(self, status: str | None = None, series_ticker: str | None = None,
                     event_ticker: str | None = None, tickers: list[str] | str | None = None,
                     min_close_ts: int | None = None, max_close_ts: int | None = None) -> list[dict]:
        """Markets with the current top of book, in universe order, filtered."""
        with self.lock:
            now_s = self._read_now()
            wanted = self._status_values(status)
            if isinstance(tickers, str):
                tickers = [t for t in tickers.split(",") if t]
            chosen = set(tickers) if tickers else None
            rows = []
            for market in self.markets.values():
                if ((wanted and market.effective_status(now_s) not in wanted)
                        or (series_ticker and market.series_ticker != series_ticker)
                        or (event_ticker and market.event_ticker != event_ticker)
                        or (chosen is not None and market.ticker not in chosen)
                        or not _in_window(market.close_s, min_close_ts, max_close_ts)):
                    continue
                rows.append(market.to_api(now_s))
            return rows

    def get_market(self, ticker: str) -> dict:
        with self.lock:
            now_s = self._read_now()
            body = self._market(ticker).to_api(now_s)
            self._noted(ticker)
            return body

    def _event_json(self, event: dict, nested: bool, now_s: float) -> tuple[dict, list[dict]]:
        markets = [m.to_api(now_s) for m in self.markets.values() if m.event_ticker == event["event_ticker"]]
        body = dict(event)
        if nested:
            body["markets"] = markets
        return body, markets

    def list_events(self, status: str | None = None, series_ticker: str | None = None,
                    with_nested_markets: bool = False) -> list[dict]:
        with self.lock:
            now_s = self._read_now()
            wanted = self._status_values(status)
            rows = []
            for event in self.universe.events.values():
                if series_ticker and event.get("series_ticker") != series_ticker:
                    continue
                body, markets = self._event_json(event, with_nested_markets, now_s)
                if wanted and not any(m["status"] in wanted for m in markets):
                    continue
                rows.append(body)
            return rows

    def get_event(self, event_ticker: str, with_nested_markets: bool = True) -> dict:
        """`{"event": ..., "markets": [...]}` (the top-level list is deprecated but required)."""
        with self.lock:
            now_s = self._read_now()
            event = self.universe.events.get(event_ticker)
            if event is None:
                raise reject(404, "not_found", f"event {event_ticker} not found")
            body, markets = self._event_json(event, with_nested_markets, now_s)
            return {"event": body, "markets": markets}

    def orderbook(self, ticker: str, depth: int = 0) -> dict:
        with self.lock:
            self._read_now()
            if not isinstance(depth, int) or not 0 <= depth <= 100:
                raise reject(400, "invalid_parameters", "depth must be between 0 and 100")
            body = self._market(ticker).orderbook(depth)
            self._noted(ticker)
            return body

    def _noted(self, ticker: str) -> None:
        if self.on_market_read is not None:
            self.on_market_read(ticker)

    def list_trades(self, ticker: str | None = None, min_ts: int | None = None,
                    max_ts: int | None = None) -> list[dict]:
        """Recorded prints and paper fills, newest first."""
        with self.lock:
            self._read_now()
            if ticker:     # a filter, as on Kalshi: an unknown ticker just has no trades
                markets = [self.markets[ticker]] if ticker in self.markets else []
            else:
                markets = list(self.markets.values())
            rows = [item for m in markets for item in m.trades_between(min_ts, max_ts)]
            rows.sort(key=lambda item: item[0], reverse=True)
            return [body for _, body in rows]

    def candlesticks(self, ticker: str, start_ts: int, end_ts: int, period_interval: int) -> list[dict]:
        with self.lock:
            self._read_now()
            return candlesticks(self._market(ticker), start_ts, end_ts, period_interval)
