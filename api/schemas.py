"""Response shapes, as pydantic models so /openapi.json describes them and tests can hold answers to them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from registry.authority.levels import Level
from registry.vocabulary import Decision, Use


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogReceipt(_Answer):
    """Where a document went in the transparency log, with the proof that it is there."""

    registry: str
    origin: str
    index: int
    tree_size: int
    leaf_hash: str
    inclusion_proof: list[str]
    checkpoint: str


class Receipt(_Answer):
    id: str
    received_at: str
    keys: list[str]
    log: LogReceipt


class WithdrawalReceipt(_Answer):
    id: str
    claim: str
    received_at: str
    log: LogReceipt


class StoredDocument(_Answer):
    id: str
    received_at: str
    log_index: int
    document: dict[str, object]


class AuthorityGrant(_Answer):
    """One link of the chain behind a claim's authority."""

    authority: Level
    by: str
    method: str
    document: str
    log_index: int
    at: str
    covers: list[str] | None = None
    valid_from: str | None = None
    valid_until: str | None = None


class ClaimAuthorityInfo(_Answer):
    """A claim's authority at `tree_size`: its base and the grants (per identifier) on top."""

    tree_size: int
    base: Literal["self-asserted", "agent-asserted"]
    grants: list[AuthorityGrant] | None = None
    notes: list[str] | None = None


class ClaimEnvelope(_Answer):
    id: str
    status: Literal["active", "withdrawn"]
    received_at: str
    log_index: int
    document: dict[str, object]
    authority: ClaimAuthorityInfo | None = None
    acting_claimant: str | None = None
    withdrawal: StoredDocument | None = None


class MatchLicence(_Answer):
    """Where the matching claim says a licence can be had: a contact, terms, an RSL 1.0 licence."""

    contact: str | None = None
    terms: str | None = None
    rsl: str | None = None


class Match(_Answer):
    claim: str
    claimant: str
    kind: str
    match: str
    key: str
    uses: dict[str, str]
    distance: int | None = None
    similarity: float | None = None
    disputed: bool | None = None
    authority: list[Level]
    chain: list[AuthorityGrant] | None = None
    authority_notes: list[str] | None = None
    counted: bool | None = None
    licence: MatchLicence | None = None


class ItemAnswer(_Answer):
    item: dict[str, object]
    decision: Decision | None = None
    decisions: dict[Use, Decision]
    matches: list[Match]
    reasons: list[str]


class CheckpointRef(_Answer):
    origin: str
    tree_size: int
    root_hash: str


class CheckAnswer(_Answer):
    """Signed by the registry (Data Integrity, eddsa-jcs-2022), computed at `checkpoint`."""

    type: Literal["CheckAnswer"]
    registry: str
    checked_at: str
    at: str
    checkpoint: CheckpointRef
    purpose: Use | None = None
    territory: str | None = None
    min_authority: Level | None = None
    items: list[ItemAnswer]
    proof: dict[str, object]


class InclusionProof(_Answer):
    leaf_index: int
    tree_size: int
    inclusion_proof: list[str]


class ConsistencyProof(_Answer):
    first: int
    second: int
    consistency_proof: list[str]


class UseInfo(_Answer):
    use: Use
    description: str


class LogInfo(_Answer):
    origin: str
    note_verifier_key: str


class RegistryInfo(_Answer):
    did: str
    log: LogInfo
    embedding_spaces: dict[str, int]
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
