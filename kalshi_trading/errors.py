"""Every error the app raises on purpose, sorted by what the caller does next.

KalshiTradingError               shown as one line by the menu loop and the subcommands
├─ ConfigError                   fix the .env / environment, then restart
├─ UserInputError(ValueError)    re-prompt (bad count, off-grid price, unknown choice...)
├─ RiskLimitExceeded             the executor's risk gate refused; nothing was sent
├─ ResponseFormatError           the exchange answered something we cannot read
├─ ApiError(status, code)        Kalshi (or the paper exchange) said no
│  ├─ AuthError                  401/403: bad key id, key file, signature or clock
│  ├─ NotFoundError              404: unknown ticker or order
│  ├─ OrderRejected              4xx on an order write: do not retry; show the reason
│  │  ├─ InsufficientFunds       available balance too low
│  │  └─ DuplicateClientOrderId  409: an order with this client_order_id already exists
│  └─ TransientApiError          5xx, timeout, reset: retry with backoff
│     └─ RateLimited             429
├─ StrategyError                 a plug-in raised; the app keeps running
└─ ExchangeRejection             raised inside the paper exchange; becomes an HTTP error body

`ApiError` carries status, Kalshi's `code`, `message`, `method` and `path`, and never headers,
the key id, signatures or the body of a signed request.
"""

from __future__ import annotations

__all__ = [
    "KalshiTradingError", "ConfigError", "UserInputError", "RiskLimitExceeded",
    "ResponseFormatError", "ApiError", "AuthError", "NotFoundError", "OrderRejected",
    "InsufficientFunds", "DuplicateClientOrderId", "TransientApiError", "RateLimited",
    "StrategyError", "ExchangeRejection",
]


class KalshiTradingError(Exception):
    """Base of every error this app raises on purpose."""


class ConfigError(KalshiTradingError):
    """The configuration is unusable; the message lists every problem and never a secret."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class UserInputError(KalshiTradingError, ValueError):
    """Input that cannot be used as given; the prompt asks again."""


class RiskLimitExceeded(KalshiTradingError):
    """The risk gate refused an order before anything reached the network."""


class ResponseFormatError(KalshiTradingError):
    """A response lacked a required field or had one of the wrong type."""


class ApiError(KalshiTradingError):
    """The exchange answered with an error status."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 details: str | None = None, method: str | None = None,
                 path: str | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.method = method
        self.path = path
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        status = f"HTTP {self.status} " if self.status is not None else ""
        code = f"[{self.code}] " if self.code else ""
        details = f" ({self.details})" if self.details and self.details != self.message else ""
        return f"{where}{status}{code}{self.message}{details}"


class AuthError(ApiError):
    """401/403: the key id, key file, signature or clock is wrong."""


class NotFoundError(ApiError):
    """404: no such market, event, series or order."""


class OrderRejected(ApiError):
    """The exchange refused an order write; retrying the same request will not help."""


class InsufficientFunds(OrderRejected):
    """The available balance does not cover the order."""


class DuplicateClientOrderId(OrderRejected):
    """409: an order with this client_order_id was already accepted."""


class TransientApiError(ApiError):
    """A network fault, timeout or 5xx: worth retrying with backoff."""

    #: False when the request certainly never took effect (connect failure, 429), so even a
    #: non-idempotent write may simply be resent; True when it may have (timeout, reset, 5xx).
    maybe_applied: bool = True


class RateLimited(TransientApiError):
    """429: the token bucket is empty; wait and retry."""

    maybe_applied = False


class StrategyError(KalshiTradingError):
    """A strategy plug-in raised; the app logs it and keeps running."""


class ExchangeRejection(KalshiTradingError):
    """Raised inside the paper exchange; the server turns it into Kalshi's error body."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        super().__init__(f"{status} {code}: {message}")
