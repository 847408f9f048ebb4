"""The shapes of the records the registry serves, for the OpenAPI document and for tests that hold
the answers to them (`registry.accountability.record` builds them as plain dictionaries)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NoticeCounts(_Answer):
    received: int
    acknowledged: int
    answered_on_time: int
    answered_late: int
    overdue: int
    pending: int
    actioned: int
    rejected: int
    counter_noticed: int
    restored: int
    upheld: int


class RequestCounts(_Answer):
    received: int
    answered: int
    answered_late: int = Field(alias="answered-late")
    overdue: int
    open: int


class OperatorAccountabilityRecord(_Answer):
    """One operator's public record, computed from the log at `tree_size`, deadlines judged at
    `computed_at` (see `registry.accountability.record`)."""

    operator: str
    tree_size: int
    computed_at: str
    identity: dict[str, Any]
    disclosures: list[dict[str, Any]]
    notices: NoticeCounts
    actions_taken: dict[str, int]
    rejections: list[dict[str, Any]]
    counter_notices: list[dict[str, Any]]
    repeat_findings: list[dict[str, Any]]
    repeats: int
    information_requests: list[dict[str, Any]]
    information_requests_summary: RequestCounts
    notice_list: list[dict[str, Any]]


class RankedOperator(_Answer):
    rank: int
    operator: str
    name: str | None
    registered: bool
    authority: str
    notices_received: int
    overdue: int
    answered_on_time: int
    answered_late: int
    actioned: int
    rejected: int
    counter_noticed: int
    repeats: int
    information_requests: int
    information_requests_overdue: int
    information_requests_answered_late: int
    current_disclosures: int


class OperatorRanking(_Answer):
    """`GET /v1/accountability/operators`: every operator the log speaks of, ranked."""

    tree_size: int
    computed_at: str
    sort: str
    operators: list[RankedOperator]
