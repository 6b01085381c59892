"""The one line a trader reads when the exchange says no: Kalshi's error codes in plain words.

`HTTP 409 [fill_or_kill_insufficient_resting_volume]` is precise but means nothing at a prompt, so
the menu (`TradingCLI.error`) and the subcommands (`run_command_line`) show `error_line(exc)`
instead. The raw text (method, path, status, code, message, details) is not lost: each translation
is logged to the `kalshi_trading` logger, i.e. `app.log`. Codes not listed here, and every
`TransientApiError` (their text, from the executor, already says whether an order may be placed),
keep the exception's own text. The codes come from REFERENCE.md section 5 and the paper exchange.
"""

from __future__ import annotations

import logging

from ..errors import ApiError, TransientApiError

__all__ = ["error_line", "plain_words", "WORDING"]

log = logging.getLogger(__name__)

_SAYS_NOTHING = {"", "post only cross", "invalid parameters", "invalid order", "not found",
                 "authentication_error", "invalid_order", "invalid_parameters", "not_found"}
_CASH = "Not enough available cash for this order's cost and fees{reason}: nothing was placed."
_CLOSED = ("This market is not open for trading (closed, paused or not open yet): the exchange "
           "refused the request.")
_INVALID = "The exchange refused the order as invalid{reason}."

#: code -> sentence; `{reason}` becomes ` (the exchange's own reason)` when it adds something.
#: "post only cross" is the details of an `invalid_order`, worded on its own.
WORDING: dict[str, str] = {
    "fill_or_kill_insufficient_resting_volume":
        "Not enough resting volume to fill the whole order at your price (fill-or-kill): "
        "nothing was traded.",
    "insufficient_balance": _CASH,
    "available_balance_too_low": _CASH,
    "market_closed": _CLOSED,
    "MARKET_INACTIVE": _CLOSED,
    "post only cross":
        "A post-only order must rest on the book, and at this price it would have traded at once: "
        "nothing was placed.",
    "invalid_order": _INVALID,
    "invalid order": _INVALID,
    "invalid_order_size": "The exchange refused the contract count{reason}.",
    "invalid_parameters": "The exchange refused the request{reason}.",
    "order_not_resting":
        "That order is no longer resting (it filled, was canceled or expired): there is nothing "
        "left to change.",
    "order_already_exists":
        "An order with this client order id is already on the exchange: it was not placed again.",
    "order_side_mismatch":
        "The change names a different book side (bid/ask) than the order has: the exchange "
        "refused it.",
    "order_ticker_mismatch":
        "The change names a different market than the order is on: the exchange refused it.",
    "order_id_and_client_order_id_mismatch":
        "That order id and client order id belong to different orders: the exchange refused the "
        "request.",
    "deprecated_v1_order_endpoint":
        "The exchange no longer takes orders on the legacy V1 endpoints (only on the V2 "
        "/portfolio/events/orders ones): nothing was placed.",
    "authentication_error":
        "The exchange did not accept this app's API key{reason}: check KALSHI_API_KEY_ID, "
        "KALSHI_PRIVATE_KEY_PATH and that this computer's clock is right.",
    "not_found": "The exchange has no such market, series, event or order{reason}.",
}


def plain_words(exc: BaseException) -> str | None:
    """The sentence for `exc`'s Kalshi error code, or None when it keeps its own text."""
    if not isinstance(exc, ApiError) or isinstance(exc, TransientApiError) or not exc.code:
        return None
    details = exc.details or ""
    key = "post only cross" if "post only cross" in f"{details} {exc.message}".lower() else exc.code
    template = WORDING.get(key)
    if template is None:
        return None
    # The details say why (`needs 12.50, available 3.00`) where the message is often generic.
    reason = next((" ".join(text.split()) for text in (details, exc.message)
                   if text.strip().lower() not in _SAYS_NOTHING and text.strip() != exc.code), "")
    return template.format(reason=f" ({reason[:160]})" if reason else "")


def error_line(exc: BaseException | str) -> str:
    """What `Error: ...` says for `exc`: its plain-words sentence (the raw error going to app.log)
    or, for unknown codes and our own errors, its text folded onto one line."""
    raw = " ".join(str(exc).split())
    if isinstance(exc, BaseException):
        sentence = plain_words(exc)
        if sentence is not None:
            log.warning("shown as %r: %s", sentence, raw)
            return sentence
    return raw
