"""kalshi_trading: a terminal application for trading on Kalshi, paper first."""

__version__ = "0.1.0"
