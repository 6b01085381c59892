"""What serves the terminal alone (`TradingCLI` and `MainApp`'s menu): the screens, the subcommand
parser, runner and handlers, input parsing and the JSON views.

Kept empty of imports: `python -m kalshi_trading --help` loads only the parser."""
