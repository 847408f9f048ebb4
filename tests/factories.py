"""Signed documents for tests, built the way the CLI builds them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import keys
from registry.documents import new_claim, new_withdrawal


def signed_claim(
    key: keys.SigningKey,
    created: datetime,
    *,
    urls: tuple[str, ...] = ("https://example.com/gallery/",),
    deny: tuple[str, ...] = ("train-ai", "generate"),
    claimant: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    document = new_claim(
        claimant or key.did,
        options.pop("kind", "work"),
        [("url", url) for url in urls]
        + [("sha256", h) for h in options.pop("sha256", ())]
        + list(options.pop("identifiers", ())),
        {use: "n" for use in deny} | options.pop("allow", {}),
        created=created,
        **options,
    )
    return keys.sign_document(document, key, created=created)


def signed_withdrawal(
    key: keys.SigningKey, claim_id: str, created: datetime, *, claimant: str | None = None
) -> dict[str, Any]:
    return keys.sign_document(
        new_withdrawal(claimant or key.did, claim_id, created=created), key, created=created
    )


def body(document: Any) -> bytes:
    return keys.canonicalize(document)
