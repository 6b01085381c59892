"""Paper accounts and positions: cash, reservations, one signed net position per market.

A position is a FIFO list of lots (count, unit cost) all on the side it currently holds. Buying
NO while long YES sells YES first (netting), so closing trades realize (proceeds - FIFO cost) and
return cash, and only the opening part costs collateral. Money is exact `Decimal`; counts arrive
from the matching core as integer centi-contracts (`*_ct`) and prices as centicents (`*_cc`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..money import CENT, ONE, ZERO, ceil_to, fmt_count, fmt_dollars_fine
from ..timeutil import from_unix, to_iso_z

__all__ = ["dollars_of", "contracts_of", "Account", "Position", "FillEffect", "event_positions"]


def dollars_of(price_cc: int) -> Decimal:
    """Centicents as Decimal dollars (4215 -> 0.4215)."""
    return Decimal(price_cc).scaleb(-4)


def contracts_of(count_ct: int) -> Decimal:
    """Centi-contracts as Decimal contracts (250 -> 2.50)."""
    return Decimal(count_ct).scaleb(-2)


@dataclass
class Account:
    """One user's cash. `reserved` is what resting orders hold back; `available` is the rest."""

    user_id: str
    cash: Decimal
    reserved: Decimal = ZERO
    updated_ms: int = 0

    @property
    def available(self) -> Decimal:
        """Cash less the hold, the hold rounded up to a cent: cash moves in whole cents (fee
        rounding), so available cash does too, as a normal member's balance does on Kalshi."""
        return self.cash - ceil_to(self.reserved, CENT)

    def to_store(self) -> dict:
        return {"user_id": self.user_id, "cash": str(self.cash), "updated_ms": self.updated_ms}

    @classmethod
    def from_store(cls, body: dict) -> "Account":
        return cls(body["user_id"], Decimal(body["cash"]), ZERO, int(body["updated_ms"]))


@dataclass(frozen=True)
class FillEffect:
    """What one fill did to a position: cash before fees, the closing part, realized P&L."""

    revenue: Decimal          # + proceeds of the closing part - cost of the opening part
    closing_ct: int
    opening_ct: int


@dataclass
class Position:
    """A user's net position in one market: YES > 0, NO < 0, with FIFO cost lots."""

    user_id: str
    ticker: str
    event_ticker: str
    position_ct: int = 0
    lots: list[list] = field(default_factory=list)   # [count_ct, unit cost Decimal], oldest first
    realized_pnl: Decimal = ZERO
    fees_paid: Decimal = ZERO
    total_traded: Decimal = ZERO
    traded_ct: int = 0
    updated_ms: int = 0

    def closable_ct(self, is_bid: bool) -> int:
        """How much of an order on this side would close rather than open."""
        if is_bid:
            return -self.position_ct if self.position_ct < 0 else 0
        return self.position_ct if self.position_ct > 0 else 0

    def apply(self, is_bid: bool, price: Decimal, count_ct: int, now_ms: int) -> FillEffect:
        """Book one fill at YES price `price`; returns the cash it moves before fees."""
        open_unit = price if is_bid else ONE - price         # buying YES costs P, buying NO 1-P
        close_unit = ONE - price if is_bid else price        # closing NO returns 1-P, YES returns P
        closing = min(count_ct, self.closable_ct(is_bid))
        opening = count_ct - closing
        proceeds = contracts_of(closing) * close_unit
        removed = self._pop_lots(closing)
        self.realized_pnl += proceeds - removed
        opening_cost = contracts_of(opening) * open_unit
        if opening:
            self.lots.append([opening, open_unit])
        self.position_ct += count_ct if is_bid else -count_ct
        self.total_traded += contracts_of(count_ct) * open_unit
        self.traded_ct += count_ct
        self.updated_ms = now_ms
        return FillEffect(proceeds - opening_cost, closing, opening)

    def _pop_lots(self, count_ct: int) -> Decimal:
        cost = ZERO
        while count_ct > 0:
            lot = self.lots[0]
            take = min(lot[0], count_ct)
            cost += contracts_of(take) * lot[1]
            lot[0] -= take
            count_ct -= take
            if lot[0] == 0:
                self.lots.pop(0)
        return cost

    @property
    def exposure(self) -> Decimal:
        """Cost of the contracts held now (FIFO)."""
        return sum((contracts_of(c) * unit for c, unit in self.lots), ZERO)

    def to_api(self) -> dict:
        """A `MarketPosition`."""
        return {
            "ticker": self.ticker, "exchange_index": 0,
            "position_fp": fmt_count(contracts_of(self.position_ct)),
            "total_traded_dollars": fmt_dollars_fine(self.total_traded),
            "market_exposure_dollars": fmt_dollars_fine(self.exposure),
            "realized_pnl_dollars": fmt_dollars_fine(self.realized_pnl),
            "fees_paid_dollars": fmt_dollars_fine(self.fees_paid),
            "last_updated_ts": to_iso_z(from_unix(self.updated_ms / 1000)),
        }

    def to_store(self) -> dict:
        return {"user_id": self.user_id, "ticker": self.ticker, "event_ticker": self.event_ticker,
                "position_ct": self.position_ct, "lots": [[c, str(u)] for c, u in self.lots],
                "realized_pnl": str(self.realized_pnl), "fees_paid": str(self.fees_paid),
                "total_traded": str(self.total_traded), "traded_ct": self.traded_ct,
                "updated_ms": self.updated_ms}

    @classmethod
    def from_store(cls, body: dict) -> "Position":
        return cls(body["user_id"], body["ticker"], body["event_ticker"], int(body["position_ct"]),
                   [[int(c), Decimal(u)] for c, u in body["lots"]], Decimal(body["realized_pnl"]),
                   Decimal(body["fees_paid"]), Decimal(body["total_traded"]), int(body["traded_ct"]),
                   int(body["updated_ms"]))


def event_positions(positions: list[Position]) -> list[dict]:
    """`EventPosition` rows: market positions summed per event."""
    by_event: dict[str, list[Position]] = {}
    for position in positions:
        by_event.setdefault(position.event_ticker, []).append(position)
    rows = []
    for event_ticker, group in by_event.items():
        rows.append({
            "event_ticker": event_ticker,
            "total_cost_dollars": fmt_dollars_fine(sum((p.total_traded for p in group), ZERO)),
            "total_cost_shares_fp": fmt_count(contracts_of(sum(p.traded_ct for p in group))),
            "event_exposure_dollars": fmt_dollars_fine(sum((p.exposure for p in group), ZERO)),
            "realized_pnl_dollars": fmt_dollars_fine(sum((p.realized_pnl for p in group), ZERO)),
            "fees_paid_dollars": fmt_dollars_fine(sum((p.fees_paid for p in group), ZERO)),
        })
    return rows

