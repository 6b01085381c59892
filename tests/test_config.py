"""Config.load: environment over .env, one ConfigError listing every problem, secrets never shown."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from client_fixtures import write_pem
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from kalshi_trading.config import BASE_URLS, Config, Mode, RiskLimits
from kalshi_trading.errors import ConfigError

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"


@pytest.fixture
def key_file(tmp_path: Path, rsa_private_key) -> Path:
    return write_pem(tmp_path / "secret-kalshi.key", rsa_private_key)


def test_defaults_are_paper_mode_with_no_key(tmp_path: Path) -> None:
    config = Config.load({}, tmp_path / ".env")
    assert config.mode is Mode.PAPER
    assert config.base_url is None and config.key_id is None and config.private_key_path is None
    assert config.rate_tier == "basic"
    assert config.log_dir == Path("logs")
    assert config.paper_dir == Path("~/.kalshi_trading/paper").expanduser()
    assert config.risk == RiskLimits(Decimal("100"), Decimal("500"), 25)


def test_dotenv_file_is_read_and_the_real_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KALSHI_RATE_TIER=premier\nKALSHI_LOG_DIR=from-file\n"
                                   "KALSHI_MAX_OPEN_ORDERS=7\n")
    config = Config.load({"KALSHI_LOG_DIR": "from-env"}, tmp_path / ".env")
    assert config.rate_tier == "premier"
    assert config.risk.max_open_orders == 7
    assert config.log_dir == Path("from-env")


def test_python_dotenv_disabled_in_the_environment_skips_the_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KALSHI_ENV=prod\nKALSHI_ALLOW_PRODUCTION=yes\n")
    assert Config.load({"PYTHON_DOTENV_DISABLED": "1"}, tmp_path / ".env").mode is Mode.PAPER


def test_a_developers_dotenv_never_leaks_into_tests(tmp_path: Path, monkeypatch) -> None:
    """With the autouse fixture, the app's own call (os.environ, cwd/.env) stays on paper."""
    (tmp_path / ".env").write_text("KALSHI_ENV=prod\nKALSHI_ALLOW_PRODUCTION=yes\n")
    monkeypatch.chdir(tmp_path)
    assert not any(name.startswith("KALSHI_") for name in os.environ)
    assert Config.load(os.environ, Path.cwd() / ".env").mode is Mode.PAPER


@pytest.mark.parametrize("pkcs8", [False, True], ids=["pkcs1", "pkcs8"])
def test_demo_with_a_valid_rsa_key(tmp_path: Path, rsa_private_key, pkcs8: bool) -> None:
    path = write_pem(tmp_path / "k.pem", rsa_private_key, pkcs8=pkcs8)
    config = Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID,
                          "KALSHI_PRIVATE_KEY_PATH": str(path)}, None)
    assert config.mode is Mode.DEMO
    assert config.base_url == "https://external-api.demo.kalshi.co/trade-api/v2"
    assert config.key_id == KEY_ID and config.private_key_path == path


def test_prod_without_the_explicit_opt_in_refuses_and_says_how(key_file: Path) -> None:
    env = {"KALSHI_ENV": "prod", "KALSHI_API_KEY_ID": KEY_ID, "KALSHI_PRIVATE_KEY_PATH": str(key_file)}
    with pytest.raises(ConfigError) as caught:
        Config.load(env, None)
    assert "KALSHI_ALLOW_PRODUCTION=yes" in str(caught.value)
    config = Config.load({**env, "KALSHI_ALLOW_PRODUCTION": "yes"}, None)
    assert config.mode is Mode.PROD and config.base_url == BASE_URLS[Mode.PROD]
    assert config.base_url == "https://external-api.kalshi.com/trade-api/v2"


def test_base_url_overrides_the_environment_and_enables_an_external_paper_exchange(key_file: Path) -> None:
    config = Config.load({"KALSHI_BASE_URL": "http://127.0.0.1:8765/trade-api/v2/",
                          "KALSHI_API_KEY_ID": KEY_ID, "KALSHI_PRIVATE_KEY_PATH": str(key_file)}, None)
    assert config.mode is Mode.PAPER
    assert config.base_url == "http://127.0.0.1:8765/trade-api/v2"


def test_every_problem_is_listed_at_once_and_no_secret_is_shown(tmp_path: Path) -> None:
    missing = tmp_path / "very-secret-dir" / "key.pem"
    env = {"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID, "KALSHI_PRIVATE_KEY_PATH": str(missing),
           "KALSHI_RATE_TIER": "platinum", "KALSHI_MAX_ORDER_COST": "-5",
           "KALSHI_MAX_POSITION": "lots", "KALSHI_MAX_OPEN_ORDERS": "2.5",
           "KALSHI_BASE_URL": "ftp://x"}
    with pytest.raises(ConfigError) as caught:
        Config.load(env, None)
    text = str(caught.value)
    assert len(caught.value.problems) == 6
    for name in ("KALSHI_PRIVATE_KEY_PATH", "KALSHI_RATE_TIER", "KALSHI_MAX_ORDER_COST",
                 "KALSHI_MAX_POSITION", "KALSHI_MAX_OPEN_ORDERS", "KALSHI_BASE_URL"):
        assert name in text
    assert KEY_ID not in text and "very-secret-dir" not in text


def test_missing_credentials_for_demo_name_both_variables() -> None:
    with pytest.raises(ConfigError) as caught:
        Config.load({"KALSHI_ENV": "demo"}, None)
    assert [p.split()[0] for p in caught.value.problems] == ["KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY_PATH"]


@pytest.mark.parametrize("value", ["live", "PAPERS", "production"])
def test_bad_environment_name_lists_the_choices(value: str) -> None:
    with pytest.raises(ConfigError, match="KALSHI_ENV must be one of paper, demo, prod"):
        Config.load({"KALSHI_ENV": value}, None)


def test_environment_names_are_case_insensitive() -> None:
    assert Config.load({"KALSHI_ENV": " Paper ", "KALSHI_RATE_TIER": "PRESTIGE"}, None).rate_tier == "prestige"


@pytest.mark.parametrize("make_key, fmt", [
    (lambda: ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.PKCS8),
    (lambda: ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.TraditionalOpenSSL),
    (ed25519.Ed25519PrivateKey.generate, serialization.PrivateFormat.PKCS8),
], ids=["ec-pkcs8", "ec-sec1", "ed25519"])
def test_a_key_that_is_not_rsa_is_refused(tmp_path: Path, make_key, fmt) -> None:
    path = tmp_path / "other.pem"
    path.write_bytes(make_key().private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()))
    with pytest.raises(ConfigError, match="KALSHI_PRIVATE_KEY_PATH: the key is not an RSA key"):
        Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID, "KALSHI_PRIVATE_KEY_PATH": str(path)}, None)


def test_an_encrypted_key_is_refused_as_unusable(tmp_path: Path, rsa_private_key) -> None:
    path = tmp_path / "locked.pem"
    path.write_bytes(rsa_private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.BestAvailableEncryption(b"pw")))
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID, "KALSHI_PRIVATE_KEY_PATH": str(path)}, None)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_a_key_file_without_read_permission_is_refused(key_file: Path) -> None:
    key_file.chmod(0)
    try:
        with pytest.raises(ConfigError, match="KALSHI_PRIVATE_KEY_PATH: the key file cannot be read") as caught:
            Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID,
                         "KALSHI_PRIVATE_KEY_PATH": str(key_file)}, None)
        assert "secret-kalshi" not in str(caught.value)
    finally:
        key_file.chmod(0o600)


def test_a_key_path_that_cannot_be_opened_is_refused_without_showing_it(key_file: Path) -> None:
    """Reading fails with an OS error other than 'missing' (here: a file used as a folder); this
    also runs as root, where a chmod 000 file would still be readable."""
    with pytest.raises(ConfigError, match="KALSHI_PRIVATE_KEY_PATH: the key file cannot be read") as caught:
        Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID,
                     "KALSHI_PRIVATE_KEY_PATH": str(key_file / "inner.pem")}, None)
    assert "secret-kalshi" not in str(caught.value) and "inner" not in str(caught.value)


def test_a_tilde_in_paths_means_the_home_folder(tmp_path: Path, rsa_private_key, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_pem(tmp_path / "kalshi.key", rsa_private_key)
    config = Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID,
                          "KALSHI_PRIVATE_KEY_PATH": "~/kalshi.key", "KALSHI_PAPER_DIR": "~/paper",
                          "KALSHI_LOG_DIR": "~/logs"}, None)
    assert config.private_key_path == tmp_path / "kalshi.key"
    assert (config.paper_dir, config.log_dir) == (tmp_path / "paper", tmp_path / "logs")


def test_prod_without_opt_in_or_credentials_lists_all_three_problems() -> None:
    with pytest.raises(ConfigError) as caught:
        Config.load({"KALSHI_ENV": "prod"}, None)
    assert [p.split()[0].split("=")[0] for p in caught.value.problems] == \
        ["KALSHI_ENV", "KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY_PATH"]
    assert "set KALSHI_ALLOW_PRODUCTION=yes" in caught.value.problems[0]


@pytest.mark.parametrize("value", ["true", "1", "y", "YES please"])
def test_only_the_word_yes_allows_production(key_file: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="KALSHI_ALLOW_PRODUCTION=yes"):
        Config.load({"KALSHI_ENV": "prod", "KALSHI_ALLOW_PRODUCTION": value, "KALSHI_API_KEY_ID": KEY_ID,
                     "KALSHI_PRIVATE_KEY_PATH": str(key_file)}, None)


def test_the_real_environment_beats_dotenv_for_the_mode_and_the_key(tmp_path: Path, key_file: Path) -> None:
    (tmp_path / ".env").write_text(f"KALSHI_ENV=demo\nKALSHI_API_KEY_ID=from-file-0000\n"
                                   f"KALSHI_PRIVATE_KEY_PATH={tmp_path / 'missing.pem'}\n")
    config = Config.load({"KALSHI_API_KEY_ID": KEY_ID, "KALSHI_PRIVATE_KEY_PATH": str(key_file)},
                         tmp_path / ".env")
    assert (config.mode, config.key_id, config.private_key_path) == (Mode.DEMO, KEY_ID, key_file)


@pytest.mark.parametrize("content", [b"", b"not a key at all", b"-----BEGIN RSA " + b"PRIVATE KEY-----\nxx\n"])
def test_a_file_that_is_not_a_pem_key_is_refused_without_echoing_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID, "KALSHI_PRIVATE_KEY_PATH": str(path)}, None)
    assert "not an unencrypted PEM private key" in str(caught.value)
    assert "not a key at all" not in str(caught.value) and str(path) not in str(caught.value)


def test_a_folder_given_as_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="folder"):
        Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID,
                     "KALSHI_PRIVATE_KEY_PATH": str(tmp_path)}, None)


def test_paper_mode_with_half_a_key_asks_for_the_other_half(key_file: Path) -> None:
    with pytest.raises(ConfigError, match="KALSHI_API_KEY_ID is missing"):
        Config.load({"KALSHI_PRIVATE_KEY_PATH": str(key_file)}, None)


def test_repr_and_settings_screen_hide_the_key_id_and_path(key_file: Path) -> None:
    config = Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID,
                          "KALSHI_PRIVATE_KEY_PATH": str(key_file)}, None)
    shown = repr(config) + str(config.describe())
    assert KEY_ID not in shown and "secret-kalshi" not in shown
    assert config.masked_key_id() == "…608c"
    assert ("API key id", "…608c") in config.describe()
    assert ("Private key file", "set") in config.describe()


def test_risk_limits_are_read_as_exact_decimals() -> None:
    config = Config.load({"KALSHI_MAX_ORDER_COST": "$12.34", "KALSHI_MAX_POSITION": "0.5",
                          "KALSHI_MAX_OPEN_ORDERS": "3"}, None)
    assert config.risk == RiskLimits(Decimal("12.34"), Decimal("0.5"), 3)


def test_dotenv_example_documents_every_variable() -> None:
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    for name in ("KALSHI_ENV", "KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY_PATH", "KALSHI_BASE_URL",
                 "KALSHI_RATE_TIER", "KALSHI_PAPER_DIR", "KALSHI_LOG_DIR", "KALSHI_MAX_ORDER_COST",
                 "KALSHI_MAX_POSITION", "KALSHI_MAX_OPEN_ORDERS", "KALSHI_ALLOW_PRODUCTION"):
        assert name in example
    assert Config.load({}, None) == Config.load({"PYTHON_DOTENV_DISABLED": "0"},
                                                Path(__file__).resolve().parent.parent / ".env.example")


def test_an_unknown_users_home_is_listed_with_the_other_problems_not_a_crash() -> None:
    """`~nosuchuser/...` made Path.expanduser raise RuntimeError straight out of Config.load."""
    with pytest.raises(ConfigError) as caught:
        Config.load({"KALSHI_PAPER_DIR": "~no-such-user-here/paper", "KALSHI_LOG_DIR": "~no-such-user-here/l",
                     "KALSHI_MAX_OPEN_ORDERS": "0"}, None)
    problems = caught.value.problems
    assert len(problems) == 3
    assert any(p.startswith("KALSHI_PAPER_DIR") for p in problems)
    assert not any("no-such-user-here" in p for p in problems)


def test_an_unknown_users_home_in_the_key_path_names_the_variable_not_the_path() -> None:
    with pytest.raises(ConfigError, match="KALSHI_PRIVATE_KEY_PATH") as caught:
        Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID,
                     "KALSHI_PRIVATE_KEY_PATH": "~no-such-user-here/secret.pem"}, None)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize("text", ["²", "1" * 5000, "٣x"], ids=["superscript", "5000-digits", "arabic-indic"])
def test_an_unusable_whole_number_is_a_config_problem_not_a_value_error(text: str) -> None:
    with pytest.raises(ConfigError, match="KALSHI_MAX_OPEN_ORDERS must be a positive whole number"):
        Config.load({"KALSHI_MAX_OPEN_ORDERS": text}, None)


def test_a_dotenv_saved_as_utf16_is_a_config_problem(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KALSHI_ENV=demo\n", encoding="utf-16")
    with pytest.raises(ConfigError, match=r"\.env is not UTF-8"):
        Config.load({}, tmp_path / ".env")


def test_a_dotenv_with_a_bom_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KALSHI_RATE_TIER=premier\n", encoding="utf-8-sig")
    assert Config.load({}, tmp_path / ".env").rate_tier == "premier"


def test_an_unparseable_dotenv_line_is_reported_not_silently_skipped(tmp_path: Path) -> None:
    """python-dotenv skips a line it cannot parse (an unclosed quote) with only a log warning, so a
    key id written that way read as "missing"; now the line number is one of the problems."""
    (tmp_path / ".env").write_text(f'KALSHI_ENV=paper\nKALSHI_API_KEY_ID="{KEY_ID}\n')
    with pytest.raises(ConfigError, match=r"\.env line\(s\) 2 cannot be parsed") as caught:
        Config.load({}, tmp_path / ".env")
    assert KEY_ID not in str(caught.value)


@pytest.mark.parametrize("word", ["y", "t", "YES", "True"])
def test_python_dotenv_disabled_accepts_python_dotenvs_own_truthy_words(tmp_path: Path, word: str) -> None:
    (tmp_path / ".env").write_text("KALSHI_RATE_TIER=premier\n")
    assert Config.load({"PYTHON_DOTENV_DISABLED": word}, tmp_path / ".env").rate_tier == "basic"


def test_a_key_id_with_a_pasted_invisible_character_is_listed_without_echoing_it(key_file: Path) -> None:
    with pytest.raises(ConfigError, match="KALSHI_API_KEY_ID contains") as caught:
        Config.load({"KALSHI_ENV": "demo", "KALSHI_API_KEY_ID": KEY_ID + "\u200b",
                     "KALSHI_PRIVATE_KEY_PATH": str(key_file)}, None)
    assert KEY_ID not in str(caught.value)
