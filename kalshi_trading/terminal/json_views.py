"""Typed records back into Kalshi-shaped JSON for `--json` output.

Every subcommand prints ONE JSON document whose field names are Kalshi's and whose money and counts
are fixed-point strings (`"0.4200"`, `"10.00"`), so scripts written against the real API can read
ours. Integer cents appear only where the API uses them (`balance`, `portfolio_value`, settlement
`revenue`/`value`).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..models import Balance, Fill, Market, MarketPosition, Order, Orderbook, Settlement
from ..money import fmt_count, fmt_dollars_fine
from ..timeutil import to_iso_z

__all__ = ["dollars", "count", "iso", "market_json", "orderbook_json", "order_json", "fill_json",
           "position_json", "settlement_json", "balance_json", "dumps", "to_jsonable"]


def dollars(amount: Decimal | None) -> str | None:
    """`"0.4200"`; six places when the amount needs them (portfolio fields go to $0.000001)."""
    return None if amount is None else fmt_dollars_fine(amount)


def count(value: Decimal | None) -> str | None:
    return None if value is None else fmt_count(value)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else to_iso_z(moment)


def market_json(m: Market) -> dict:
    """A `Market` in the API's names."""
    return {
        "ticker": m.ticker, "event_ticker": m.event_ticker, "market_type": m.market_type,
        "title": m.title, "yes_sub_title": m.yes_sub_title, "no_sub_title": m.no_sub_title,
        "status": m.status, "open_time": iso(m.open_time), "close_time": iso(m.close_time),
        "yes_bid_dollars": dollars(m.yes_bid), "yes_ask_dollars": dollars(m.yes_ask),
        "no_bid_dollars": dollars(m.no_bid), "no_ask_dollars": dollars(m.no_ask),
        "yes_bid_size_fp": count(m.yes_bid_size), "yes_ask_size_fp": count(m.yes_ask_size),
        "last_price_dollars": dollars(m.last_price), "volume_fp": count(m.volume),
        "volume_24h_fp": count(m.volume_24h), "open_interest_fp": count(m.open_interest),
        "result": m.result, "settlement_value_dollars": dollars(m.settlement_value),
        "price_level_structure": m.price_level_structure, "price_ranges": m.price_grid.to_api(),
        "rules_primary": m.rules_primary, "rules_secondary": m.rules_secondary,
        "can_close_early": m.can_close_early, "notional_value_dollars": dollars(m.notional_value),
    }


def orderbook_json(book: Orderbook) -> dict:
    """`{"orderbook_fp": {"yes_dollars": [[p, n], ...], "no_dollars": [...]}}`, ascending, as served."""
    return {
        "ticker": book.ticker,
        "orderbook_fp": {
            "yes_dollars": [[dollars(lvl.price), count(lvl.count)] for lvl in book.yes_bids],
            "no_dollars": [[dollars(lvl.price), count(lvl.count)] for lvl in book.no_bids],
        },
        "best_yes_bid_dollars": dollars(book.best_yes_bid),
        "best_yes_ask_dollars": dollars(book.best_yes_ask),
        "spread_dollars": dollars(book.spread),
    }


def order_json(o: Order) -> dict:
    return {
        "order_id": o.order_id, "client_order_id": o.client_order_id, "ticker": o.ticker,
        "status": o.status, "book_side": o.book_side.value, "outcome_side": o.outcome_side.value,
        "yes_price_dollars": dollars(o.yes_price), "no_price_dollars": dollars(o.no_price),
        "initial_count_fp": count(o.initial_count), "fill_count_fp": count(o.fill_count),
        "remaining_count_fp": count(o.remaining_count),
        "taker_fill_cost_dollars": dollars(o.taker_fill_cost),
        "maker_fill_cost_dollars": dollars(o.maker_fill_cost),
        "taker_fees_dollars": dollars(o.taker_fees), "maker_fees_dollars": dollars(o.maker_fees),
        "created_time": iso(o.created_time), "last_update_time": iso(o.last_update_time),
        "expiration_time": iso(o.expiration_time), "time_in_force": o.time_in_force,
    }


def fill_json(f: Fill) -> dict:
    return {
        "fill_id": f.fill_id, "trade_id": f.fill_id, "order_id": f.order_id, "ticker": f.ticker,
        "book_side": f.book_side.value, "outcome_side": f.outcome_side.value,
        "count_fp": count(f.count), "yes_price_dollars": dollars(f.yes_price),
        "no_price_dollars": dollars(f.no_price), "is_taker": f.is_taker,
        "fee_cost": dollars(f.fee_cost), "created_time": iso(f.created_time),
    }


def position_json(p: MarketPosition) -> dict:
    return {
        "ticker": p.ticker, "position_fp": count(p.position),
        "market_exposure_dollars": dollars(p.market_exposure),
        "total_traded_dollars": dollars(p.total_traded),
        "realized_pnl_dollars": dollars(p.realized_pnl), "fees_paid_dollars": dollars(p.fees_paid),
        "last_updated_ts": iso(p.last_updated),
    }


def settlement_json(s: Settlement) -> dict:
    return {
        "ticker": s.ticker, "event_ticker": s.event_ticker, "market_result": s.market_result,
        "yes_count_fp": count(s.yes_count), "yes_total_cost_dollars": dollars(s.yes_total_cost),
        "no_count_fp": count(s.no_count), "no_total_cost_dollars": dollars(s.no_total_cost),
        "revenue": int(s.revenue * 100), "value": None if s.value is None else int(s.value * 100),
        "fee_cost": dollars(s.fee_cost), "settled_time": iso(s.settled_time),
    }


def balance_json(b: Balance) -> dict:
    return {"balance": b.balance_cents, "balance_dollars": dollars(b.balance),
            "portfolio_value": int(b.portfolio_value * 100), "updated_ts": b.updated_ts}


def to_jsonable(value: Any) -> Any:
    """Decimals as fixed-point strings, datetimes as ISO `Z`, enums as their values, recursively."""
    if isinstance(value, Decimal):
        return dollars(value)
    if isinstance(value, datetime):
        return to_iso_z(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str):
        return value.value
    return value


def dumps(document: Any) -> str:
    """One JSON document, keys in a stable order."""
    return json.dumps(to_jsonable(document), indent=2, sort_keys=False)
