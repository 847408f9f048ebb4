"""Typed identifiers of works, voices and likenesses, as the wire format carries them.

One pydantic model per scheme, discriminated by `scheme`, so each is validated by the rules of its
own standard (Safe Browsing URLs, SHA-256, ISO 24138 ISCC, PDQ, ISO 27729 ISNI, Wikidata Q-ids,
names, embedding vectors) and the error names the field. The same models serve claims and checks;
a check may also carry free `text` (a generation prompt) to search for registered names.

Claims (and notices) are held to more than checks: a PDQ hash must state its quality, and a URL,
when the document is being filed (validated with the `FILING` context), must name a registrable
domain or something below it, never a public suffix (`registry.suffixes`). A check may ask about
any URL.

>>> identifier({"scheme": "isni", "value": "0000 0001 2103 2683"}).value
'0000000121032683'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator

from registry import content_ids, names
from registry.identifiers import InvalidIdentifier, claim_keys, normalize_sha256, query_keys
from registry.suffixes import refuse_public_suffix
from registry.urls import MAX_URL_LENGTH, InvalidURL, claim_expression, filable

MAX_EMBEDDING_DIMENSIONS: Final = 4096
DEFAULT_EMBEDDING_THRESHOLD: Final = 0.90
_SPACE = re.compile(r"[a-z0-9][a-z0-9._/-]{0,99}")

FILING: Final[Mapping[str, bool]] = MappingProxyType({"filing": True})
"""The pydantic validation context of a document being filed (`registry.documents.validate_document`
passes it; so does the CLI before it signs). Rules that bind only new documents apply under it: a
URL identifier must not name a public suffix. Documents read back from the log, the database or a
snapshot are validated without it, so whatever the registry accepted before a rule existed still
loads and replays."""


def is_filing(context: object) -> bool:
    """Whether a validation context is `FILING` (or any mapping saying ``"filing": True``)."""
    return isinstance(context, Mapping) and context.get("filing") is True


def refuse_public_suffix_url(url: str) -> None:
    """Raise ValueError (`registry.suffixes.PublicSuffixHost`) if the host of `url` is a public
    suffix or has no registrable domain; `InvalidURL` if `url` cannot be filed at all.

    What a claim's and a notice's URL identifiers must pass when filed; IP-address hosts pass."""
    refuse_public_suffix(filable(url).host)


class _Id(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check(function: Any, value: str) -> str:
    try:
        return str(function(value))
    except InvalidIdentifier as exc:
        raise ValueError(str(exc)) from None


class UrlId(_Id):
    """A page, file, path prefix or whole site; matched by Safe Browsing expressions."""

    scheme: Literal["url"]
    value: Annotated[str, Field(min_length=1, max_length=MAX_URL_LENGTH)]

    @field_validator("value")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            claim_expression(value)
        except InvalidURL as exc:
            raise ValueError(f"invalid URL: {exc}") from None
        return value


class ClaimUrlId(UrlId):
    """A page, file, path prefix or whole site as a claim or notice names it: when filed, its host
    must be a registrable domain (eTLD+1 of the Public Suffix List, ICANN and private sections) or
    below one, or an IP address; a public suffix such as `co.jp` or `github.io`, or a single label
    under no known suffix such as `localhost`, is refused."""

    @field_validator("value")
    @classmethod
    def _registrable(cls, value: str, info: ValidationInfo) -> str:
        if is_filing(info.context):
            try:
                refuse_public_suffix_url(value)
            except InvalidURL as exc:  # already reported by UrlId's own validator
                raise ValueError(f"invalid URL: {exc}") from None
        return value


class Sha256Id(_Id):
    """An exact file."""

    scheme: Literal["sha256"]
    value: str

    @field_validator("value")
    @classmethod
    def _hex(cls, value: str) -> str:
        return _check(normalize_sha256, value)


class IsccId(_Id):
    """Any media, ISO 24138: Instance matched exactly, Data/Content/Meta units by Hamming distance."""

    scheme: Literal["iscc"]
    value: Annotated[str, Field(min_length=1, max_length=200)]

    @field_validator("value")
    @classmethod
    def _iscc(cls, value: str) -> str:
        return _check(content_ids.normalize_iscc, value)


class PdqId(_Id):
    """An image's 256-bit PDQ hash, with its quality and optionally its 7 other dihedral variants."""

    scheme: Literal["pdq"]
    value: str
    quality: Annotated[int, Field(ge=0, le=100)] | None = None
    variants: Annotated[list[str], Field(max_length=7)] | None = None

    @field_validator("value")
    @classmethod
    def _pdq(cls, value: str) -> str:
        return _check(content_ids.normalize_pdq, value)

    @field_validator("variants")
    @classmethod
    def _variants(cls, variants: list[str] | None) -> list[str] | None:
        return None if variants is None else [_check(content_ids.normalize_pdq, v) for v in variants]

    def hashes(self) -> list[bytes]:
        return [bytes.fromhex(self.value), *(bytes.fromhex(v) for v in self.variants or ())]


class ClaimPdqId(PdqId):
    """A claim's PDQ hash must state its quality, at least 50: flatter images fingerprint unreliably."""

    quality: Annotated[int, Field(ge=0, le=100)]

    @field_validator("quality")
    @classmethod
    def _quality(cls, quality: int) -> int:
        _check(lambda text: content_ids.check_pdq_quality(int(text)), str(quality))
        return quality


class IsniId(_Id):
    """A person or organisation, ISO 27729 (check character validated)."""

    scheme: Literal["isni"]
    value: str

    @field_validator("value")
    @classmethod
    def _isni(cls, value: str) -> str:
        return _check(content_ids.normalize_isni, value)


class WikidataId(_Id):
    """A Wikidata item (Q-id)."""

    scheme: Literal["wikidata"]
    value: str

    @field_validator("value")
    @classmethod
    def _qid(cls, value: str) -> str:
        return _check(content_ids.normalize_wikidata, value)


class NameId(_Id):
    """A person's name or reading as the claimant gives it (kanji, kana, romaji, stage names)."""

    scheme: Literal["name"]
    value: Annotated[str, Field(min_length=1, max_length=names.MAX_NAME_CHARS)]

    @field_validator("value")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            names.validate_name(value)
        except names.InvalidName as exc:
            raise ValueError(str(exc)) from None
        return value


class EmbeddingId(_Id):
    """A voice or face embedding in a named space; matched by cosine similarity ≥ `threshold`."""

    scheme: Literal["embedding"]
    space: str
    vector: Annotated[list[float], Field(min_length=1, max_length=MAX_EMBEDDING_DIMENSIONS)]
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] | None = None

    @field_validator("space")
    @classmethod
    def _space(cls, value: str) -> str:
        if not _SPACE.fullmatch(value):
            raise ValueError("an embedding space is a lower-case name like speaker/ecapa-tdnn-voxceleb")
        return value

    @field_validator("vector")
    @classmethod
    def _vector(cls, vector: list[float]) -> list[float]:
        if not all(math.isfinite(x) for x in vector):
            raise ValueError("embedding components must be finite numbers")
        if math.fsum(x * x for x in vector) <= 1e-24:
            raise ValueError("an embedding with zero norm has no direction to compare")
        return vector


class TextItem(_Id):
    """Free text to search for registered names (a generation prompt); only in checks."""

    scheme: Literal["text"]
    value: Annotated[str, Field(min_length=1, max_length=10_000)]


Identifier = Annotated[
    ClaimUrlId | Sha256Id | IsccId | ClaimPdqId | IsniId | WikidataId | NameId | EmbeddingId,
    Field(discriminator="scheme"),
]
CheckItem = Annotated[
    UrlId | Sha256Id | IsccId | PdqId | IsniId | WikidataId | NameId | EmbeddingId | TextItem,
    Field(discriminator="scheme"),
]
IDENTIFIER_SCHEMES: Final = ("url", "sha256", "iscc", "pdq", "isni", "wikidata", "name", "embedding")
ITEM_SCHEMES: Final = (*IDENTIFIER_SCHEMES, "text")

_IDENTIFIER: TypeAdapter[Any] = TypeAdapter(Identifier)


def identifier(obj: Mapping[str, Any], *, filing: bool = False) -> Any:
    """Validate one identifier object of a claim (raises pydantic's ValidationError); `filing`
    applies the rules of a document being filed (see `FILING`)."""
    return _IDENTIFIER.validate_python(dict(obj), context=FILING if filing else None)


def exact_keys(item: Any, *, query: bool) -> list[str]:
    """The exact-match keys an identifier is stored under (`query=False`) or looked up by.

    URLs: a claim is stored under one Safe Browsing expression; a query looks up all of its
    expressions. ISCC contributes its Instance unit, keyed by its first 64 bits: an ISCC-CODE carries
    a 64-bit Instance unit, so a longer standalone Instance-Code of the same file must meet it there.
    Similarity units, PDQ, names and embeddings are matched by distance in the index, not by keys.
    """
    if isinstance(item, UrlId):
        return (query_keys if query else claim_keys)("url", item.value)
    if isinstance(item, Sha256Id | IsniId | WikidataId):
        return [f"{item.scheme}:{item.value}"]
    if isinstance(item, IsccId):
        units = content_ids.iscc_units(item.value)
        return [f"iscc-instance:{unit.body[:8].hex()}" for unit in units if unit.kind == "instance"]
    return []
