"""What a check asks and how its answer is decided, given the claims that matched.

Pure: the server feeds it hits from its matching index, an offline client hits from a snapshot;
both then decide identically. Per use, the claims that match an item combine as the vocabulary
says (any `n` wins, then any `y`, else unknown). A name found in text is reported as a `name`
match, never as a content match, but it counts for the decision like any other match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from registry.authority.levels import SELF_ASSERTED, ClaimAuthority, Level, counts
from registry.documents import (
    Claim,
    InvalidDocument,
    Territory,
    Timestamp,
    error_message,
    error_pointer,
    parse_timestamp,
)
from registry.schemes import CheckItem, EmbeddingId
from registry.vocabulary import PARENT, USES, Decision, Use, combine, effective_uses

DEFAULT_MAX_ITEMS = 10_000


class CheckRequest(BaseModel):
    """`POST /v1/check`: items, optionally one purpose, a territory and the moment to judge at."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    items: Annotated[list[CheckItem], Field(min_length=1)]
    purpose: Use | None = None
    territory: Territory | None = None
    at: Timestamp | None = None
    min_authority: Level | None = None


def validate_check_request(obj: object) -> CheckRequest:
    """Validate a parsed body; `InvalidDocument` names every bad field by JSON pointer."""
    if not isinstance(obj, dict):
        raise InvalidDocument([("", "the body must be a JSON object")])
    try:
        return CheckRequest.model_validate(obj)
    except ValidationError as exc:
        errors = [(error_pointer(error), error_message(error)) for error in exc.errors(include_url=False)]
        raise InvalidDocument(errors) from None


@dataclass(frozen=True)
class ClaimView:
    """The parts of an accepted claim that decide a check, and its `licence` (where to ask for one:
    contact, terms, RSL licence URL), which answers show beside the match."""

    id: str
    claimant: str
    kind: str
    uses: Mapping[str, str]
    valid_from: datetime | None
    valid_until: datetime | None
    territories: frozenset[str] | None
    authority: ClaimAuthority = SELF_ASSERTED
    licence: Mapping[str, str] | None = None

    @classmethod
    def of(cls, claim_id: str, claim: Claim, authority: ClaimAuthority = SELF_ASSERTED) -> ClaimView:
        return cls(
            id=claim_id,
            claimant=claim.claimant,
            kind=claim.subject.kind,
            uses={use: value for use, value in claim.uses.items()},
            valid_from=parse_timestamp(claim.valid_from) if claim.valid_from else None,
            valid_until=parse_timestamp(claim.valid_until) if claim.valid_until else None,
            territories=frozenset(claim.territories) if claim.territories else None,
            authority=authority,
            licence=claim.licence.model_dump(exclude_none=True) if claim.licence else None,
        )

    def applies(self, at: datetime, territory: str | None) -> bool:
        """In force at `at`, and for `territory` when the check names one and the claim limits them."""
        if self.valid_from is not None and at < self.valid_from:
            return False
        if self.valid_until is not None and at >= self.valid_until:
            return False
        return territory is None or self.territories is None or territory in self.territories


@dataclass(frozen=True)
class Hit:
    """One way an item matched a claim: the scheme, the key or name matched, and how closely."""

    claim: ClaimView
    match: str  # the scheme matched: url, sha256, iscc-instance, iscc-data, pdq, name, embedding, …
    key: str
    distance: int | None = None
    similarity: float | None = None

    def closeness(self) -> tuple[int, float]:
        """Sort key: exact before near, nearer before farther."""
        return (self.distance or 0, -(self.similarity if self.similarity is not None else 1.0))


def describe(item: Any) -> dict[str, Any]:
    """The item as echoed in the answer (an embedding's vector is summarised, not repeated)."""
    if isinstance(item, EmbeddingId):
        return {"scheme": "embedding", "space": item.space, "dimensions": len(item.vector)}
    described: dict[str, Any] = item.model_dump(exclude_none=True)
    return described


def decide(
    item: Any,
    hits: Iterable[Hit],
    *,
    at: datetime,
    purpose: Use | None = None,
    territory: str | None = None,
    min_authority: str | None = None,
) -> dict[str, Any]:
    """The answer for one item given its hits: decisions per use, matches and reasons.

    Every match carries its authority and the chain behind it. With `min_authority`, matches whose
    strongest authority is weaker are still listed, marked `"counted": false`, and decide nothing.
    """
    best: dict[str, Hit] = {}
    for hit in hits:
        if not hit.claim.applies(at, territory):
            continue
        known = best.get(hit.claim.id)
        if known is None or hit.closeness() < known.closeness():
            best[hit.claim.id] = hit
    ordered = sorted(best.values(), key=lambda hit: (hit.closeness(), hit.claim.id))
    matches = [_match(hit, at) for hit in ordered]
    counted = [
        (hit, effective_uses(hit.claim.uses))
        for hit, match in zip(ordered, matches, strict=True)
        if counts(match["authority"], min_authority)
    ]
    decisions: dict[Use, Decision] = {use: combine(uses[use] for _, uses in counted) for use in USES}
    answer: dict[str, Any] = {"item": describe(item)}
    if purpose is not None:
        answer["decision"] = decisions[purpose]
    answer["decisions"] = decisions
    if min_authority is not None:
        for match in matches:
            match["counted"] = counts(match["authority"], min_authority)
    answer["matches"] = matches
    reasons = _reasons(counted, [purpose] if purpose else list(USES))
    if min_authority is not None:
        for match in matches:
            if not match["counted"]:
                held = ", ".join(match["authority"])
                reasons.append(f"claim {match['claim'][:16]}… is {held}, below {min_authority}: not counted")
    answer["reasons"] = reasons
    return answer


def _match(hit: Hit, at: datetime) -> dict[str, Any]:
    match: dict[str, Any] = {
        "claim": hit.claim.id,
        "claimant": hit.claim.claimant,
        "kind": hit.claim.kind,
        "match": hit.match,
        "key": hit.key,
        "uses": dict(hit.claim.uses),
    }
    if hit.claim.licence:
        match["licence"] = dict(hit.claim.licence)
    if hit.distance is not None:
        match["distance"] = hit.distance
    if hit.similarity is not None:
        match["similarity"] = round(hit.similarity, 6)
    levels, chain = hit.claim.authority.evaluate(hit.match, hit.key, at=at)
    match["authority"] = levels
    if chain:
        match["chain"] = chain
    if hit.claim.authority.notes:
        match["authority_notes"] = list(hit.claim.authority.notes)
    return match


def _reasons(per_claim: Sequence[tuple[Hit, Mapping[Use, Decision]]], uses: Sequence[Use]) -> list[str]:
    reasons = []
    for hit, effective in per_claim:
        for use in uses:
            value = effective[use]
            if value == "unknown":
                continue
            verb = "reserves" if value == "n" else "allows"
            stated = "" if use in hit.claim.uses else f" (through {PARENT.get(use, use)})"
            how = f"{hit.match} {hit.key}"
            if hit.distance is not None:
                how += f" at distance {hit.distance}"
            if hit.similarity is not None:
                how += f" at similarity {hit.similarity:.3f}"
            reasons.append(
                f"claim {hit.claim.id[:16]}… by {hit.claim.claimant} {verb} {use}{stated} for {how}"
            )
    return reasons
