"""`python -m kalshi_trading [subcommand ...]`: kept tiny so `--help` starts fast.

`main` wires the parser (terminal/commands.py) to the app's runner (`main_app.run_command_line`),
which loads only once there is work to do.
"""

from __future__ import annotations

import sys
from typing import Any

from .terminal.commands import main as parse_and_run  # the parser only: argparse, nothing heavy


def _run_app(args: Any, **streams: Any) -> int:
    from .main_app import run_command_line  # lazy: heavy modules load only when needed

    return run_command_line(args, **streams)


def main(argv: list[str] | None = None, **streams: Any) -> int:
    """Run one command line (`argv`, default `sys.argv[1:]`); returns the exit code.

    `streams` (stdin, stdout, stderr, environ, dotenv_path) let tests run it in-process."""
    return parse_and_run(argv, run=_run_app, **streams)


def _run() -> int:
    try:
        code = main(sys.argv[1:])
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # `... | head`: the reader left. Point stdout at devnull so the exit flush stays quiet.
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(_run())
