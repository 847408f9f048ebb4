"""The signed record of an erasure: logged, so anyone can see that personal data was erased, when,
on what ground and by whom — and it carries none of the data itself.

The notifier signs one to erase the personal part of its own notice (ground `request`); the
registry signs one when an administrator acts on a legal order (`legal-order`) or when a closed
notice's retention period ends (`retention`). `documents` names the logged documents whose
personal parts go; their commitments stay in the log.

>>> doc = new_erasure("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "a" * 64, ["a" * 64],
...                   "request", created=datetime(2026, 1, 1, tzinfo=UTC), nonce="0123456789abcdef")
>>> doc["type"], doc["ground"]
('PersonalDataErasure', 'request')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime  # noqa: F401 - UTC is used by the doctest
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import Field, model_validator

from registry.documents import Did, DocId, SignedDocument, unsigned_document

ErasureGround = Literal["request", "legal-order", "retention"]
ERASURE_GROUNDS: Final[tuple[ErasureGround, ...]] = get_args(ErasureGround)


class PersonalDataErasure(SignedDocument):
    """`by` erases the personal parts of `documents` on `ground`: parts of one notice (`notice`: the
    notice and its responses), or of an operator's registrations (no `notice`)."""

    AUTHOR_FIELD = "by"

    type: Literal["PersonalDataErasure"]
    by: Did
    notice: DocId | None = None
    documents: Annotated[list[DocId], Field(min_length=1, max_length=100)]
    ground: ErasureGround
    reference: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _distinct(self) -> PersonalDataErasure:
        if len(set(self.documents)) != len(self.documents):
            raise ValueError("documents must not repeat")
        return self


PRIVACY_DOCUMENT_TYPES: Final[Mapping[str, type[SignedDocument]]] = {
    "PersonalDataErasure": PersonalDataErasure,
}


def new_erasure(
    by: str,
    notice_id: str | None,
    documents: Sequence[str],
    ground: str,
    *,
    created: datetime,
    reference: str | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """An unsigned erasure record; sign it with `keys.sign_document`."""
    return unsigned_document(
        {"type": "PersonalDataErasure", "by": by, "documents": list(documents), "ground": ground},
        created=created,
        nonce=nonce,
        optional={"notice": notice_id, "reference": reference},
    )
