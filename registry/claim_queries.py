"""Finding claims (`GET /v1/claims`): filters, cursor pages, and each claim's authority.

`claimant`, `kind` and `status` narrow the claims table. `url` and `name` match the way a check
does: the same `ClaimIndex.match` over the claims in force and, for withdrawn claims, over a second
index of the withdrawn ones, filled as withdrawals are replayed (withdrawal is final, so it only
grows). Several filters must all hold.

A page is computed at one tree size (`tree_size` in the answer): status is as the log stands at that
size. Pages are in log order and the cursor names the last log index served, so claims filed while
someone pages through come at the end, and nothing is served twice or skipped. The cursor also
carries a digest of the filters, so it cannot be replayed with other filters by mistake.

Every listed claim says its authority as a check answer's match would (`authority`, `chain`,
`authority_notes`): for the match itself when `url` or `name` matched it, and otherwise for the
claim's least-covered identifier, which is what the claim as a whole holds at least.

>>> query = parse_query([("kind", "voice"), ("limit", "2")])
>>> query.filter.kind, query.limit, query.after
('voice', 2, -1)
>>> decode_cursor(encode_cursor(query.filter, 41), query.filter)
41
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final, TypeVar

from pydantic import TypeAdapter, ValidationError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from registry.authority.levels import RANK, ClaimAuthority, Level
from registry.authority.state import ClaimFacts
from registry.checking import Hit
from registry.documents import Claim, Did, error_message, format_timestamp
from registry.errors import InvalidParameter
from registry.index import ClaimIndex
from registry.models import ClaimRecord, LogEntry
from registry.schemes import EmbeddingId, NameId, UrlId, exact_keys, identifier
from registry.store import ClaimStore
from registry.vocabulary import SUBJECT_KINDS

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "PARAMETERS",
    "STATUSES",
    "ClaimFilter",
    "ClaimQueries",
    "ClaimQuery",
    "decode_cursor",
    "encode_cursor",
    "parse_query",
]

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
STATUSES: Final = ("active", "withdrawn")
FILTERS: Final = ("claimant", "name", "url", "kind", "status")
PARAMETERS: Final = (*FILTERS, "cursor", "limit")
_CHUNK: Final = 500  # ids per `IN (…)`: well under SQLite's and PostgreSQL's parameter limits
_CURSOR: Final = re.compile(r"1\.(0|[1-9][0-9]{0,18})\.([0-9a-f]{16})")
_LIMIT: Final = re.compile(r"[1-9][0-9]{0,3}")
_DID: Final[TypeAdapter[str]] = TypeAdapter(Did)
T = TypeVar("T")


@dataclass(frozen=True)
class ClaimFilter:
    """What the claims listed must all satisfy; None where a filter is not given."""

    claimant: str | None = None
    name: str | None = None
    url: str | None = None
    kind: str | None = None
    status: str | None = None

    def given(self) -> dict[str, str]:
        """The filters given, by parameter name (what a `next` link repeats)."""
        return {name: value for name, value in asdict(self).items() if value is not None}

    def digest(self) -> str:
        """16 hex digits naming these filters, carried in the cursor."""
        text = json.dumps(self.given(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def matches_content(self) -> bool:
        return self.url is not None or self.name is not None


@dataclass(frozen=True)
class ClaimQuery:
    """One page's request: the filters, the log index after which to start, and how many at most."""

    filter: ClaimFilter
    after: int = -1
    limit: int = DEFAULT_LIMIT


def _refuse(name: str, reason: str, detail: str | None = None) -> InvalidParameter:
    return InvalidParameter(detail or f"{name}: {reason}", [(name, reason)])


def parse_query(params: Iterable[tuple[str, str]]) -> ClaimQuery:
    """The query `params` (name, value pairs as sent) describe, or `InvalidParameter` naming the
    parameter: unknown or repeated parameters are refused too, so a typo never widens a listing."""
    values: dict[str, str] = {}
    for name, value in params:
        if name not in PARAMETERS:
            raise _refuse(
                name, "unknown parameter", f"unknown parameter {name!r} (known: {', '.join(PARAMETERS)})"
            )
        if name in values:
            raise _refuse(name, "given more than once", f"the parameter {name} is given more than once")
        values[name] = value
    for name, value in values.items():
        if not value.strip():
            raise _refuse(name, "empty", f"the parameter {name} is empty")
    claimant = values.get("claimant")
    if claimant is not None:
        try:
            _DID.validate_python(claimant)
        except ValidationError as exc:
            raise _refuse("claimant", error_message(exc.errors(include_url=False)[0])) from None
    for scheme in ("url", "name"):
        if scheme in values:
            _content_item(scheme, values[scheme])
    kind = values.get("kind")
    if kind is not None and kind not in SUBJECT_KINDS:
        raise _refuse("kind", f"must be one of {', '.join(SUBJECT_KINDS)}")
    status = values.get("status")
    if status is not None and status not in STATUSES:
        raise _refuse("status", f"must be one of {', '.join(STATUSES)}")
    limit = DEFAULT_LIMIT
    if "limit" in values:
        if not _LIMIT.fullmatch(values["limit"]) or int(values["limit"]) > MAX_LIMIT:
            raise _refuse("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
        limit = int(values["limit"])
    found = ClaimFilter(claimant, values.get("name"), values.get("url"), kind, status)
    after = decode_cursor(values["cursor"], found) if "cursor" in values else -1
    return ClaimQuery(found, after, limit)


def _content_item(scheme: str, value: str) -> UrlId | NameId:
    """The identifier a `url` or `name` filter is matched as (validated as a check item)."""
    try:
        item = identifier({"scheme": scheme, "value": value})
    except ValidationError as exc:
        raise _refuse(scheme, error_message(exc.errors(include_url=False)[0])) from None
    assert isinstance(item, UrlId | NameId)
    return item


def encode_cursor(filters: ClaimFilter, after: int) -> str:
    """An opaque cursor: the last log index served and the filters' digest."""
    return base64.urlsafe_b64encode(f"1.{after}.{filters.digest()}".encode()).decode().rstrip("=")


def decode_cursor(text: str, filters: ClaimFilter) -> int:
    """The log index a cursor continues after; `InvalidParameter` if it is not one of ours, or was
    made for other filters."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raw = ""
    found = _CURSOR.fullmatch(raw)
    if found is None:
        raise _refuse("cursor", "not a cursor this registry issued")
    if found.group(2) != filters.digest():
        raise _refuse("cursor", "issued for other filters: repeat the filters of the page it came from")
    return int(found.group(1))


def _batched(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _weakest(
    levels_by_identifier: Sequence[tuple[list[Level], list[dict[str, Any]]]],
) -> tuple[list[Level], list[dict[str, Any]]]:
    """The evaluation whose strongest level is the weakest: what the whole claim holds at least."""
    return min(levels_by_identifier, key=lambda held: max((RANK[level] for level in held[0]), default=-1))


def _evaluation_keys(claim: Claim) -> list[tuple[str, str]]:
    """(scheme, key) of each identifier, as a check's hit on it would name them."""
    found: list[tuple[str, str]] = []
    for item in claim.subject.identifiers:
        stored = exact_keys(item, query=False)
        if stored:
            for key in stored:
                scheme, _, value = key.partition(":")
                found.append((scheme, value))
        elif isinstance(item, EmbeddingId):
            found.append(("embedding", item.space))
        else:
            found.append((item.scheme, str(getattr(item, "value", ""))))
    return found


class ClaimQueries:
    """Pages of claims from one `ClaimStore` (its log, index and claims table)."""

    def __init__(self, store: ClaimStore) -> None:
        self.store = store
        self._withdrawn = ClaimIndex(store.index.spaces)
        self._withdrawn_seen = 0  # how many of the index's withdrawals `_withdrawn` holds
        self._withdrawn_lock = asyncio.Lock()

    async def page(self, query: ClaimQuery) -> dict[str, Any]:
        """`{"tree_size", "claims", "cursor"}`; `cursor` is None on the last page."""
        wanted = query.filter
        items = [
            _content_item(s, v) for s, v in (("url", wanted.url), ("name", wanted.name)) if v is not None
        ]
        hits: dict[str, list[Hit]] | None = None
        async with self.store.replayed() as tree_size:
            if items and wanted.status != "withdrawn":
                hits = self._matched(self.store.index, items)
            withdrawals = list(itertools.islice(self.store.index.withdrawals, self._withdrawn_seen, None))
            start = self._withdrawn_seen
        if items and wanted.status != "active":
            await self._add_withdrawn(start, withdrawals)
            async with self._withdrawn_lock:
                gone = self._matched(self._withdrawn, items)
            for claim_id, found in gone.items():
                withdrawn_at = self.store.index.withdrawals[claim_id][0]
                if withdrawn_at < tree_size:
                    hits = hits or {}
                    hits[claim_id] = found
        if items:
            rows = await self._matching_rows(query, tree_size, hits or {})
        else:
            rows = (
                await self._rows(wanted, tree_size)
                .filter(log_index__gt=query.after)
                .order_by("log_index")
                .limit(query.limit + 1)
                .values(*_COLUMNS)
            )
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        claims = await self._listed(rows, tree_size, hits)
        last = rows[-1]["log_index"] if rows else None
        return {
            "tree_size": tree_size,
            "claims": claims,
            "cursor": encode_cursor(wanted, int(last)) if more and last is not None else None,
        }

    def _rows(self, wanted: ClaimFilter, tree_size: int) -> QuerySet[ClaimRecord]:
        rows = ClaimRecord.filter(log_index__lt=tree_size)
        if wanted.claimant is not None:
            rows = rows.filter(claimant=wanted.claimant)
        if wanted.kind is not None:
            rows = rows.filter(kind=wanted.kind)
        if wanted.status == "active":
            rows = rows.filter(Q(withdrawal_log_index__isnull=True) | Q(withdrawal_log_index__gte=tree_size))
        elif wanted.status == "withdrawn":
            rows = rows.filter(withdrawal_log_index__lt=tree_size)
        return rows

    async def _matching_rows(
        self, query: ClaimQuery, tree_size: int, hits: dict[str, list[Hit]]
    ) -> list[dict[str, Any]]:
        """The rows of the matched claims after the cursor, in log order, at most one past the limit."""
        positions = []
        for claim_id in hits:
            filing = self.store.index.filing(claim_id)
            if filing is not None and query.after < filing[0] < tree_size:
                positions.append((filing[0], claim_id))
        positions.sort()
        rows: list[dict[str, Any]] = []
        for chunk in _batched(positions, _CHUNK):
            ids = [claim_id for _, claim_id in chunk]
            rows += (
                await self._rows(query.filter, tree_size)
                .filter(id__in=ids)
                .order_by("log_index")
                .values(*_COLUMNS)
            )
            if len(rows) > query.limit:
                break
        return rows

    @staticmethod
    def _matched(index: ClaimIndex, items: Sequence[UrlId | NameId]) -> dict[str, list[Hit]]:
        """Claims that every item matches, with the closest hit of each item."""
        found: dict[str, list[Hit]] | None = None
        for item in items:
            best: dict[str, Hit] = {}
            for hit in index.match(item):
                known = best.get(hit.claim.id)
                if known is None or hit.closeness() < known.closeness():
                    best[hit.claim.id] = hit
            if found is None:
                found = {claim_id: [hit] for claim_id, hit in best.items()}
            else:
                found = {
                    claim_id: [*held, best[claim_id]] for claim_id, held in found.items() if claim_id in best
                }
        return found or {}

    async def _add_withdrawn(self, start: int, withdrawals: list[str]) -> None:
        """Put the claims withdrawn since `start` into the index of withdrawn claims."""
        async with self._withdrawn_lock:
            skip = max(0, self._withdrawn_seen - start)
            for chunk in _batched(withdrawals[skip:], _CHUNK):
                at = {}
                for claim_id in chunk:
                    filing = self.store.index.filing(claim_id)
                    if filing is not None:
                        at[filing[0]] = claim_id
                for _, claim_id, claim in await self._documents(at):
                    self._withdrawn.add(claim_id, Claim.model_validate(claim))
                self._withdrawn_seen = max(self._withdrawn_seen, start + skip + len(chunk))
                skip += len(chunk)

    async def _documents(self, at: dict[int, str]) -> list[tuple[LogEntry, str, dict[str, Any]]]:
        """(log entry, id, parsed document) of the claims at these log indexes, which must hold them."""
        entries = await LogEntry.filter(index__in=list(at))
        found = []
        for entry in entries:
            claim_id = at[int(entry.index)]
            if entry.document_id != claim_id:
                from registry.integrity import IntegrityFailure

                raise IntegrityFailure(
                    f"log entry {entry.index} no longer holds claim {claim_id}", entry.index
                )
            found.append((entry, claim_id, json.loads(bytes(entry.entry))))
        if len(found) != len(at):
            from registry.integrity import IntegrityFailure

            missing = sorted(set(at) - {int(entry.index) for entry, _, _ in found})
            raise IntegrityFailure(f"log entry {missing[0]} is missing", missing[0])
        return found

    async def _listed(
        self, rows: list[dict[str, Any]], tree_size: int, hits: dict[str, list[Hit]] | None
    ) -> list[dict[str, Any]]:
        documents = {
            claim_id: (entry, document)
            for entry, claim_id, document in await self._documents(
                {int(row["log_index"]): row["id"] for row in rows}
            )
        }
        now = self.store.clock()
        listed = []
        for row in rows:
            entry, document = documents[row["id"]]
            withdrawn = row["withdrawal_log_index"] is not None and row["withdrawal_log_index"] < tree_size
            item: dict[str, Any] = {
                "id": row["id"],
                "status": "withdrawn" if withdrawn else "active",
                "log_index": int(row["log_index"]),
                "received_at": format_timestamp(entry.appended_at),
                "claimant": row["claimant"],
                "kind": row["kind"],
            }
            title = document.get("subject", {}).get("title")
            if title is not None:
                item["title"] = title
            claim = Claim.model_validate(document)
            authority = self._authority(row["id"], claim)
            item.update(self._authority_fields(authority, _evaluation_keys(claim), now))
            if hits is not None and row["id"] in hits:
                item["matches"] = [self._match(hit, authority, now) for hit in hits[row["id"]]]
            if withdrawn:
                item["withdrawal"] = {
                    "id": row["withdrawal_id"],
                    "log_index": int(row["withdrawal_log_index"]),
                }
            item["document"] = document
            listed.append(item)
        return listed

    def _authority(self, claim_id: str, claim: Claim) -> ClaimAuthority:
        """The claim's authority as the log now stands (for a withdrawn claim: what it would hold)."""
        held = self.store.index.authority_of_claim(claim_id)
        return (
            held
            if held is not None
            else self.store.index.authority.authority_of(ClaimFacts.of(claim_id, claim))
        )

    @staticmethod
    def _authority_fields(
        authority: ClaimAuthority, keys: list[tuple[str, str]], now: datetime
    ) -> dict[str, Any]:
        levels, chain = _weakest([authority.evaluate(scheme, key, at=now) for scheme, key in keys])
        fields: dict[str, Any] = {"authority": levels}
        if chain:
            fields["chain"] = chain
        if authority.notes:
            fields["authority_notes"] = list(authority.notes)
        return fields

    @staticmethod
    def _match(hit: Hit, authority: ClaimAuthority, now: datetime) -> dict[str, Any]:
        levels, chain = authority.evaluate(hit.match, hit.key, at=now)
        match: dict[str, Any] = {"match": hit.match, "key": hit.key, "authority": levels}
        if chain:
            match["chain"] = chain
        return match


_COLUMNS: Final = ("id", "log_index", "claimant", "kind", "withdrawal_id", "withdrawal_log_index")
