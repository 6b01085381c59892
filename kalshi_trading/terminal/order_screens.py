"""Menu 3 (place an order) and menu 4 (open orders): every order shown in full before the `y`.

The flow a trader trusts with money: pick a market the exchange knows, say what to do in their own
terms (buy NO at 0.37), see the V2 order it becomes, what it costs with fees, the worst case and the
resulting position, then confirm (default No; in prod, type the ticker). Orders always go through
`TradeExecutor`, the same path the `order` and `cancel` subcommands take.
"""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from typing import Callable

from ..config import Mode
from ..errors import KalshiTradingError, UserInputError
from ..executor.intents import build_intent, price_on_grid
from ..executor.order_preview import OrderPreview, SubmissionResult
from ..models import Market, Order
from ..money import CENT, ONE, ZERO, floor_to, fmt_cash, fmt_count, fmt_dollars
from ..order_request import Action, OrderIntent, OutcomeSide, TimeInForce
from ..timeutil import from_unix, to_iso_z
from ..trading_cli import Column, TradingCLI
from .input_parsing import (parse_action, parse_count, parse_expiry, parse_optional, parse_outcome,
                            parse_positive_int, parse_price, parse_tif)
from .market_screens import ask_market, fmt_time
from .services import AppServices

__all__ = ["MARKET", "preview_lines", "result_lines", "confirm_order", "place_order_screen",
           "open_orders_screen", "order_rows", "ORDER_COLUMNS"]

MARKET = "market"
ORDER_COLUMNS = (Column("#", align=">"), Column("order id", min_width=8), Column("ticker", whole=True),
                 Column("side"), Column("YES price", align=">"), Column("remaining", align=">"),
                 Column("filled", align=">", drop=3), Column("tif", drop=4),
                 Column("expires (UTC)", drop=2), Column("placed as", drop=5))


def preview_lines(intent: OrderIntent, preview: OrderPreview, width: int = 80) -> list[str]:
    """The whole order, in the trader's terms and as the V2 request, with cost, fees and risk;
    long lines wrap under their own indent so nothing runs past the terminal's edge."""
    body = preview.request.to_api()
    body.pop("client_order_id", None)  # made at submit time, once, so a retry reuses it
    lines = ["Order preview:"] + [f"  {line}" for line in preview.lines()]
    if MARKET in intent.tags:
        lines.append(f"  Market order: IOC; nothing fills at a price worse than {fmt_dollars(intent.price)}")
    if intent.expiration_time is not None:
        lines.append(f"  Expires: {to_iso_z(from_unix(intent.expiration_time))} (if still resting)")
    lines += _cash_lines(intent, preview)
    return wrap_lines(lines, width) + _json_lines("  V2 order: ", body, width)


def _json_lines(head: str, body: dict, width: int) -> list[str]:
    """`body` as JSON, broken only between members so each `"key": value` stays whole."""
    members = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in body.items()]
    lines, line = [], head + "{"
    for n, member in enumerate(members):
        piece = member + ("}" if n == len(members) - 1 else ",")
        if len(line) + 1 + len(piece) > width and not line.endswith("{"):
            lines.append(line)
            line = " " * (len(head) + 1) + piece
        else:
            line += ("" if line.endswith("{") else " ") + piece
    return lines + [line]


def wrap_lines(lines: list[str], width: int) -> list[str]:
    """Each line cut at spaces to `width`, continuations indented four past the line's own indent."""
    out: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        out += textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False,
                             drop_whitespace=True) or [""]
    return out


def _cash_lines(intent: OrderIntent, preview: OrderPreview) -> list[str]:
    """How the balance moves for the part that fills now, as the exchange books it.

    Positions net on the YES book: a bid first closes NO held (receiving the NO price) and then
    buys YES; an ask first closes YES held (receiving the YES price) and then buys NO. So "sell
    NO" without NO held *costs* money. The fee is always paid, and the balance moves in whole
    cents (rounded down), so the figure is what a trader will see, give or take a cent.
    """
    est = preview.estimated_fill
    if est is None or est.count <= 0:
        return []
    n = est.count
    yes_value = est.cost if intent.outcome is OutcomeSide.YES else n - est.cost
    yes_avg = yes_value / n
    bid = intent.book_side.value == "bid"
    held = -preview.current_position if bid else preview.current_position  # what this order closes
    closing = min(n, max(held, ZERO))
    close_price, open_price = (ONE - yes_avg, yes_avg) if bid else (yes_avg, ONE - yes_avg)
    received, paid = closing * close_price, (n - closing) * open_price
    change = floor_to(received - paid - est.taker_fee, CENT)
    closes, opens = ("NO", "YES") if bid else ("YES", "NO")
    parts = ([f"closes {fmt_count(closing)} {closes}: +${fmt_dollars(received)}"] if closing else [])
    parts += [f"buys {fmt_count(n - closing)} {opens}: -${fmt_dollars(paid)}"] if n > closing else []
    parts.append(f"taker fee -${fmt_dollars(est.taker_fee)}")
    sign = "-" if change < 0 else "+"
    return [f"  Balance: about {sign}${abs(change):.2f} for the {fmt_count(n)} that fill now "
            f"({'; '.join(parts)}; in whole cents)"]


def result_lines(result: SubmissionResult, balance_before: Decimal | None = None,
                 balance_after: Decimal | None = None) -> list[str]:
    """What the exchange said: order id, status, filled, resting, average price (in the order's
    own terms: a NO order shows the NO price) and, when known, how the balance moved."""
    head = "Already placed, not sent again" if result.found_existing else "Sent"
    lines = [f"{head}: {result.describe()}"]
    if result.average_fill_price is not None and result.intent.outcome is OutcomeSide.NO:
        lines.append(f"  (YES book: {result.request.side.value} at average YES "
                     f"{fmt_dollars(result.average_fill_price)})")
    if balance_before is not None and balance_after is not None:
        change = balance_after - balance_before
        lines.append(f"Balance: ${fmt_cash(balance_after)} (was ${fmt_cash(balance_before)}, "
                     f"{'+' if change >= 0 else '-'}${fmt_cash(abs(change))})")
    return lines + [f"Warning: {text}" for text in result.warnings]


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


def _ask_open_market(services: AppServices) -> Market:
    while True:
        market = ask_market(services.cli, services.client)
        if market.is_open:
            return market
        services.cli.error(f"{market.ticker} is {market.status}; orders need an open market")


def place_order_screen(services: AppServices) -> None:
    """Menu 3: ask for every field, preview, confirm, submit."""
    cli = services.cli
    cli.heading("Place order")
    market = _ask_open_market(services)
    cli.lines(wrap_lines(_quote_lines(market), cli.width))
    action = cli.ask("Buy or sell (b/s)", parse_action)
    outcome = cli.ask("YES or NO (y/n)", parse_outcome)
    count = cli.ask("Count (contracts; 0.01 steps allowed)", parse_count)
    price = cli.ask(f"Limit price for {outcome.value.upper()} in dollars (0.42 or 42c), or 'market'",
                    _price_or_market(market, outcome))
    expiry, post_only, source = None, False, "menu"
    if price == MARKET:
        word = "highest" if action is Action.BUY else "lowest"
        price = cli.ask(f"Worst price you accept, in dollars ({word} {outcome.value.upper()} price)",
                        lambda t: price_on_grid(market, outcome, parse_price(t, what="worst price")))
        tif, source = TimeInForce.IOC, MARKET
    else:
        tif = cli.ask("Time in force (gtc/ioc/fok)", parse_tif, default="gtc")
        if tif is TimeInForce.GTC:
            expiry = cli.ask("Expiry (30m, 2h, 1d, ISO time; Enter for none)",
                             parse_optional(lambda t: parse_expiry(t, now=services.clock())))
            post_only = cli.confirm("Post-only (rest only, never take)?")
    reduce_only = cli.confirm("Reduce-only (never grow the position)?")
    intent = build_intent(market, action=action, outcome=outcome, count=count, price=price, tif=tif,
                          expiration_time=expiry, post_only=post_only, reduce_only=reduce_only,
                          source=source)
    preview = services.executor.preview(intent)
    cli.lines(preview_lines(intent, preview, cli.width))
    if not confirm_order(cli, services.config.mode, market.ticker):
        cli.write("Not sent.")
        return
    before = _balance(services)
    result = services.executor.submit_interactive(intent)
    cli.lines(wrap_lines(result_lines(result, before, _balance(services) if before is not None else None),
                         cli.width))


def _quote_lines(market: Market) -> list[str]:
    """The market's quotes from both sides, so a NO buyer reads NO prices."""
    def quote(bid: Decimal, ask: Decimal) -> str:
        return f"bid {fmt_dollars(bid) if bid else '-'}  ask {fmt_dollars(ask) if ask else '-'}"
    return [f"{market.ticker}: {market.title}",
            f"  YES {quote(market.yes_bid, market.yes_ask)}   NO {quote(market.no_bid, market.no_ask)}",
            f"  price grid {market.price_grid.describe()}"]


def _balance(services: AppServices) -> Decimal | None:
    """The balance for the before/after line; a failed read only leaves that line out."""
    try:
        return services.client.get_balance().balance
    except KalshiTradingError:
        return None


# --- open orders ---------------------------------------------------------------------------

def order_rows(orders: list[Order], placed: dict[str, str] | None = None) -> list[list[str]]:
    """Table rows; `placed` maps order id -> the trader's own terms (see `placed_as`)."""
    placed = placed or {}
    return [[str(i), o.order_id[:8], o.ticker, f"{o.book_side.value}", fmt_dollars(o.yes_price),
             fmt_count(o.remaining_count), fmt_count(o.fill_count), _short_tif(o.time_in_force),
             fmt_time(o.expiration_time) if o.expiration_time else "-", placed.get(o.order_id, "-")]
            for i, o in enumerate(orders, start=1)]


def _short_tif(tif: str) -> str:
    """`gtc`/`ioc`/`fok`; `-` when the exchange does not say (Kalshi's Order has no such field)."""
    return {"good_till_canceled": "gtc", "immediate_or_cancel": "ioc", "fill_or_kill": "fok"}.get(tif, tif) or "-"


def open_orders_screen(services: AppServices) -> None:
    """Menu 4: list resting orders; cancel, amend, decrease, cancel all; Enter goes back."""
    cli = services.cli
    actions: dict[str, OrderAction] = {"c": _cancel_one, "a": _amend, "d": _decrease, "x": _cancel_all}
    while True:
        cli.heading("Open orders")
        orders = list(services.client.iter_orders(status="resting"))
        if not orders:
            cli.write("No resting orders.")
            return
        cli.table(ORDER_COLUMNS, order_rows(orders, services.history.placed_as()))
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


def _pick(cli: TradingCLI, orders: list[Order]) -> Order | None:
    """The order to act on; None (back to the list) when the trader just presses Enter."""
    if len(orders) == 1:
        return orders[0]
    pick = cli.ask("Order # (Enter to go back)", parse_optional(
        lambda t: parse_positive_int(t, what="order #", maximum=len(orders))))
    return None if pick is None else orders[pick - 1]


def _describe(order: Order) -> str:
    return (f"{order.book_side.value} {fmt_count(order.remaining_count)} {order.ticker} at YES "
            f"{fmt_dollars(order.yes_price)} = NO {fmt_dollars(ONE - order.yes_price)} (order {order.order_id})")


def _cancel_one(services: AppServices, orders: list[Order]) -> None:
    order = _pick(services.cli, orders)
    if order is None:
        return
    if services.cli.confirm(f"Cancel {_describe(order)}?"):
        services.executor.cancel(order.order_id)
        services.cli.write(f"Canceled {order.order_id}.")
    else:
        services.cli.write("Kept.")


def _amend(services: AppServices, orders: list[Order]) -> None:
    cli = services.cli
    order = _pick(cli, orders)
    if order is None:
        return
    market = services.client.get_market(order.ticker)
    price = cli.ask(f"New YES price in dollars (Enter keeps YES {fmt_dollars(order.yes_price)} = NO "
                    f"{fmt_dollars(ONE - order.yes_price)})", parse_optional(
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
    cli.write(f"Amend {_describe(order)} to YES {fmt_dollars(new_price)} = NO {fmt_dollars(ONE - new_price)}, total size "
              f"{fmt_count(new_count)} ({fmt_count(new_count - order.fill_count)} left to fill)")
    if not cli.confirm("Send this amendment?"):
        cli.write("Not sent.")
        return
    services.executor.amend(order.order_id, price=price, count=count)
    cli.write(f"Amended {order.order_id}.")


def _total_size(text: str, order: Order) -> Decimal:
    count = parse_count(text, what="total size")
    if count <= order.fill_count:
        raise UserInputError(f"total size must exceed the {fmt_count(order.fill_count)} already filled "
                             "(to stop the order, cancel it)")
    return count


def _decrease(services: AppServices, orders: list[Order]) -> None:
    cli = services.cli
    order = _pick(cli, orders)
    if order is None:
        return
    by = cli.ask(f"Reduce by how many (of {fmt_count(order.remaining_count)} resting)",
                 lambda t: parse_count(t, what="reduce by", maximum=order.remaining_count))
    if not cli.confirm(f"Reduce {_describe(order)} by {fmt_count(by)}?"):
        cli.write("Not sent.")
        return
    services.executor.decrease(order.order_id, reduce_by=by)
    cli.write(f"Decreased {order.order_id} by {fmt_count(by)}.")


def _cancel_all(services: AppServices, orders: list[Order]) -> None:
    if not services.cli.confirm(f"Cancel ALL {len(orders)} resting order(s)?"):
        services.cli.write("Kept.")
        return
    canceled = services.executor.cancel_all()
    services.cli.write(f"Canceled {canceled} order(s).")
