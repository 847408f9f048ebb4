"""What every `kotowari` command module shares: the parser class, common flags and the two
exceptions `main` turns into exit statuses.

A command module defines `register(commands)`, adding its sub-parser to the `kotowari` parser
with `set_defaults(run=...)`; `crawler_client.cli.build_parser` calls it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

__all__ = ["Negative", "Parser", "UsageError", "registry_flag"]


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


class Negative(Exception):
    """A negative result (exit status 1) whose message has already been printed."""


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (plus the usage) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def registry_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        default=os.environ.get("KOTOWARI_REGISTRY"),
        required="KOTOWARI_REGISTRY" not in os.environ,
        metavar="URL",
        help="the registry's base URL (default: $KOTOWARI_REGISTRY)",
    )
