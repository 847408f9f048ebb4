"""What the accountability commands share: sign a document checked against its model, and post one
to the registry (its receipt, or the JSON printed with `--json`)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler_client.cli_support import UsageError, as_if_signed, print_json, write_document

if TYPE_CHECKING:
    import keys


def sign_checked(
    model: Any, document: dict[str, Any], key: keys.SigningKey, now: datetime, out: str | None
) -> None:
    """Refuse `document` before signing if `model` would (one line naming each field), else sign it
    with `key` and write it to `out`."""
    import keys
    from registry.accountability.documents import validate_accountability_document
    from registry.documents import InvalidDocument

    try:
        validate_accountability_document(model, as_if_signed(document))
    except InvalidDocument as exc:
        raise UsageError("; ".join(f"{pointer or '/'}: {reason}" for pointer, reason in exc.errors)) from None
    write_document(keys.sign_document(document, key, created=now), out)


def post_document(args: argparse.Namespace, path: str, document: dict[str, Any]) -> dict[str, Any] | None:
    """POST `document` to the registry at `path`: the answer, or None once printed as JSON (`--json`)."""
    from crawler_client.client import Client

    with Client(args.registry) as registry:
        answer: dict[str, Any] = registry.request("POST", path, document=document)
    if args.json:
        print_json(answer)
        return None
    return answer
