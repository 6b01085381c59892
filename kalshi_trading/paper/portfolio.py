"""Portfolio reads of the paper engine: balance, positions, orders, fills, settlements, limits.

A mixin of `PaperEngine`; each method takes the engine's lock and first applies any timeline
updates that are due, so what a user reads is never older than the clock.
"""

from __future__ import annotations

from ..money import ZERO, dollars_to_cents_floor, fmt_count, fmt_dollars
from ..timeutil import parse_iso
from .accounts import contracts_of, dollars_of, event_positions
from .orders import reject

__all__ = ["PortfolioMixin", "BASIC_LIMITS"]

BASIC_LIMITS = {
    "usage_tier": "basic",
    "read": {"refill_rate": 200, "bucket_capacity": 400},
    "write": {"refill_rate": 100, "bucket_capacity": 100},
    "grants": [{"exchange_instance": "event_contract", "level": "basic", "source": "default"}],
}


def _in_window(ts: float, min_ts: int | None, max_ts: int | None) -> bool:
    return (min_ts is None or ts >= min_ts) and (max_ts is None or ts <= max_ts)


class PortfolioMixin:
    """What an authenticated user reads about their own account."""

    # ------------------------------------------------------------------ portfolio reads
    def balance(self, user_id: str) -> dict:
        """`GetBalanceResponse`: `balance` is available cash (cents, floored)."""
        with self.lock:
            now_s = self._read_now()
            account = self._account_view(user_id)
            value = ZERO
            for (owner, ticker), position in self._positions.items():
                if owner != user_id or position.position_ct == 0:
                    continue
                market = self.markets.get(ticker)
                if market is None:        # no longer in the market data: no price to mark it at
                    continue
                book = market.book
                if position.position_ct > 0:
                    mark = dollars_of(book.best_bid()[0]) if book.best_bid() else ZERO
                else:
                    mark = 1 - dollars_of(book.best_ask()[0]) if book.best_ask() else ZERO
                value += contracts_of(abs(position.position_ct)) * mark
            available = account.available
            return {"balance": dollars_to_cents_floor(available), "balance_dollars": fmt_dollars(available),
                    "portfolio_value": dollars_to_cents_floor(value),
                    "updated_ts": int(account.updated_ms / 1000) if account.updated_ms else int(now_s),
                    "balance_breakdown": [{"exchange_index": 0, "balance": fmt_dollars(available)}]}

    def positions_of(self, user_id: str, ticker: str | None = None, event_ticker: str | None = None) -> list:
        return sorted((p for (owner, _), p in self._positions.items() if owner == user_id
                       and (ticker is None or p.ticker == ticker)
                       and (event_ticker is None or p.event_ticker == event_ticker)),
                      key=lambda p: p.updated_ms, reverse=True)

    def positions(self, user_id: str, ticker: str | None = None,
                  event_ticker: str | None = None) -> tuple[list[dict], list[dict]]:
        """(market positions, event positions) of unsettled markets, newest first."""
        with self.lock:
            self._read_now()
            rows = self.positions_of(user_id, ticker, event_ticker)
            return [p.to_api() for p in rows], event_positions(rows)

    def list_orders(self, user_id: str, ticker: str | None = None, event_ticker: str | None = None,
                    status: str | None = None, min_ts: int | None = None,
                    max_ts: int | None = None) -> list[dict]:
        """The user's orders, newest first; a client finds one by `client_order_id` here."""
        with self.lock:
            self._read_now()
            if status not in (None, "", "resting", "canceled", "executed"):
                raise reject(400, "invalid_parameters", "status must be resting, canceled or executed")
            events = set(event_ticker.split(",")) if event_ticker else None
            rows = []
            for order in reversed(self._orders_by_user.get(user_id, [])):
                if ((ticker and order.ticker != ticker) or (status and order.status != status)
                        or (events and getattr(self.markets.get(order.ticker), "event_ticker", None) not in events)
                        or not _in_window(order.created_ms / 1000, min_ts, max_ts)):
                    continue
                rows.append(order.to_api())
            return rows

    def get_order(self, user_id: str, order_id: str) -> dict:
        with self.lock:
            self._read_now()
            return self._user_order(user_id, order_id).to_api()

    def queue_position(self, user_id: str, order_id: str) -> dict:
        """`{"queue_position_fp"}`: contracts ahead of a resting order at its price."""
        with self.lock:
            self._read_now()
            order = self._user_order(user_id, order_id)
            market = self.markets.get(order.ticker)
            ahead = (market.book.queue_position(order_id)
                     if market is not None and order_id in market.book.orders else 0)
            return {"queue_position_fp": fmt_count(contracts_of(ahead))}

    def list_fills(self, user_id: str, ticker: str | None = None, order_id: str | None = None,
                   min_ts: int | None = None, max_ts: int | None = None) -> list[dict]:
        with self.lock:
            self._read_now()
            return [dict(f) for f in reversed(self.fills.get(user_id, []))
                    if (not ticker or f["ticker"] == ticker) and (not order_id or f["order_id"] == order_id)
                    and _in_window(f["ts"], min_ts, max_ts)]

    def list_settlements(self, user_id: str, ticker: str | None = None, event_ticker: str | None = None,
                         min_ts: int | None = None, max_ts: int | None = None) -> list[dict]:
        with self.lock:
            self._read_now()
            return [dict(s) for s in reversed(self.settlements.get(user_id, []))
                    if (not ticker or s["ticker"] == ticker)
                    and (not event_ticker or s["event_ticker"] == event_ticker)
                    and _in_window(parse_iso(s["settled_time"]).timestamp(), min_ts, max_ts)]

    def account_limits(self, user_id: str) -> dict:
        """`GetAccountApiLimitsResponse` for the basic tier (the paper server's own limits)."""
        return {key: (dict(value) if isinstance(value, dict) else [dict(v) for v in value])
                if not isinstance(value, str) else value for key, value in BASIC_LIMITS.items()}

    # ------------------------------------------------------------------ for tests and tools
    def state_snapshot(self) -> dict:
        """Everything a user could observe, in comparable form (tests: a failed write changes nothing)."""
        with self.lock:
            now_s = self._clock().timestamp()
            users = sorted(set(self.accounts) | set(self._orders_by_user))
            return {
                "accounts": {u: (str(a.cash), str(a.reserved)) for u, a in sorted(self.accounts.items())},
                "orders": {u: [o.to_api() for o in self._orders_by_user.get(u, [])] for u in users},
                "positions": sorted((k, str(p.to_store())) for k, p in self._positions.items()),
                "fills": {u: list(f) for u, f in sorted(self.fills.items())},
                "settlements": {u: list(s) for u, s in sorted(self.settlements.items())},
                "markets": {t: (m.to_api(now_s), m.orderbook(), len(m.trades)) for t, m in self.markets.items()},
                "coids": sorted(self._coids.items()),
            }



