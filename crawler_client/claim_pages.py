"""Reading `GET /v1/claims` pages, for `Client.list_claims` and `AsyncClient.list_claims`.

The listing is not signed by the registry, but each claim in it is signed by its claimant: every
listed document is verified (its proof, and that its hash is the id listed) before it is handed on,
so a page can drop claims but not forge or alter one. To prove what is in force, use `check`, whose
answers are signed; to prove a claim is in the log, its receipt.
"""

from __future__ import annotations

from typing import Any

from crawler_client.errors import InvalidSignedAnswer, UnexpectedAnswer

__all__ = ["MAX_PAGE_SIZE", "listing_params", "read_page"]

MAX_PAGE_SIZE = 1000


def listing_params(
    *,
    claimant: str | None = None,
    name: str | None = None,
    url: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    page_size: int | None = None,
) -> dict[str, str | int]:
    """The query parameters of the first page (the registry checks them; 400 names a bad one)."""
    params: dict[str, str | int] = {
        key: value
        for key, value in (
            ("claimant", claimant),
            ("name", name),
            ("url", url),
            ("kind", kind),
            ("status", status),
        )
        if value is not None
    }
    if page_size is not None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size is 1 to {MAX_PAGE_SIZE}, not {page_size}")
        params["limit"] = page_size
    return params


def read_page(
    page: dict[str, Any], registry: str, *, verify: bool = True
) -> tuple[list[dict[str, Any]], str | None]:
    """(the page's claims, the cursor of the next page or None), each claim's document verified."""
    import keys

    claims, cursor = page.get("claims"), page.get("cursor")
    if not isinstance(claims, list) or not (cursor is None or isinstance(cursor, str)):
        raise UnexpectedAnswer(f"{registry} answered GET /v1/claims without claims and a cursor")
    for claim in claims:
        document = claim.get("document") if isinstance(claim, dict) else None
        if not isinstance(document, dict) or not isinstance(claim.get("id"), str):
            raise UnexpectedAnswer(f"{registry} listed a claim without its id and document")
        if verify:
            try:
                keys.verify_document(document)
            except keys.KeysError as exc:
                raise InvalidSignedAnswer(
                    f"{registry} listed claim {claim['id']}, which does not verify: {exc}"
                ) from None
            if keys.document_id(document) != claim["id"]:
                raise InvalidSignedAnswer(f"{registry} listed a claim under another id than {claim['id']}")
    return claims, cursor
