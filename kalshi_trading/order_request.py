"""What a trader means ("buy 10 NO at 0.37") and the V2 order it becomes (`ask` 10 at 0.6300).

Kalshi's V2 order writes speak only the YES book: `side` is `bid` (buy YES / sell NO) or `ask`
(sell YES / buy NO), and `price` is always the YES price. This module owns that conversion so
the executor, the menu and strategies never do it by hand.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from .errors import UserInputError
from .money import ONE, fmt_count, fmt_dollars

__all__ = ["OutcomeSide", "Action", "BookSide", "TimeInForce", "SelfTradePrevention",
           "OrderIntent", "OrderRequestV2", "to_book_side", "to_yes_price"]


class OutcomeSide(enum.StrEnum):
    YES = "yes"
    NO = "no"


class Action(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class BookSide(enum.StrEnum):
    """A side of the YES book: `bid` buys YES, `ask` sells YES (the same as buying NO)."""

    BID = "bid"
    ASK = "ask"


class TimeInForce(enum.StrEnum):
    GTC = "good_till_canceled"
    IOC = "immediate_or_cancel"
    FOK = "fill_or_kill"

    @classmethod
    def parse(cls, text: str) -> "TimeInForce":
        """Accept `gtc`/`ioc`/`fok` or the API's long names."""
        value = text.strip().lower()
        short = {"gtc": cls.GTC, "ioc": cls.IOC, "fok": cls.FOK}
        if value in short:
            return short[value]
        try:
            return cls(value)
        except ValueError:
            raise UserInputError(f"time in force must be gtc, ioc or fok, not {text!r}") from None


class SelfTradePrevention(enum.StrEnum):
    TAKER_AT_CROSS = "taker_at_cross"
    MAKER = "maker"


def to_book_side(action: Action, outcome: OutcomeSide) -> BookSide:
    """buy YES / sell NO -> bid; sell YES / buy NO -> ask."""
    buying_yes = (action is Action.BUY) == (outcome is OutcomeSide.YES)
    return BookSide.BID if buying_yes else BookSide.ASK


def to_yes_price(outcome: OutcomeSide, price: Decimal) -> Decimal:
    """A price quoted for `outcome` as a YES price: NO at q is YES at 1-q."""
    return price if outcome is OutcomeSide.YES else ONE - price


@dataclass(frozen=True)
class OrderRequestV2:
    """The body of `POST /portfolio/events/orders`, with Decimal price (YES) and count."""

    ticker: str
    side: BookSide
    count: Decimal
    price: Decimal
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: str | None = None
    self_trade_prevention_type: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    expiration_time: int | None = None  # Unix seconds; GTC only
    post_only: bool = False
    reduce_only: bool = False

    def to_api(self) -> dict:
        """The JSON body, with fixed-point strings as the API wants them."""
        body: dict = {
            "ticker": self.ticker,
            "side": self.side.value,
            "count": fmt_count(self.count),
            "price": fmt_dollars(self.price),
            "time_in_force": self.time_in_force.value,
            "self_trade_prevention_type": self.self_trade_prevention_type.value,
            "post_only": self.post_only,
            "reduce_only": self.reduce_only,
        }
        if self.client_order_id:
            body["client_order_id"] = self.client_order_id
        if self.expiration_time is not None:
            body["expiration_time"] = self.expiration_time
        return body


@dataclass(frozen=True)
class OrderIntent:
    """A trader's order in their own terms: action, outcome, count and the outcome's price."""

    ticker: str
    action: Action
    outcome: OutcomeSide
    count: Decimal
    price: Decimal  # in the outcome's own terms: a NO order's price is the NO price
    time_in_force: TimeInForce = TimeInForce.GTC
    expiration_time: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    self_trade_prevention_type: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    tags: tuple[str, ...] = field(default=())  # who proposed it (menu, a strategy name...)

    @property
    def book_side(self) -> BookSide:
        return to_book_side(self.action, self.outcome)

    @property
    def yes_price(self) -> Decimal:
        return to_yes_price(self.outcome, self.price)

    @property
    def signed_yes_delta(self) -> Decimal:
        """How this order moves the signed net position when filled: + toward YES, - toward NO."""
        return self.count if self.book_side is BookSide.BID else -self.count

    def to_v2(self, client_order_id: str | None) -> OrderRequestV2:
        """The V2 request this intent becomes."""
        return OrderRequestV2(
            ticker=self.ticker, side=self.book_side, count=self.count, price=self.yes_price,
            time_in_force=self.time_in_force, client_order_id=client_order_id,
            self_trade_prevention_type=self.self_trade_prevention_type,
            expiration_time=self.expiration_time, post_only=self.post_only,
            reduce_only=self.reduce_only,
        )
