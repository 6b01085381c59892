"""Strategy discovery finds plug-ins, survives broken ones, and the safe wrapper isolates faults."""

from __future__ import annotations

import sys
import textwrap
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from kalshi_trading.errors import StrategyError
from kalshi_trading.models import Market
from kalshi_trading.order_request import Action, OrderIntent, OutcomeSide
from kalshi_trading.strategies import (MarketSnapshot, PortfolioView, Strategy, discover_strategies,
                                       run_strategy)

GOOD = """
from kalshi_trading.strategies import Strategy
class Quiet(Strategy):
    "Never trades."
    name = "quiet"
    def propose(self, market, portfolio):
        return []
"""

PLUGINS = {
    "good.py": GOOD,
    "broken.py": "import this_module_does_not_exist\n",
    "syntax.py": "def oops(:\n",
    "raises.py": "raise RuntimeError('plug-in exploded at import')\n",
    "nameless.py": """
        from kalshi_trading.strategies import Strategy
        class NoName(Strategy):
            def propose(self, market, portfolio):
                return []
        """,
    "future.py": """
        from kalshi_trading.strategies import Strategy
        class FromTheFuture(Strategy):
            name = "future"
            interface_version = 99
            def propose(self, market, portfolio):
                return []
        """,
    "dupe.py": """
        from kalshi_trading.strategies import Strategy
        class TwinA(Strategy):
            name = "twin"
            def propose(self, market, portfolio):
                return []
        class TwinB(TwinA):
            pass
        """,
    "reexport.py": """
        from kalshi_trading.strategies import Strategy
        from .good import Quiet            # imported, not defined here: not collected twice
        class Abstract(Strategy):
            name = "abstract"              # still abstract: no propose()
        """,
    "_private.py": "raise RuntimeError('private modules are not plug-ins')\n",
}


@pytest.fixture
def plugin_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway package of plug-ins on sys.path; removed from sys.modules afterwards."""
    package = tmp_path / "fake_strategies_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for filename, source in PLUGINS.items():
        (package / filename).write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package.name
    for name in [m for m in sys.modules if m.startswith(package.name)]:
        del sys.modules[name]


def snapshot() -> MarketSnapshot:
    market = Market.from_api({"ticker": "KXTEST-A", "event_ticker": "KXTEST", "status": "active"})
    return MarketSnapshot(market, None, datetime(2026, 11, 21, tzinfo=timezone.utc))


def test_shipped_package_has_no_strategies_and_no_failures() -> None:
    registry = discover_strategies()
    assert dict(registry.strategies) == {} and dict(registry.failed) == {}


def test_good_plugin_is_found_by_name(plugin_package: str) -> None:
    registry = discover_strategies(plugin_package)
    assert list(registry.strategies) == ["quiet"]
    assert registry.strategies["quiet"].__name__ == "Quiet"
    assert ("quiet", "Never trades.") in registry.listing()


@pytest.mark.parametrize("module, reason", [
    ("broken", "ModuleNotFoundError"),
    ("syntax", "SyntaxError"),
    ("raises", "RuntimeError: plug-in exploded at import"),
    ("nameless.NoName", "NoName has no `name`"),
    ("future.FromTheFuture", "FromTheFuture targets interface version 99"),
    ("dupe.TwinA", "name 'twin' is claimed by"),
    ("dupe.TwinB", "name 'twin' is claimed by"),
])
def test_broken_plugins_are_listed_with_the_reason(plugin_package: str, module: str,
                                                   reason: str) -> None:
    registry = discover_strategies(plugin_package)
    assert registry.failed[f"{plugin_package}.{module}"].startswith(reason)
    listed = dict(registry.listing())
    assert listed[f"{plugin_package}.{module}"].startswith(f"failed to load: {reason}")


def test_private_abstract_and_reimported_classes_are_not_collected(plugin_package: str) -> None:
    registry = discover_strategies(plugin_package)
    assert "abstract" not in registry.strategies
    assert not any("_private" in key or "reexport" in key for key in registry.failed)


def test_registry_creates_instances_and_unknown_name_is_a_strategy_error(plugin_package: str) -> None:
    registry = discover_strategies(plugin_package)
    assert isinstance(registry.create("quiet"), Strategy)
    with pytest.raises(StrategyError, match="no strategy named 'loud'"):
        registry.create("loud")


class Exploding(Strategy):
    name = "exploding"

    def propose(self, market, portfolio):
        raise ZeroDivisionError("division by zero")


class Sloppy(Strategy):
    name = "sloppy"

    def propose(self, market, portfolio):
        return ["buy 10 yes"]


class Buyer(Strategy):
    name = "buyer"

    def propose(self, market, portfolio):
        portfolio_size = portfolio.position(market.ticker)
        return [OrderIntent(market.ticker, Action.BUY, OutcomeSide.YES, Decimal("1") + portfolio_size,
                            Decimal("0.40"))]


def test_run_strategy_turns_a_crash_into_one_strategy_error() -> None:
    with pytest.raises(StrategyError, match="'exploding' failed: ZeroDivisionError"):
        run_strategy(Exploding(), snapshot(), PortfolioView(Decimal("100")))


def test_run_strategy_refuses_proposals_that_are_not_order_intents() -> None:
    with pytest.raises(StrategyError, match="proposed a str, not an OrderIntent"):
        run_strategy(Sloppy(), snapshot(), PortfolioView(Decimal("100")))


def test_run_strategy_returns_the_proposed_intents() -> None:
    view = PortfolioView(Decimal("100"), {"KXTEST-A": Decimal("2")})
    [intent] = run_strategy(Buyer(), snapshot(), view)
    assert (intent.ticker, intent.count) == ("KXTEST-A", Decimal("3"))


def test_portfolio_view_positions_are_read_only() -> None:
    source = {"KXTEST-A": Decimal("2")}
    view = PortfolioView(Decimal("100"), source)
    with pytest.raises(TypeError):
        view.positions["KXTEST-A"] = Decimal("500")  # type: ignore[index]
    source["KXTEST-A"] = Decimal("7")
    assert view.position("KXTEST-A") == Decimal("2")
