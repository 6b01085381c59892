"""Strategy plug-ins: a versioned ABC that proposes orders, and discovery that survives bad plug-ins.

A strategy only PROPOSES `OrderIntent`s from frozen snapshots; the `TradeExecutor` validates,
risk-checks and places them, in paper and live mode alike. Drop a module into this package with a
`Strategy` subclass that sets `name`; `discover_strategies()` finds it at start-up. A module that
fails to import, or a class that breaks the contract, is listed as "failed to load: <reason>"
instead of taking the app down. Every call into a strategy goes through `run_strategy`, which
turns any exception into `StrategyError`.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import ClassVar, Mapping

from ..errors import StrategyError
from ..models import Market, Order, Orderbook
from ..order_request import OrderIntent

__all__ = ["INTERFACE_VERSION", "Strategy", "MarketSnapshot", "PortfolioView", "StrategyRegistry",
           "discover_strategies", "run_strategy"]

log = logging.getLogger(__name__)

INTERFACE_VERSION = 1


@dataclass(frozen=True)
class MarketSnapshot:
    """What a strategy may look at for one market, frozen at `as_of`."""

    market: Market
    orderbook: Orderbook | None
    as_of: datetime

    @property
    def ticker(self) -> str:
        return self.market.ticker


@dataclass(frozen=True)
class PortfolioView:
    """The account as a strategy sees it: cash, signed positions (YES > 0), resting orders."""

    balance: Decimal
    positions: Mapping[str, Decimal] = field(default_factory=dict)
    open_orders: tuple[Order, ...] = ()
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        # A read-only copy: a strategy cannot change what the next one sees.
        object.__setattr__(self, "positions", MappingProxyType(dict(self.positions)))

    def position(self, ticker: str) -> Decimal:
        return self.positions.get(ticker, Decimal("0"))


class Strategy(ABC):
    """Base of every plug-in. Set `name`; implement `propose`; never place orders yourself."""

    name: ClassVar[str]
    interface_version: ClassVar[int] = INTERFACE_VERSION
    description: ClassVar[str] = ""

    @abstractmethod
    def propose(self, market: MarketSnapshot, portfolio: PortfolioView) -> list[OrderIntent]:
        """Return the orders you would like placed (possibly none)."""

    def on_start(self, **kwargs: object) -> None:
        """Optional hook before the first `propose`; keep **kwargs so new arguments don't break you."""


@dataclass(frozen=True)
class StrategyRegistry:
    """Loaded strategy classes by name, and modules (or classes) that failed, with the reason."""

    strategies: Mapping[str, type[Strategy]]
    failed: Mapping[str, str]   # "pkg.module[.Class]" -> reason, without the "failed to load" prefix

    def listing(self) -> list[tuple[str, str]]:
        """(name, description) rows for a screen; a failure reads "failed to load: <reason>"."""
        rows = [(name, cls.description or (cls.__doc__ or "").strip().split("\n")[0])
                for name, cls in sorted(self.strategies.items())]
        return rows + [(module, f"failed to load: {why}") for module, why in sorted(self.failed.items())]

    def create(self, name: str, **kwargs: object) -> Strategy:
        """A new instance of the strategy called `name`; a plug-in fault becomes StrategyError."""
        if name not in self.strategies:
            raise StrategyError(f"no strategy named {name!r}")
        try:
            return self.strategies[name](**kwargs)
        except Exception as exc:
            raise StrategyError(f"strategy {name!r} could not start: {type(exc).__name__}: {exc}") from exc


def _check_class(cls: type[Strategy]) -> str | None:
    """Why `cls` cannot be used, or None."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.strip():
        return f"{cls.__name__} has no `name`"
    if cls.interface_version != INTERFACE_VERSION:
        return (f"{cls.__name__} targets interface version {cls.interface_version}; "
                f"this app supports {INTERFACE_VERSION}")
    return None


def _classes_in(module: object) -> list[type[Strategy]]:
    return [obj for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, Strategy) and obj is not Strategy
            and obj.__module__ == getattr(module, "__name__", None) and not inspect.isabstract(obj)]


def discover_strategies(package: str = __name__) -> StrategyRegistry:
    """Import every module of `package` and collect its concrete Strategy subclasses by `name`."""
    strategies: dict[str, type[Strategy]] = {}
    failed: dict[str, str] = {}
    claims: dict[str, list[type[Strategy]]] = {}
    root = importlib.import_module(package)
    for info in pkgutil.iter_modules(getattr(root, "__path__", []), prefix=f"{package}."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        try:
            module = importlib.import_module(info.name)
        except (Exception, SystemExit) as exc:  # a plug-in's import fault must not stop the app
            failed[info.name] = f"{type(exc).__name__}: {exc}"
            log.warning("strategy module %s failed to load: %s", info.name, exc)
            continue
        for cls in _classes_in(module):
            problem = _check_class(cls)
            if problem is not None:
                failed[f"{info.name}.{cls.__name__}"] = problem
                log.warning("strategy %s.%s skipped: %s", info.name, cls.__name__, problem)
                continue
            claims.setdefault(cls.name, []).append(cls)
    for name, classes in claims.items():
        if len(classes) == 1:
            strategies[name] = classes[0]
            continue
        # Two plug-ins with one name: loading either would be a guess, so neither is loaded.
        owners = ", ".join(f"{c.__module__}.{c.__name__}" for c in classes)
        for cls in classes:
            failed[f"{cls.__module__}.{cls.__name__}"] = f"name {name!r} is claimed by {owners}"
        log.warning("strategy name %r is claimed by %s; none loaded", name, owners)
    return StrategyRegistry(MappingProxyType(strategies), MappingProxyType(failed))


def run_strategy(strategy: Strategy, market: MarketSnapshot,
                 portfolio: PortfolioView) -> list[OrderIntent]:
    """Call `propose` and check what comes back; any fault becomes one StrategyError line."""
    label = getattr(strategy, "name", type(strategy).__name__)
    try:
        proposed = strategy.propose(market, portfolio)
    except Exception as exc:
        raise StrategyError(f"strategy {label!r} failed: {type(exc).__name__}: {exc}") from exc
    if proposed is None:
        return []
    try:
        intents = list(proposed)
    except TypeError:
        raise StrategyError(f"strategy {label!r} returned {type(proposed).__name__}, "
                            "not a list of OrderIntent") from None
    for item in intents:
        if not isinstance(item, OrderIntent):
            raise StrategyError(f"strategy {label!r} proposed a {type(item).__name__}, not an OrderIntent")
    return intents
