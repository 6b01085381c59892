"""What the V2 order writes answer: create, cancel, amend, decrease and the batch forms."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Mapping, TypeVar

from ..money import ZERO
from .portfolio_models import Order
from .wire_fields import Raw, read_count, read_dollars, read_str

__all__ = ["CreateOrderResult", "CancelOrderResult", "AmendOrderResult", "DecreaseOrderResult",
           "BatchCreateItem", "BatchCancelItem"]

R = TypeVar("R")


@dataclass(frozen=True)
class CreateOrderResult:
    """`POST /portfolio/events/orders` (201)."""

    order_id: str
    client_order_id: str
    fill_count: Decimal
    remaining_count: Decimal
    average_fill_price: Decimal | None
    average_fee_paid: Decimal | None
    ts_ms: int | None

    @classmethod
    def from_api(cls, raw: Raw) -> "CreateOrderResult":
        r = "create_order"
        return cls(
            order_id=read_str(raw, r, "order_id"),
            client_order_id=raw.get("client_order_id") or "",
            fill_count=read_count(raw, r, "fill_count", required=False) or ZERO,
            remaining_count=read_count(raw, r, "remaining_count", required=False) or ZERO,
            average_fill_price=read_dollars(raw, r, "average_fill_price", required=False),
            average_fee_paid=read_dollars(raw, r, "average_fee_paid", required=False),
            ts_ms=raw.get("ts_ms"),
        )

    @classmethod
    def from_order(cls, order: Order) -> "CreateOrderResult":
        """The same facts read back from `GET /portfolio/orders` (after an ambiguous failure)."""
        filled = order.fill_count
        cost = order.taker_fill_cost + order.maker_fill_cost
        return cls(order.order_id, order.client_order_id, filled, order.remaining_count,
                   (cost / filled).quantize(Decimal("0.000001")) if filled else None,
                   (order.fees / filled).quantize(Decimal("0.000001")) if filled else None, None)


@dataclass(frozen=True)
class CancelOrderResult:
    """`DELETE /portfolio/events/orders/{id}`."""

    order_id: str
    client_order_id: str
    reduced_by: Decimal
    ts_ms: int | None

    @classmethod
    def from_api(cls, raw: Raw) -> "CancelOrderResult":
        r = "cancel_order"
        return cls(read_str(raw, r, "order_id"), raw.get("client_order_id") or "",
                   read_count(raw, r, "reduced_by", legacy="reduced_by_fp", required=False) or ZERO,
                   raw.get("ts_ms"))


@dataclass(frozen=True)
class AmendOrderResult:
    """`POST /portfolio/events/orders/{id}/amend`."""

    order_id: str
    client_order_id: str
    remaining_count: Decimal | None
    fill_count: Decimal | None
    average_fill_price: Decimal | None
    average_fee_paid: Decimal | None
    ts_ms: int | None

    @classmethod
    def from_api(cls, raw: Raw) -> "AmendOrderResult":
        r = "amend_order"
        return cls(read_str(raw, r, "order_id"), raw.get("client_order_id") or "",
                   read_count(raw, r, "remaining_count", required=False),
                   read_count(raw, r, "fill_count", required=False),
                   read_dollars(raw, r, "average_fill_price", required=False),
                   read_dollars(raw, r, "average_fee_paid", required=False), raw.get("ts_ms"))


@dataclass(frozen=True)
class DecreaseOrderResult:
    """`POST /portfolio/events/orders/{id}/decrease`."""

    order_id: str
    client_order_id: str
    remaining_count: Decimal
    ts_ms: int | None

    @classmethod
    def from_api(cls, raw: Raw) -> "DecreaseOrderResult":
        r = "decrease_order"
        return cls(read_str(raw, r, "order_id"), raw.get("client_order_id") or "",
                   read_count(raw, r, "remaining_count"), raw.get("ts_ms"))


@dataclass(frozen=True)
class BatchCreateItem:
    """One entry of a batch create: a result, or the error that item got."""

    result: CreateOrderResult | None
    client_order_id: str
    error_code: str | None
    error_message: str | None

    @classmethod
    def from_api(cls, raw: Raw) -> "BatchCreateItem":
        return cls(*_batch_entry(raw, "client_order_id", CreateOrderResult.from_api))


@dataclass(frozen=True)
class BatchCancelItem:
    """One entry of a batch cancel."""

    result: CancelOrderResult | None
    order_id: str
    error_code: str | None
    error_message: str | None

    @classmethod
    def from_api(cls, raw: Raw) -> "BatchCancelItem":
        return cls(*_batch_entry(raw, "order_id", CancelOrderResult.from_api))


def _batch_entry(raw: Raw, id_name: str, parse: Callable[[Raw], R]) -> tuple[R | None, str, str | None, str | None]:
    """(result, id, error code, error message) of one batch entry: a failed item carries an
    `error` object and no result; any other item is parsed as the single write's answer."""
    key = raw.get(id_name) or ""
    error = raw.get("error")
    if isinstance(error, Mapping) and error:
        return None, key, error.get("code"), error.get("message")
    return parse(raw), key, None, None
