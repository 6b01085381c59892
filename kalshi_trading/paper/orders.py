"""User orders of the paper exchange: the record, its `Order` JSON, and V2 request validation.

Validation turns a JSON body into integer units (`price_cc` centicents, `count_ct` centi-contracts)
or raises `ExchangeRejection` with the code the architecture's error table gives, before anything
changes: the engine validates first and mutates second.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..errors import ExchangeRejection, UserInputError
from ..money import ONE, ZERO, PriceGrid, fmt_count, fmt_dollars, fmt_dollars_fine, to_decimal
from ..order_request import SelfTradePrevention, TimeInForce
from ..timeutil import from_unix, to_iso_z
from .accounts import contracts_of, dollars_of

__all__ = ["UserOrder", "OrderSpec", "reject", "parse_create", "parse_price_cc", "parse_count_ct",
           "require_str", "RESTING", "CANCELED", "EXECUTED", "MAX_COUNT", "MAX_UNIX_S"]

RESTING, CANCELED, EXECUTED = "resting", "canceled", "executed"
MAX_COUNT = Decimal(10) ** 12    # contracts; bounds what Decimal arithmetic and the book must hold
MAX_UNIX_S = 253_402_300_799     # 9999-12-31T23:59:59Z: any later time cannot be written as ISO 8601


def reject(status: int, code: str, message: str, details: str = "") -> ExchangeRejection:
    """An `ExchangeRejection`; details default to the message so clients always see a reason."""
    return ExchangeRejection(status, code, message, details or message)


def _bad(message: str) -> ExchangeRejection:
    return reject(400, "invalid_parameters", message)


def require_str(body: dict, name: str, *, required: bool = True) -> str:
    """A string field; missing (when required) or wrong-typed is 400 invalid_parameters."""
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise _bad(f"{name} must be a non-empty string")
    return value


def _decimal(value: object, name: str) -> Decimal:
    """`money.to_decimal` as the exchange answers: a JSON string or integer, else a 400."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _bad(f"{name} must be a decimal string")
    try:
        return to_decimal(value, name)
    except UserInputError as exc:
        raise _bad(str(exc)) from None


def parse_price_cc(value: object, grid: PriceGrid, name: str = "price") -> int:
    """A YES price on the market's grid, in centicents; off the grid is 400 invalid_order."""
    price = _decimal(value, name)
    if not ZERO < price < ONE or price != price.quantize(Decimal("0.0001")) or not grid.contains(price):
        raise reject(400, "invalid_order", f"{name} {value} is not a valid price on this market",
                     f"valid prices: {grid.describe()}")
    return int(price.scaleb(4))


def parse_count_ct(value: object, name: str = "count", *, allow_zero: bool = False) -> int:
    """A positive count on the 0.01 step, in centi-contracts; else 400 invalid_order_size.
    `allow_zero` accepts any spelling of zero (decrease `reduce_to`: cancel the rest)."""
    count = _decimal(value, name)
    if allow_zero and count == 0:
        return 0
    if count <= 0:
        raise reject(400, "invalid_order_size", f"{name} must be greater than zero")
    if count > MAX_COUNT:   # also keeps quantize() below inside Decimal's precision
        raise reject(400, "invalid_order_size", f"{name} is larger than {MAX_COUNT} contracts")
    if count != count.quantize(Decimal("0.01")):
        raise reject(400, "invalid_order_size", f"{name} {value} has more than 2 decimal places",
                     "the minimum step is 0.01 contracts")
    return int(count.scaleb(2))


@dataclass(frozen=True)
class OrderSpec:
    """A validated create request, price still as sent (it needs the market's grid)."""

    ticker: str
    is_bid: bool
    raw_price: object
    count_ct: int
    tif: TimeInForce
    stp: SelfTradePrevention
    client_order_id: str
    expiration_ts: int | None
    post_only: bool
    reduce_only: bool


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _bad(f"{name} must be true or false")
    return value


def parse_create(body: object, now_s: float) -> OrderSpec:
    """Check a `CreateOrderV2Request` body (everything that does not need the market)."""
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object")
    ticker = require_str(body, "ticker")
    side = body.get("side")
    if side not in ("bid", "ask"):
        raise _bad("side must be 'bid' or 'ask'")
    if "price" not in body:
        raise _bad("price is required")
    if "count" not in body:
        raise _bad("count is required")
    try:
        tif = TimeInForce(require_str(body, "time_in_force"))
    except ValueError:
        raise _bad("time_in_force must be fill_or_kill, good_till_canceled or immediate_or_cancel") from None
    try:
        stp = SelfTradePrevention(require_str(body, "self_trade_prevention_type"))
    except ValueError:
        raise _bad("self_trade_prevention_type must be taker_at_cross or maker") from None
    client_order_id = require_str(body, "client_order_id", required=False)
    expiration = body.get("expiration_time")
    if expiration is not None and (isinstance(expiration, bool) or not isinstance(expiration, int)
                                   or not 0 <= expiration <= MAX_UNIX_S):
        raise _bad("expiration_time must be an integer (Unix seconds)")
    post_only, reduce_only = _flag(body, "post_only"), _flag(body, "reduce_only")
    count_ct = parse_count_ct(body["count"])
    if expiration is not None:
        if tif is not TimeInForce.GTC:
            raise reject(400, "invalid_order", "expiration_time is allowed only with good_till_canceled",
                         "Cannot specify both immediate_or_cancel and expiration_ts")
        if expiration <= now_s:
            raise reject(400, "invalid_order", "Expiration timestamp must be in the future")
    return OrderSpec(ticker, side == "bid", body["price"], count_ct, tif, stp, client_order_id,
                     expiration, post_only, reduce_only)


def _iso_ms(ms: int) -> str:
    return to_iso_z(from_unix(ms / 1000))


@dataclass(slots=True)
class UserOrder:
    """A user's order over its life. Integer units; fees and costs are Decimal dollars."""

    order_id: str
    user_id: str
    client_order_id: str
    ticker: str
    is_bid: bool
    price_cc: int
    initial_ct: int
    remaining_ct: int
    tif: str
    stp: str
    created_ms: int
    seq: int
    filled_ct: int = 0
    status: str = RESTING
    post_only: bool = False
    reduce_only: bool = False
    expiration_ts: int | None = None
    updated_ms: int = 0
    taker_fees: Decimal = ZERO
    maker_fees: Decimal = ZERO
    taker_cost: Decimal = ZERO
    maker_cost: Decimal = ZERO
    fee_acc: Decimal = ZERO          # FeeRounding accumulator, carried across this order's fills
    reserved_ct: int = 0             # part of the remainder that holds collateral (the opening part)
    reserve_unit: Decimal = ZERO     # dollars held back per reserved contract
    ahead_ct: int = 0                # crowd queue-ahead, mirrored from the book for persistence

    @property
    def reserved(self) -> Decimal:
        return contracts_of(self.reserved_ct) * self.reserve_unit

    def to_api(self) -> dict:
        """The `Order` JSON."""
        price = dollars_of(self.price_cc)
        return {
            "order_id": self.order_id, "user_id": self.user_id,
            "client_order_id": self.client_order_id, "ticker": self.ticker,
            "outcome_side": "yes" if self.is_bid else "no",
            "book_side": "bid" if self.is_bid else "ask", "type": "limit", "status": self.status,
            "yes_price_dollars": fmt_dollars(price), "no_price_dollars": fmt_dollars(ONE - price),
            "fill_count_fp": fmt_count(contracts_of(self.filled_ct)),
            "remaining_count_fp": fmt_count(contracts_of(self.remaining_ct)),
            "initial_count_fp": fmt_count(contracts_of(self.initial_ct)),
            "taker_fees_dollars": fmt_dollars_fine(self.taker_fees),
            "maker_fees_dollars": fmt_dollars_fine(self.maker_fees),
            "taker_fill_cost_dollars": fmt_dollars_fine(self.taker_cost),
            "maker_fill_cost_dollars": fmt_dollars_fine(self.maker_cost),
            "expiration_time": None if self.expiration_ts is None else to_iso_z(from_unix(self.expiration_ts)),
            "created_time": _iso_ms(self.created_ms),
            "last_update_time": _iso_ms(self.updated_ms or self.created_ms),
            "self_trade_prevention_type": self.stp, "order_group_id": None,
            "cancel_order_on_pause": False, "subaccount_number": 0, "exchange_index": 0,
        }

    def to_store(self) -> dict:
        body = {name: getattr(self, name) for name in self.__slots__}
        for name in ("taker_fees", "maker_fees", "taker_cost", "maker_cost", "fee_acc", "reserve_unit"):
            body[name] = str(body[name])
        return body

    @classmethod
    def from_store(cls, body: dict) -> "UserOrder":
        values = dict(body)
        for name in ("taker_fees", "maker_fees", "taker_cost", "maker_cost", "fee_acc", "reserve_unit"):
            values[name] = Decimal(values[name])
        return cls(**values)
