"""Exact money and contract counts: parsing, formatting, price grids and Kalshi's fee rules.

Units, written down once:
- prices and amounts are `Decimal` dollars (the API's `*_dollars` strings), up to $0.0001;
- counts are `Decimal` contracts (the API's `*_fp` strings), in steps of 0.01;
- integer cents appear only where the API still uses them (balance, settlement revenue/value),
  and are converted at the edge with `cents_to_dollars`.
Never `float`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Iterable, Sequence

from .errors import UserInputError

logger = logging.getLogger(__name__)

__all__ = [
    "ZERO", "ONE", "DOLLAR_QUANTUM", "COUNT_QUANTUM", "CENT",
    "to_decimal", "parse_dollars", "parse_count", "fmt_dollars", "fmt_dollars_fine", "fmt_count",
    "cents_to_dollars",
    "dollars_to_cents_floor", "ceil_to", "floor_to", "PriceRange", "PriceGrid",
    "DEFAULT_PRICE_RANGES", "TAKER_FEE_RATE", "MAKER_FEE_RATE", "COMBO_MAKER_FEE_RATE",
    "FALLBACK_FEE_TYPE", "fee_rates", "FeeSchedule", "fee_schedule", "quadratic_fee", "trade_fee",
    "FeeRounding",
]

ZERO = Decimal("0")
ONE = Decimal("1")
CENT = Decimal("0.01")
DOLLAR_QUANTUM = Decimal("0.0001")
COUNT_QUANTUM = Decimal("0.01")


def to_decimal(value: object, what: str = "number", *, floats: bool = False) -> Decimal:
    """The one conversion of text (or an int) into a finite Decimal; UserInputError names `what`.

    Every reader of numbers goes through here: the wire and config readers, the trader's prompts
    (on top of their own syntax checks) and the paper exchange (which re-raises as a 400). A float
    is refused, since money must never pass through binary floating point, unless `floats` says
    the value comes from recorded JSON, where a number like `0.5` is read by its shortest repr.
    Text must be ASCII: `Decimal` would read digits of any script (`٣`, `３`) as 0-9.
    """
    if isinstance(value, float):
        if not floats:
            raise UserInputError(f"{what} must be a decimal string, not a float ({value!r})")
        value = repr(value)
    if isinstance(value, bool) or value is None:
        raise UserInputError(f"{what} is missing")
    if isinstance(value, str) and not value.isascii():
        # Decimal("٣") is 3: a digit from another script must not become a count or a price
        raise UserInputError(f"{what} {value[:40]!r} is not a number (use the digits 0-9)")
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise UserInputError(f"{what} {value!r} is not a number") from None
    if not result.is_finite():
        raise UserInputError(f"{what} {value!r} is not a finite number")
    return result


def _on_step(result: Decimal, quantum: Decimal, value: object, what: str) -> bool:
    """Whether `result` is a multiple of `quantum`; a number too large for Decimal's 28 digits
    at that step (`1e30`) is a UserInputError rather than a bare decimal.InvalidOperation."""
    try:
        return result == result.quantize(quantum, rounding=ROUND_FLOOR)
    except InvalidOperation:
        raise UserInputError(f"{what} {str(value)[:40]!r} is too large") from None


def parse_dollars(value: object, what: str = "price", *, floats: bool = False) -> Decimal:
    """A `FixedPointDollars` string (or int) as Decimal dollars; more than 6 places is an error."""
    result = to_decimal(value, what, floats=floats)
    if not _on_step(result, Decimal("0.000001"), value, what):
        raise UserInputError(f"{what} {value!r} has more than 6 decimal places")
    return result


def parse_count(value: object, what: str = "count", *, floats: bool = False) -> Decimal:
    """A `FixedPointCount` string (or int) as Decimal contracts; must be on the 0.01 step.
    `floats`: a legacy or recorded float count (`10.0`) is read by its repr (see `to_decimal`)."""
    result = to_decimal(value, what, floats=floats)
    if not _on_step(result, COUNT_QUANTUM, value, what):
        raise UserInputError(f"{what} {value!r} has more than 2 decimal places (minimum step 0.01)")
    return result


def fmt_dollars(amount: Decimal, places: int = 4) -> str:
    """Dollars as the API writes them: `"0.4200"`."""
    return f"{amount.quantize(Decimal(1).scaleb(-places)):.{places}f}"


def fmt_dollars_fine(amount: Decimal) -> str:
    """Portfolio money as the API writes it: 4 places, or 6 when the amount needs them.

    A fractional count at a sub-penny price moves money in millionths of a dollar (0.01 x
    $0.0001), so fills, orders and positions carry up to 6 places; rounding them to 4 would
    break "balance change == revenue - fee_cost".
    """
    if amount == amount.quantize(DOLLAR_QUANTUM):
        return fmt_dollars(amount)
    return fmt_dollars(amount, 6)


def fmt_cash(amount: Decimal) -> str:
    """A balance for the screen: `981.82` in whole cents, else all its places (`981.8250`).

    Never rounded to the cent: $981.825 shown as $981.83 would promise money that is not there.
    """
    places = next((n for n in (2, 4) if amount == amount.quantize(Decimal(1).scaleb(-n))), 6)
    return fmt_dollars(amount, places)


def fmt_count(count: Decimal) -> str:
    """Contracts as the API writes them: `"10.00"`."""
    return f"{count.quantize(COUNT_QUANTUM):.2f}"


def cents_to_dollars(cents: int | Decimal) -> Decimal:
    """Integer cents (balance, settlement revenue, legacy prices) as Decimal dollars."""
    return (Decimal(cents) / 100).quantize(DOLLAR_QUANTUM)


def dollars_to_cents_floor(amount: Decimal) -> int:
    """Dollars as whole cents, rounded down, as `GET /portfolio/balance` reports `balance`."""
    return int((amount * 100).to_integral_value(rounding=ROUND_FLOOR))


def ceil_to(amount: Decimal, quantum: Decimal) -> Decimal:
    """Round up to a multiple of `quantum` (fees round up to $0.0001)."""
    return (amount / quantum).to_integral_value(rounding=ROUND_CEILING) * quantum


def floor_to(amount: Decimal, quantum: Decimal) -> Decimal:
    """Round down to a multiple of `quantum` (toward minus infinity)."""
    return (amount / quantum).to_integral_value(rounding=ROUND_FLOOR) * quantum


@dataclass(frozen=True)
class PriceRange:
    """One band of a market's `price_ranges`: prices from `start` to `end` in steps of `step`."""

    start: Decimal
    end: Decimal
    step: Decimal

    @classmethod
    def from_api(cls, raw: dict) -> "PriceRange":
        return cls(parse_dollars(raw["start"], "price_ranges.start"),
                   parse_dollars(raw["end"], "price_ranges.end"),
                   parse_dollars(raw["step"], "price_ranges.step"))

    def to_api(self) -> dict:
        return {"start": fmt_dollars(self.start), "end": fmt_dollars(self.end),
                "step": fmt_dollars(self.step)}


DEFAULT_PRICE_RANGES: tuple[PriceRange, ...] = (
    PriceRange(Decimal("0.0000"), Decimal("1.0000"), Decimal("0.0100")),
)


class PriceGrid:
    """The set of YES prices a market accepts, from its `price_ranges`.

    A tradeable price is strictly between 0 and 1 and lies on the step of a band that contains it
    (band edges belong to both neighbours, so whole-cent prices stay valid everywhere).
    """

    def __init__(self, ranges: Sequence[PriceRange] | None = None) -> None:
        self.ranges: tuple[PriceRange, ...] = tuple(ranges) if ranges else DEFAULT_PRICE_RANGES

    @classmethod
    def from_api(cls, raw: Iterable[dict] | None) -> "PriceGrid":
        return cls([PriceRange.from_api(item) for item in raw or []])

    def contains(self, price: Decimal) -> bool:
        """True when `price` is a valid order price on this market."""
        if not ZERO < price < ONE:
            return False
        for band in self.ranges:
            if band.start <= price <= band.end and (price - band.start) % band.step == 0:
                return True
        return False

    def step_at(self, price: Decimal) -> Decimal:
        """The finest step of any band containing `price` (the grid's resolution there)."""
        steps = [band.step for band in self.ranges if band.start <= price <= band.end]
        return min(steps) if steps else min(band.step for band in self.ranges)

    def min_price(self) -> Decimal:
        """Lowest tradeable price."""
        band = min(self.ranges, key=lambda b: b.start)
        return band.start + band.step if band.start <= ZERO else band.start

    def max_price(self) -> Decimal:
        """Highest tradeable price."""
        band = max(self.ranges, key=lambda b: b.end)
        return band.end - band.step if band.end >= ONE else band.end

    def snap(self, price: Decimal, *, up: bool) -> Decimal:
        """The nearest valid price at or above (`up`) or at or below `price`, clamped to the grid."""
        price = min(max(price, self.min_price()), self.max_price())
        if self.contains(price):
            return price
        step = self.step_at(price)
        band = next((b for b in self.ranges if b.start <= price <= b.end), self.ranges[0])
        offset = (price - band.start) / step
        ticks = offset.to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
        return min(max(band.start + ticks * step, self.min_price()), self.max_price())

    def describe(self) -> str:
        """`0.0100-0.9900 step 0.0100` for each band, for the market details screen."""
        return ", ".join(f"{fmt_dollars(b.start)}-{fmt_dollars(b.end)} step {fmt_dollars(b.step)}"
                         for b in self.ranges)

    def to_api(self) -> list[dict]:
        return [band.to_api() for band in self.ranges]


FALLBACK_FEE_TYPE = "quadratic"    # what a market whose series cannot be read is charged by
TAKER_FEE_RATE = Decimal("0.07")
MAKER_FEE_RATE = Decimal("0.0175")
COMBO_MAKER_FEE_RATE = Decimal("0.035")


def fee_rates(fee_type: str, multiplier: Decimal | int | str = 1) -> tuple[Decimal, Decimal]:
    """(taker rate, maker rate) for a series' `fee_type`, scaled by its `fee_multiplier`.

    `quadratic` charges makers nothing; `quadratic_with_maker_fees` charges them a quarter of the
    taker rate; `quadratic_with_combo_maker_fees` half. `flat` uses Kalshi's table, whose values are
    unconfirmed; we treat it as quadratic (see KALSHI_API_NOTES.md).
    """
    scale = to_decimal(multiplier, "fee_multiplier", floats=True)
    maker = {
        "quadratic_with_maker_fees": MAKER_FEE_RATE,
        "quadratic_with_combo_maker_fees": COMBO_MAKER_FEE_RATE,
    }.get(fee_type, ZERO)
    return TAKER_FEE_RATE * scale, maker * scale


@dataclass(frozen=True)
class FeeSchedule:
    """A series' fee rule as the rates every fee estimate and the paper exchange charge by.

    `known` is False for the fallback used when the series cannot be found: the order path still
    charges by it (quadratic x1, Kalshi's default), while screens that only inform leave the fee
    out rather than show a guess as a fact.
    """

    fee_type: str
    taker: Decimal
    maker: Decimal
    known: bool = True


def fee_schedule(fee_type: str | None, multiplier: object = 1, *, where: str = "") -> FeeSchedule:
    """The schedule of a series' `fee_type` and `fee_multiplier`, with the one fallback.

    The client's lookup (`client.fees.market_fees`) and the paper engine both end here. A `None`
    fee type means the series is unknown: quadratic at x1, `known=False`. A multiplier that cannot
    be read (recorded data with junk in it) counts as 1, with a warning naming `where`.
    """
    if fee_type is None:
        return FeeSchedule(FALLBACK_FEE_TYPE, *fee_rates(FALLBACK_FEE_TYPE), known=False)
    try:
        taker, maker = fee_rates(fee_type, 1 if multiplier is None else multiplier)
    except UserInputError:
        logger.warning("unreadable fee_multiplier %r for %s; using 1", multiplier, where or fee_type)
        taker, maker = fee_rates(fee_type)
    return FeeSchedule(fee_type, taker, maker)


def quadratic_fee(count: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """`rate x C x P x (1-P)` before rounding: the paper exchange reserves by it per contract."""
    return rate * count * price * (ONE - price)


def trade_fee(count: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """`quadratic_fee` rounded up to $0.0001 (Kalshi's fee_rounding step 1)."""
    if rate == 0 or count == 0:
        return ZERO.quantize(DOLLAR_QUANTUM)
    return ceil_to(quadratic_fee(count, price, rate), DOLLAR_QUANTUM).quantize(DOLLAR_QUANTUM)


class FeeRounding:
    """Kalshi's per-order fee rounding: floor the balance change, accumulate, rebate whole cents.

    For each fill: balance_change = revenue - trade_fee, floored to the account precision; the
    part lost to the floor is a rounding fee added to the order's accumulator; each time the
    accumulator reaches $0.01 a $0.01 rebate is paid back (never making a fill's fee negative).
    The fill's `fee_cost` = trade_fee + rounding_fee - rebate, and the balance moves by exactly
    revenue - fee_cost.
    """

    def __init__(self, precision: Decimal = CENT) -> None:
        self.precision = precision
        self.accumulator = ZERO

    def fill_fee(self, revenue: Decimal, fee: Decimal) -> Decimal:
        """The net `fee_cost` of one fill; `revenue` is negative when buying."""
        change = revenue - fee
        rounding = change - floor_to(change, self.precision)
        self.accumulator += rounding
        net = fee + rounding
        if self.accumulator >= CENT and net >= CENT:
            self.accumulator -= CENT
            net -= CENT
        return net  # exact: a multiple of $0.000001, like every amount a fill can move
