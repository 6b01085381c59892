"""The pure FIFO lot engine: fills on the YES book in, exact realized P&L per market out.

Kalshi keeps one net position per market, so every fill is normalized to the YES book: a bid
(buy YES, or sell NO) is `+count` at the YES price `p`, an ask (sell YES, or buy NO at `1-p`) is
`-count` at `p`. A fill that runs against the current position closes the oldest open lots first;
what is left of it opens a lot in the new direction. All prices in this module are YES prices.
Realized P&L of a closed piece is (close - open) x count for a YES lot and (open - close) x count
for a NO lot, minus the fees that belong to it: the lot's share of its opening fee and the
closing fill's share of its own fee (a fill that both closes and opens splits its fee pro rata).

Units. The public API is `Decimal` dollars and contracts. Inside, because the replay loop runs a
million times, the ledger counts in integers and says so in its names:
- counts in hundredths of a contract (`*_c2`, the API's 0.01 step),
- prices in millionths of a dollar (`*_p6`, the API's finest price step),
- money in hundred-millionths of a dollar (`*_m8` = `_c2` x `_p6`), exact for every product.
The only inexact steps are pro-rata fee splits, which round down to $0.00000001 and leave the
remainder with the lot or the fill it came from, so fee totals stay exact.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from ..money import ZERO
from ..timeutil import parse_iso

__all__ = ["Lot", "MarketLedger", "SettlementClose", "Compact", "to_c2", "to_p6", "to_m8",
           "from_m8", "day_of"]

C2, P6, M8 = 100, 1_000_000, 100_000_000
_ONE_P6 = P6

# One compact record per fill, in ledger units: (created_time, is_bid, count_c2 > 0, price_p6,
# fee_m8). `created_time` is an ISO time ending in `Z` (its first 10 characters are the UTC day).
Compact = tuple[str, bool, int, int, int]


def _scaled(value: Decimal, scale: int, what: str) -> int:
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{what} {value} is finer than the ledger's unit 1/{scale}")
    return int(scaled)


def to_c2(count: Decimal) -> int:
    """Contracts as hundredths (exact; finer counts are an error)."""
    return _scaled(count, C2, "count")


def to_p6(price: Decimal) -> int:
    """Dollars as millionths (exact; finer prices are an error)."""
    return _scaled(price, P6, "price")


def to_m8(amount: Decimal) -> int:
    """Dollars as hundred-millionths (exact; finer amounts are an error)."""
    return _scaled(amount, M8, "amount")


def from_m8(amount_m8: int) -> Decimal:
    """Hundred-millionths of a dollar as Decimal dollars."""
    return Decimal(amount_m8).scaleb(-8)


def day_of(created_time: str) -> str:
    """The UTC day (`YYYY-MM-DD`) of an API timestamp; cheap for the usual `...Z` form."""
    if not created_time or created_time.endswith("Z"):
        return created_time[:10]
    return parse_iso(created_time).date().isoformat()


@dataclass(frozen=True)
class Lot:
    """An open lot: `count` contracts (> 0) at YES price `price`, with `fee` of opening fee left."""

    count: Decimal
    price: Decimal
    fee: Decimal


@dataclass(frozen=True)
class SettlementClose:
    """What closing the open lots at a settlement value produced."""

    yes_count: Decimal       # contracts held long YES at settlement
    no_count: Decimal        # contracts held NO at settlement
    payout: Decimal          # value x YES count + (1 - value) x NO count
    cost: Decimal            # what the lots cost (prices only, in each side's own terms)
    open_fees: Decimal       # opening fees still carried by those lots
    realized: Decimal        # payout - cost - open_fees
    realized_gross: Decimal  # payout - cost


class MarketLedger:
    """One market's FIFO lots and realized P&L. Feed fills oldest first (`apply` or `replay`).

    `realized` is net of every fee that belongs to a closed piece (opening fees ride in the lot,
    closing fees reduce the proceeds); `realized_gross` is the same before fees; `fees` is the sum
    of every fill's `fee_cost`. Opening fees of lots still open are part of their cost.
    """

    __slots__ = ("ticker", "position_c2", "_lots", "realized_m8", "gross_m8", "fees_m8",
                 "daily_m8", "last_time")

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.position_c2 = 0                  # signed: YES > 0, NO < 0
        self._lots: deque[list[int]] = deque()   # [count_c2, price_p6, fee_m8], oldest first
        self.realized_m8 = 0
        self.gross_m8 = 0
        self.fees_m8 = 0
        self.daily_m8: dict[str, int] = {}    # UTC day -> realized P&L booked that day
        self.last_time = ""

    def apply(self, delta: Decimal, price: Decimal, fee: Decimal, when: str = "") -> Decimal:
        """Book one fill (`delta` signed contracts at YES `price`); returns the P&L it realized."""
        before = self.realized_m8
        self.replay([(when, delta > 0, to_c2(abs(delta)), to_p6(price), to_m8(fee))])
        return from_m8(self.realized_m8 - before)

    def replay(self, fills: Iterable[Compact]) -> None:
        """Book compact fills, oldest first. The hot loop: state lives in locals until the end,
        and realized P&L is added to `daily_m8` once per day rather than once per fill."""
        lots = self._lots
        append, popleft = lots.append, lots.popleft
        position, fees, daily = self.position_c2, self.fees_m8, self.daily_m8
        realized, gross_total = self.realized_m8, self.gross_m8
        long_yes = position > 0
        when = self.last_time
        day_start, day_end, day_sum = "", "", 0     # the UTC day being summed: [start, end)
        for when, is_bid, count, price, fee in fills:
            fees += fee
            if not position or long_yes is is_bid:   # opens (a zero count just carries its fee)
                append([count, price, fee])
                position = position + count if is_bid else position - count
                long_yes = is_bid
                continue
            position = position + count if is_bid else position - count
            lot = lots[0]
            lot_count = lot[0]
            if count < lot_count:      # the usual case: part of the oldest lot closes
                lot_fee = lot[2] * count // lot_count
                lot[0] = lot_count - count
                lot[2] -= lot_fee
                gross = (price - lot[1]) * count if long_yes else (lot[1] - price) * count
                piece_realized = gross - lot_fee - fee
            else:
                remaining, cost, lot_fees = count, 0, 0
                while remaining and lots:
                    lot = lots[0]
                    lot_count = lot[0]
                    if remaining >= lot_count:
                        popleft()
                        cost += lot[1] * lot_count
                        lot_fees += lot[2]
                        remaining -= lot_count
                    else:
                        piece_fee = lot[2] * remaining // lot_count
                        cost += lot[1] * remaining
                        lot[0] = lot_count - remaining
                        lot[2] -= piece_fee
                        lot_fees += piece_fee
                        remaining = 0
                closed = count - remaining
                gross = price * closed - cost if long_yes else cost - price * closed
                if remaining:   # the fill flipped the position: the rest opens a lot the other way
                    close_fee = fee * closed // count
                    append([remaining, price, fee - close_fee])
                    long_yes = is_bid
                else:
                    close_fee = fee
                piece_realized = gross - lot_fees - close_fee
            gross_total += gross
            realized += piece_realized
            if day_start <= when < day_end:
                day_sum += piece_realized
            else:
                if day_sum:
                    daily[day_start] = daily.get(day_start, 0) + day_sum
                day_start = when[:10]
                day_end, day_sum = day_start + "T99", piece_realized
        if day_sum:
            daily[day_start] = daily.get(day_start, 0) + day_sum
        self.position_c2, self.fees_m8 = position, fees
        self.realized_m8, self.gross_m8 = realized, gross_total
        self.last_time = when

    # --- Decimal views -----------------------------------------------------------------------

    @property
    def position(self) -> Decimal:
        """Signed net contracts: YES > 0, NO < 0."""
        return Decimal(self.position_c2).scaleb(-2)

    @property
    def realized(self) -> Decimal:
        return from_m8(self.realized_m8)

    @property
    def realized_gross(self) -> Decimal:
        return from_m8(self.gross_m8)

    @property
    def fees(self) -> Decimal:
        return from_m8(self.fees_m8)

    @property
    def daily(self) -> dict[str, Decimal]:
        """Realized P&L booked per UTC day (`YYYY-MM-DD`; "" when the time was unknown)."""
        return {day: from_m8(amount) for day, amount in self.daily_m8.items()}

    @property
    def lots(self) -> tuple[Lot, ...]:
        """The open lots, oldest first."""
        return tuple(Lot(Decimal(c).scaleb(-2), Decimal(p).scaleb(-6), from_m8(f))
                     for c, p, f in self._lots)

    @property
    def open_fees(self) -> Decimal:
        """Opening fees carried by the open lots (part of their cost)."""
        return from_m8(sum(lot[2] for lot in self._lots))

    @property
    def open_cost(self) -> Decimal:
        """What the open lots cost in their own side's prices, fees excluded (Kalshi's exposure)."""
        if self.position_c2 > 0:
            return from_m8(sum(c * p for c, p, _ in self._lots))
        return from_m8(sum(c * (_ONE_P6 - p) for c, p, _ in self._lots))

    @property
    def average_price(self) -> Decimal | None:
        """Average YES price of the open lots, fees excluded; None when flat."""
        total = sum(lot[0] for lot in self._lots)
        if not total:
            return None
        return from_m8(sum(c * p for c, p, _ in self._lots)) / Decimal(total).scaleb(-2)

    def unrealized(self, mark: Decimal) -> Decimal:
        """P&L of closing the open lots at YES price `mark`, net of their opening fees."""
        gross = sum(((mark - Decimal(p).scaleb(-6)) * Decimal(c).scaleb(-2) for c, p, _ in self._lots),
                    ZERO)
        return (gross if self.position_c2 > 0 else -gross) - self.open_fees

    # --- settlement and corrections ------------------------------------------------------------

    def settle(self, value: Decimal, when: str = "") -> SettlementClose:
        """Close every open lot at settlement `value` (YES payout per contract: 1, 0 or scalar)."""
        long_yes = self.position_c2 > 0
        count_c2 = sum(lot[0] for lot in self._lots)
        cost_m8 = to_m8(self.open_cost)
        fees_m8 = sum(lot[2] for lot in self._lots)
        value_p6 = to_p6(value)
        payout_m8 = count_c2 * (value_p6 if long_yes else _ONE_P6 - value_p6)
        self.discard_lots()
        gross = payout_m8 - cost_m8
        self.gross_m8 += gross
        self._book(gross - fees_m8, when)
        count = Decimal(count_c2).scaleb(-2)
        return SettlementClose(count if long_yes else ZERO, ZERO if long_yes else count,
                               from_m8(payout_m8), from_m8(cost_m8), from_m8(fees_m8),
                               from_m8(gross - fees_m8), from_m8(gross))

    def discard_lots(self) -> None:
        """Forget the open lots without booking anything (their fate is known from elsewhere)."""
        self._lots.clear()
        self.position_c2 = 0

    def book_adjustment(self, amount: Decimal, when: str = "", *, gross: bool = True) -> None:
        """Add `amount` to realized P&L (and to gross unless `gross=False`) on `when`'s day."""
        amount_m8 = to_m8(amount)
        if gross:
            self.gross_m8 += amount_m8
        self._book(amount_m8, when)

    def override(self, *, realized_gross: Decimal, fees: Decimal) -> None:
        """Replace gross P&L and fees with figures known better elsewhere (a settlement's)."""
        self.gross_m8, self.fees_m8 = to_m8(realized_gross), to_m8(fees)

    def _book(self, amount_m8: int, when: str) -> None:
        self.realized_m8 += amount_m8
        if amount_m8:
            day = day_of(when)
            self.daily_m8[day] = self.daily_m8.get(day, 0) + amount_m8

