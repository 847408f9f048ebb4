"""The ITEMS flags shared by `claim new` and `check`: each becomes a typed identifier object.

`--file PATH` is fingerprinted locally (SHA-256, ISCC and, for images, PDQ with its dihedral
variants), so the file never leaves the machine. `--embedding SPACE:FILE` reads a JSON array.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from crawler_client.i18n import N_, _

_FLAGS = (
    ("url", "URL", N_("a page, file, path prefix or site")),
    ("sha256", "HEX", N_("an exact file's SHA-256")),
    ("iscc", "CODE", N_("an ISO 24138 ISCC code")),
    ("pdq", "HEX", N_("an image's 256-bit PDQ hash (64 hex digits)")),
    ("isni", "ID", N_("an ISNI (ISO 27729)")),
    ("wikidata", "QID", N_("a Wikidata item, e.g. Q42")),
    (
        "name",
        "NAME",
        N_(
            "a person's name or reading (repeat for each script and variant; romaji is matched with or "
            "without macrons)"
        ),
    ),
)


def add_item_flags(parser: argparse.ArgumentParser, *, query: bool) -> None:
    group = parser.add_argument_group(_("items (repeatable)"))
    for flag, metavar, text in _FLAGS:
        group.add_argument(f"--{flag}", action="append", default=[], metavar=metavar, help=_(text))
    group.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help=_("a local file: its SHA-256, ISCC and (images) PDQ are computed here; the file is not sent"),
    )
    group.add_argument(
        "--embedding",
        action="append",
        default=[],
        metavar="SPACE:FILE",
        help=_("a JSON array of numbers in SPACE"),
    )
    if query:
        group.add_argument(
            "--text", action="append", default=[], metavar="TEXT", help=_("free text, e.g. a prompt")
        )


def items_from_args(args: argparse.Namespace, *, query: bool) -> list[dict[str, Any]]:
    """Identifier objects in the order the flags name them, each validated; ValueError on bad input."""
    # Here, not at the top: `add_item_flags` runs on every start of the command line.
    from pydantic import ValidationError

    from registry.documents import error_message, error_pointer
    from registry.schemes import identifier

    items: list[dict[str, Any]] = []
    for flag, _metavar, _text in _FLAGS:
        items += [{"scheme": flag, "value": value} for value in getattr(args, flag)]
    for name in args.file:
        found = _fingerprint(name)
        items += [item for item in found if query or item["scheme"] != "pdq" or "quality" in item]
    for spec in args.embedding:
        items.append(_embedding(spec))
    if query:
        items += [{"scheme": "text", "value": text} for text in args.text]
    for item in items:
        if item["scheme"] == "text":
            if not item["value"].strip():
                raise ValueError(_("--text is empty"))
            continue
        try:
            identifier(item, filing=not query)  # a claim's URL must not be a public suffix
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = error_pointer(error).lstrip("/")
            shown = item.get("value", item.get("space"))
            reason = error_message(error)
            if where:
                message = _("--{scheme} {value!r}: {reason} ({where})")
            else:
                message = _("--{scheme} {value!r}: {reason}")
            raise ValueError(
                message.format(scheme=item["scheme"], value=shown, reason=reason, where=where)
            ) from None
    return items


def _fingerprint(name: str) -> list[dict[str, Any]]:
    """`--file`: the identifiers `fingerprint_file` computes (numpy, Pillow, pdqhash and iscc-core
    are imported only for a file to fingerprint)."""
    from crawler_client.fingerprint import FingerprintError, fingerprint_file

    try:
        return fingerprint_file(name)
    except FingerprintError as exc:
        raise ValueError(_("--file {name!r}: {detail}").format(name=name, detail=exc)) from None


def _embedding(spec: str) -> dict[str, Any]:
    space, sep, filename = spec.rpartition(":")
    if not sep or not space:
        raise ValueError(_("--embedding {spec!r}: expected SPACE:FILE").format(spec=spec))
    try:
        vector = json.loads(Path(filename).read_text(encoding="utf-8"))
    except OSError as exc:
        from crawler_client.cli_support import os_reason

        raise ValueError(
            _("--embedding {spec!r}: {reason}").format(spec=spec, reason=os_reason(exc))
        ) from None
    except ValueError:
        raise ValueError(
            _("--embedding {spec!r}: {file} is not JSON").format(spec=spec, file=filename)
        ) from None
    if not isinstance(vector, list) or not all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in vector
    ):
        message = _("--embedding {spec!r}: {file} must hold a JSON array of numbers")
        raise ValueError(message.format(spec=spec, file=filename))
    return {"scheme": "embedding", "space": space, "vector": [float(x) for x in vector]}
