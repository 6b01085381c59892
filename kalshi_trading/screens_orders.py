"""Menu 3 (place an order) and menu 4 (open orders): every order shown in full before the `y`.

The flow a trader trusts with money: pick a market the exchange knows, say what to do in their own
terms (buy NO at 0.37), see the V2 order it becomes, what it costs with fees, the worst case and the
resulting position, then confirm (default No; in prod, type the ticker). Orders always go through
`TradeExecutor`, the same path the `order` and `cancel` subcommands take.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from .config import Mode
from .errors import UserInputError
from .input_parsing import (parse_action, parse_count, parse_expiry, parse_optional, parse_outcome,
                            parse_positive_int, parse_price, parse_tif)
from .models import Market, Order
from .money import fmt_count, fmt_dollars
from .order_request import Action, OrderIntent, OutcomeSide, TimeInForce, to_yes_price
from .screens_markets import ask_market, fmt_time
from .trading_cli import Column, TradingCLI

if TYPE_CHECKING:
    from .main_app import MainApp
    from .order_preview import OrderPreview
    from .trade_executor import SubmissionResult

__all__ = ["MARKET", "price_on_grid", "build_intent", "preview_lines", "result_lines",
           "confirm_order", "place_order_screen", "open_orders_screen", "order_rows",
           "ORDER_COLUMNS", "resting_orders"]

MARKET = "market"
ORDER_COLUMNS = (Column("#", align=">"), Column("order id", min_width=8), Column("ticker", flex=True, min_width=8),
                 Column("side"), Column("YES price", align=">"), Column("remaining", align=">"),
                 Column("filled", align=">"), Column("tif"), Column("expires", min_width=6))


def price_on_grid(market: Market, outcome: OutcomeSide, price: Decimal, what: str = "price") -> Decimal:
    """`price` (in the outcome's terms) if its YES equivalent is on the market's grid."""
    yes = to_yes_price(outcome, price)
    if not market.price_grid.contains(yes):
        terms = f" (YES {fmt_dollars(yes)})" if outcome is OutcomeSide.NO else ""
        raise UserInputError(f"{what} {fmt_dollars(price)}{terms} is not on {market.ticker}'s price "
                             f"grid ({market.price_grid.describe()})")
    return price


def build_intent(market: Market, *, action: Action, outcome: OutcomeSide, count: Decimal,
                 price: Decimal, tif: TimeInForce, expiration_time: int | None = None,
                 post_only: bool = False, reduce_only: bool = False, source: str = "menu") -> OrderIntent:
    """An `OrderIntent` after the checks a typo would fail (grid, TIF combinations)."""
    price_on_grid(market, outcome, price)
    if expiration_time is not None and tif is not TimeInForce.GTC:
        raise UserInputError("an expiry needs time in force gtc")
    if post_only and tif is not TimeInForce.GTC:
        raise UserInputError("post-only needs time in force gtc (it must rest, not take)")
    return OrderIntent(ticker=market.ticker, action=action, outcome=outcome, count=count, price=price,
                       time_in_force=tif, expiration_time=expiration_time, post_only=post_only,
                       reduce_only=reduce_only, tags=(source,))


def preview_lines(intent: OrderIntent, preview: "OrderPreview") -> list[str]:
    """The whole order, in the trader's terms and as the V2 request, with cost, fees and risk."""
    body = preview.request.to_api()
    body.pop("client_order_id", None)  # made at submit time, once, so a retry reuses it
    lines = ["Order preview:"] + [f"  {line}" for line in preview.lines()]
    if MARKET in intent.tags:
        lines.append(f"  Market order: IOC; nothing fills at a price worse than {fmt_dollars(intent.price)}")
    lines.append("  V2 order: " + " ".join(f"{k}={v}" for k, v in body.items()))
    return lines


def result_lines(result: "SubmissionResult") -> list[str]:
    """What the exchange said: order id, status, filled, resting, average price; any warnings."""
    return [f"Sent: {result.describe()}"] + [f"Warning: {text}" for text in result.warnings]


def confirm_order(cli: TradingCLI, mode: Mode, ticker: str) -> bool:
    """Default No; production orders need the ticker typed out."""
    if mode is Mode.PROD:
        return cli.confirm_typed("REAL MONEY. Send this order?", ticker)
    return cli.confirm("Send this order?")


def _price_or_market(market: Market, outcome: OutcomeSide) -> Callable[[str], Decimal | str]:
    def parse(text: str) -> Decimal | str:
        if text.strip().lower() in ("m", MARKET):
            return MARKET
        return price_on_grid(market, outcome, parse_price(text, what="price"))
    return parse


def _ask_open_market(app: "MainApp") -> Market:
    while True:
        market = ask_market(app.cli, app.client)
        if market.is_open:
            return market
        app.cli.error(f"{market.ticker} is {market.status}; orders need an open market")


def place_order_screen(app: "MainApp") -> None:
    """Menu 3: ask for every field, preview, confirm, submit."""
    cli = app.cli
    cli.heading("Place order")
    market = _ask_open_market(app)
    cli.write(f"{market.ticker}: {market.title}")
    cli.write(f"  YES bid {fmt_dollars(market.yes_bid)}  YES ask {fmt_dollars(market.yes_ask)}  "
              f"grid {market.price_grid.describe()}")
    action = cli.ask("Buy or sell (b/s)", parse_action)
    outcome = cli.ask("YES or NO (y/n)", parse_outcome)
    count = cli.ask("Count (contracts; 0.01 steps allowed)", parse_count)
    price = cli.ask(f"Limit price for {outcome.value.upper()} (0.42 or 42c), or 'market'",
                    _price_or_market(market, outcome))
    expiry, post_only, source = None, False, "menu"
    if price == MARKET:
        word = "highest" if action is Action.BUY else "lowest"
        price = cli.ask(f"Worst price you accept ({word} {outcome.value.upper()} price)",
                        lambda t: price_on_grid(market, outcome, parse_price(t, what="worst price")))
        tif, source = TimeInForce.IOC, MARKET
    else:
        tif = cli.ask("Time in force (gtc/ioc/fok)", parse_tif, default="gtc")
        if tif is TimeInForce.GTC:
            expiry = cli.ask("Expiry (30m, 2h, 1d, ISO time; Enter for none)",
                             parse_optional(lambda t: parse_expiry(t, now=app.clock())))
            post_only = cli.confirm("Post-only (rest only, never take)?")
    reduce_only = cli.confirm("Reduce-only (never grow the position)?")
    intent = build_intent(market, action=action, outcome=outcome, count=count, price=price, tif=tif,
                          expiration_time=expiry, post_only=post_only, reduce_only=reduce_only,
                          source=source)
    preview = app.executor.preview(intent)
    cli.lines(preview_lines(intent, preview))
    if not confirm_order(cli, app.config.mode, market.ticker):
        cli.write("Not sent.")
        return
    cli.lines(result_lines(app.executor.submit(intent)))


# --- open orders ---------------------------------------------------------------------------

def resting_orders(app: "MainApp", ticker: str | None = None) -> list[Order]:
    return list(app.client.iter_orders(status="resting", ticker=ticker))


def order_rows(orders: list[Order]) -> list[list[str]]:
    return [[str(i), o.order_id[:8], o.ticker, f"{o.book_side.value}", fmt_dollars(o.yes_price),
             fmt_count(o.remaining_count), fmt_count(o.fill_count), _short_tif(o.time_in_force),
             fmt_time(o.expiration_time) if o.expiration_time else "-"]
            for i, o in enumerate(orders, start=1)]


def _short_tif(tif: str) -> str:
    return {"good_till_canceled": "gtc", "immediate_or_cancel": "ioc", "fill_or_kill": "fok"}.get(tif, tif)


def open_orders_screen(app: "MainApp") -> None:
    """Menu 4: list resting orders; cancel, amend, decrease, cancel all; Enter goes back."""
    cli = app.cli
    actions = {"c": _cancel_one, "a": _amend, "d": _decrease, "x": _cancel_all}
    while True:
        cli.heading("Open orders")
        orders = resting_orders(app)
        if not orders:
            cli.write("No resting orders.")
            return
        cli.table(ORDER_COLUMNS, order_rows(orders))
        cli.write("  (side is on the YES book: bid = buy YES / sell NO, ask = sell YES / buy NO)")
        cli.write("  c) cancel one   a) amend   d) decrease   x) cancel all   Enter) back")
        choice = cli.ask("Action", parse_optional(lambda t: _menu_choice(t, actions)))
        if choice is None:
            return
        choice(app, orders)


def _menu_choice(text: str, actions: dict) -> Any:
    key = text.strip().lower()
    if key not in actions:
        raise UserInputError(f"choose c, a, d or x (Enter to go back), not {text.strip()!r}")
    return actions[key]


def _pick(cli: TradingCLI, orders: list[Order]) -> Order:
    if len(orders) == 1:
        return orders[0]
    return orders[cli.ask("Order #", lambda t: parse_positive_int(t, what="order #", maximum=len(orders))) - 1]


def _describe(order: Order) -> str:
    return (f"{order.book_side.value} {fmt_count(order.remaining_count)} {order.ticker} at YES "
            f"{fmt_dollars(order.yes_price)} (order {order.order_id})")


def _cancel_one(app: "MainApp", orders: list[Order]) -> None:
    order = _pick(app.cli, orders)
    if app.cli.confirm(f"Cancel {_describe(order)}?"):
        app.executor.cancel(order.order_id)
        app.cli.write(f"Canceled {order.order_id}.")
    else:
        app.cli.write("Kept.")


def _amend(app: "MainApp", orders: list[Order]) -> None:
    cli = app.cli
    order = _pick(cli, orders)
    market = app.client.get_market(order.ticker)
    price = cli.ask(f"New YES price (Enter keeps {fmt_dollars(order.yes_price)})", parse_optional(
        lambda t: price_on_grid(market, OutcomeSide.YES, parse_price(t, what="YES price"))))
    total = order.fill_count + order.remaining_count
    count = cli.ask(f"New total size incl. {fmt_count(order.fill_count)} filled "
                    f"(Enter keeps {fmt_count(total)})",
                    parse_optional(lambda t: _total_size(t, order)))
    if price is None and count is None:
        cli.write("Nothing to change.")
        return
    new_price = price if price is not None else order.yes_price
    new_count = count if count is not None else total
    cli.write(f"Amend {_describe(order)} to YES {fmt_dollars(new_price)}, total size "
              f"{fmt_count(new_count)} ({fmt_count(new_count - order.fill_count)} left to fill)")
    if not cli.confirm("Send this amendment?"):
        cli.write("Not sent.")
        return
    app.executor.amend(order.order_id, price=price, count=count)
    cli.write(f"Amended {order.order_id}.")


def _total_size(text: str, order: Order) -> Decimal:
    count = parse_count(text, what="total size")
    if count <= order.fill_count:
        raise UserInputError(f"total size must exceed the {fmt_count(order.fill_count)} already filled "
                             "(to stop the order, cancel it)")
    return count


def _decrease(app: "MainApp", orders: list[Order]) -> None:
    cli = app.cli
    order = _pick(cli, orders)
    by = cli.ask(f"Reduce by how many (of {fmt_count(order.remaining_count)} resting)",
                 lambda t: parse_count(t, what="reduce by", maximum=order.remaining_count))
    if not cli.confirm(f"Reduce {_describe(order)} by {fmt_count(by)}?"):
        cli.write("Not sent.")
        return
    app.executor.decrease(order.order_id, reduce_by=by)
    cli.write(f"Decreased {order.order_id} by {fmt_count(by)}.")


def _cancel_all(app: "MainApp", orders: list[Order]) -> None:
    if not app.cli.confirm(f"Cancel ALL {len(orders)} resting order(s)?"):
        app.cli.write("Kept.")
        return
    canceled = app.executor.cancel_all()
    app.cli.write(f"Canceled {canceled} order(s).")
