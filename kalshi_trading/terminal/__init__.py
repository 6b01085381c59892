"""What serves the terminal alone (`TradingCLI` and `MainApp`'s menu): the screens, the subcommand
parser and handlers, input parsing, table layout and the JSON views.

Kept empty of imports: `python -m kalshi_trading --help` loads only the parser."""
