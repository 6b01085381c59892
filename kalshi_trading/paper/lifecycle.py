"""Time in the paper engine: the market timeline, order expiry, market close, settlement, restart.

`advance` applies the universe's timeline up to now: new crowd books (which may cross resting
user orders), trade prints (which eat queue-ahead, then fill users), status changes and results
(which settle). A restarted engine rebuilds the crowd by replaying the timeline up to where it
had got (`engine_timeline_through` in the store's meta table) without touching users, then loads
every user record from the store and puts resting orders back in their queues.
"""

from __future__ import annotations

import heapq
import logging
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterable

from ..errors import ExchangeRejection
from ..money import ONE, ZERO, dollars_to_cents_floor, fmt_count, fmt_dollars_fine
from ..timeutil import from_unix, parse_iso, to_iso_z
from .accounts import Account, Position, contracts_of
from .markets import OPEN_STATUSES, MarketState, book_levels
from .orders import RESTING, UserOrder, reject
from .universe import MarketUpdate

__all__ = ["LifecycleMixin", "TIMELINE_META_KEY"]

logger = logging.getLogger(__name__)

TIMELINE_META_KEY = "engine_timeline_through"
SETTLING_STATUSES = ("determined", "finalized", "settled")


class LifecycleMixin:
    """Timeline, expiry, close and settlement; see `PaperEngine` for the state it uses."""

    # ------------------------------------------------------------------ advance
    def _advance_body(self, now: datetime) -> None:
        now_s = now.timestamp()
        timeline = self.universe.timeline
        applied = False
        while self._timeline_pos < len(timeline) and timeline[self._timeline_pos].at <= now:
            self._apply_update(timeline[self._timeline_pos], self._timeline_pos, replay=False)
            self._timeline_pos += 1
            applied = True
        if applied:
            # Microseconds, not to_iso_z's milliseconds: an update applied at 12:00:00.1235 must
            # be replayed (not applied a second time, filling users twice) after a restart.
            self._dirty.meta[TIMELINE_META_KEY] = now.astimezone(timezone.utc).isoformat(
                timespec="microseconds").replace("+00:00", "Z")
        self._expire_due(now_s)
        for market in self.markets.values():
            if not market.closed_handled and now_s >= market.close_s:
                market.closed_handled = True
                self._cancel_market_orders(market, int(now_s * 1000))
        self._next_due_s = self._compute_next_due()

    def _compute_next_due(self) -> float:
        due = [m.close_s for m in self.markets.values() if not m.closed_handled]
        if self._timeline_pos < len(self.universe.timeline):
            due.append(self.universe.timeline[self._timeline_pos].at.timestamp())
        if self._expiries:
            due.append(float(self._expiries[0][0]))
        return min(due, default=float("inf"))

    def _apply_update(self, update: MarketUpdate, index: int, *, replay: bool) -> None:
        market = self.markets.get(update.ticker)
        if market is None:
            return
        ts_s = update.at.timestamp()
        ts_ms = int(ts_s * 1000)
        if update.book is not None:
            for fill in market.book.set_crowd(*book_levels(update.book)):
                self._passive_fill(market, fill, ts_ms)
            market.record(ts_s)
            market.updated_ms = max(market.updated_ms, ts_ms)
        if update.trade is not None:
            trade = update.trade
            price_cc = int(trade.yes_price.scaleb(4))
            count_ct = int(trade.count.scaleb(2))
            taker_is_bid = trade.taker_outcome_side == "yes"
            for fill in market.book.apply_print(price_cc, count_ct, taker_is_bid):
                self._passive_fill(market, fill, ts_ms)
            trade_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"paper-print/{update.ticker}/{index}"))
            market.add_trade(trade_id, ts_ms, price_cc, count_ct, taker_is_bid, user_fill=False)
        if update.status is not None and market.ticker not in self.settled:
            market.status = update.status
            if update.status not in OPEN_STATUSES and not replay:
                self._cancel_market_orders(market, ts_ms)
        if update.result and (update.status in SETTLING_STATUSES or update.status is None) and not replay:
            try:
                self._settlement_value(update.result, update.settlement_value)
            except ExchangeRejection:
                logger.warning("timeline result %r for %s is unusable; not settled", update.result, update.ticker)
            else:
                self._settle(market, update.result, update.settlement_value, ts_ms)
        if not replay:
            self._touch_market(market)

    def apply_updates(self, updates: Iterable[MarketUpdate]) -> int:
        """Apply market updates from outside the timeline (live refresh) now, through the path
        timeline updates take: a crossing book fills resting user orders as makers, a close cancels
        them, a result settles. All of them are ONE store transaction; if anything fails the engine
        reloads from the store and the error propagates. Trade prints are refused (a print's id
        comes from its timeline position). Returns how many updates were applied."""
        updates = list(updates)
        if any(update.trade is not None for update in updates):
            raise ValueError("apply_updates takes books, statuses and results, not trade prints")
        with self.lock:
            self._maybe_advance(self._clock())
            self._dirty.clear()
            try:
                for update in updates:
                    self._apply_update(update, -1, replay=False)
                self._flush()
            except BaseException:
                self._recover()
                raise
            return len(updates)

    def watched_tickers(self) -> set[str]:
        """Unsettled markets where some user has a resting order or an open position."""
        with self.lock:
            tickers = {ticker for (_, ticker), orders in self._resting.items() if orders}
            tickers.update(ticker for (_, ticker), position in self._positions.items() if position.position_ct)
            return tickers - set(self.settled)

    def _expire_due(self, now_s: float) -> None:
        while self._expiries and self._expiries[0][0] <= now_s:
            expiry, order_id = heapq.heappop(self._expiries)
            order = self.orders.get(order_id)
            if order is not None and order.status == RESTING and order.expiration_ts == expiry:
                self._cancel(order, int(expiry * 1000))
                self._touch_market(self._market(order.ticker))

    def _schedule_expiry(self, order: UserOrder) -> None:
        heapq.heappush(self._expiries, (order.expiration_ts, order.order_id))
        self._next_due_s = min(self._next_due_s, float(order.expiration_ts))

    def _cancel_market_orders(self, market: MarketState, now_ms: int) -> None:
        for order_id in list(market.book.orders):
            self._cancel(self.orders[order_id], now_ms)
        self._touch_market(market)

    # ------------------------------------------------------------------ settlement
    def _settle(self, market: MarketState, result: str, value: Decimal | None, now_ms: int) -> bool:
        """Pay out and record; False (and nothing changes) if the market was already settled."""
        if market.ticker in self.settled:
            return False
        value = self._settlement_value(result, value)
        self._cancel_market_orders(market, now_ms)
        for key in [k for k in self._positions if k[1] == market.ticker]:
            self._settle_position(self._positions.pop(key), market, result, value, now_ms)
        market.status, market.result = "finalized", result
        market.settlement_value, market.settled_ms = value, now_ms
        market.user_open_interest_ct = 0
        market.closed_handled = True
        self.settled[market.ticker] = {"result": result, "value": str(value), "settled_ms": now_ms}
        self._dirty.settled[market.ticker] = self.settled[market.ticker]
        self._touch_market(market)
        return True

    @staticmethod
    def _settlement_value(result: str, value: Decimal | None) -> Decimal:
        if result == "yes":
            return ONE
        if result == "no":
            return ZERO
        if result == "scalar" and value is not None and ZERO <= Decimal(value) <= ONE:
            return Decimal(value)
        raise reject(400, "invalid_parameters",
                     "result must be yes, no, or scalar with a settlement value between 0 and 1")

    def _settle_position(self, position: Position, market: MarketState, result: str, value: Decimal,
                         now_ms: int) -> None:
        held = contracts_of(abs(position.position_ct))
        is_yes = position.position_ct > 0
        payout = held * (value if is_yes else ONE - value)
        revenue_cents = dollars_to_cents_floor(payout)
        account = self._account(position.user_id)
        account.cash += Decimal(revenue_cents) / 100
        account.updated_ms = now_ms
        exposure = position.exposure
        body = {
            "ticker": market.ticker, "event_ticker": market.event_ticker, "exchange_index": 0,
            "market_result": result,
            "yes_count_fp": fmt_count(held if is_yes else ZERO),
            "yes_total_cost_dollars": fmt_dollars_fine(exposure if is_yes else ZERO),
            "no_count_fp": fmt_count(ZERO if is_yes else held),
            "no_total_cost_dollars": fmt_dollars_fine(ZERO if is_yes else exposure),
            "revenue": revenue_cents, "value": dollars_to_cents_floor(value),
            "fee_cost": fmt_dollars_fine(position.fees_paid),
            "settled_time": to_iso_z(from_unix(now_ms / 1000)),
        }
        self.settlements.setdefault(position.user_id, []).append(body)
        self._dirty.settlements.append((self._next_seq(), position.user_id, body))
        self._dirty.accounts.add(position.user_id)
        self._dirty.positions.add((position.user_id, market.ticker))

    # ------------------------------------------------------------------ (re)load
    def _load_state(self) -> None:
        """Build every in-memory structure from the universe and the store (start or restart)."""
        self._reset_memory()
        start_s = self._clock().timestamp()
        for ticker, raw in self.universe.markets.items():
            event = self.universe.events.get(raw["event_ticker"], {})
            market = self.markets[ticker] = MarketState(raw, event.get("series_ticker", ""))
            snapshot = self.universe.books.get(ticker)
            if snapshot is not None:
                market.book.set_crowd(*book_levels(snapshot))
            market.record(start_s)
        loaded = self._store.load()
        through = self._store.get_meta(TIMELINE_META_KEY)
        if through is not None:
            limit = parse_iso(through)
            timeline = self.universe.timeline
            while self._timeline_pos < len(timeline) and timeline[self._timeline_pos].at <= limit:
                self._apply_update(timeline[self._timeline_pos], self._timeline_pos, replay=True)
                self._timeline_pos += 1
        for ticker, levels in loaded.books.items():
            if ticker in self.markets:
                self.markets[ticker].book.set_crowd([tuple(x) for x in levels["bids"]],
                                                    [tuple(x) for x in levels["asks"]])
        orphans = self._load_user_state(loaded)
        for market in self.markets.values():
            market.book.touched.clear()
        self._dirty.clear()
        self._cancel_orphans(orphans)
        self._next_due_s = self._compute_next_due()

    def _cancel_orphans(self, orphans: list[UserOrder]) -> None:
        """Resting orders whose market is not in today's market data (the data source changed, or
        a live snapshot no longer lists it) can never fill: cancel them so their collateral
        returns, in one transaction, as a close of their market would."""
        if not orphans:
            return
        now_ms = int(self._clock().timestamp() * 1000)
        logger.warning("canceling %d resting order(s) on markets missing from the market data", len(orphans))
        for order in orphans:
            self._cancel(order, now_ms)
        self._flush()

    def _load_user_state(self, loaded) -> list[UserOrder]:
        """Load every user record; returns resting orders whose market is unknown (see above)."""
        orphans: list[UserOrder] = []
        for ticker, mark in loaded.settled.items():
            market = self.markets.get(ticker)
            self.settled[ticker] = mark
            if market is not None:
                market.status, market.result = "finalized", mark["result"]
                market.settlement_value, market.settled_ms = Decimal(mark["value"]), mark["settled_ms"]
                market.closed_handled = True
        for user_id, body in loaded.accounts.items():
            self.accounts[user_id] = Account.from_store(body)
        for body in loaded.positions:
            position = Position.from_store(body)
            self._positions[(position.user_id, position.ticker)] = position
            if position.ticker in self.markets:
                self.markets[position.ticker].user_open_interest_ct += max(position.position_ct, 0)
        for body in loaded.orders:
            order = UserOrder.from_store(body)
            self._register(order)
            if order.status != RESTING:
                self._unrest(order)
                continue
            self._account(order.user_id).reserved += order.reserved
            if order.ticker not in self.markets:
                orphans.append(order)
                continue
            self.markets[order.ticker].book.add(order.order_id, order.user_id, order.is_bid,
                                                order.price_cc, order.remaining_ct, order.ahead_ct)
            if order.expiration_ts is not None:
                heapq.heappush(self._expiries, (order.expiration_ts, order.order_id))
        for user_id, body in loaded.fills:
            self.fills.setdefault(user_id, []).append(body)
        for user_id, body in loaded.settlements:
            self.settlements.setdefault(user_id, []).append(body)
        for body in loaded.trades:
            market = self.markets.get(body["ticker"])
            if market is not None:
                market.add_trade_body(parse_iso(body["created_time"]).timestamp(), body)
        for market in self.markets.values():
            market.trades.sort(key=lambda item: item[0])
            if market.trades:
                last = market.trades[-1][1]["yes_price_dollars"]
                market.last_price_cc = int(Decimal(last).scaleb(4))
        self._seq = max(self._seq, loaded.max_seq)
        return orphans
