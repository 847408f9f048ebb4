"""The ITEMS flags shared by `claim new` and `check`: each becomes a typed identifier.

`--file PATH` is hashed locally, so the file never leaves the machine.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from registry.identifiers import InvalidIdentifier, normalize_sha256

_CHUNK = 1 << 20


def add_item_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("items (repeatable)")
    group.add_argument(
        "--url", action="append", default=[], metavar="URL", help="a page, file, path prefix or site"
    )
    group.add_argument("--sha256", action="append", default=[], metavar="HEX", help="an exact file's SHA-256")
    group.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help="a local file: its SHA-256 is computed here",
    )


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def items_from_args(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(scheme, value) pairs in the order the flags name them; raises ValueError on bad input."""
    items: list[tuple[str, str]] = [("url", url) for url in args.url]
    for value in args.sha256:
        try:
            items.append(("sha256", normalize_sha256(value)))
        except InvalidIdentifier as exc:
            raise ValueError(f"--sha256 {value!r}: {exc}") from None
    for name in args.file:
        path = Path(name)
        try:
            items.append(("sha256", sha256_of_file(path)))
        except OSError as exc:
            raise ValueError(f"--file {name!r}: {exc.strerror or exc}") from None
    return items
