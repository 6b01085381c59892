"""Typed, exact records for what the API returns, parsed from any of Kalshi's three wire eras.

Each record is a frozen dataclass with a `from_api(raw)` classmethod. Money and counts are
`Decimal` (see money.py); unknown fields are ignored; a missing required field raises
`ResponseFormatError` naming it. Parsers prefer the current fixed-point fields (`*_dollars`,
`*_fp`) and fall back to the transitional `*_fixed` strings and to legacy integer cents/counts,
because recordings and older accounts still carry them.

This module is the one import for all of them; they live in
client/market_models.py (markets, books, trades, series, events, candles),
client/portfolio_models.py (balance, orders, fills, positions, settlements, limits),
client/order_results.py (V2 write responses) and client/wire_fields.py (the per-field readers).
"""

from __future__ import annotations

from .client.market_models import (BookLevel, BookWalk, Candlestick, Event, ExchangeStatus, Market, Orderbook,
                                   Series, Trade)
from .client.order_results import (AmendOrderResult, BatchCancelItem, BatchCreateItem, CancelOrderResult,
                                   CreateOrderResult, DecreaseOrderResult)
from .client.portfolio_models import (AccountLimits, Balance, Fill, HistoricalCutoff, MarketPosition, Order,
                                      Settlement)

__all__ = [
    "Market", "Orderbook", "BookLevel", "BookWalk", "Order", "Fill", "MarketPosition", "Settlement",
    "Balance", "Trade", "Series", "Event", "ExchangeStatus", "CreateOrderResult",
    "CancelOrderResult", "AmendOrderResult", "DecreaseOrderResult", "AccountLimits",
    "Candlestick", "HistoricalCutoff", "BatchCreateItem", "BatchCancelItem",
]
