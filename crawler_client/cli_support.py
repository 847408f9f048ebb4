"""What every `kotowari` command module shares: the parser class, common flags, the two
exceptions `main` turns into exit statuses, and reading and writing keys and documents with
one-line errors.

A command module defines `register(commands)`, adding its sub-parser to the `kotowari` parser
with `set_defaults(run=...)`; `crawler_client.cli.build_parser` calls it. Registering must stay
cheap: every command's parser is built on every start, so a module imports what its commands run
on (pydantic, httpx, numpy, pyarrow, image libraries, the client) inside the command functions,
never at its top (tests/crawler_client/test_cli_startup.py holds it to that).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from crawler_client.items import items_from_args
from registry.authority.levels import LEVELS, UnknownLevel, parse_level

if TYPE_CHECKING:
    import keys

__all__ = [
    "Negative",
    "Once",
    "Parser",
    "UsageError",
    "as_if_signed",
    "given",
    "min_authority_flag",
    "min_authority_of",
    "parse_items",
    "print_json",
    "read_document",
    "read_key",
    "refuse_repeats",
    "registry_flag",
    "write_document",
]


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


class Negative(Exception):
    """A negative result (exit status 1) whose message has already been printed."""


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (plus the usage) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


class Once(argparse.Action):
    """`store`, but a flag given twice is a usage error (exit 2, one line) instead of the last one
    silently winning: `--purpose train-ai --purpose search` is ambiguous, so it is refused.

    A default (from the environment, say) does not count as given; only the command line does.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        given = namespace.__dict__.setdefault("_given_once", set())
        if self.dest in given:
            flag = "/".join(self.option_strings) or self.dest
            parser.exit(2, f"{parser.prog}: error: {flag} given more than once; give it once\n")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


def refuse_repeats(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Make `Once` the default action of every flag added to `parser` from now on (its argument
    groups included); flags with an explicit action (`append`, `store_true`, …) keep theirs.

        new = commands.add_parser("new")
        refuse_repeats(new)
        new.add_argument("--out")  # `--out a --out b` is now a usage error
    """
    parser.register("action", None, Once)
    parser.register("action", "store", Once)
    return parser


def registry_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        default=os.environ.get("KOTOWARI_REGISTRY"),
        required="KOTOWARI_REGISTRY" not in os.environ,
        metavar="URL",
        help="the registry's base URL (default: $KOTOWARI_REGISTRY)",
    )


def min_authority_flag(parser: argparse.ArgumentParser) -> None:
    """`--min-authority LEVEL`: count only claims of at least this authority (checked by
    `min_authority_of`, so a wrong level is one line naming the levels)."""
    parser.add_argument(
        "--min-authority",
        metavar="LEVEL",
        help=f"count only claims of at least this authority, weakest first: {', '.join(LEVELS)} "
        "(default: every claim counts)",
    )


def min_authority_of(args: argparse.Namespace) -> str | None:
    """The `--min-authority` given, checked, or None; a `UsageError` listing the levels."""
    value: str | None = getattr(args, "min_authority", None)
    if value is None:
        return None
    try:
        return parse_level(value)
    except UnknownLevel as exc:
        raise UsageError(f"--min-authority: {exc}") from None


def read_key(path: str) -> keys.SigningKey:
    """The signing key in the key file `path` (`--key`), or a one-line `UsageError`."""
    import keys

    try:
        return keys.read_key_file(path)
    except keys.KeysError as exc:
        raise UsageError(f"--key {path}: {exc}") from None


def read_document(name: str) -> dict[str, Any]:
    """The JSON object in file `name` (`-`: standard input), read strictly, or a `UsageError`."""
    import keys

    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(f"{name}: {exc.strerror or exc}") from None
    try:
        document = keys.parse_strict_json(raw)
    except keys.InvalidJSON as exc:
        raise UsageError(f"{name}: not a valid JSON document: {exc}") from None
    if not isinstance(document, dict):
        raise UsageError(f"{name}: a signed document is a JSON object")
    return document


def write_document(document: dict[str, Any], out: str | None, *, private: bool = False) -> None:
    """Print `document`, or write it to a new file `out` (`--out`; never over an existing file).
    `private`: the file holds personal data and is created 0600."""
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None or out == "-":
        sys.stdout.write(text)
        return
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"--out {out}: file exists; choose another name") from None
    except OSError as exc:
        raise UsageError(f"--out {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}", file=sys.stderr)


def print_json(value: Any) -> None:
    """`--json` output: indented, non-ASCII kept as is."""
    print(json.dumps(value, ensure_ascii=False, indent=2))


def given(fields: dict[str, Any]) -> dict[str, Any]:
    """The `fields` whose flags were given (non-empty), e.g. a contact from its --contact-* flags."""
    return {name: value for name, value in fields.items() if value}


def parse_items(args: argparse.Namespace, *, query: bool) -> list[dict[str, Any]]:
    """The identifiers named by the item flags (`crawler_client.items`), or a `UsageError`."""
    try:
        return items_from_args(args, query=query)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


_PLACEHOLDER_PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "verificationMethod": "-",
    "proofPurpose": "assertionMethod",
    "proofValue": "z",
}


def as_if_signed(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with a placeholder proof, so the registry's own validation can check an unsigned
    document before anything is signed."""
    return {**document, "proof": _PLACEHOLDER_PROOF}
