"""Signed notices, registrations and responses for tests, built the way the CLI builds them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import keys
from registry.notices.documents import new_dispute, new_notice, new_registration, new_response
from registry.privacy.personal import sign_split

FULL_STATEMENTS = {
    "good-faith": "I believe in good faith that the owner, its agent or the law did not authorise this use.",
    "accuracy": "The information in this notice is accurate.",
    "authority-under-penalty-of-perjury": "Under penalty of perjury, I am authorised to act for the owner.",
    "authority": "I am the individual concerned.",
}
CONTACT = {"name": "Aoi Tanaka", "email": "aoi@example.jp", "address": "1-1 Chiyoda, Tokyo"}
JP = {"infringed_right": "著作権（複製権）", "reason": "許諾なく学習データとして複製されたため"}


def complete_notice(
    notifier: keys.SigningKey,
    operator: str,
    created: datetime,
    *,
    regimes: tuple[str, ...] = ("dmca", "dsa", "jp-platform"),
    kind: str = "work",
    **overrides: Any,
) -> dict[str, Any]:
    """A notice with every element of every regime, signed by `notifier`."""
    options: dict[str, Any] = {
        "kind": kind,
        "identifiers": [("url", "https://aoi.example.jp/works/")],
        "locations": [
            ("url", "https://models.example.com/acme/painter-v2"),
            ("model", "acme/painter-v2"),
            ("output-sha256", "a" * 64),
        ],
        "actions": ["stop-generation", "stop-training-use"],
        "regimes": list(regimes),
        "title": "Illustrations by Aoi Tanaka" if kind == "work" else "Aoi Tanaka",
        "grounds": "The model was fine-tuned on my illustrations and reproduces them on request.",
        "contact": CONTACT,
        "signature": "/Aoi Tanaka/",
        "statements": FULL_STATEMENTS,
        "jp_platform": JP,
        "language": "ja",
    }
    options.update(overrides)
    return signed_with_part(
        "Notice", new_notice(notifier.did, operator, created=created, **options), notifier, created
    )


def whole_notice(
    notifier: keys.SigningKey, operator: str, created: datetime, **options: Any
) -> dict[str, Any]:
    """The notice as its author wrote it, personal fields inside, signed whole: what the regime rules
    and exports are checked against (the registry refuses it as a filing)."""
    body = complete_notice(notifier, operator, created, **options)
    document = dict(document_of(body))
    document.pop("personal", None)
    document.pop("proof", None)
    if "personal" in body:
        from registry.privacy.personal import merge

        document = merge(document, body["personal"]["data"])
    return keys.sign_document(document, notifier, created=created)


def signed_with_part(
    kind: str, document: dict[str, Any], key: keys.SigningKey, created: datetime
) -> dict[str, Any]:
    """The body a filer sends (`registry.privacy.personal.sign_split`)."""
    return sign_split(kind, document, key, created)


def document_of(body: dict[str, Any]) -> dict[str, Any]:
    """The signed document inside a body that may carry a personal part."""
    return body["document"] if "document" in body and "type" not in body else body


def registration(
    operator: keys.SigningKey, created: datetime, *, webhook: str | None = None, name: str = "Acme AI"
) -> dict[str, Any]:
    document = new_registration(operator.did, name, "legal@acme.example", created=created, webhook=webhook)
    return keys.sign_document(document, operator, created=created)


def response(
    key: keys.SigningKey, notice_id: str, action: str, created: datetime, **options: Any
) -> dict[str, Any]:
    if action in ("reject", "counter-notice", "uphold") and "statement" not in options:
        options["statement"] = f"statement for {action}"
    if action == "action" and "actions_taken" not in options:
        options["actions_taken"] = ["stop-generation", "stop-training-use"]
    return signed_with_part(
        "NoticeResponse", new_response(key.did, notice_id, action, created=created, **options), key, created
    )


def dispute(key: keys.SigningKey, claim_id: str, disputed_id: str, created: datetime) -> dict[str, Any]:
    document = new_dispute(
        key.did, claim_id, disputed_id, "This is my work; the other claimant copied it.", created=created
    )
    return keys.sign_document(document, key, created=created)
