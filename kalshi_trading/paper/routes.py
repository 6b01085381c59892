"""The paper exchange's URL table: each Trade API v2 path, its parameters, and the engine call behind it.

Handlers are plain functions of (engine, call) returning (status, JSON body); they run with the
engine lock held and the timeline already advanced. Lists from the engine arrive newest first and
complete; paging them with an opaque cursor happens here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote

from ..errors import ExchangeRejection
from .http_util import Query, bad_parameter, decode_json_body, paginate

if TYPE_CHECKING:  # annotations only; the engine is loaded lazily (the CLI's --help)
    from .engine import PaperEngine

__all__ = ["Call", "Route", "ROUTES", "match_route", "allowed_methods", "API_PREFIX",
           "CREATE_ORDER_PATH"]

API_PREFIX = "/trade-api/v2"
CREATE_ORDER_PATH = "/portfolio/events/orders"
Result = tuple[int, dict]


@dataclass
class Call:
    """One request as a handler sees it; `user_id` is the verified key id (None if unsigned)."""

    method: str
    path: str
    query: Query
    raw_body: bytes
    user_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict:
        return decode_json_body(self.raw_body)

    @property
    def user(self) -> str:
        assert self.user_id is not None, "route requires auth"
        return self.user_id


@dataclass(frozen=True)
class Route:
    """A method + path template, whether it needs a signature, and its handler."""

    method: str
    template: str
    handler: Callable[[Any, Call], Result]
    auth: bool = False
    pattern: re.Pattern = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


_STATUS_CHOICES = ("unopened", "open", "paused", "closed", "settled")
_ORDER_STATUSES = ("resting", "canceled", "executed")


def _ts(call: Call, name: str) -> int | None:
    return call.query.integer(name, minimum=0)


# --- exchange ---------------------------------------------------------------------------------

def exchange_status(engine: PaperEngine, call: Call) -> Result:
    shard = {"exchange_index": 0, "description": "paper exchange", "exchange_active": True,
             "trading_active": True, "intra_exchange_transfers_active": True}
    return 200, {"exchange_active": True, "trading_active": True,
                 "intra_exchange_transfers_active": True, "exchange_estimated_resume_time": None,
                 "exchange_index_statuses": [shard]}


def exchange_schedule(engine: PaperEngine, call: Call) -> Result:
    all_day = [{"open_time": "00:00", "close_time": "23:59"}]
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    week = {"start_time": "2020-01-01T00:00:00.000Z", "end_time": "2099-12-31T23:59:59.000Z",
            **{day: list(all_day) for day in days}}
    return 200, {"schedule": {"standard_hours": [week], "maintenance_windows": []}}


def historical_cutoff(engine: PaperEngine, call: Call) -> Result:
    # Nothing on the paper exchange is ever archived: every cutoff lies before any paper data.
    old = "2000-01-01T00:00:00.000Z"
    return 200, {"market_settled_ts": old, "trades_created_ts": old, "orders_updated_ts": old,
                 "market_positions_last_updated_ts": old}


def historical_fills(engine: PaperEngine, call: Call) -> Result:
    # Consistent with the cutoff above: nothing is older than it, so the archive is empty.
    return 200, {"fills": [], "cursor": ""}


# --- series, events, markets ------------------------------------------------------------------

def list_series(engine: PaperEngine, call: Call) -> Result:
    return 200, {"series": engine.list_series(category=call.query.text("category"))}


def get_series(engine: PaperEngine, call: Call) -> Result:
    return 200, {"series": engine.get_series(call.params["series_ticker"])}


def list_events(engine: PaperEngine, call: Call) -> Result:
    status = call.query.choice("status", _STATUS_CHOICES)
    events = engine.list_events(status=status, series_ticker=call.query.text("series_ticker"),
                                with_nested_markets=call.query.flag("with_nested_markets"))
    wanted = call.query.items("event_tickers") or call.query.items("tickers")
    if wanted:
        events = [e for e in events if e.get("event_ticker") in set(wanted)]
    page, cursor = paginate(events, call.query, lambda e: e.get("event_ticker", ""),
                            default_limit=200, max_limit=200)
    return 200, {"events": page, "milestones": [], "cursor": cursor}


def get_event(engine: PaperEngine, call: Call) -> Result:
    nested = call.query.flag("with_nested_markets")
    return 200, engine.get_event(call.params["event_ticker"], with_nested_markets=nested)


def list_markets(engine: PaperEngine, call: Call) -> Result:
    status = call.query.choice("status", _STATUS_CHOICES)
    markets = engine.list_markets(status=status, series_ticker=call.query.text("series_ticker"),
                                  event_ticker=call.query.text("event_ticker"),
                                  tickers=call.query.items("tickers"),
                                  min_close_ts=_ts(call, "min_close_ts"),
                                  max_close_ts=_ts(call, "max_close_ts"))
    page, cursor = paginate(markets, call.query, lambda m: m.get("ticker", ""), min_limit=0)
    return 200, {"markets": page, "cursor": cursor}


def get_market(engine: PaperEngine, call: Call) -> Result:
    return 200, {"market": engine.get_market(call.params["ticker"])}


def orderbook(engine: PaperEngine, call: Call) -> Result:
    depth = call.query.integer("depth", default=0, minimum=0, maximum=100)
    return 200, engine.orderbook(call.params["ticker"], depth=depth)


def list_trades(engine: PaperEngine, call: Call) -> Result:
    trades = engine.list_trades(ticker=call.query.text("ticker"), min_ts=_ts(call, "min_ts"),
                                max_ts=_ts(call, "max_ts"))
    page, cursor = paginate(trades, call.query, lambda t: t.get("trade_id", ""), min_limit=0)
    return 200, {"trades": page, "cursor": cursor}


def candlesticks(engine: PaperEngine, call: Call) -> Result:
    engine.get_series(call.params["series_ticker"])  # 404 for an unknown series
    start = call.query.integer("start_ts", minimum=0)
    end = call.query.integer("end_ts", minimum=0)
    interval = call.query.integer("period_interval")
    if start is None or end is None or interval is None:
        raise bad_parameter("start_ts, end_ts and period_interval are required")
    if interval not in (1, 60, 1440):
        raise bad_parameter("period_interval must be 1, 60 or 1440")
    if end < start:
        raise bad_parameter("end_ts must not be before start_ts")
    ticker = call.params["ticker"]
    return 200, {"ticker": ticker,
                 "candlesticks": engine.candlesticks(ticker, start, end, interval)}


# --- portfolio reads --------------------------------------------------------------------------

def balance(engine: PaperEngine, call: Call) -> Result:
    return 200, engine.balance(call.user)


def positions(engine: PaperEngine, call: Call) -> Result:
    market_positions, event_positions = engine.positions(
        call.user, ticker=call.query.text("ticker"), event_ticker=call.query.text("event_ticker"))
    page, cursor = paginate(market_positions, call.query, lambda p: p.get("ticker", ""))
    # Event positions are few; they ride along with the first page only.
    events = event_positions if call.query.text("cursor") is None else []
    return 200, {"market_positions": page, "event_positions": events, "cursor": cursor}


def list_orders(engine: PaperEngine, call: Call) -> Result:
    orders = engine.list_orders(call.user, ticker=call.query.text("ticker"),
                                event_ticker=call.query.text("event_ticker"),
                                status=call.query.choice("status", _ORDER_STATUSES),
                                min_ts=_ts(call, "min_ts"), max_ts=_ts(call, "max_ts"))
    page, cursor = paginate(orders, call.query, lambda o: o.get("order_id", ""))
    return 200, {"orders": page, "cursor": cursor}


def get_order(engine: PaperEngine, call: Call) -> Result:
    return 200, {"order": engine.get_order(call.user, call.params["order_id"])}


def queue_position(engine: PaperEngine, call: Call) -> Result:
    return 200, engine.queue_position(call.user, call.params["order_id"])


def list_fills(engine: PaperEngine, call: Call) -> Result:
    fills = engine.list_fills(call.user, ticker=call.query.text("ticker"),
                              order_id=call.query.text("order_id"),
                              min_ts=_ts(call, "min_ts"), max_ts=_ts(call, "max_ts"))
    page, cursor = paginate(fills, call.query, lambda f: f.get("fill_id", ""))
    return 200, {"fills": page, "cursor": cursor}


def list_settlements(engine: PaperEngine, call: Call) -> Result:
    settlements = engine.list_settlements(call.user, ticker=call.query.text("ticker"),
                                          event_ticker=call.query.text("event_ticker"),
                                          min_ts=_ts(call, "min_ts"), max_ts=_ts(call, "max_ts"))
    page, cursor = paginate(settlements, call.query,
                            lambda s: f"{s.get('ticker', '')}@{s.get('settled_time', '')}")
    return 200, {"settlements": page, "cursor": cursor}


def account_limits(engine: PaperEngine, call: Call) -> Result:
    return 200, engine.account_limits(call.user)


# --- V2 order writes --------------------------------------------------------------------------

def create_order(engine: PaperEngine, call: Call) -> Result:
    return 201, engine.create_order(call.user, call.body())


def cancel_order(engine: PaperEngine, call: Call) -> Result:
    return 200, engine.cancel_order(call.user, call.params["order_id"])


def amend_order(engine: PaperEngine, call: Call) -> Result:
    return 200, engine.amend_order(call.user, call.params["order_id"], call.body())


def decrease_order(engine: PaperEngine, call: Call) -> Result:
    return 200, engine.decrease_order(call.user, call.params["order_id"], call.body())


def batch_create(engine: PaperEngine, call: Call) -> Result:
    return 201, engine.batch_create(call.user, call.body())


def batch_cancel(engine: PaperEngine, call: Call) -> Result:
    return 200, engine.batch_cancel(call.user, call.body())


def deprecated_v1(engine: PaperEngine, call: Call) -> Result:
    raise ExchangeRejection(400, "deprecated_v1_order_endpoint", "Please switch to the V2 endpoints",
                            f"{call.method} {API_PREFIX}{call.path} was removed; use "
                            f"{API_PREFIX}/portfolio/events/orders")


ROUTES: tuple[Route, ...] = (
    Route("GET", "/exchange/status", exchange_status),
    Route("GET", "/exchange/schedule", exchange_schedule),
    Route("GET", "/series", list_series),
    Route("GET", "/series/{series_ticker}", get_series),
    Route("GET", "/series/{series_ticker}/markets/{ticker}/candlesticks", candlesticks),
    Route("GET", "/events", list_events),
    Route("GET", "/events/{event_ticker}", get_event),
    Route("GET", "/markets", list_markets),
    Route("GET", "/markets/trades", list_trades),
    Route("GET", "/markets/{ticker}", get_market),
    Route("GET", "/markets/{ticker}/orderbook", orderbook),
    Route("GET", "/historical/cutoff", historical_cutoff),
    Route("GET", "/historical/fills", historical_fills, auth=True),
    Route("GET", "/portfolio/balance", balance, auth=True),
    Route("GET", "/portfolio/positions", positions, auth=True),
    Route("GET", "/portfolio/orders", list_orders, auth=True),
    Route("GET", "/portfolio/orders/{order_id}", get_order, auth=True),
    Route("GET", "/portfolio/orders/{order_id}/queue_position", queue_position, auth=True),
    Route("GET", "/portfolio/fills", list_fills, auth=True),
    Route("GET", "/portfolio/settlements", list_settlements, auth=True),
    Route("GET", "/account/limits", account_limits, auth=True),
    Route("POST", "/portfolio/events/orders", create_order, auth=True),
    Route("POST", "/portfolio/events/orders/batched", batch_create, auth=True),
    Route("DELETE", "/portfolio/events/orders/batched", batch_cancel, auth=True),
    Route("DELETE", "/portfolio/events/orders/{order_id}", cancel_order, auth=True),
    Route("POST", "/portfolio/events/orders/{order_id}/amend", amend_order, auth=True),
    Route("POST", "/portfolio/events/orders/{order_id}/decrease", decrease_order, auth=True),
    Route("POST", "/portfolio/orders", deprecated_v1, auth=True),
    Route("POST", "/portfolio/orders/batched", deprecated_v1, auth=True),
    Route("DELETE", "/portfolio/orders/batched", deprecated_v1, auth=True),
    Route("DELETE", "/portfolio/orders/{order_id}", deprecated_v1, auth=True),
    Route("POST", "/portfolio/orders/{order_id}/amend", deprecated_v1, auth=True),
    Route("POST", "/portfolio/orders/{order_id}/decrease", deprecated_v1, auth=True),
)


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The first route for `method` whose template matches `path` (relative to the API prefix)."""
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if found:
            return route, {name: unquote(value) for name, value in found.groupdict().items()}
    return None


def allowed_methods(path: str) -> list[str]:
    """The methods some route serves at `path` (for a 405 instead of a 404 on a known path)."""
    return sorted({route.method for route in ROUTES if route.pattern.match(path)})
