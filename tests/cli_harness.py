"""Test harness for the terminal: a paper exchange on a small synthetic universe, and a way to drive
the real menu (or a subcommand) through stdin/stdout against it.

Every market has the same crowd book (YES bids 0.40/0.41/0.42, NO bids 0.55/0.56/0.57, so YES asks
0.43/0.44/0.45), and tests each use their own markets, so one exchange serves a whole module.
"""

from __future__ import annotations

import io
import json
import os
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

from kalshi_trading.config import Config, Mode, RiskLimits
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.paper.universe import BookSnapshot, MarketUniverse, synthetic_market, synthetic_series

D = Decimal
SERIES = "KXTERM"
EVENT = "KXTERM-26DEC31"
RAIN_SERIES = "KXRAIN"
RAIN_EVENT = "KXRAIN-26DEC31"
CLOSED = f"{EVENT}-CLOSED"
DECI = f"{EVENT}-DECI"
BOOK = BookSnapshot(yes_bids=((D("0.40"), D("100")), (D("0.41"), D("50")), (D("0.42"), D("25"))),
                    no_bids=((D("0.55"), D("100")), (D("0.56"), D("40")), (D("0.57"), D("20"))))


def ticker(name: str) -> str:
    """The market a test owns: `KXTERM-26DEC31-<NAME>`."""
    return f"{EVENT}-{name.upper()}"


def make_universe(names: list[str], *, now: datetime | None = None) -> MarketUniverse:
    """Markets `ticker(name)` for each name, two rain markets, a closed one and a deci-cent one."""
    now = now or datetime.now(timezone.utc)
    uni = MarketUniverse(source="synthetic test universe")
    uni.series[SERIES] = synthetic_series(SERIES, title="Terminal test markets")
    uni.series[RAIN_SERIES] = synthetic_series(RAIN_SERIES, fee_type="quadratic_with_maker_fees",
                                               title="Rain in Springfield")
    for series, event, title in ((SERIES, EVENT, "Terminal test event"),
                                 (RAIN_SERIES, RAIN_EVENT, "Rain in Springfield in December")):
        uni.events[event] = {"event_ticker": event, "series_ticker": series, "title": title,
                             "sub_title": "", "mutually_exclusive": False,
                             "collateral_return_type": "binary", "settlement_sources": []}
    markets = [(ticker(n), EVENT, f"Terminal test market {n}", "active") for n in names]
    markets += [(f"{RAIN_EVENT}-T{i}", RAIN_EVENT, f"Will it rain more than {i} inches in Springfield?", "active")
                for i in (1, 2)]
    markets.append((CLOSED, EVENT, "A market that already closed", "closed"))
    for tick, event, title, status in markets:
        uni.markets[tick] = synthetic_market(tick, event, now=now, status=status, title=title,
                                             close_in=timedelta(days=30), last_price=D("0.42"))
        uni.books[tick] = BOOK
    deci = [{"start": "0.0000", "end": "0.1000", "step": "0.0010"},
            {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
            {"start": "0.9000", "end": "1.0000", "step": "0.0010"}]
    uni.markets[DECI] = synthetic_market(DECI, EVENT, now=now, title="Tapered deci-cent market",
                                         close_in=timedelta(days=30), price_ranges=deci)
    uni.markets[DECI]["price_level_structure"] = "tapered_deci_cent"
    uni.books[DECI] = BOOK
    return uni


@contextmanager
def terminal_exchange(tmp_path_factory: pytest.TempPathFactory, label: str,
                      names: list[str]) -> Iterator[Any]:
    """A paper exchange on `make_universe(names)` in a fresh folder: one per test module."""
    root = tmp_path_factory.mktemp(label)
    with start_paper_exchange(root / "exchange", universe=make_universe(names)) as running:
        yield running


def terminal_fixtures(label: str, names: list[str]) -> tuple[Any, Any]:
    """The two fixtures a terminal test module needs: `exchange` (one paper exchange on
    `make_universe(names)` for the module) and `config` (paper mode pointed at it, logs in the
    test's tmp_path). Use as `exchange, config = terminal_fixtures("label", NAMES)`."""
    @pytest.fixture(scope="module")
    def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
        with terminal_exchange(tmp_path_factory, label, names) as running:
            yield running

    @pytest.fixture()
    def config(exchange: Any, tmp_path: Path) -> Config:
        return config_for(exchange, tmp_path)

    return exchange, config


@pytest.fixture(autouse=True)
def work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths typed at prompts (CSV exports) land in tmp_path, never in the checkout.
    Autouse in every module that imports it."""
    monkeypatch.chdir(tmp_path)


def config_for(exchange, root: Path, **risk: object) -> Config:
    """Paper mode pointed at `exchange` (as KALSHI_BASE_URL would), logs under `root`."""
    limits = replace(RiskLimits(max_order_cost=D("1000"), max_position=D("5000"), max_open_orders=200),
                     **risk)
    return Config(mode=Mode.PAPER, base_url=exchange.base_url, key_id=exchange.key_id,
                  private_key_path=exchange.private_key_path, paper_dir=root / "paper",
                  log_dir=root / "logs", risk=limits)


def drive(config: Config, text: str, *, columns: int = 100, mode: Mode | None = None,
          **build: object) -> str:
    """Run the real menu on `text` as stdin; returns everything it printed. `build` goes to
    `MainApp.build` (a session with a mounted fault adapter, client options)."""
    from kalshi_trading.client.rate_limiter import RateLimiter
    from kalshi_trading.main_app import MainApp

    if mode is not None:
        config = replace(config, mode=mode)
    out = io.StringIO()
    app = MainApp.build(config, stdin=io.StringIO(text), stdout=out,
                        terminal_size=lambda: os.terminal_size((columns, 30)),
                        rate_limiter=RateLimiter("prestige"), **build)
    try:
        assert app.run() == 0
    finally:
        app.close()
    return out.getvalue()


def command(config: Config, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """`commands.main(argv)` in-process against the exchange in `config`."""
    from kalshi_trading.__main__ import main

    environ = {"KALSHI_ENV": "paper", "KALSHI_BASE_URL": config.base_url or "",
               "KALSHI_API_KEY_ID": config.key_id or "",
               "KALSHI_PRIVATE_KEY_PATH": str(config.private_key_path),
               "KALSHI_PAPER_DIR": str(config.paper_dir), "KALSHI_LOG_DIR": str(config.log_dir),
               "KALSHI_RATE_TIER": "prestige", "KALSHI_MAX_ORDER_COST": str(config.risk.max_order_cost),
               "KALSHI_MAX_POSITION": str(config.risk.max_position),
               "KALSHI_MAX_OPEN_ORDERS": str(config.risk.max_open_orders)}
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err, environ=environ,
                dotenv_path=Path("/nonexistent/.env"))
    return code, out.getvalue(), err.getvalue()


def orders_on(exchange, tick: str) -> list[dict]:
    """Every order the exchange holds for `tick` (any status), straight from the engine."""
    user = exchange.key_id
    with exchange.engine.lock:
        return [o for o in exchange.engine.list_orders(user) if o.get("ticker") == tick]


def trail_dir(config: Config) -> Path:
    """The trade log folder of `config`'s account: its account home's `trail/` under the log
    folder (audit/account_home.py). With a base URL the home is named from the config; on the
    embedded exchange it is the log folder's one home that is not archived."""
    from kalshi_trading.audit.account_home import AccountHomes, AccountIdentity
    from kalshi_trading.paper.auth import KEY_ID_FILE

    homes = AccountHomes(config.log_dir)
    if config.base_url:
        key_id = config.key_id or (Path(config.paper_dir) / KEY_ID_FILE).read_text().strip()
        return homes.home_of(AccountIdentity.for_exchange(config.mode.value, config.base_url,
                                                          key_id)).trail_dir
    (home,) = [home for home in homes.homes() if not home.archived]
    return home.trail_dir


def journal(config: Config) -> list[dict]:
    """Every record in the account's trade log (its JSONL files)."""
    records = []
    for path in sorted(trail_dir(config).glob("trades*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records


def sent_for(config: Config, tick: str) -> list[str]:
    """The client_order_ids the trade log recorded submissions for on `tick`."""
    return sorted({r["client_order_id"] for r in journal(config)
                   if r.get("ticker") == tick and r.get("event_type") == "submission"})


def lines_with(output: str, needle: str) -> Iterator[str]:
    return (line for line in output.splitlines() if needle in line)


class Keys(io.StringIO):
    """stdin where a line `^C` is a Ctrl-C."""

    def readline(self, *args):  # type: ignore[override]
        line = super().readline(*args)
        if line.strip() == "^C":
            raise KeyboardInterrupt
        return line


def app_environ(root: Path) -> dict[str, str]:
    """The environment of an app run as a child process: no .env, no KALSHI_* but paper and log
    folders under `root`, and this checkout on the import path."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    environ.update({"KALSHI_PAPER_DIR": str(root / "paper"), "KALSHI_LOG_DIR": str(root / "logs"),
                    "PYTHONPATH": str(Path(__file__).resolve().parent.parent), "PYTHON_DOTENV_DISABLED": "1"})
    return environ

