"""A `Forecast` told in the trader's terms: what fills now and what rests or is cancelled, what it
costs or brings in, the fees, the real worst case and the resulting position.

Kalshi nets YES and NO into one position, so "sell YES" from flat *buys NO* (it costs money and
brings in nothing) and "buy NO" while holding YES *closes* YES (it brings money in). The words here
follow what the exchange will book, not the verb the trader typed. New orders, amends and
decreases all read the same way; an amend's or a decrease's head speaks YES prices, so its body
names a NO price as NO (`named=True`).
"""

from __future__ import annotations

from decimal import Decimal

from ..models import BookLevel
from ..money import CENT, ONE, ZERO, ceil_to, fmt_count, fmt_dollars
from ..order_request import Action, BookSide, OutcomeSide
from .fill_forecast import Forecast, held_to_close

__all__ = ["forecast_lines", "position_words", "balance_line", "held_line"]


def position_words(position: Decimal) -> str:
    """`flat`, `3.00 YES`, `7.00 NO`."""
    if position == ZERO:
        return "flat"
    return f"{fmt_count(abs(position))} {'YES' if position > ZERO else 'NO'}"


def _sides(forecast: Forecast) -> tuple[str, str]:
    """(the side this order closes, the side it opens): a bid closes NO and opens YES."""
    return ("NO", "YES") if forecast.intent.book_side is BookSide.BID else ("YES", "NO")


def forecast_lines(forecast: Forecast, fee_type: str, *, named: bool = False) -> list[str]:
    """The preview's body, after the order's own head line (`named`: see the module docstring)."""
    if forecast.refusal is not None:
        return [f"REFUSED: the exchange will not take this order: {forecast.refusal}",
                f"Nothing fills or rests; the position stays {position_words(forecast.position)}."]
    return (_reduce_only_lines(forecast) + [_fills_line(forecast, named)] + _self_trade_lines(forecast)
            + [_money_line(forecast), _fee_line(forecast, fee_type), _worst_line(forecast),
               _position_line(forecast)])


def _reduce_only_lines(forecast: Forecast) -> list[str]:
    if forecast.capped <= ZERO:
        return []
    closes, _ = _sides(forecast)
    held = held_to_close(forecast.intent.book_side, forecast.position)
    also = "" if held == forecast.intent.count else " less what your other resting orders already close"
    return [f"Reduce-only: at most {fmt_count(forecast.intent.count)} of the {fmt_count(forecast.asked)} "
            f"can fill (you hold {fmt_count(held)} {closes}{also}); the exchange cancels the other "
            f"{fmt_count(forecast.capped)} at once"]


def _fills_line(forecast: Forecast, named: bool) -> str:
    i = forecast.intent
    terms = "NO " if named and i.outcome is OutcomeSide.NO else ""
    if forecast.fills:
        line = (f"Fills now: {fmt_count(forecast.filled)} of {fmt_count(i.count)} at average "
                f"{terms}{fmt_dollars(forecast.average_price)}")
    else:
        line = f"Fills now: 0.00 of {fmt_count(i.count)}"
    if forecast.resting > ZERO:
        line += f"; {fmt_count(forecast.resting)} rest on the book at {terms}{fmt_dollars(i.price)}"
    if forecast.cancelled > ZERO:
        why = ("your own resting order at YES "
               f"{fmt_dollars(forecast.stopped_at)} is in the way (self-trade prevention)"
               if forecast.stopped_at is not None else "immediate-or-cancel")
        line += f"; the other {fmt_count(forecast.cancelled)} are cancelled ({why})"
    return line


def _self_trade_lines(forecast: Forecast) -> list[str]:
    """What self-trade prevention does that the book alone cannot show."""
    lines = []
    if forecast.queue_ahead > ZERO:
        lines.append(f"Self-trade prevention: the {fmt_count(forecast.queue_ahead)} at YES "
                     f"{fmt_dollars(forecast.queue_price)} are the size queued there ahead of your own "
                     "resting order, if all of it came before yours; what queued after yours does not "
                     "fill, and the rest of this order is cancelled")
    if forecast.own_cancelled or forecast.own_may_cancel:
        line = "Self-trade prevention (maker): "
        if forecast.own_cancelled:
            line += f"cancels your own resting orders in the way: {_levels(forecast.own_cancelled)}"
        if forecast.own_may_cancel:
            line += ("; " if forecast.own_cancelled else "") + (
                f"may cancel your own resting order(s) {_levels(forecast.own_may_cancel)}, if they are "
                "queued ahead of where this order's count runs out")
        lines.append(line)
    return lines


def _levels(levels: tuple[BookLevel, ...]) -> str:
    return ", ".join(f"{fmt_count(level.count)} at YES {fmt_dollars(level.price)}" for level in levels)


def _money_line(forecast: Forecast) -> str:
    """Money at the limit price, by what the order really does: closing brings money in, opening costs."""
    i = forecast.intent
    bid = i.book_side is BookSide.BID
    closes, opens = _sides(forecast)
    closing = min(i.count, held_to_close(i.book_side, forecast.position))
    opening = i.count - closing
    close_price = ONE - i.yes_price if bid else i.yes_price     # in the held side's terms
    open_price = i.yes_price if bid else ONE - i.yes_price      # in the opened side's terms
    cost = f"${fmt_dollars(opening * open_price)}"
    if closing == ZERO:
        line = f"Cost: up to {cost} ({fmt_count(opening)} {opens} at {fmt_dollars(open_price)} or better)"
        if i.action is Action.SELL:
            line += (f"; you hold no {i.outcome.value.upper()}, so selling it buys {opens}: "
                     "no proceeds")
        return line
    proceeds = f"${fmt_dollars(closing * close_price)}"
    if opening == ZERO:
        return (f"Proceeds: at least {proceeds} (closes {fmt_count(closing)} {closes} you hold at "
                f"{closes} {fmt_dollars(close_price)} or better)")
    return (f"Proceeds: at least {proceeds} for the {fmt_count(closing)} {closes} you hold; the other "
            f"{fmt_count(opening)} open {opens}, costing up to {cost}")


def _fee_line(forecast: Forecast, fee_type: str) -> str:
    total = forecast.fee_now + forecast.rest_fee
    parts = []
    if forecast.fills:
        parts.append(f"taker ${fmt_dollars(forecast.fee_now)} on the {fmt_count(forecast.filled)} that "
                     "fill now (rounded to the cent)")
    if forecast.resting > ZERO:
        maker = (f"maker ${fmt_dollars(forecast.rest_fee)}" if forecast.rest_fee
                 else "no maker fee")
        parts.append(f"{maker} if the resting {fmt_count(forecast.resting)} fill")
    detail = f": {'; '.join(parts)}" if parts else ""
    return f"Fee estimate: ${fmt_dollars(total)} ({fee_type}){detail}"


def _worst_line(forecast: Forecast) -> str:
    i = forecast.intent
    _, opens = _sides(forecast)
    opening = max(ZERO, i.count - held_to_close(i.book_side, forecast.position))
    if opening == ZERO:
        why = "fees only: it only closes what you hold"
    else:
        why = (f"if all of it fills at your limit and the {fmt_count(opening)} {opens} it opens "
               "expire worthless, fees included")
    return f"Worst case loss: ${fmt_dollars(forecast.worst_case_loss)} ({why})"


def _position_line(forecast: Forecast) -> str:
    before, now = position_words(forecast.position), position_words(forecast.position_now)
    line = f"Position: {before} -> {now} now" if forecast.fills else f"Position: {before} now"
    if forecast.resting > ZERO:
        line += (f"; {position_words(forecast.position_if_filled)} if the resting "
                 f"{fmt_count(forecast.resting)} fill")
    return line


def balance_line(forecast: Forecast) -> str | None:
    """How the balance moves for the part that fills now, exactly as the exchange books it."""
    if not forecast.fills:
        return None
    i = forecast.intent
    closes, opens = _sides(forecast)
    bid = i.book_side is BookSide.BID
    held = held_to_close(i.book_side, forecast.position)
    received = paid = ZERO
    closed = ZERO
    for fill in forecast.fills:
        closing = min(fill.count, held - closed)
        closed += closing
        close_unit, open_unit = (ONE - fill.yes_price, fill.yes_price) if bid else (fill.yes_price,
                                                                                    ONE - fill.yes_price)
        received += closing * close_unit
        paid += (fill.count - closing) * open_unit
    n = forecast.filled
    parts = [f"closes {fmt_count(closed)} {closes}: +${fmt_dollars(received)}"] if closed else []
    parts += [f"buys {fmt_count(n - closed)} {opens}: -${fmt_dollars(paid)}"] if n > closed else []
    parts.append(f"fees -${fmt_dollars(forecast.fee_now)}")
    change = forecast.cash_now
    sign = "-" if change < 0 else "+"
    return (f"Balance: about {sign}${abs(change):.2f} for the {fmt_count(n)} that fill now "
            f"({'; '.join(parts)})")


def held_line(forecast: Forecast) -> str | None:
    """What the resting part takes out of the available balance while it rests (None if nothing)."""
    if forecast.held <= ZERO:
        return None
    return (f"Held while the {fmt_count(forecast.resting)} rest: about ${fmt_dollars(ceil_to(forecast.held, CENT), 2)} "
            "of available balance (their cost at your limit plus the most their taker fee could be); "
            "returned as they fill or when cancelled")

