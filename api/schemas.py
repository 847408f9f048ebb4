"""Response shapes, as pydantic models so /openapi.json describes them and tests can hold answers to them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from registry.checking import CheckItem
from registry.vocabulary import Decision, Use


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Receipt(_Answer):
    id: str
    received_at: str
    keys: list[str]


class WithdrawalReceipt(_Answer):
    id: str
    claim: str
    received_at: str


class StoredDocument(_Answer):
    id: str
    received_at: str
    document: dict[str, object]


class ClaimEnvelope(_Answer):
    id: str
    status: Literal["active", "withdrawn"]
    received_at: str
    document: dict[str, object]
    withdrawal: StoredDocument | None = None


class Match(_Answer):
    claim: str
    claimant: str
    kind: str
    match: str
    key: str
    uses: dict[str, str]


class ItemAnswer(_Answer):
    item: CheckItem
    decision: Decision | None = None
    decisions: dict[Use, Decision]
    matches: list[Match]
    reasons: list[str]


class CheckAnswer(_Answer):
    checked_at: str
    at: str
    purpose: Use | None = None
    territory: str | None = None
    items: list[ItemAnswer]


class UseInfo(_Answer):
    use: Use
    description: str


class RegistryInfo(_Answer):
    did: str
    uses: list[UseInfo]
    limits: dict[str, int]


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` points at the fields at fault."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None
