"""Recorded API responses of any wire era, read and rewritten in today's (era 3) shapes.

Kalshi's wire format changed twice (see KALSHI_API_NOTES.md): legacy integer cents, a
transitional era carrying both forms (with `null` for empty book sides), and today's fixed-point
strings. The paper exchange serves era 3 only, so every recorded record passes through here:
`classify` tells what a file holds by its keys, the `normalize_*` functions rewrite records with
dollar strings of 4 places and counts of 2, mapping every time onto the replay clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Mapping

from ...errors import ResponseFormatError
from ...models import Market, Orderbook, Trade
from ...money import ONE, ZERO, cents_to_dollars, fmt_count, fmt_dollars, parse_count, parse_dollars
from ...timeutil import parse_iso, to_iso_z
from ..universe import BookSnapshot, TradePrint

__all__ = ["ClockMap", "Recording", "unwrap", "classify", "detect_era", "normalize_market",
           "normalize_event", "normalize_series", "read_book", "read_trade", "normalize_status",
           "observed_times"]


class ClockMap:
    """Recorded time -> replay clock: `origin` lands on `start`, durations shrink by `speed`.

    Times before 1970 (Kalshi writes `0001-01-01T00:00:00Z` for "unknown") land on `start`;
    times too far out for `datetime` are clamped to its maximum.
    """

    def __init__(self, origin: datetime, start: datetime, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.origin, self.start, self.speed = origin, start, speed

    def __call__(self, moment: datetime) -> datetime:
        if moment.year < 1970:
            return self.start
        try:
            return self.start + (moment - self.origin) / self.speed
        except OverflowError:
            return datetime.max.replace(tzinfo=timezone.utc) if moment > self.origin else self.start


ToClock = Callable[[datetime], datetime]

MARKET_TIME_FIELDS = ("created_time", "updated_time", "open_time", "close_time",
                      "expected_expiration_time", "expiration_time", "latest_expiration_time",
                      "settlement_ts", "occurrence_datetime", "fee_waiver_expiration_time")
# Legacy integer fields (cents or whole contracts) that era 3 replaced with *_dollars / *_fp.
_LEGACY_MARKET_FIELDS = frozenset({
    "yes_bid", "yes_ask", "no_bid", "no_ask", "last_price", "previous_yes_bid", "previous_yes_ask",
    "previous_price", "volume", "volume_24h", "open_interest", "liquidity", "notional_value",
    "settlement_value", "yes_bid_size", "yes_ask_size", "tick_size", "response_price_units",
    "risk_limit_cents", "markets"})
_LEGACY_INT_KEYS = frozenset({"yes_bid", "yes_ask", "no_bid", "no_ask", "last_price", "yes_price",
                              "no_price", "count", "volume", "open_interest"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_STATUS = {"open": "active", "unopened": "initialized", "paused": "inactive", "settled": "finalized"}
_TICKERISH = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")


@dataclass
class Recording:
    """What one recorded file holds, still raw (normalized once the clock origin is known)."""

    era: int | None = None
    recorded_at: datetime | None = None
    markets: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)
    books: dict[str, Mapping[str, Any]] = field(default_factory=dict)   # ticker -> raw body
    trades: list[dict] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.markets or self.events or self.series or self.books or self.trades)


def unwrap(document: Any) -> tuple[dict, Any]:
    """(metadata, body): golden files wrap the raw body as {"_metadata": ..., "response": ...}."""
    if isinstance(document, dict) and "response" in document and isinstance(document.get("_metadata"), dict):
        return document["_metadata"], document["response"]
    return {}, document


def detect_era(body: Any) -> int | None:
    """1 legacy (integer cents only), 2 transitional (both forms), 3 current; None if no prices."""
    legacy, current = False, False
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if key.endswith(("_dollars", "_fp")) or key == "orderbook_fp":
                current = True
            if key in _LEGACY_INT_KEYS and isinstance(value, int) and not isinstance(value, bool):
                legacy = True
            if key == "orderbook" and isinstance(value, dict) and ("yes" in value or "no" in value):
                legacy = True
            if isinstance(value, (dict, list)):
                stack.append(value)
    if legacy and current:
        return 2
    return 1 if legacy else (3 if current else None)


def _kind(item: Mapping[str, Any]) -> str | None:
    """Which record an item of a bare list is, judged by its keys."""
    if "trade_id" in item or {"ticker", "count", "created_time"} <= item.keys() and "status" not in item:
        return "trade"
    if "ticker" in item and "event_ticker" in item:
        return "market"
    if "event_ticker" in item and "series_ticker" in item:
        return "event"
    if "ticker" in item and ("fee_type" in item or "frequency" in item):
        return "series"
    return None


def _book_ticker(meta: Mapping[str, Any], body: Mapping[str, Any], file_stem: str) -> str | None:
    for candidate in (meta.get("ticker"), body.get("ticker")):
        if isinstance(candidate, str) and candidate:
            return candidate
    stem = re.sub(r"(?i)([_.-]?orderbook(_response)?[_.-]?)", "", file_stem)
    return stem if _TICKERISH.match(stem) else None


def classify(body: Any, *, meta: Mapping[str, Any] | None = None, file_stem: str = "") -> Recording:
    """Sort a response body's records by kind; an unrecognized body gives an empty Recording."""
    meta = meta or {}
    rec = Recording(era=detect_era(body))
    recorded = meta.get("recorded_at")
    if isinstance(recorded, str):
        try:
            rec.recorded_at = parse_iso(recorded)
        except ValueError:
            pass
    if isinstance(body, list):
        for item in body:
            kind = _kind(item) if isinstance(item, dict) else None
            if kind:
                getattr(rec, "series" if kind == "series" else kind + "s").append(item)
        return rec
    if not isinstance(body, dict):
        return rec
    if isinstance(body.get("orderbook_fp"), dict) or isinstance(body.get("orderbook"), dict):
        ticker = _book_ticker(meta, body, file_stem)
        if ticker:
            rec.books[ticker] = body
    if isinstance(body.get("market"), dict):
        rec.markets.append(body["market"])
    if isinstance(body.get("event"), dict):
        rec.events.append(body["event"])
        rec.markets.extend(m for m in body.get("markets") or [] if isinstance(m, dict))
    for event in body.get("events") or []:
        if isinstance(event, dict):
            rec.events.append(event)
    if isinstance(body.get("markets"), list) and not isinstance(body.get("event"), dict):
        # candlestick batches also answer {"markets": [...]}, keyed by market_ticker
        rec.markets.extend(m for m in body["markets"]
                           if isinstance(m, dict) and ("ticker" in m or "event_ticker" in m))
    series = body.get("series")
    rec.series.extend(s for s in (series if isinstance(series, list) else [series]) if isinstance(s, dict))
    rec.trades.extend(t for t in body.get("trades") or [] if isinstance(t, dict))
    for event in rec.events:
        rec.markets.extend(m for m in event.get("markets") or [] if isinstance(m, dict))
    return rec


def observed_times(rec: Recording) -> list[datetime]:
    """Times at or before the recording moment (creation, update, open, trade), to date a file."""
    times = []
    for raw in [*rec.markets, *rec.trades]:
        for name in ("updated_time", "created_time", "open_time"):
            value = raw.get(name)
            if isinstance(value, str) and value:
                try:
                    moment = parse_iso(value)
                except ValueError:
                    continue
                if moment.year >= 1970:
                    times.append(moment)
    return times


def normalize_status(status: str) -> str:
    """Era-3 market status for any era's word (`settled` is `finalized` today, `open` is `active`)."""
    return _STATUS.get(status, status)


def _money(raw: Mapping[str, Any], name: str) -> Decimal | None:
    """`name_dollars`, else `name_fixed`, else legacy integer cents `name`."""
    for key in (f"{name}_dollars", f"{name}_fixed"):
        if raw.get(key) is not None:
            return parse_dollars(raw[key], key)
    value = raw.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return cents_to_dollars(value)
    return None


def _time_text(value: Any, to_clock: ToClock) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return to_iso_z(to_clock(parse_iso(value)))
    except (ValueError, OverflowError):
        return None


def normalize_market(raw: Mapping[str, Any], to_clock: ToClock) -> dict:
    """An era-3 Market JSON from any era's market record; required fields old eras lack are filled."""
    market = Market.from_api(raw)  # validates, and reads every era's price and count fields
    out = {k: v for k, v in raw.items() if k not in _LEGACY_MARKET_FIELDS and not k.endswith("_fixed")}
    for name in MARKET_TIME_FIELDS:
        text = _time_text(raw.get(name), to_clock)
        if text is not None:
            out[name] = text
        else:
            out.pop(name, None)
    start = getattr(to_clock, "start", None)
    fallback_time = out.get("close_time") or to_iso_z(start if start is not None else to_clock(_EPOCH))
    out.setdefault("open_time", fallback_time)
    out.setdefault("close_time", out["open_time"])
    out.setdefault("created_time", out["open_time"])
    out.setdefault("updated_time", out["created_time"])
    out.setdefault("latest_expiration_time", out.get("expiration_time") or out["close_time"])
    out.setdefault("expected_expiration_time", out["latest_expiration_time"])
    status = normalize_status(market.status)
    result = market.result if market.result in ("yes", "no", "scalar") else ""
    settlement = market.settlement_value
    if settlement is None and result in ("yes", "no"):
        settlement = ONE if result == "yes" else ZERO
    zero = fmt_dollars(ZERO)
    out.update({
        "market_type": market.market_type, "title": raw.get("title") or market.title,
        "subtitle": raw.get("subtitle") or "", "yes_sub_title": market.yes_sub_title,
        "no_sub_title": market.no_sub_title, "status": status, "result": result,
        "yes_bid_dollars": fmt_dollars(market.yes_bid), "yes_ask_dollars": fmt_dollars(market.yes_ask),
        "no_bid_dollars": fmt_dollars(market.no_bid), "no_ask_dollars": fmt_dollars(market.no_ask),
        "yes_bid_size_fp": fmt_count(market.yes_bid_size), "yes_ask_size_fp": fmt_count(market.yes_ask_size),
        "last_price_dollars": fmt_dollars(market.last_price),
        "volume_fp": fmt_count(market.volume), "volume_24h_fp": fmt_count(market.volume_24h),
        "open_interest_fp": fmt_count(market.open_interest),
        "notional_value_dollars": fmt_dollars(market.notional_value), "liquidity_dollars": zero,
        "price_level_structure": market.price_level_structure,
        "price_ranges": market.price_grid.to_api(), "can_close_early": market.can_close_early,
        "expiration_value": raw.get("expiration_value") or "",
        "rules_primary": market.rules_primary, "rules_secondary": market.rules_secondary,
        "settlement_timer_seconds": int(raw.get("settlement_timer_seconds") or 0),
        "exchange_index": market.exchange_index,
    })
    for name in ("previous_yes_bid", "previous_yes_ask", "previous_price"):
        out[f"{name}_dollars"] = fmt_dollars(_money(raw, name) or ZERO)
    if settlement is not None:
        out["settlement_value_dollars"] = fmt_dollars(settlement)
    return out


def normalize_event(raw: Mapping[str, Any], to_clock: ToClock) -> dict:
    """An era-3 EventData JSON (without nested markets)."""
    if not isinstance(raw.get("event_ticker"), str) or not raw["event_ticker"]:
        raise ResponseFormatError("event: required field 'event_ticker' is missing")
    out = {k: v for k, v in raw.items() if k != "markets"}
    out.setdefault("series_ticker", raw["event_ticker"].split("-")[0])
    for name, default in (("title", ""), ("sub_title", ""), ("collateral_return_type", ""),
                          ("mutually_exclusive", False), ("settlement_sources", [])):
        if out.get(name) is None:
            out[name] = default
    strike = _time_text(raw.get("strike_date"), to_clock)
    if strike is not None:
        out["strike_date"] = strike
    return out


def normalize_series(raw: Mapping[str, Any]) -> dict:
    """An era-3 Series JSON; `null` lists become empty lists, fee type defaults to quadratic."""
    if not isinstance(raw.get("ticker"), str) or not raw["ticker"]:
        raise ResponseFormatError("series: required field 'ticker' is missing")
    out = dict(raw)
    for name, default in (("title", ""), ("category", ""), ("frequency", ""), ("tags", []),
                          ("settlement_sources", []), ("contract_url", ""), ("contract_terms_url", ""),
                          ("fee_type", "quadratic"), ("fee_multiplier", 1), ("additional_prohibitions", [])):
        if out.get(name) is None:
            out[name] = default
    return out


def read_book(body: Mapping[str, Any], ticker: str) -> BookSnapshot:
    """Any era's orderbook response as a BookSnapshot; `null` sides are empty sides."""
    book = Orderbook.from_api(body, ticker)
    return BookSnapshot(yes_bids=tuple((lvl.price, lvl.count) for lvl in book.yes_bids),
                        no_bids=tuple((lvl.price, lvl.count) for lvl in book.no_bids))


def read_trade(raw: Mapping[str, Any], to_clock: ToClock) -> tuple[datetime | None, str, TradePrint]:
    """(time on the replay clock, ticker, print) for one recorded public trade of any era."""
    trade = Trade.from_api({"trade_id": "", **raw})
    taker = trade.taker_outcome_side if trade.taker_outcome_side in ("yes", "no") else "yes"
    when = to_clock(trade.created_time) if trade.created_time is not None else None
    count = parse_count(fmt_count(trade.count))
    return when, trade.ticker, TradePrint(yes_price=trade.yes_price, count=count, taker_outcome_side=taker)
