"""One market as the paper exchange sees it: its book, lifecycle, public statistics and history.

`MarketState` wraps the universe's Market JSON and overlays what trading changes: top of book
(crowd and user orders together), last price, volume, status and result. It also records a
price history (top of book and trades) from which candlesticks are aggregated, and the public
trade tape (recorded prints plus every fill on the paper exchange).
"""

from __future__ import annotations

from decimal import Decimal

from ..money import ONE, ZERO, PriceGrid, fmt_count, fmt_dollars, parse_count, parse_dollars
from ..timeutil import from_unix, parse_iso, to_iso_z
from .accounts import contracts_of, dollars_of
from .matching import PRICE_SCALE, OrderBook
from .orders import reject
from .universe import BookSnapshot

__all__ = ["MarketState", "OPEN_STATUSES", "STATUS_FILTERS", "candlesticks"]

OPEN_STATUSES = ("active", "open")
SETTLED_STATUSES = ("finalized", "settled")
STATUS_FILTERS = {   # `status` query values of GET /markets and /events -> Market.status values
    "unopened": ("initialized", "unopened"), "open": OPEN_STATUSES, "paused": ("inactive", "paused"),
    "closed": ("closed", "determined", "disputed", "amended"), "settled": SETTLED_STATUSES,
}


def _cc(price: Decimal) -> int:
    return int(price.scaleb(4))


def book_levels(snapshot: BookSnapshot) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """A snapshot as (YES bids, YES asks) in integer units; a NO bid at q is a YES ask at 1-q."""
    bids = [(_cc(p), int(c.scaleb(2))) for p, c in snapshot.yes_bids]
    asks = [(PRICE_SCALE - _cc(q), int(c.scaleb(2))) for q, c in snapshot.no_bids]
    return bids, asks


class MarketState:
    """A market's live state; `raw` is the universe's Market JSON, never mutated."""

    def __init__(self, raw: dict, series_ticker: str) -> None:
        self.raw = raw
        self.ticker: str = raw["ticker"]
        self.event_ticker: str = raw["event_ticker"]
        self.series_ticker = series_ticker
        self.grid = PriceGrid.from_api(raw.get("price_ranges"))
        self.book = OrderBook()
        self.status: str = raw.get("status") or "active"
        self.result: str = raw.get("result") or ""
        self.settlement_value: Decimal | None = None
        self.settled_ms: int | None = None
        self.close_s = parse_iso(raw["close_time"]).timestamp() if raw.get("close_time") else float("inf")
        self.last_price_cc = _cc(parse_dollars(raw.get("last_price_dollars") or "0"))
        self.base_volume_ct = int(parse_count(raw.get("volume_fp") or "0").scaleb(2))
        self.base_volume_24h_ct = int(parse_count(raw.get("volume_24h_fp") or "0").scaleb(2))
        self.base_open_interest_ct = int(parse_count(raw.get("open_interest_fp") or "0").scaleb(2))
        self.traded_ct = 0
        self.user_open_interest_ct = 0   # YES contracts our users hold, kept by the engine
        self.trades: list[tuple[float, dict]] = []    # (unix seconds, Trade JSON), oldest first
        self.history: list[tuple[float, int | None, int | None, int | None, int]] = []
        self.updated_ms = 0
        self.closed_handled = False     # resting orders canceled after close_time

    # ----------------------------------------------------------- lifecycle
    def is_open(self, now_s: float) -> bool:
        return self.status in OPEN_STATUSES and now_s < self.close_s

    def effective_status(self, now_s: float) -> str:
        if self.status in OPEN_STATUSES and now_s >= self.close_s:
            return "closed"
        return self.status

    def require_open(self, now_s: float) -> None:
        if not self.is_open(now_s):
            raise reject(409, "market_closed", f"market {self.ticker} is not open for trading",
                         "MARKET_INACTIVE")

    # ----------------------------------------------------------- activity
    def record(self, ts_s: float, trade_price_cc: int | None = None, trade_ct: int = 0) -> None:
        """Append a history sample if the top of book changed or a trade happened."""
        bid, ask = self.book.best_bid(), self.book.best_ask()
        sample = (ts_s, bid[0] if bid else None, ask[0] if ask else None, trade_price_cc, trade_ct)
        if trade_ct == 0 and self.history and self.history[-1][1:3] == sample[1:3]:
            return
        self.history.append(sample)

    def add_trade(self, trade_id: str, ts_ms: int, price_cc: int, count_ct: int,
                  taker_is_bid: bool, *, user_fill: bool) -> dict:
        """Put a trade on the public tape and into the statistics; returns its `Trade` JSON."""
        price = dollars_of(price_cc)
        body = {
            "trade_id": trade_id, "ticker": self.ticker,
            "count_fp": fmt_count(contracts_of(count_ct)),
            "yes_price_dollars": fmt_dollars(price), "no_price_dollars": fmt_dollars(ONE - price),
            "taker_outcome_side": "yes" if taker_is_bid else "no",
            "taker_book_side": "bid" if taker_is_bid else "ask",
            "taker_side": "yes" if taker_is_bid else "no",
            "created_time": to_iso_z(from_unix(ts_ms / 1000)), "is_block_trade": False,
        }
        self.add_trade_body(ts_ms / 1000, body)
        return body

    def add_trade_body(self, ts_s: float, body: dict) -> None:
        price_cc = _cc(Decimal(body["yes_price_dollars"]))
        count_ct = int(Decimal(body["count_fp"]).scaleb(2))
        self.trades.append((ts_s, body))
        self.last_price_cc = price_cc
        self.traded_ct += count_ct
        self.updated_ms = max(self.updated_ms, int(ts_s * 1000))
        self.record(ts_s, price_cc, count_ct)

    # ----------------------------------------------------------- JSON
    def to_api(self, now_s: float) -> dict:
        """The `Market` JSON with the current top of book and statistics."""
        bid, ask = self.book.best_bid(), self.book.best_ask()
        bid_price = dollars_of(bid[0]) if bid else ZERO
        ask_price = dollars_of(ask[0]) if ask else ZERO
        body = dict(self.raw)
        body.update({
            "status": self.effective_status(now_s), "result": self.result,
            "yes_bid_dollars": fmt_dollars(bid_price),
            "yes_bid_size_fp": fmt_count(contracts_of(bid[1]) if bid else ZERO),
            "yes_ask_dollars": fmt_dollars(ask_price),
            "yes_ask_size_fp": fmt_count(contracts_of(ask[1]) if ask else ZERO),
            "no_bid_dollars": fmt_dollars(ONE - ask_price), "no_ask_dollars": fmt_dollars(ONE - bid_price),
            "last_price_dollars": fmt_dollars(dollars_of(self.last_price_cc)),
            "volume_fp": fmt_count(contracts_of(self.base_volume_ct + self.traded_ct)),
            "volume_24h_fp": fmt_count(contracts_of(self.base_volume_24h_ct + self.traded_ct)),
            "open_interest_fp": fmt_count(contracts_of(self.base_open_interest_ct + self.user_open_interest_ct)),
        })
        if self.updated_ms:
            body["updated_time"] = to_iso_z(from_unix(self.updated_ms / 1000))
        if self.settlement_value is not None:
            body["settlement_value_dollars"] = fmt_dollars(self.settlement_value)
        if self.settled_ms is not None:
            body["settlement_ts"] = to_iso_z(from_unix(self.settled_ms / 1000))
        return body

    def orderbook(self, depth: int = 0) -> dict:
        """`{"orderbook_fp": {"yes_dollars": [...], "no_dollars": [...]}}`, ascending, best last."""
        yes = [[fmt_dollars(dollars_of(p)), fmt_count(contracts_of(c))] for p, c in self.book.depth(True)]
        no = [[fmt_dollars(dollars_of(PRICE_SCALE - p)), fmt_count(contracts_of(c))]
              for p, c in reversed(self.book.depth(False))]
        if depth > 0:
            yes, no = yes[-depth:], no[-depth:]
        return {"orderbook_fp": {"yes_dollars": yes, "no_dollars": no}}

    def trades_between(self, min_ts: float | None, max_ts: float | None) -> list[tuple[float, dict]]:
        return [(ts, body) for ts, body in self.trades
                if (min_ts is None or ts >= min_ts) and (max_ts is None or ts <= max_ts)]


MAX_CANDLES = 10_000


def _ohlc(values: list[Decimal]) -> dict:
    return {"open_dollars": fmt_dollars(values[0]), "low_dollars": fmt_dollars(min(values)),
            "high_dollars": fmt_dollars(max(values)), "close_dollars": fmt_dollars(values[-1])}


def candlesticks(market: MarketState, start_ts: int, end_ts: int, period_interval: int) -> list[dict]:
    """`MarketCandlestick`s from the recorded history; periods before any data are skipped.

    The bid/ask candle opens at the value in force when the period starts (carried forward);
    `price` is null when nothing traded; open interest is the market's current figure."""
    if period_interval not in (1, 60, 1440):
        raise reject(400, "invalid_parameters", "period_interval must be 1, 60 or 1440")
    if end_ts < start_ts:
        raise reject(400, "invalid_parameters", "end_ts must not be before start_ts")
    period = period_interval * 60
    first_end = -(-start_ts // period) * period
    if (end_ts - first_end) // period + 1 > MAX_CANDLES:
        raise reject(400, "invalid_parameters", f"more than {MAX_CANDLES} candlesticks requested")
    history = sorted(market.history, key=lambda s: s[0])
    oi = fmt_count(contracts_of(market.base_open_interest_ct + market.user_open_interest_ct))
    bid: Decimal | None = None
    ask: Decimal | None = None
    last_trade: Decimal | None = None
    index, candles = 0, []
    for end in range(first_end, end_ts + period, period):
        bids = [bid] if bid is not None else []
        asks = [ask] if ask is not None else []
        prices: list[tuple[Decimal, int]] = []
        previous = last_trade
        while index < len(history) and history[index][0] <= end:
            ts, bid_cc, ask_cc, trade_cc, trade_ct = history[index]
            index += 1
            bid = dollars_of(bid_cc) if bid_cc is not None else ZERO
            ask = dollars_of(ask_cc) if ask_cc is not None else ONE
            if ts <= end - period:
                if trade_cc is not None:
                    last_trade = dollars_of(trade_cc)
                continue     # before this period: only sets the carried state
            bids.append(bid)
            asks.append(ask)
            if trade_cc is not None and trade_ct:
                prices.append((dollars_of(trade_cc), trade_ct))
                last_trade = dollars_of(trade_cc)
        if not bids:
            continue
        candles.append(_candle(end, bids, asks, prices, previous, oi))
    return candles


def _candle(end: int, bids: list[Decimal], asks: list[Decimal], prices: list[tuple[Decimal, int]],
            previous: Decimal | None, oi: str) -> dict:
    volume = sum(c for _, c in prices)
    if prices:
        values = [p for p, _ in prices]
        mean = sum((p * c for p, c in prices), ZERO) / volume
        price = {**_ohlc(values), "mean_dollars": fmt_dollars(mean),
                 "min_dollars": fmt_dollars(min(values)), "max_dollars": fmt_dollars(max(values))}
    else:
        price = {name: None for name in ("open_dollars", "low_dollars", "high_dollars", "close_dollars",
                                         "mean_dollars", "min_dollars", "max_dollars")}
    price["previous_dollars"] = fmt_dollars(previous) if previous is not None else None
    return {"end_period_ts": end, "yes_bid": _ohlc(bids), "yes_ask": _ohlc(asks), "price": price,
            "volume_fp": fmt_count(contracts_of(volume)), "open_interest_fp": oi}
