"""Who is calling the paper exchange: the key registry and Kalshi's RSA-PSS request signatures.

A request is signed over `timestamp_ms + METHOD + path` (path from the root, query cut off), exactly
as Kalshi verifies it, so a client that works here signs correctly for the real exchange too. The
timestamp must be within `max_skew_s` of the exchange clock (Kalshi does not document its window;
we use +-30 s). The paper key pair made on first start lives in the data dir; nothing here ever
logs or echoes a key, key id or signature.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import ConfigError, ExchangeRejection
from ..timeutil import utc_now

__all__ = ["KEY_HEADER", "TIMESTAMP_HEADER", "SIGNATURE_HEADER", "PRIVATE_KEY_FILE", "KEY_ID_FILE",
           "KeyRegistry", "PaperKey", "ensure_paper_key", "load_public_key"]

logger = logging.getLogger(__name__)

KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"
PRIVATE_KEY_FILE = "paper_private_key.pem"
KEY_ID_FILE = "paper_key_id"

_PSS_PADDINGS = (
    padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
    padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
)


def _unauthorized(details: str) -> ExchangeRejection:
    # Kalshi's message is the bare code; the details say why without echoing any header value.
    return ExchangeRejection(401, "authentication_error", "authentication_error", details)


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """Parse a PEM RSA public key (SubjectPublicKeyInfo or PKCS#1); ConfigError if it is not one."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError("the public key file is not a PEM RSA public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError("the public key is not an RSA key")
    return key


class KeyRegistry:
    """The registered API keys and the signature check every request goes through."""

    def __init__(self, keys: Mapping[str, bytes] | None = None, *,
                 clock: Callable[[], datetime] = utc_now, max_skew_s: float = 30) -> None:
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._max_skew_ms = int(max_skew_s * 1000)
        for key_id, pem in (keys or {}).items():
            self.register(key_id, pem)

    def register(self, key_id: str, public_pem: bytes) -> None:
        """Accept signatures made by the private half of `public_pem` under `key_id`."""
        if not key_id or not key_id.strip():
            raise ConfigError("a key id must not be empty")
        key = load_public_key(public_pem)
        with self._lock:
            self._keys[key_id.strip()] = key

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRegistry({len(self._keys)} key(s))"

    def authenticate(self, method: str, path: str, headers: Mapping[str, str]) -> str | None:
        """The caller's key id, or None when the request carries no auth headers at all.

        Raises ExchangeRejection(401) when any auth header is present but the set is incomplete,
        the key is unknown, the timestamp is off by more than the window, or the signature fails.
        `path` is the request path without the query string.
        """
        key_id = headers.get(KEY_HEADER)
        stamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if key_id is None and stamp is None and signature is None:
            return None
        if not key_id or not stamp or not signature:
            raise _unauthorized("missing KALSHI-ACCESS-KEY, -TIMESTAMP or -SIGNATURE header")
        with self._lock:
            public_key = self._keys.get(key_id)
        if public_key is None:
            raise _unauthorized("unknown API key")
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 16):
            raise _unauthorized("KALSHI-ACCESS-TIMESTAMP must be Unix milliseconds")
        now_ms = int(self._clock().timestamp() * 1000)
        if abs(now_ms - int(stamp)) > self._max_skew_ms:
            raise _unauthorized("request timestamp is outside the allowed window; check your clock")
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise _unauthorized("INCORRECT_API_KEY_SIGNATURE") from None
        message = f"{stamp}{method.upper()}{path}".encode("utf-8")
        for pss in _PSS_PADDINGS:
            try:
                public_key.verify(raw, message, pss, hashes.SHA256())
                return key_id
            except InvalidSignature:
                continue
        raise _unauthorized("INCORRECT_API_KEY_SIGNATURE")


@dataclass(frozen=True)
class PaperKey:
    """The paper exchange's own key pair, kept in the data dir so restarts reuse it."""

    key_id: str = field(repr=False)
    private_key_path: Path = field(repr=False)
    public_pem: bytes = field(repr=False)
    created: bool = False


def ensure_paper_key(data_dir: Path) -> PaperKey:
    """Load the paper key pair from `data_dir`, generating it (RSA 2048, PKCS#1, 0600) the first time."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key_path = data_dir / PRIVATE_KEY_FILE
    id_path = data_dir / KEY_ID_FILE
    created = False
    if not key_path.exists():
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
        _write_private(key_path, pem)
        _write_private(id_path, f"{uuid.uuid4()}\n".encode("ascii"))
        created = True
        logger.info("generated a new paper API key pair in the data dir")
    try:
        private = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(f"the paper private key in {data_dir} is unreadable; delete it to make a new one") from None
    if not id_path.exists():
        _write_private(id_path, f"{uuid.uuid4()}\n".encode("ascii"))
    key_id = id_path.read_text(encoding="ascii").strip()
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return PaperKey(key_id, key_path, public_pem, created)


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` readable by the owner only, atomically (temp file + rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
