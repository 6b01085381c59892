"""`TradeHistory`: the audit trail as a trader reads it, with what the exchange did meanwhile.

The menu's history screen and the `history` / `export` subcommands both call this: before the log
is read, fills are imported (deduplicated by fill_id), the exchange's own cancellations of our
orders (market closed, expiry, another session) are recorded, so every order shows how it ended,
and settlements are imported (deduplicated by market and settled time), so the history holds
what each market paid and its cash column adds up to the P&L.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from ..errors import KalshiTradingError, NotFoundError, UserInputError
from ..kalshi_client import KalshiClient
from ..models import Order
from ..money import fmt_count
from ..timeutil import Clock, to_unix
from ..trade_logger import TradeLogger

__all__ = ["TradeHistory", "FILL_LOOKBACK"]

FILL_LOOKBACK = timedelta(days=30)


class TradeHistory:
    """Syncs the trade log with the exchange, then queries or exports it."""

    def __init__(self, client: KalshiClient, logger: TradeLogger, *, clock: Clock) -> None:
        self._client = client
        self._logger = logger
        self._clock = clock

    def default_start(self) -> datetime:
        """Where a history with no start date begins: the last 30 days."""
        return self._clock() - FILL_LOOKBACK

    def sync_fills(self, since: datetime | None = None) -> int:
        """Import the exchange's fills into the trade log (deduplicated by fill_id); returns new ones."""
        start = since or self.default_start()
        return self._logger.import_fills(self._client.iter_fills(min_ts=to_unix(start)))

    def sync_settlements(self, since: datetime | None = None) -> int:
        """Import the exchange's settlements into the trade log (deduplicated); returns new ones."""
        start = since or self.default_start()
        return self._logger.import_settlements(self._client.iter_settlements(min_ts=to_unix(start)))

    def sync_cancellations(self) -> int:
        """Record the cancellations the exchange made of orders this app placed. Run after
        `sync_fills`: an order the log still thinks rests but the exchange no longer lists as
        resting is read once; returns how many cancellations were recorded."""
        believed = self._logger.resting_orders()
        if not believed:
            return 0
        resting = {order.order_id for order in self._client.iter_orders(status="resting")}
        recorded = 0
        for rec in believed:
            if rec["order_id"] in resting:
                continue
            try:
                order = self._client.get_order(rec["order_id"])
            except NotFoundError:
                continue
            if order.status != "canceled":
                continue  # executed: its fills say so (imported when they are in the synced range)
            recorded += self._logger.import_cancellation(
                order, message=f"{self._why_canceled(order)}; filled {fmt_count(order.fill_count)}")
        return recorded

    def _why_canceled(self, order: Order) -> str:
        """Why an order we did not cancel ended: its expiry, its market closing, or someone else."""
        ended = order.last_update_time or self._clock()
        if order.expiration_time is not None and order.expiration_time <= ended:
            return "expired"
        try:
            market = self._client.get_market(order.ticker)
        except KalshiTradingError:
            market = None
        if market is not None and not market.is_open and market.result:
            return f"canceled by the exchange: the market closed and settled {market.result}"
        if market is not None and not market.is_open and (market.close_time is None
                                                          or market.close_time <= ended):
            return "canceled by the exchange: the market closed"
        return "canceled outside this app (another session, or the website)"

    def sync(self, since: datetime | None = None) -> None:
        """Fills, then the cancellations they do not explain, then settlements (a settlement
        cancels the market's resting orders first, so its row comes after theirs)."""
        self.sync_fills(since=since)
        self.sync_cancellations()
        self.sync_settlements(since=since)

    def query(self, *, start: datetime | None = None, end: datetime | None = None,
              ticker: str | None = None, event_types: list[str] | None = None,
              sync: bool = True) -> list[dict]:
        """Log records matching the filters, oldest first, after syncing with the exchange."""
        if sync:
            self.sync(since=start)
        return self._logger.query(start=start, end=end, ticker=ticker, event_types=event_types)

    def export(self, path: Path, *, start: datetime | None = None, end: datetime | None = None,
               ticker: str | None = None, event_types: list[str] | None = None,
               sync: bool = True) -> int:
        """Write the matching records to `path` as CSV (atomically); returns the row count."""
        if sync:
            self.sync(since=start)
        try:
            return self._logger.export_csv(path, start=start, end=end, ticker=ticker,
                                           event_types=event_types)
        except OSError as exc:  # a path the trader typed: say why in one line, like any other input
            raise UserInputError(f"cannot write {path}: {exc.strerror or type(exc).__name__}; "
                                 "nothing was exported") from None

    def placed_as(self) -> dict[str, str]:
        """Order id -> `buy NO @ 0.5500`, from the trade log (orders placed elsewhere: absent).

        The exchange only knows the YES book side; the log remembers what the trader asked for.
        """
        try:
            records = self._logger.query(event_types=["submission", "amend"])
        except Exception:  # noqa: BLE001 - a decoration: an unreadable log must not hide the orders
            return {}
        terms: dict[str, tuple[str, str]] = {}   # order id -> (action, outcome) as placed
        out: dict[str, str] = {}
        for rec in records:                      # oldest first: an amend overrides the price
            order_id = rec.get("order_id")
            if rec.get("event_type") == "submission" and order_id and rec.get("action"):
                terms[order_id] = (str(rec["action"]), str(rec.get("outcome_side", "")))
            if order_id in terms and terms[order_id][1] in ("yes", "no"):
                action, side = terms[order_id]
                price = rec.get("no_price_dollars" if side == "no" else "yes_price_dollars")
                if price:
                    out[order_id] = f"{action} {side.upper()} @ {price}"
        return out

    def placed_time_in_force(self) -> dict[str, str]:
        """Order id -> the time in force it was placed with (`good_till_canceled`), from the trade
        log: Kalshi's Order record does not carry it. An amend's new order id keeps its order's."""
        try:
            records = self._logger.query(event_types=["submission", "amend"])
        except Exception:  # noqa: BLE001 - a decoration: an unreadable log must not hide the orders
            return {}
        out: dict[str, str] = {}
        for rec in records:                      # oldest first: a replaced id before its successor
            order_id, tif = rec.get("order_id"), rec.get("time_in_force")
            if not isinstance(order_id, str) or not order_id:
                continue
            if rec.get("event_type") == "submission" and tif:
                out[order_id] = str(tif)
            elif rec.get("replaced_order_id") in out:
                out[order_id] = out[rec["replaced_order_id"]]
        return out
