"""Settings from the process environment and an optional `.env` file, validated in one pass.

`Config.load(environ, dotenv_path)` is pure: it reads the `.env` with python-dotenv's
`dotenv_values` (never `load_dotenv`, which would mutate `os.environ`), lets the real environment
win, and collects every problem before raising ONE `ConfigError`. Messages name the variable but
never echo a key id, a key file path or key material. Paper mode needs no key.
"""

from __future__ import annotations

import enum
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from .client.rate_limiter import TIERS
from .client.signing import key_id_problem, load_private_key
from .errors import ConfigError, UserInputError
from .money import fmt_count, fmt_dollars, to_decimal

__all__ = ["Mode", "RiskLimits", "Config", "BASE_URLS", "RATE_TIERS", "DEFAULT_PAPER_DIR",
           "DEFAULT_LOG_DIR"]


class Mode(enum.StrEnum):
    """Where orders go: the embedded paper exchange, Kalshi's demo, or real money."""

    PAPER = "paper"
    DEMO = "demo"
    PROD = "prod"


#: The currently recommended `external-api` hosts (REFERENCE.md section 1).
BASE_URLS: dict[Mode, str] = {
    Mode.DEMO: "https://external-api.demo.kalshi.co/trade-api/v2",
    Mode.PROD: "https://external-api.kalshi.com/trade-api/v2",
}
RATE_TIERS: tuple[str, ...] = tuple(TIERS)
DEFAULT_PAPER_DIR = "~/.kalshi_trading/paper"
DEFAULT_LOG_DIR = "logs"
_TRUE_WORDS = ("1", "true", "t", "yes", "y", "on")   # python-dotenv's own set, plus "on"


@dataclass(frozen=True)
class RiskLimits:
    """Per-order and per-market caps the executor enforces; defaults suit a $1,000 paper account."""

    max_order_cost: Decimal = Decimal("100")   # dollars one order may cost at worst
    max_position: Decimal = Decimal("500")     # contracts held in one market, either side
    max_open_orders: int = 25                  # resting orders across the account


@dataclass(frozen=True)
class Config:
    """Everything the app needs to start; secrets are kept out of `repr`."""

    mode: Mode = Mode.PAPER
    base_url: str | None = None            # None in paper mode: the app starts its own exchange
    key_id: str | None = field(default=None, repr=False)
    private_key_path: Path | None = field(default=None, repr=False)
    rate_tier: str = "basic"
    paper_dir: Path = Path(DEFAULT_PAPER_DIR).expanduser()
    log_dir: Path = Path(DEFAULT_LOG_DIR)
    risk: RiskLimits = RiskLimits()

    @classmethod
    def load(cls, environ: Mapping[str, str], dotenv_path: Path | None) -> "Config":
        """Merge `.env` (if given, present and not disabled) under `environ`, validate, build."""
        merged: dict[str, str] = {}
        problems: list[str] = []
        if dotenv_path is not None and not _dotenv_disabled(environ) and Path(dotenv_path).is_file():
            merged.update(_read_dotenv(Path(dotenv_path), problems))
        merged.update(environ)  # the real environment wins, as load_dotenv(override=False) does
        return _Builder(merged, problems).build()

    def masked_key_id(self) -> str:
        """The key id as `…1a2b` (last four characters), or `(none)`."""
        if not self.key_id:
            return "(none)"
        return "…" + self.key_id[-4:] if len(self.key_id) > 8 else "…"

    def describe(self) -> list[tuple[str, str]]:
        """Rows for the settings screen; no secret appears in them."""
        return [
            ("Mode", self.mode.value),
            ("API base URL", self.base_url or "embedded paper exchange"),
            ("API key id", self.masked_key_id()),
            ("Private key file", "set" if self.private_key_path else "not set"),
            ("Rate tier", self.rate_tier),
            ("Paper data folder", str(self.paper_dir)),
            ("Log folder", str(self.log_dir)),
            ("Max order cost", f"${fmt_dollars(self.risk.max_order_cost, 2)}"),
            ("Max position", f"{fmt_count(self.risk.max_position)} contracts"),
            ("Max open orders", str(self.risk.max_open_orders)),
        ]


def _dotenv_disabled(environ: Mapping[str, str]) -> bool:
    return environ.get("PYTHON_DOTENV_DISABLED", "").strip().lower() in _TRUE_WORDS


def _read_dotenv(path: Path, problems: list[str]) -> dict[str, str]:
    """The `.env` values; a file that is not UTF-8 text, or lines python-dotenv cannot parse
    (and would silently skip), become problems instead of settings quietly ignored."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(".env is not UTF-8 text (save it as UTF-8)")
        return {}
    except OSError as exc:
        problems.append(f".env cannot be read ({exc.strerror or 'I/O error'})")
        return {}
    bad = [binding.original.line for binding in parse_stream(io.StringIO(text)) if binding.error]
    if bad:
        problems.append(f".env line(s) {', '.join(map(str, bad))} cannot be parsed "
                        "(expected NAME=value; check the quotes)")
        return {}
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


class _Builder:
    """Reads each variable once, recording problems instead of stopping at the first."""

    def __init__(self, values: Mapping[str, str], problems: list[str] | None = None) -> None:
        self.values = values
        self.problems: list[str] = list(problems or [])

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    def build(self) -> Config:
        mode = self._mode()
        base_url = self._base_url(mode)
        key_id, key_path = self._credentials(mode)
        tier = self._choice("KALSHI_RATE_TIER", RATE_TIERS, "basic")
        risk = RiskLimits(
            max_order_cost=self._positive_decimal("KALSHI_MAX_ORDER_COST", RiskLimits.max_order_cost),
            max_position=self._positive_decimal("KALSHI_MAX_POSITION", RiskLimits.max_position),
            max_open_orders=self._positive_int("KALSHI_MAX_OPEN_ORDERS", RiskLimits.max_open_orders),
        )
        paper_dir = self._path("KALSHI_PAPER_DIR", DEFAULT_PAPER_DIR)
        log_dir = self._path("KALSHI_LOG_DIR", DEFAULT_LOG_DIR)
        if self.problems:
            raise ConfigError(self.problems)
        return Config(mode=mode, base_url=base_url, key_id=key_id,
                      private_key_path=key_path, rate_tier=tier, paper_dir=paper_dir,
                      log_dir=log_dir, risk=risk)

    def _choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = (self.get(name) or default).lower()
        if value not in allowed:
            self.problems.append(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
            return default
        return value

    def _mode(self) -> Mode:
        value = self._choice("KALSHI_ENV", tuple(m.value for m in Mode), Mode.PAPER.value)
        mode = Mode(value)
        if mode is Mode.PROD and (self.get("KALSHI_ALLOW_PRODUCTION") or "").lower() != "yes":
            self.problems.append(
                "KALSHI_ENV=prod trades real money: also set KALSHI_ALLOW_PRODUCTION=yes "
                "(in the environment or .env) to confirm, or use KALSHI_ENV=demo or paper")
        return mode

    def _base_url(self, mode: Mode) -> str | None:
        override = self.get("KALSHI_BASE_URL")
        if override is not None:
            if not override.startswith(("http://", "https://")):
                self.problems.append("KALSHI_BASE_URL must start with http:// or https://")
                return None
            return override.rstrip("/")
        return BASE_URLS.get(mode)

    def _credentials(self, mode: Mode) -> tuple[str | None, Path | None]:
        key_id = self.get("KALSHI_API_KEY_ID")
        raw_path = self.get("KALSHI_PRIVATE_KEY_PATH")
        needed = mode in (Mode.DEMO, Mode.PROD) or key_id is not None or raw_path is not None
        if not needed:
            return None, None  # paper mode uses the embedded exchange's generated key
        why = f"for KALSHI_ENV={mode.value}" if mode in (Mode.DEMO, Mode.PROD) else \
            "when the other key variable is set"
        if key_id is None:
            self.problems.append(f"KALSHI_API_KEY_ID is missing (required {why})")
        else:
            problem = key_id_problem(key_id)
            if problem:
                self.problems.append(problem)
        if raw_path is None:
            self.problems.append(f"KALSHI_PRIVATE_KEY_PATH is missing (required {why})")
            return key_id, None
        path = self._path("KALSHI_PRIVATE_KEY_PATH", raw_path)
        if path is not None:
            self._check_key_file(path)
        return key_id, path

    def _path(self, name: str, default: str) -> Path | None:
        """`~` expanded; `~user` for an unknown user (or no home at all) is a problem, not a
        RuntimeError. The message names the variable, never the path (it may be a key's)."""
        try:
            return Path(self.get(name) or default).expanduser()
        except (RuntimeError, KeyError):
            self.problems.append(f"{name}: the home folder in its '~' cannot be found")
            return None

    def _check_key_file(self, path: Path) -> None:
        try:
            load_private_key(path)
        except ConfigError as exc:
            self.problems.extend(exc.problems)

    def _positive_decimal(self, name: str, default: Decimal) -> Decimal:
        text = self.get(name)
        if text is None:
            return default
        try:
            value = to_decimal(text.lstrip("$"), name)
        except UserInputError:
            value = Decimal(-1)
        if value <= 0:
            self.problems.append(f"{name} must be a positive number (got {text!r})")
            return default
        return value

    def _positive_int(self, name: str, default: int) -> int:
        text = self.get(name)
        if text is None:
            return default
        try:
            value = int(text) if text.isascii() and text.isdigit() else 0   # not "²", "1.5", "-3"
        except ValueError:   # more digits than int() converts
            value = 0
        if value <= 0:
            self.problems.append(f"{name} must be a positive whole number (got {text[:20]!r})")
            return default
        return value
