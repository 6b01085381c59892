"""The words of the order screens: a new order's preview and result, an amend's or a decrease's
preview and what came of it (read back from the exchange), wrapped to the terminal's width.

Kept apart from the flows (`order_form`, `order_changes`, `order_screens`) so the `order`
subcommand prints exactly what menu 3 shows.
"""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal

from ..executor.change_preview import ChangePreview
from ..executor.forecast_lines import balance_line, held_line, position_words
from ..executor.order_preview import OrderPreview, SubmissionResult
from ..models import Order
from ..money import fmt_cash, fmt_count, fmt_dollars
from ..order_request import BookSide, OrderIntent, OutcomeSide
from ..timeutil import from_unix, to_iso_z

__all__ = ["MARKET", "preview_lines", "result_lines", "change_lines", "change_result_lines", "wrap_lines"]

MARKET = "market"   # the tag of an order typed as `market` (an IOC at a worst price)


def preview_lines(intent: OrderIntent, preview: OrderPreview, width: int = 80) -> list[str]:
    """The whole order, in the trader's terms and as the V2 request, with what the exchange will do
    with it; long lines wrap under their own indent so nothing runs past the terminal's edge."""
    body = preview.request.to_api()
    body.pop("client_order_id", None)  # made at submit time, once, so a retry reuses it
    lines = ["Order preview:"] + [f"  {line}" for line in preview.lines()]
    if MARKET in intent.tags:
        lines.append(f"  Market order: IOC; nothing fills at a price worse than {fmt_dollars(intent.price)}")
    if intent.expiration_time is not None:
        lines.append(f"  Expires: {to_iso_z(from_unix(intent.expiration_time))} (if still resting)")
    if preview.refusal is None:
        lines += [f"  {line}" for line in (balance_line(preview.forecast), held_line(preview.forecast)) if line]
    return wrap_lines(lines, width) + _json_lines("  V2 order: ", body, width)


def change_lines(preview: ChangePreview, width: int = 80) -> list[str]:
    """An amend's or a decrease's preview, as a new order's reads."""
    kind = "Amend" if preview.kind == "amend" else "Decrease"
    lines = [f"{kind} preview:"] + [f"  {line}" for line in preview.lines()]
    cash = balance_line(preview.forecast) if preview.refusal is None else None
    if cash:
        lines.append(f"  {cash}")
    return wrap_lines(lines, width)


def change_result_lines(head: str, before: Order, after: Order, position_before: Decimal,
                        position_after: Decimal) -> list[str]:
    """What an amend or a decrease did, read back from the exchange: what filled at once (and its
    fee), what rests now, and the position."""
    filled = after.fill_count - before.fill_count
    fee = after.fees - before.fees
    if filled > 0:
        cost = (after.taker_fill_cost + after.maker_fill_cost) - (before.taker_fill_cost + before.maker_fill_cost)
        side = "YES" if after.book_side is BookSide.BID else "NO"
        done = (f"filled {fmt_count(filled)} at once at average {side} {fmt_dollars(cost / filled)}, "
                f"fee ${fmt_dollars(fee)}")
    else:
        done = "nothing filled"
    rest = (f"{fmt_count(after.remaining_count)} resting at YES {fmt_dollars(after.yes_price)}"
            if after.status == "resting" and after.remaining_count > 0 else f"order {after.status}")
    return [f"{head}: {done}; {rest}; position {position_words(position_before)} -> "
            f"{position_words(position_after)}"]


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
