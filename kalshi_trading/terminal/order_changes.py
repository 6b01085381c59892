"""Menu 4's amend and decrease, previewed like a new order and reported from the exchange.

An amend can trade: a new price through the book fills at once, like a new taker order. So the
trader sees the same preview a new order gets (what fills now and its fee, what rests, the worst
case, the resulting position) with the risk gate run before the `y`, and afterwards what really
happened, read back from the exchange (the order and the position), not just "Amended".
"""

from __future__ import annotations

from decimal import Decimal

from ..errors import OrderRejected, RiskLimitExceeded, UserInputError
from ..executor.intents import price_on_grid
from ..models import Order
from ..money import ONE, ZERO, fmt_count, fmt_dollars
from ..order_request import OutcomeSide
from ..trading_cli import TradingCLI
from .input_parsing import parse_count, parse_optional, parse_positive_int, parse_price
from .order_form import EDIT, SEND, edit_or_cancel, refused_choice
from .order_text import change_lines, change_result_lines, wrap_lines
from .services import AppServices

__all__ = ["pick_order", "describe_order", "amend_flow", "decrease_flow"]


def pick_order(cli: TradingCLI, orders: list[Order]) -> Order | None:
    """The order to act on; None (back to the list) when the trader just presses Enter."""
    if len(orders) == 1:
        return orders[0]
    pick = cli.ask("Order # (Enter to go back)", parse_optional(
        lambda t: parse_positive_int(t, what="order #", maximum=len(orders))))
    return None if pick is None else orders[pick - 1]


def describe_order(order: Order) -> str:
    return (f"{order.book_side.value} {fmt_count(order.remaining_count)} {order.ticker} at YES "
            f"{fmt_dollars(order.yes_price)} = NO {fmt_dollars(ONE - order.yes_price)} (order {order.order_id})")


def _position(services: AppServices, ticker: str) -> Decimal:
    return next((p.position for p in services.client.iter_positions(ticker=ticker) if p.ticker == ticker), ZERO)


def _report(services: AppServices, head: str, before: Order, position_before: Decimal) -> None:
    """What the change did, read back: the order as the exchange now holds it, and the position."""
    after = services.client.get_order(before.order_id)
    lines = change_result_lines(head, before, after, position_before, _position(services, before.ticker))
    services.cli.lines(wrap_lines(lines, services.cli.width))


def amend_flow(services: AppServices, orders: list[Order]) -> None:
    """New price and/or total size, previewed (and risk-checked) before the `y`."""
    cli = services.cli
    order = pick_order(cli, orders)
    if order is None:
        return
    market = services.client.get_market(order.ticker)
    total = order.fill_count + order.remaining_count
    typed_price: str | None = None
    typed_count: str | None = None
    while True:
        # When editing, Enter takes what was typed last time (shown in brackets), so the prompt
        # must not also promise that Enter keeps the order's own value.
        keep_price = ("Enter: the price typed before" if typed_price is not None else
                      f"Enter keeps YES {fmt_dollars(order.yes_price)} = NO {fmt_dollars(ONE - order.yes_price)}")
        keep_count = ("Enter: the size typed before" if typed_count is not None else
                      f"Enter keeps {fmt_count(total)}")
        price = cli.ask(f"New YES price in dollars ({keep_price})", parse_optional(
            lambda t: price_on_grid(market, OutcomeSide.YES, parse_price(t, what="YES price"))),
            default=typed_price)
        count = cli.ask(f"New total size incl. {fmt_count(order.fill_count)} filled ({keep_count})",
                        parse_optional(lambda t: _total_size(t, order)), default=typed_count)
        if price is None and count is None:
            cli.write("Nothing to change.")
            return
        typed_price = None if price is None else fmt_dollars(price)
        typed_count = None if count is None else fmt_count(count)
        if not _send_amend(services, order, price, count):
            return


def _send_amend(services: AppServices, order: Order, price: Decimal | None, count: Decimal | None) -> bool:
    """Preview, confirm, send, report; True when the trader chose to edit the amendment."""
    cli = services.cli
    try:
        preview = services.executor.preview_amend(order.order_id, price=price, count=count)
    except RiskLimitExceeded as exc:
        cli.error(exc)
        return edit_or_cancel(cli)
    cli.lines(change_lines(preview, cli.width))
    if preview.refusal is not None:
        choice = refused_choice(cli)
        if choice != SEND:
            return choice == EDIT
    elif not cli.confirm("Send this amendment?"):
        cli.write("Not sent.")
        return False
    position = _position(services, order.ticker)
    try:
        services.executor.amend(order.order_id, price=price, count=count)
    except (RiskLimitExceeded, OrderRejected) as exc:
        if isinstance(exc, OrderRejected) and exc.code in ("market_closed", "order_not_resting"):
            raise   # nothing left to edit
        cli.error(exc)
        return edit_or_cancel(cli)
    _report(services, f"Amended {order.order_id}", order, position)
    return False


def _total_size(text: str, order: Order) -> Decimal:
    count = parse_count(text, what="total size")
    if count <= order.fill_count:
        raise UserInputError(f"total size must exceed the {fmt_count(order.fill_count)} already filled "
                             "(to stop the order, cancel it)")
    return count


def decrease_flow(services: AppServices, orders: list[Order]) -> None:
    """Shrink a resting order, previewed; a decrease never trades, so it needs no risk check."""
    cli = services.cli
    order = pick_order(cli, orders)
    if order is None:
        return
    by = cli.ask(f"Reduce by how many (of {fmt_count(order.remaining_count)} resting)",
                 lambda t: parse_count(t, what="reduce by", maximum=order.remaining_count))
    preview = services.executor.preview_decrease(order.order_id, reduce_by=by)
    cli.lines(change_lines(preview, cli.width))
    if not cli.confirm(f"Reduce {describe_order(order)} by {fmt_count(by)}?"):
        cli.write("Not sent.")
        return
    position = _position(services, order.ticker)
    services.executor.decrease(order.order_id, reduce_by=by)
    _report(services, f"Decreased {order.order_id} by {fmt_count(by)}", order, position)
