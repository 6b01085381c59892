"""KalshiSigner: the signature Kalshi verifies, fresh on every attempt, and no key material shown."""

from __future__ import annotations

import base64
import itertools
from pathlib import Path

import pytest
import requests
from client_fixtures import write_pem
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from kalshi_trading.client.signing import KalshiSigner, load_private_key
from kalshi_trading.errors import ConfigError

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"


def _verify(key, signature: str, message: str) -> None:
    """Kalshi's check: RSA-PSS, SHA-256, MGF1-SHA-256, salt length 32."""
    key.public_key().verify(base64.b64decode(signature, validate=True), message.encode(),
                            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                            hashes.SHA256())


def _prepared(method: str, url: str, signer: KalshiSigner, **kwargs) -> requests.PreparedRequest:
    return requests.Request(method, url, auth=signer, **kwargs).prepare()


def test_signs_timestamp_method_and_path_without_the_query(rsa_private_key) -> None:
    signer = KalshiSigner(KEY_ID, rsa_private_key, clock_ms=lambda: 1703123456789)
    request = _prepared("get", "https://x.test/trade-api/v2/portfolio/orders", signer,
                        params={"limit": 5, "ticker": "KXA"})
    assert request.headers["KALSHI-ACCESS-KEY"] == KEY_ID
    assert request.headers["KALSHI-ACCESS-TIMESTAMP"] == "1703123456789"
    _verify(rsa_private_key, request.headers["KALSHI-ACCESS-SIGNATURE"],
            "1703123456789GET/trade-api/v2/portfolio/orders")
    with pytest.raises(InvalidSignature):
        _verify(rsa_private_key, request.headers["KALSHI-ACCESS-SIGNATURE"],
                "1703123456789GET/trade-api/v2/portfolio/orders?limit=5&ticker=KXA")


def test_the_body_is_not_signed_and_post_uses_the_upper_case_verb(rsa_private_key) -> None:
    signer = KalshiSigner(KEY_ID, rsa_private_key, clock_ms=lambda: 1)
    request = _prepared("post", "https://x.test/trade-api/v2/portfolio/events/orders", signer,
                        json={"ticker": "KXA"})
    _verify(rsa_private_key, request.headers["KALSHI-ACCESS-SIGNATURE"],
            "1POST/trade-api/v2/portfolio/events/orders")


def test_every_application_signs_afresh_with_the_clock(rsa_private_key) -> None:
    ticks = itertools.count(1_700_000_000_000, 250)
    signer = KalshiSigner(KEY_ID, rsa_private_key, clock_ms=lambda: next(ticks))
    first = _prepared("GET", "https://x.test/trade-api/v2/portfolio/balance", signer)
    second = _prepared("GET", "https://x.test/trade-api/v2/portfolio/balance", signer)
    assert first.headers["KALSHI-ACCESS-TIMESTAMP"] == "1700000000000"
    assert second.headers["KALSHI-ACCESS-TIMESTAMP"] == "1700000000250"
    _verify(rsa_private_key, second.headers["KALSHI-ACCESS-SIGNATURE"],
            "1700000000250GET/trade-api/v2/portfolio/balance")


def test_repr_shows_only_the_last_four_characters_of_the_key_id(rsa_private_key) -> None:
    signer = KalshiSigner(KEY_ID, rsa_private_key)
    assert repr(signer) == "KalshiSigner(key_id=…608c)" == str(signer)
    assert KEY_ID not in repr(signer) and "PRIVATE" not in repr(signer)


@pytest.mark.parametrize("pkcs8", [False, True], ids=["pkcs1", "pkcs8"])
def test_loads_pkcs1_and_pkcs8_pem(tmp_path: Path, rsa_private_key, pkcs8: bool) -> None:
    key = load_private_key(write_pem(tmp_path / "k.pem", rsa_private_key, pkcs8=pkcs8))
    assert key.private_numbers() == rsa_private_key.private_numbers()


def test_loads_a_pkcs8_body_under_an_rsa_private_key_header(tmp_path: Path, rsa_private_key) -> None:
    path = write_pem(tmp_path / "k.pem", rsa_private_key, pkcs8=True)
    path.write_bytes(path.read_bytes().replace(b"PRIVATE KEY", b"RSA PRIVATE KEY"))
    assert load_private_key(path).private_numbers() == rsa_private_key.private_numbers()


def test_missing_key_file_names_the_variable_not_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        KalshiSigner.from_key_file(KEY_ID, tmp_path / "hidden-name.key")
    assert "KALSHI_PRIVATE_KEY_PATH" in str(caught.value) and "hidden-name" not in str(caught.value)


def test_an_empty_key_id_is_a_config_error(rsa_private_key) -> None:
    with pytest.raises(ConfigError):
        KalshiSigner("", rsa_private_key)
