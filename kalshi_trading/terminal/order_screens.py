"""Menu 3 (place an order) and menu 4 (open orders): every order shown in full before the `y`.

The flow a trader trusts with money: pick a market the exchange knows, say what to do in their own
terms (buy NO at 0.37), see the V2 order it becomes and what the exchange will do with it (what
fills now, what rests or is cancelled, the fees, the worst case, the resulting position), then
confirm (default No; in prod, type the ticker). Orders always go through `TradeExecutor`, the same
path the `order` and `cancel` subcommands take. The form itself is `order_form`, amends and
decreases `order_changes`, the words of both `order_text`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

from ..errors import UserInputError
from ..models import Market, Order
from ..money import fmt_count, fmt_dollars
from ..trading_cli import Column
from .input_parsing import parse_optional
from .market_screens import ask_market, fmt_time
from .order_changes import amend_flow, decrease_flow, describe_order, pick_order
from .order_form import confirm_order, run_order_form
from .order_text import MARKET, preview_lines, result_lines, wrap_lines
from .screen_links import ScreenLinks
from .services import AppServices

__all__ = ["MARKET", "preview_lines", "result_lines", "confirm_order", "place_order_screen",
           "open_orders_screen", "order_rows", "ORDER_COLUMNS"]

ORDER_COLUMNS = (Column("#", align=">"), Column("order id", min_width=8), Column("ticker", whole=True),
                 Column("side"), Column("YES price", align=">"), Column("remaining", align=">"),
                 Column("filled", align=">", drop=3), Column("tif", drop=4),
                 Column("expires (UTC)", drop=2), Column("placed as", drop=5))


def _ask_open_market(services: AppServices, links: ScreenLinks | None = None) -> Market:
    """The market to order: the one a link opened the form on, else asked (the ticker used last
    is the default)."""
    preset = links.take_preset() if links is not None else None
    if preset is not None:
        market = services.client.get_market(preset)
        if market.is_open:
            return market
        services.cli.error(f"{market.ticker} is {market.status}; orders need an open market")
    while True:
        market = ask_market(services.cli, services.client, links=links)
        if market.is_open:
            return market
        services.cli.error(f"{market.ticker} is {market.status}; orders need an open market")


def place_order_screen(services: AppServices, links: ScreenLinks | None = None) -> None:
    """Menu 3: ask for every field, preview, confirm, submit (`links`: see `_ask_open_market`)."""
    cli = services.cli
    cli.heading("Place order")
    market = _ask_open_market(services, links)
    cli.lines(wrap_lines(_quote_lines(market), cli.width))
    run_order_form(services, market)


def _quote_lines(market: Market) -> list[str]:
    """The market's quotes from both sides, so a NO buyer reads NO prices."""
    def quote(bid: Decimal, ask: Decimal) -> str:
        return f"bid {fmt_dollars(bid) if bid else '-'}  ask {fmt_dollars(ask) if ask else '-'}"
    return [f"{market.ticker}: {market.title}",
            f"  YES {quote(market.yes_bid, market.yes_ask)}   NO {quote(market.no_bid, market.no_ask)}",
            f"  price grid {market.price_grid.describe()}"]


# --- open orders ---------------------------------------------------------------------------

def order_rows(orders: list[Order], placed: dict[str, str] | None = None,
               tifs: dict[str, str] | None = None) -> list[list[str]]:
    """Table rows; `placed` maps order id -> the trader's own terms (see `placed_as`), `tifs`
    order id -> the time in force the trade log saw it placed with (`placed_time_in_force`)."""
    placed, tifs = placed or {}, tifs or {}
    return [[str(i), o.order_id[:8], o.ticker, f"{o.book_side.value}", fmt_dollars(o.yes_price),
             fmt_count(o.remaining_count), fmt_count(o.fill_count),
             _short_tif(o.time_in_force or tifs.get(o.order_id, "")),
             fmt_time(o.expiration_time) if o.expiration_time else "-", placed.get(o.order_id, "-")]
            for i, o in enumerate(orders, start=1)]


def _short_tif(tif: str) -> str:
    """`gtc`/`ioc`/`fok`; `-` when neither the exchange (Kalshi's Order has no such field) nor
    the trade log (an order placed elsewhere) says."""
    return {"good_till_canceled": "gtc", "immediate_or_cancel": "ioc", "fill_or_kill": "fok"}.get(tif, tif) or "-"


def open_orders_screen(services: AppServices) -> None:
    """Menu 4: list resting orders; cancel, amend, decrease, cancel all; Enter goes back."""
    cli = services.cli
    actions: dict[str, OrderAction] = {"c": _cancel_one, "a": amend_flow, "d": decrease_flow,
                                       "x": _cancel_all}
    while True:
        cli.heading("Open orders")
        orders = list(services.client.iter_orders(status="resting"))
        if not orders:
            cli.write("No resting orders.")
            return
        cli.saw_tickers(o.ticker for o in orders)
        cli.table(ORDER_COLUMNS, order_rows(orders, services.history.placed_as(),
                                            services.history.placed_time_in_force()))
        cli.write("  (side is on the YES book: bid = buy YES / sell NO, ask = sell YES / buy NO)")
        cli.write("  c) cancel one   a) amend   d) decrease   x) cancel all   Enter) back")
        choice = cli.ask("Action", parse_optional(lambda t: _menu_choice(t, actions)))
        if choice is None:
            return
        choice(services, orders)


OrderAction = Callable[[AppServices, list[Order]], None]


def _menu_choice(text: str, actions: dict[str, OrderAction]) -> OrderAction:
    key = text.strip().lower()
    if key not in actions:
        raise UserInputError(f"choose c, a, d or x (Enter to go back), not {text.strip()!r}")
    return actions[key]


def _cancel_one(services: AppServices, orders: list[Order]) -> None:
    order = pick_order(services.cli, orders)
    if order is None:
        return
    if services.cli.confirm(f"Cancel {describe_order(order)}?"):
        services.executor.cancel(order.order_id)
        services.cli.write(f"Canceled {order.order_id}.")
    else:
        services.cli.write("Kept.")


def _cancel_all(services: AppServices, orders: list[Order]) -> None:
    if not services.cli.confirm(f"Cancel ALL {len(orders)} resting order(s)?"):
        services.cli.write("Kept.")
        return
    canceled = services.executor.cancel_all()
    services.cli.write(f"Canceled {canceled} order(s).")
