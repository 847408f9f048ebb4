"""What a check asks and how its answer is decided, given the claims that matched.

Pure: the server feeds it claims found in the database, an offline client claims found in a
snapshot; both then decide identically. Per use, the claims that match an item combine as the
vocabulary says (any `n` wins, then any `y`, else unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from registry.documents import Claim, InvalidDocument, Territory, Timestamp, json_pointer, parse_timestamp
from registry.identifiers import InvalidIdentifier, Scheme, query_keys
from registry.vocabulary import PARENT, USES, Decision, Use, combine, effective_uses

DEFAULT_MAX_ITEMS = 10_000


class CheckItem(BaseModel):
    """One thing to check, named like a claim's identifier: `{"scheme": "url", "value": "…"}`."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    scheme: Scheme
    value: Annotated[str, Field(min_length=1, max_length=8192)]

    def keys(self) -> list[str]:
        """The lookup keys of this item (for a URL, every Safe Browsing expression)."""
        return query_keys(self.scheme, self.value)


class CheckRequest(BaseModel):
    """`POST /v1/check`: items, optionally one purpose, a territory and the moment to judge at."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    items: Annotated[list[CheckItem], Field(min_length=1)]
    purpose: Use | None = None
    territory: Territory | None = None
    at: Timestamp | None = None


def validate_check_request(obj: object) -> tuple[CheckRequest, list[list[str]]]:
    """Validate a parsed body and derive each item's lookup keys (once: for URLs that is the costly
    part); `InvalidDocument` names every bad field by JSON pointer."""
    if not isinstance(obj, dict):
        raise InvalidDocument([("", "the body must be a JSON object")])
    try:
        request = CheckRequest.model_validate(obj)
    except ValidationError as exc:
        errors = [(json_pointer(error["loc"]), error["msg"]) for error in exc.errors(include_url=False)]
        raise InvalidDocument(errors) from None
    item_keys: list[list[str]] = []
    errors = []
    for number, item in enumerate(request.items):
        try:
            item_keys.append(item.keys())
        except InvalidIdentifier as exc:
            errors.append((f"/items/{number}/value", str(exc)))
    if errors:
        raise InvalidDocument(errors)
    return request, item_keys


@dataclass(frozen=True)
class ClaimView:
    """The parts of an accepted claim that decide a check."""

    id: str
    claimant: str
    kind: str
    uses: Mapping[str, str]
    valid_from: datetime | None
    valid_until: datetime | None
    territories: frozenset[str] | None

    @classmethod
    def of(cls, claim_id: str, claim: Claim) -> ClaimView:
        return cls(
            id=claim_id,
            claimant=claim.claimant,
            kind=claim.subject.kind,
            uses={use: value for use, value in claim.uses.items()},
            valid_from=parse_timestamp(claim.valid_from) if claim.valid_from else None,
            valid_until=parse_timestamp(claim.valid_until) if claim.valid_until else None,
            territories=frozenset(claim.territories) if claim.territories else None,
        )

    def applies(self, at: datetime, territory: str | None) -> bool:
        """In force at `at`, and for `territory` when the check names one and the claim limits them."""
        if self.valid_from is not None and at < self.valid_from:
            return False
        if self.valid_until is not None and at >= self.valid_until:
            return False
        return territory is None or self.territories is None or territory in self.territories


def decide(
    item: CheckItem,
    matches: Iterable[tuple[ClaimView, str]],
    *,
    at: datetime,
    purpose: Use | None = None,
    territory: str | None = None,
) -> dict[str, Any]:
    """The answer for one item given `(claim, matched key)` pairs: decisions per use, matches, reasons."""
    seen: dict[str, tuple[ClaimView, str]] = {}
    for claim, key in matches:
        if claim.applies(at, territory) and claim.id not in seen:
            seen[claim.id] = (claim, key)
    ordered = sorted(seen.values(), key=lambda pair: pair[0].id)
    per_claim = [(claim, key, effective_uses(claim.uses)) for claim, key in ordered]
    decisions: dict[Use, Decision] = {use: combine(uses[use] for _, _, uses in per_claim) for use in USES}
    answer: dict[str, Any] = {"item": item.model_dump()}
    if purpose is not None:
        answer["decision"] = decisions[purpose]
    answer["decisions"] = decisions
    answer["matches"] = [
        {
            "claim": claim.id,
            "claimant": claim.claimant,
            "kind": claim.kind,
            "match": key.split(":", 1)[0],
            "key": key.split(":", 1)[1],
            "uses": dict(claim.uses),
        }
        for claim, key, _ in per_claim
    ]
    answer["reasons"] = _reasons(per_claim, [purpose] if purpose else list(USES))
    return answer


def _reasons(
    per_claim: Sequence[tuple[ClaimView, str, Mapping[Use, Decision]]], uses: Sequence[Use]
) -> list[str]:
    reasons = []
    for claim, key, effective in per_claim:
        for use in uses:
            value = effective[use]
            if value == "unknown":
                continue
            verb = "reserves" if value == "n" else "allows"
            stated = "" if use in claim.uses else f" (through {PARENT.get(use, use)})"
            reasons.append(f"claim {claim.id[:16]}… by {claim.claimant} {verb} {use}{stated} for {key}")
    return reasons
