"""Shared fixtures: hermetic environment, RSA keys generated at test time, the data in tests/data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TEST_DATA = Path(__file__).resolve().parent / "data"
GOLDEN = "kalshi-starter-code-python-golden"


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer's .env or KALSHI_* variable can turn a test run into a live one."""
    for name in list(os.environ):
        if name.startswith("KALSHI_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_DOTENV_DISABLED", "1")


@pytest.fixture(scope="session")
def rsa_private_key() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key made for this test run only (as Kalshi issues them)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_private_key() -> rsa.RSAPrivateKey:
    """A second key, for 'wrong key' tests."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_private(key: rsa.RSAPrivateKey, *, pkcs8: bool = False) -> bytes:
    """The key as PEM: PKCS#1 (the "RSA" label, Kalshi's download) or PKCS#8."""
    fmt = serialization.PrivateFormat.PKCS8 if pkcs8 else serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def pem_public(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="session")
def test_data() -> Path:
    """tests/data: the OpenAPI spec and the recorded responses the package does not bundle
    (what each file is, its source and licence: tests/data/README.md)."""
    return TEST_DATA


@pytest.fixture(scope="session")
def bundled_recordings() -> Path:
    """The recordings the package ships for its paper exchange (kalshi_trading/paper/data/recorded)."""
    from kalshi_trading.paper.market_data.sources import BUNDLED_DIR
    return BUNDLED_DIR / "recorded"


@pytest.fixture(scope="session")
def golden_dir(tmp_path_factory: pytest.TempPathFactory, test_data: Path, bundled_recordings: Path) -> Path:
    """The starter code's golden recordings as one folder, as they were recorded: the market-data
    files the package bundles plus the portfolio, order, candle and status files in tests/data."""
    folder = tmp_path_factory.mktemp("golden")
    shutil.copytree(bundled_recordings / GOLDEN, folder, dirs_exist_ok=True)
    shutil.copytree(test_data / GOLDEN, folder, dirs_exist_ok=True)
    return folder
