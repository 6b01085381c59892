"""Parsers for what a trader types: prices, counts, dates, choices.

Each parser takes the raw line and returns a value or raises `UserInputError` with a message short
enough to print as one `Error: ...` line; the prompt loop in `TradingCLI.ask` then asks again. The
menu and the subcommands use the same parsers, so `0.42`, `0.4200` and (in the menu) `42c` mean the
same thing everywhere. Numbers are ASCII digits only: Python reads `٣` (Arabic-Indic three) or `３`
(fullwidth) as 3, and a count a trader did not mean to type must not become an order.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Callable, Sequence, TypeVar

from ..errors import UserInputError
from ..money import COUNT_QUANTUM, ONE, ZERO, PriceGrid, fmt_dollars, to_decimal
from ..order_request import Action, OutcomeSide, TimeInForce
from ..timeutil import parse_iso

__all__ = [
    "ascii_digits", "parse_price", "parse_count", "parse_positive_int", "parse_date", "parse_date_end",
    "parse_ticker", "parse_outcome", "parse_action", "parse_tif", "parse_choice", "parse_optional",
    "parse_expiry", "parse_yes_no", "exclusive_end",
]

T = TypeVar("T")
MAX_EXPIRY_MINUTES = 366 * 24 * 60
MAX_COUNT = Decimal(1_000_000_000)  # far above any real order; keeps Decimal arithmetic exact

_DOLLARS = re.compile(r"^\$?(\d*\.?\d+|\d+\.)$", re.ASCII)
_CENTS = re.compile(r"^(\d*\.?\d+)\s*(c|¢|cents?)$", re.ASCII)
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,99}$")


def ascii_digits(text: str, what: str) -> str:
    """`text`, refused with a clear reason when it holds a digit other than 0-9 (`٣`, `３`, `²`)."""
    if any(ch.isdigit() or ch.isnumeric() for ch in text if not ch.isascii()):
        raise UserInputError(f"{what} {text.strip()[:40]!r}: type numbers with the digits 0-9")
    return text


def parse_price(text: str, *, grid: PriceGrid | None = None, allow_cents: bool = True,
                what: str = "price") -> Decimal:
    """A price in dollars (`0.42`, `0.4200`, `$0.42`) or, when allowed, cents (`42c`).

    The result must lie strictly between 0 and 1 and, when a grid is given, on the market's grid.
    """
    raw = ascii_digits(text, what).strip().lower()
    if not raw:
        raise UserInputError(f"{what} is required (dollars, e.g. 0.42" + (" or 42c)" if allow_cents else ")"))
    if raw.startswith("-"):
        raise UserInputError(f"{what} must be positive, not {text.strip()!r}")
    cents = _CENTS.match(raw)
    if cents and allow_cents:
        value = to_decimal(cents.group(1), what) / 100
    elif _DOLLARS.match(raw):
        value = to_decimal(raw.lstrip("$"), what)
        if value >= ONE and "." not in raw:
            hint = f" (did you mean {raw}c?)" if allow_cents else ""
            raise UserInputError(f"{what} is in dollars, between 0 and 1{hint}")
    else:
        raise UserInputError(f"{what} {text.strip()!r} is not a price (dollars, e.g. 0.42"
                             + (" or 42c)" if allow_cents else ")"))
    if not ZERO < value < ONE:
        raise UserInputError(f"{what} must be between 0 and 1 dollar, not {text.strip()!r}")
    if value != value.quantize(Decimal("0.0001")):
        raise UserInputError(f"{what} {text.strip()!r} has more than 4 decimal places")
    value = value.quantize(Decimal("0.0001"))
    if grid is not None and not grid.contains(value):
        raise UserInputError(f"{what} {fmt_dollars(value)} is not on this market's price grid "
                             f"({grid.describe()})")
    return value


def parse_count(text: str, *, what: str = "count", maximum: Decimal | None = None) -> Decimal:
    """A positive number of contracts in steps of 0.01 (fractional contracts are allowed)."""
    raw = ascii_digits(text, what).strip()
    if not raw:
        raise UserInputError(f"{what} is required (a number of contracts, e.g. 10)")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", raw, re.ASCII):
        raise UserInputError(f"{what} {raw!r} is not a number")
    value = to_decimal(raw, what)
    if value <= 0:
        raise UserInputError(f"{what} must be more than 0, not {raw!r}")
    if value > MAX_COUNT:
        raise UserInputError(f"{what} must be at most {MAX_COUNT:,} contracts")
    if value != value.quantize(COUNT_QUANTUM):
        raise UserInputError(f"{what} {raw!r} has more than 2 decimal places (minimum step 0.01)")
    if maximum is not None and value > maximum:
        raise UserInputError(f"{what} must be at most {maximum}")
    return value.quantize(COUNT_QUANTUM)


def parse_positive_int(text: str, *, what: str = "number", maximum: int | None = None) -> int:
    """A whole number from 1 to `maximum` (menu picks, row numbers)."""
    raw = ascii_digits(text, what).strip()
    # isdigit() also accepts "²" and other digits int() refuses: ASCII digits only
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) < 1:
        limit = f" from 1 to {maximum}" if maximum else ""
        raise UserInputError(f"{what} must be a whole number{limit}, not {raw!r}")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise UserInputError(f"{what} must be from 1 to {maximum}, not {value}")
    return value


def parse_date(text: str, *, what: str = "date") -> datetime:
    """`2026-11-21` (midnight UTC) or a full ISO 8601 time, as an aware UTC datetime."""
    raw = ascii_digits(text, what).strip()
    if not raw:
        raise UserInputError(f"{what} is required (YYYY-MM-DD)")
    if raw.lower() == "today":
        return datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw, re.ASCII):
            return datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time(), timezone.utc)
        return parse_iso(raw)
    except (ValueError, OverflowError):
        raise UserInputError(f"{what} {raw!r} is not a date (YYYY-MM-DD)") from None


def parse_date_end(text: str, *, what: str = "date") -> datetime:
    """Like `parse_date`, but the LAST microsecond of what was written (an inclusive `--to`): a
    bare day is its end, `05:12` the end of that minute (as the history lists times to the
    minute), `05:12:50` the end of that second, `05:12:50.238` the end of that millisecond."""
    moment = parse_date(text, what=what)
    raw = text.strip().lower()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}|today", raw):
        return moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    written = re.match(r"\d{4}-\d{2}-\d{2}[t ](\d{2})(:\d{2})?(:\d{2})?(?:[.,](\d+))?", raw)
    if written is None:
        return moment
    _, minutes, seconds, fraction = written.groups()
    span = (timedelta(hours=1) if minutes is None else timedelta(minutes=1) if seconds is None
            else timedelta(seconds=1) if fraction is None
            else timedelta(microseconds=10 ** max(6 - len(fraction), 0)))
    return moment + span - timedelta(microseconds=1)


def exclusive_end(end: datetime | None) -> datetime | None:
    """An inclusive end (from `parse_date_end`) as the exclusive bound queries take."""
    return None if end is None else end + timedelta(microseconds=1)


def parse_ticker(text: str, *, what: str = "ticker") -> str:
    """A market/event/series ticker: upper-cased, letters, digits, `-`, `.`, `_`."""
    raw = text.strip().upper()
    if not raw:
        raise UserInputError(f"{what} is required")
    if not _TICKER.match(raw):
        raise UserInputError(f"{what} {text.strip()!r} is not a valid ticker")
    return raw


def parse_choice(text: str, choices: dict[str, T], *, what: str = "choice") -> T:
    """One of `choices` (keys compared case-insensitively)."""
    raw = text.strip().lower()
    if raw in choices:
        return choices[raw]
    names = "/".join(dict.fromkeys(choices))
    raise UserInputError(f"{what} must be one of {names}, not {text.strip()!r}")


def parse_outcome(text: str) -> OutcomeSide:
    """`yes`/`y` or `no`/`n`."""
    return parse_choice(text, {"yes": OutcomeSide.YES, "y": OutcomeSide.YES,
                               "no": OutcomeSide.NO, "n": OutcomeSide.NO}, what="side")


def parse_action(text: str) -> Action:
    """`buy`/`b` or `sell`/`s`."""
    return parse_choice(text, {"buy": Action.BUY, "b": Action.BUY,
                               "sell": Action.SELL, "s": Action.SELL}, what="action")


def parse_tif(text: str) -> TimeInForce:
    """`gtc`, `ioc` or `fok`."""
    if not text.strip():
        raise UserInputError("time in force must be gtc, ioc or fok")
    return TimeInForce.parse(text)


def parse_yes_no(text: str) -> bool:
    """`y`/`yes` or `n`/`no`; anything else is an error (an empty line is handled by the caller)."""
    return parse_choice(text, {"y": True, "yes": True, "n": False, "no": False}, what="answer")


def parse_expiry(text: str, *, now: datetime) -> int:
    """An order expiry: minutes from now (`30m`, `2h`) or an ISO time; Unix seconds in the future."""
    raw = ascii_digits(text, "expiry").strip().lower()
    match = re.fullmatch(r"(\d+)\s*(m|min|h|d)", raw, re.ASCII)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        minutes = amount * {"m": 1, "min": 1, "h": 60, "d": 1440}[unit]
        if minutes > MAX_EXPIRY_MINUTES:
            raise UserInputError("expiry must be within a year")
        moment = now + timedelta(minutes=minutes)
    else:
        try:
            moment = parse_iso(text)
        except (ValueError, OverflowError):
            raise UserInputError(f"expiry {text.strip()!r} is not 30m, 2h, 1d or an ISO time") from None
    if moment <= now:
        raise UserInputError("expiry must be in the future")
    return int(moment.timestamp())


def parse_optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """Wrap a parser so an empty line means None (an optional prompt)."""
    def optional(text: str) -> T | None:
        return None if not text.strip() else parse(text)
    return optional


def first_match(items: Sequence[T], key: Callable[[T], str], text: str) -> T | None:
    """The item whose key equals `text` (case-insensitive), if any."""
    wanted = text.strip().upper()
    return next((item for item in items if key(item).upper() == wanted), None)
