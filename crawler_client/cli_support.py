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

from crawler_client.cli_help import WidthHelpFormatter
from crawler_client.i18n import _, said
from crawler_client.items import items_from_args
from registry.authority.levels import LEVELS, UnknownLevel, parse_level
from registry.vocabulary import (
    JAPANESE_NAMES,
    SUBJECT_KIND_NAMES,
    SUBJECT_KINDS,
    USES,
    UnknownUse,
    as_subject_kind,
    as_use,
)

if TYPE_CHECKING:
    import keys

__all__ = [
    "Negative",
    "Once",
    "Parser",
    "UsageError",
    "as_if_signed",
    "error_line",
    "given",
    "kind_arg",
    "kinds_help",
    "min_authority_flag",
    "min_authority_of",
    "os_reason",
    "parse_items",
    "print_json",
    "purpose_flag",
    "read_document",
    "read_key",
    "refuse_repeats",
    "registry_flag",
    "unknown_use",
    "use_arg",
    "uses_help",
    "write_document",
]


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


class Negative(Exception):
    """A negative result (exit status 1) whose message has already been printed."""


def error_line(prog: str, message: str) -> str:
    """`kotowari: error: …`, the one line a usage or input error prints, in the locale's language."""
    return _("{prog}: error: {message}").format(prog=prog, message=said(message))


def os_reason(exc: OSError) -> str:
    """Why a file could not be read or written, in the locale's language where it is a common case."""
    if isinstance(exc, FileNotFoundError):
        return _("no such file")
    if isinstance(exc, PermissionError):
        return _("permission denied")
    if isinstance(exc, IsADirectoryError):
        return _("it is a directory")
    return str(exc.strerror or exc)


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (plus the usage) and exit status 2, and a
    single-value flag given twice is one of them (`Once`), in every command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", WidthHelpFormatter)  # Japanese help wraps by columns
        super().__init__(*args, **kwargs)
        refuse_repeats(self)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, error_line(self.prog, message) + "\n")


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
            message = _("{flag} given more than once; give it once").format(flag=flag)
            parser.exit(2, error_line(parser.prog, message) + "\n")
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
        help=_("the registry's base URL (default: $KOTOWARI_REGISTRY)"),
    )


def _names(names: dict[str, tuple[str, ...]] | Any) -> str:
    return ", ".join(f"{token} ({'/'.join(aliases[:2])})" for token, aliases in names.items())


def uses_help(text: str) -> str:
    """A help text for a list of uses, naming each with its Japanese names (both are accepted)."""
    return _("{text}: {uses}").format(text=text, uses=_names(JAPANESE_NAMES))


def kinds_help() -> str:
    return _("what the claim is about: {kinds}").format(kinds=_names(SUBJECT_KIND_NAMES))


def unknown_use(exc: UnknownUse, flag: str) -> UsageError:
    """The one line for a use outside the vocabulary (`--deny 学修`), naming what is accepted."""
    if exc.name is None:
        return UsageError(_("{flag}: name at least one use").format(flag=flag))
    message = _("{flag}: unknown use {name!r}; give one of {uses}, or its Japanese name ({example})")
    return UsageError(
        message.format(flag=flag, name=exc.name, uses=", ".join(USES), example="学習, まねた生成")
    )


def use_arg(text: str) -> str:
    """argparse `type` of a flag taking one use: the token, or its Japanese name (`--purpose 学習`)."""
    try:
        return as_use(text)
    except UnknownUse:
        message = _("unknown use {name!r}; give one of {uses}, or its Japanese name ({example})")
        raise argparse.ArgumentTypeError(
            message.format(name=text, uses=", ".join(USES), example="学習")
        ) from None


def kind_arg(text: str) -> str:
    """argparse `type` of `--kind`: a kind, or its Japanese name (`--kind 声`)."""
    try:
        return as_subject_kind(text)
    except ValueError:
        message = _("unknown kind {name!r}; give one of {kinds} (or 作品, 声, 肖像)")
        raise argparse.ArgumentTypeError(message.format(name=text, kinds=", ".join(SUBJECT_KINDS))) from None


def purpose_flag(parser: argparse.ArgumentParser | Any, text: str) -> None:
    """`--purpose USE` (required): one use, given by its token or its Japanese name."""
    parser.add_argument(
        "--purpose", required=True, type=use_arg, choices=USES, metavar="USE", help=uses_help(text)
    )


def min_authority_flag(parser: argparse.ArgumentParser) -> None:
    """`--min-authority LEVEL`: count only claims of at least this authority (checked by
    `min_authority_of`, so a wrong level is one line naming the levels)."""
    parser.add_argument(
        "--min-authority",
        metavar="LEVEL",
        help=_(
            "count only claims of at least this authority, weakest first: {levels} "
            "(default: every claim counts)"
        ).format(levels=", ".join(LEVELS)),
    )


def min_authority_of(args: argparse.Namespace) -> str | None:
    """The `--min-authority` given, checked, or None; a `UsageError` listing the levels."""
    value: str | None = getattr(args, "min_authority", None)
    if value is None:
        return None
    try:
        return parse_level(value)
    except UnknownLevel:
        message = _("--min-authority {value!r}: not an authority level; give one of {levels}")
        raise UsageError(message.format(value=value, levels=", ".join(LEVELS))) from None


def read_key(path: str) -> keys.SigningKey:
    """The signing key in the key file `path` (`--key`), or a one-line `UsageError`."""
    import keys

    try:
        return keys.read_key_file(path)
    except keys.KeysError as exc:
        cause = exc.__cause__
        if isinstance(cause, OSError):
            reason = os_reason(cause)
        else:
            reason = _("not a key file ({detail})").format(detail=exc)
        raise UsageError(_("--key {path}: {reason}").format(path=path, reason=reason)) from None


def read_document(name: str) -> dict[str, Any]:
    """The JSON object in file `name` (`-`: standard input), read strictly, or a `UsageError`."""
    import keys

    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(_("{name}: {reason}").format(name=name, reason=os_reason(exc))) from None
    try:
        document = keys.parse_strict_json(raw)
    except keys.InvalidJSON as exc:
        message = _("{name}: not a valid JSON document ({detail})")
        raise UsageError(message.format(name=name, detail=exc)) from None
    if not isinstance(document, dict):
        raise UsageError(_("{name}: a signed document is a JSON object").format(name=name))
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
        raise UsageError(_("--out {path}: the file exists; choose another name").format(path=out)) from None
    except OSError as exc:
        raise UsageError(_("--out {path}: {reason}").format(path=out, reason=os_reason(exc))) from None
    print(_("wrote {path}").format(path=out), file=sys.stderr)


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


def listening_socket(host: str, port: int) -> Any:
    """The server's socket, bound before anything starts, so a port in use is one line in the
    locale's language and exit 2 (uvicorn would log it in English after start-up had run)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        number, strerror = getattr(exc, "errno", None), getattr(exc, "strerror", None)
        failure = f"[Errno {number}] {strerror}" if strerror else str(exc)  # as Python writes it
        message = _("cannot listen on {host}:{port}: {reason}")
        raise UsageError(message.format(host=host, port=port, reason=said(failure))) from None
    sock.set_inheritable(True)
    return sock
