"""Menu 3's order form, after the market is chosen: each field in the trader's terms, checked as soon
as it can be, then the preview, the `y`, and the order.

The risk gate runs field by field (the position limit once the count is known, the cost limit,
naming the count that would pass, once the price is, the open-order limit with GTC), so a refusal
comes while the failing field is typed, not after the whole form. When the preview foresees the
exchange refusing the order (post-only through the book, reduce-only with nothing to reduce, a
fill-or-kill the book cannot fill), it says so and defaults to not sending; then, or after a
refusal when sending, the trader can edit the order, every earlier answer kept as the default,
instead of starting over.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, TypeVar

from ..config import Mode
from ..errors import KalshiTradingError, OrderRejected, RiskLimitExceeded, UserInputError
from ..executor.intents import build_intent, price_on_grid
from ..models import Market
from ..money import fmt_count, fmt_dollars
from ..order_request import Action, OrderIntent, OutcomeSide, TimeInForce
from ..timeutil import from_unix, to_iso_z
from ..trading_cli import TradingCLI
from .input_parsing import (parse_action, parse_count, parse_expiry, parse_outcome, parse_price, parse_tif,
                            parse_yes_no)
from .order_text import MARKET, preview_lines, result_lines, wrap_lines
from .services import AppServices

__all__ = ["OrderAnswers", "run_order_form", "confirm_order", "edit_or_cancel", "refused_choice",
           "SEND", "EDIT", "CANCEL"]

T = TypeVar("T")
SHORT_TIF = {TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}


@dataclass(frozen=True)
class OrderAnswers:
    """What the trader typed into the form, kept so an edit starts from it."""

    action: Action
    outcome: OutcomeSide
    count: Decimal
    price: Decimal
    market_order: bool
    tif: TimeInForce
    expiry: int | None
    post_only: bool
    reduce_only: bool


def confirm_order(cli: TradingCLI, mode: Mode, ticker: str) -> bool:
    """Default No; production orders need the ticker typed out."""
    if mode is Mode.PROD:
        return cli.confirm_typed("REAL MONEY. Send this order?", ticker)
    return cli.confirm("Send this order?")


SEND, EDIT, CANCEL = "send", "edit", "cancel"


def edit_or_cancel(cli: TradingCLI) -> bool:
    """After a refusal: True to edit what was typed. Only `e` edits; anything else leaves the order
    unsent (a stray `y` or menu key meant for the next prompt can never send or change anything)."""
    if cli.read("e) edit the order  Enter) leave it unsent: ").strip().lower() in ("e", "edit"):
        return True
    cli.write("Not sent.")
    return False


def refused_choice(cli: TradingCLI) -> str:
    """The preview foresees a refusal: say so loudly and default to not sending. `y` still sends
    (the book may have moved since the preview), `e` edits, anything else cancels."""
    answer = cli.read("The exchange will refuse this order as the book stands. "
                      "y) send anyway  e) edit  Enter) cancel: ").strip().lower()
    if answer in ("y", "yes", "s", "send"):
        return SEND
    if answer in ("e", "edit"):
        return EDIT
    cli.write("Not sent.")
    return CANCEL


def run_order_form(services: AppServices, market: Market) -> None:
    """Ask, preview, confirm, send; after a refusal, ask again with the answers as defaults."""
    answers: OrderAnswers | None = None
    while True:
        answers = _ask_answers(services, market, answers)
        if not _preview_and_send(services, market, answers):
            return


def _gated(parse: Callable[[str], T], check: Callable[[T], None]) -> Callable[[str], T]:
    """`parse`, then `check`; a risk refusal re-asks the field like any bad answer."""
    def parsed(text: str) -> T:
        value = parse(text)
        try:
            check(value)
        except RiskLimitExceeded as exc:
            raise UserInputError(str(exc)) from None
        return value
    return parsed


def _ask_answers(services: AppServices, market: Market, before: OrderAnswers | None) -> OrderAnswers:
    cli, executor = services.cli, services.executor
    action = cli.ask("Buy or sell (b/s)", parse_action, default=before and before.action.value)
    outcome = cli.ask("YES or NO (y/n)", parse_outcome, default=before and before.outcome.value)
    count_default = before and fmt_count(before.count)
    price_default = before and (MARKET if before.market_order else fmt_dollars(before.price))
    while True:
        count = cli.ask("Count (contracts; 0.01 steps allowed)", _gated(
            parse_count, lambda c: executor.check_limits(market, action=action, outcome=outcome, count=c)),
            default=count_default)
        typed = cli.ask(f"Limit price for {outcome.value.upper()} in dollars (0.42 or 42c), or 'market'",
                        _price_or_market(market, outcome), default=price_default)
        market_order = typed == MARKET
        price = typed
        if market_order:
            word = "highest" if action is Action.BUY else "lowest"
            worst = before and before.market_order and fmt_dollars(before.price) or None
            price = cli.ask(f"Worst price you accept, in dollars ({word} {outcome.value.upper()} price)",
                            lambda t: price_on_grid(market, outcome, parse_price(t, what="worst price")),
                            default=worst)
        try:
            executor.check_limits(market, action=action, outcome=outcome, count=count, price=price)
            break
        except RiskLimitExceeded as exc:   # the count is what usually has to change: ask it again
            cli.error(exc)
            price_default = MARKET if market_order else fmt_dollars(price)
    expiry, post_only, tif = None, False, TimeInForce.IOC
    if not market_order:
        tif = cli.ask("Time in force (gtc/ioc/fok)", _gated(parse_tif, lambda t: executor.check_limits(
            market, action=action, outcome=outcome, count=count, time_in_force=t)),
            default=SHORT_TIF[before.tif] if before and not before.market_order else "gtc")
        if tif is TimeInForce.GTC:
            expiry = _ask_expiry(services, before.expiry if before else None, edit=before is not None)
            post_only = _yes_no(cli, "Post-only (rest only, never take)?", before and before.post_only)
    reduce_only = _yes_no(cli, "Reduce-only (never grow the position)?", before and before.reduce_only)
    return OrderAnswers(action, outcome, count, price, market_order, tif, expiry, post_only, reduce_only)


def _ask_expiry(services: AppServices, before: int | None, *, edit: bool) -> int | None:
    def parse(text: str) -> int | None:
        if text.strip().lower() in ("", "none"):
            return None
        return parse_expiry(text, now=services.clock())
    hint = "none for none" if before is not None else "Enter for none"
    return services.cli.ask(f"Expiry (30m, 2h, 1d, ISO time; {hint})", parse,
                            default=to_iso_z(from_unix(before)) if edit and before is not None else None)


def _yes_no(cli: TradingCLI, prompt: str, before: bool | None) -> bool:
    """A default-No confirmation on the first pass; on an edit, the earlier answer is the default."""
    if before is None:
        return cli.confirm(prompt)
    return cli.ask(f"{prompt} (y/n)", parse_yes_no, default="y" if before else "n")


def _price_or_market(market: Market, outcome: OutcomeSide) -> Callable[[str], Decimal | str]:
    def parse(text: str) -> Decimal | str:
        if text.strip().lower() in ("m", MARKET):
            return MARKET
        return price_on_grid(market, outcome, parse_price(text, what="price"))
    return parse


def _intent(market: Market, answers: OrderAnswers) -> OrderIntent:
    return build_intent(market, action=answers.action, outcome=answers.outcome, count=answers.count,
                        price=answers.price, tif=answers.tif, expiration_time=answers.expiry,
                        post_only=answers.post_only, reduce_only=answers.reduce_only,
                        source=MARKET if answers.market_order else "menu")


def _preview_and_send(services: AppServices, market: Market, answers: OrderAnswers) -> bool:
    """Preview, confirm and send one order; True when the trader chose to edit it."""
    cli = services.cli
    intent = _intent(market, answers)
    try:
        preview = services.executor.preview(intent)
    except RiskLimitExceeded as exc:
        cli.error(exc)
        return edit_or_cancel(cli)
    cli.lines(preview_lines(intent, preview, cli.width))
    if preview.refusal is not None:
        choice = refused_choice(cli)
        if choice != SEND:
            return choice == EDIT
        if services.config.mode is Mode.PROD and not confirm_order(cli, services.config.mode, market.ticker):
            cli.write("Not sent.")
            return False
    elif not confirm_order(cli, services.config.mode, market.ticker):
        cli.write("Not sent.")
        return False
    before = _balance(services)
    try:
        result = services.executor.submit_interactive(intent)
    except (RiskLimitExceeded, OrderRejected) as exc:
        if isinstance(exc, OrderRejected) and exc.code == "market_closed":
            raise   # nothing to edit: the market stopped trading
        cli.error(exc)
        return edit_or_cancel(cli)
    cli.lines(wrap_lines(result_lines(result, before, _balance(services) if before is not None else None),
                         cli.width))
    return False


def _balance(services: AppServices) -> Decimal | None:
    """The balance for the before/after line; a failed read only leaves that line out."""
    try:
        return services.client.get_balance().balance
    except KalshiTradingError:
        return None
