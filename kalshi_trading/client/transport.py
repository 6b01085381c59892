"""One signed, rate-limited, retried HTTP exchange with Kalshi; the only module that sees `requests` errors.

`HttpTransport.send_once` makes exactly one attempt and translates every failure into our error
hierarchy (`raise ... from`). `HttpTransport.request` retries what is transient: connection errors,
timeouts and 500/502/503/504 up to `max_retries` times, 429 up to `max_rate_limit_retries` times,
with exponential backoff and full jitter through the injected `sleep` and `random`. A `Retry-After`
header on a 429 or 5xx (Kalshi sends none; a proxy in between might) replaces the jittered delay,
capped at `max_retry_after`. Writes that are not idempotent pass `retry_ambiguous=False` and do
their own recovery (see client/order_writes.py).
Logs carry method, path, status, latency and attempt; never headers, bodies or key material.
"""

from __future__ import annotations

import logging
import math
import random as _random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import requests

from ..errors import (ApiError, AuthError, DuplicateClientOrderId, InsufficientFunds, NotFoundError,
                      OrderRejected, RateLimited, TransientApiError)
from ..timeutil import utc_now
from .rate_limiter import RateLimiter

__all__ = ["RetryPolicy", "RetryBudget", "HttpTransport", "error_from_response"]

logger = logging.getLogger(__name__)

_TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_FUNDS_CODES = frozenset({"insufficient_balance", "available_balance_too_low", "insufficient_funds"})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry, and the exponential backoff cap that full jitter draws under."""

    max_retries: int = 3               # network errors, timeouts, 500/502/503/504
    max_rate_limit_retries: int = 5    # 429
    base_delay: float = 0.5            # seconds; the n-th retry waits U(0, base * 2**(n-1))
    max_delay: float = 8.0
    max_retry_after: float = 30.0      # a server's Retry-After is honoured up to this many seconds


class RetryBudget:
    """The retries left for one logical call; both kinds are counted separately."""

    def __init__(self, policy: RetryPolicy, random: Callable[[], float]) -> None:
        self.policy = policy
        self._random = random
        self.transient = 0
        self.rate_limited = 0

    def next_delay(self, exc: TransientApiError) -> float | None:
        """Seconds to wait before retrying after `exc`, or None when the budget is spent."""
        if isinstance(exc, RateLimited):
            self.rate_limited += 1
            count, limit = self.rate_limited, self.policy.max_rate_limit_retries
        else:
            self.transient += 1
            count, limit = self.transient, self.policy.max_retries
        if count > limit:
            return None
        ceiling = min(self.policy.max_delay, self.policy.base_delay * 2 ** (count - 1))
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self.policy.max_retry_after)
        return self._random() * ceiling

    @property
    def attempts(self) -> int:
        return 1 + self.transient + self.rate_limited


def _error_parts(response: requests.Response) -> tuple[str | None, str, str | None]:
    """(code, message, details) from Kalshi's `{"error": {...}}`, its 429 string, or raw text."""
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return None, text[:200] or (response.reason or "error"), None
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, str):
        return None, error, None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        message = error.get("message") if isinstance(error.get("message"), str) else None
        details = error.get("details") if isinstance(error.get("details"), str) else None
        return code, message or code or (response.reason or "error"), details
    return None, response.reason or "error", None


def error_from_response(response: requests.Response, method: str, path: str) -> ApiError:
    """The exception an error status stands for (table in ARCHITECTURE.md)."""
    status = response.status_code
    code, message, details = _error_parts(response)
    kwargs = dict(status=status, code=code, details=details, method=method, path=path)
    if status in (401, 403):
        return AuthError(message, **kwargs)
    if status == 429 or status in _TRANSIENT_STATUSES:
        exc = (RateLimited if status == 429 else TransientApiError)(message, **kwargs)
        exc.retry_after = _retry_after(response.headers.get("Retry-After"))  # type: ignore[attr-defined]
        return exc
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status == 409 and code == "order_already_exists":
        return DuplicateClientOrderId(message, **kwargs)
    if method in _WRITE_METHODS and 400 <= status < 500:
        return (InsufficientFunds if code in _FUNDS_CODES else OrderRejected)(message, **kwargs)
    return ApiError(message, **kwargs)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), if it has one."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - utc_now()).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _network_error(exc: requests.RequestException, method: str, path: str,
                   timeout: float | tuple[float, float]) -> ApiError:
    """Our error for a `requests` failure; flags whether the request may have reached the exchange."""
    kwargs = dict(method=method, path=path)
    if isinstance(exc, requests.ConnectTimeout):
        error = TransientApiError(f"could not connect within {timeout}s", **kwargs)
        error.maybe_applied = False
        return error
    if isinstance(exc, requests.Timeout):
        return TransientApiError(f"no response within {timeout}s (the request may have been applied)", **kwargs)
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if type(reason).__name__ == "NewConnectionError":
            error = TransientApiError("could not connect (connection refused or unreachable)", **kwargs)
            error.maybe_applied = False
            return error
        return TransientApiError("connection lost before a complete response "
                                 "(the request may have been applied)", **kwargs)
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return TransientApiError("the response was cut off (the request may have been applied)", **kwargs)
    return ApiError(f"request could not be made: {type(exc).__name__}", **kwargs)


class HttpTransport:
    """A base URL, an auth hook and a session, with retries, backoff and the rate limiter."""

    def __init__(self, base_url: str, auth: requests.auth.AuthBase | None, *,
                 session: requests.Session | None = None, timeout: float | tuple[float, float] = 10.0,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 rate_limiter: RateLimiter | None = None, policy: RetryPolicy = RetryPolicy(),
                 random: Callable[[], float] = _random.random) -> None:
        self.base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path
        self._auth = auth
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self.timeout = timeout
        self.sleep = sleep
        self._monotonic = monotonic
        self.rate_limiter = rate_limiter
        self.policy = policy
        self._random = random
        self.requests_sent = 0

    def new_budget(self) -> RetryBudget:
        return RetryBudget(self.policy, self._random)

    def send_once(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                  body: Any = None, items: int = 1, attempt: int = 1) -> Any:
        """One attempt: rate-limit, sign (via the auth hook), send, parse JSON or raise ours."""
        if self.rate_limiter is not None:
            self.rate_limiter.acquire(method, self._base_path + path, items)
        started = self._monotonic()
        self.requests_sent += 1
        try:
            response = self.session.request(method, self.base_url + path, params=_query(params),
                                            json=body, auth=self._auth, timeout=self.timeout)
        except requests.RequestException as exc:
            error = _network_error(exc, method, path, self.timeout)
            logger.info("%s %s failed after %.1f ms (attempt %d): %s", method, path,
                        (self._monotonic() - started) * 1000, attempt, error.message)
            # a request that could not even be built (InvalidHeader...) quotes header values in
            # its message: keep it off the chain; network failures keep theirs for debugging
            raise error from (exc if isinstance(error, TransientApiError) else None)
        except (ValueError, UnicodeError) as exc:
            # http.client refusing a header or URL: its message may quote a header value (the key id)
            raise ApiError(f"request could not be made: {type(exc).__name__}",
                           method=method, path=path) from None
        logger.debug("%s %s -> %d in %.1f ms (attempt %d)", method, path, response.status_code,
                     (self._monotonic() - started) * 1000, attempt)
        if not 200 <= response.status_code < 300:
            raise error_from_response(response, method, path)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise TransientApiError("the response body is not JSON (the request may have been applied)",
                                    status=response.status_code, method=method, path=path) from exc

    def wait_before_retry(self, budget: RetryBudget, exc: TransientApiError, method: str, path: str) -> None:
        """Sleep the backoff for `exc`, or re-raise it when the budget is spent."""
        delay = budget.next_delay(exc)
        if delay is None:
            logger.warning("%s %s: giving up after %d attempts: %s", method, path, budget.attempts - 1, exc)
            raise exc
        logger.info("%s %s: %s; retrying in %.2f s (attempt %d next)", method, path,
                    exc.message, delay, budget.attempts)
        self.sleep(delay)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                body: Any = None, items: int = 1, retry_ambiguous: bool = True) -> Any:
        """`send_once` with retries; with `retry_ambiguous=False`, only retries a sure non-delivery."""
        budget = self.new_budget()
        while True:
            try:
                return self.send_once(method, path, params=params, body=body, items=items,
                                      attempt=budget.attempts)
            except TransientApiError as exc:
                if exc.maybe_applied and not retry_ambiguous:
                    raise
                self.wait_before_retry(budget, exc, method, path)

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._own_session:
            self.session.close()


def _query(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Drop None values; write booleans as `true`/`false` and lists comma-separated, as Kalshi reads them."""
    if not params:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out
