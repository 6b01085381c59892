"""`AppServices`: exactly what the screens and subcommand handlers use, typed and frozen.

`MainApp.build` makes one; screens and handlers receive it instead of the app, so nothing below
the composition root reaches back into `MainApp`, and a test can build one from parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..audit.trade_history import TradeHistory
from ..config import Config
from ..kalshi_client import KalshiClient
from ..portfolio_tracker import PortfolioTracker
from ..strategies import StrategyRegistry
from ..timeutil import Clock
from ..trade_executor import TradeExecutor
from ..trade_logger import TradeLogger
from ..trading_cli import TradingCLI

__all__ = ["AppServices"]


@dataclass(frozen=True)
class AppServices:
    """One session's components, as the terminal sees them."""

    config: Config
    cli: TradingCLI
    client: KalshiClient
    logger: TradeLogger
    history: TradeHistory
    tracker: PortfolioTracker
    executor: TradeExecutor
    strategies: StrategyRegistry
    base_url: str
    clock: Clock
