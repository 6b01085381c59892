"""The paper exchange's key registry: Kalshi's RSA-PSS rule, the +-30 s window, and the paper key file."""

from __future__ import annotations

import base64
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from kalshi_trading.errors import ConfigError, ExchangeRejection
from kalshi_trading.paper.auth import KEY_ID_FILE, PRIVATE_KEY_FILE, KeyRegistry, ensure_paper_key
from tests.conftest import pem_public
from tests.paper_http import sign

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)
PATH = "/trade-api/v2/portfolio/balance"


@pytest.fixture()
def registry(rsa_private_key) -> KeyRegistry:
    return KeyRegistry({"key-1": pem_public(rsa_private_key)}, clock=lambda: NOW, max_skew_s=30)


def headers(key, *, key_id="key-1", stamp=NOW_MS, method="GET", path=PATH) -> dict:
    return {"KALSHI-ACCESS-KEY": key_id, "KALSHI-ACCESS-TIMESTAMP": str(stamp),
            "KALSHI-ACCESS-SIGNATURE": sign(key, stamp, method, path)}


def test_valid_signature_returns_the_key_id_as_user(registry, rsa_private_key):
    assert registry.authenticate("GET", PATH, headers(rsa_private_key)) == "key-1"


def test_request_without_any_auth_header_is_anonymous(registry):
    assert registry.authenticate("GET", PATH, {}) is None


def test_pss_with_maximum_salt_is_accepted_too(registry, rsa_private_key):
    """Some clients sign with PSS.MAX_LENGTH; verifying with PSS.AUTO accepts them, as Kalshi's docs allow."""
    message = f"{NOW_MS}GET{PATH}".encode()
    raw = rsa_private_key.sign(message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                    salt_length=padding.PSS.MAX_LENGTH), hashes.SHA256())
    sent = headers(rsa_private_key) | {"KALSHI-ACCESS-SIGNATURE": base64.b64encode(raw).decode()}
    assert registry.authenticate("GET", PATH, sent) == "key-1"


@pytest.mark.parametrize("skew_s, accepted", [(-29, True), (29, True), (-31, False), (31, False)])
def test_timestamp_window_is_thirty_seconds_either_way(registry, rsa_private_key, skew_s, accepted):
    sent = headers(rsa_private_key, stamp=NOW_MS + skew_s * 1000)
    if accepted:
        assert registry.authenticate("GET", PATH, sent) == "key-1"
    else:
        with pytest.raises(ExchangeRejection) as caught:
            registry.authenticate("GET", PATH, sent)
        assert (caught.value.status, caught.value.code) == (401, "authentication_error")


@pytest.mark.parametrize("case", [
    "other_key", "unknown_key_id", "wrong_method", "path_with_query", "missing_signature",
    "garbage_base64", "timestamp_not_digits", "truncated_signature",
])
def test_bad_credentials_are_rejected_with_401(registry, rsa_private_key, other_rsa_private_key, case):
    sent = headers(rsa_private_key)
    if case == "other_key":
        sent = headers(other_rsa_private_key)
    elif case == "unknown_key_id":
        sent = headers(rsa_private_key, key_id="nobody")
    elif case == "wrong_method":
        sent = headers(rsa_private_key, method="POST")
    elif case == "path_with_query":
        sent = headers(rsa_private_key, path=PATH + "?limit=5")
    elif case == "missing_signature":
        del sent["KALSHI-ACCESS-SIGNATURE"]
    elif case == "garbage_base64":
        sent["KALSHI-ACCESS-SIGNATURE"] = "not*base64!"
    elif case == "timestamp_not_digits":
        sent["KALSHI-ACCESS-TIMESTAMP"] = "12.5"
    elif case == "truncated_signature":
        sent["KALSHI-ACCESS-SIGNATURE"] = sent["KALSHI-ACCESS-SIGNATURE"][:40]
    with pytest.raises(ExchangeRejection) as caught:
        registry.authenticate("GET", PATH, sent)
    assert (caught.value.status, caught.value.code) == (401, "authentication_error")


def test_rejection_never_echoes_key_id_or_signature(registry, rsa_private_key):
    sent = headers(rsa_private_key, key_id="secret-key-id-1234")
    with pytest.raises(ExchangeRejection) as caught:
        registry.authenticate("GET", PATH, sent)
    text = f"{caught.value} {caught.value.message} {caught.value.details}"
    assert "secret-key-id-1234" not in text
    assert sent["KALSHI-ACCESS-SIGNATURE"][:20] not in text


def test_registering_something_that_is_not_a_public_key_is_a_config_error():
    with pytest.raises(ConfigError):
        KeyRegistry({"k": b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n"})


def test_paper_key_is_generated_once_as_pkcs1_readable_by_owner_only(tmp_path):
    first = ensure_paper_key(tmp_path)
    assert first.created
    key_file = tmp_path / PRIVATE_KEY_FILE
    assert key_file.read_bytes().startswith(b"-----BEGIN RSA " + b"PRIVATE KEY-----")  # PKCS#1
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert (tmp_path / KEY_ID_FILE).read_text().strip() == first.key_id
    second = ensure_paper_key(tmp_path)
    assert not second.created
    assert (second.key_id, second.public_pem) == (first.key_id, first.public_pem)


def test_generated_paper_key_signs_requests_the_registry_accepts(tmp_path):
    paper = ensure_paper_key(tmp_path)
    private = serialization.load_pem_private_key(paper.private_key_path.read_bytes(), password=None)
    registry = KeyRegistry({paper.key_id: paper.public_pem}, clock=lambda: NOW)
    assert registry.authenticate("GET", PATH, headers(private, key_id=paper.key_id)) == paper.key_id


def test_paper_key_repr_hides_the_secrets(tmp_path):
    paper = ensure_paper_key(tmp_path)
    assert paper.key_id not in repr(paper)
    assert str(tmp_path) not in repr(paper)


def test_clock_is_injected_not_read_from_the_system(rsa_private_key):
    later = NOW + timedelta(hours=1)
    registry = KeyRegistry({"key-1": pem_public(rsa_private_key)}, clock=lambda: later)
    with pytest.raises(ExchangeRejection):
        registry.authenticate("GET", PATH, headers(rsa_private_key))


def test_exchange_checks_timestamps_against_its_injected_clock_and_window(tmp_path, rsa_private_key):
    """Over HTTP: the window is `max_clock_skew_s` around the exchange's clock, not the host's."""
    from kalshi_trading.paper.server import start_paper_exchange
    from tests.paper_http import PaperHttp, make_universe

    exchange_now = datetime.now(timezone.utc) - timedelta(hours=2)
    with start_paper_exchange(tmp_path, universe=make_universe(exchange_now), clock=lambda: exchange_now,
                              public_keys={"key-1": pem_public(rsa_private_key)},
                              max_clock_skew_s=5) as running:
        exchange_ms = int(exchange_now.timestamp() * 1000)
        http = PaperHttp(running.base_url, "key-1", rsa_private_key)
        assert http.get("/portfolio/balance").status_code == 401                  # host time: 2 h off
        assert http.get("/portfolio/balance", timestamp_ms=exchange_ms + 4_000).status_code == 200
        assert http.get("/portfolio/balance", timestamp_ms=exchange_ms - 6_000).status_code == 401
        http.close()
