"""The operators' public records, recomputed from the mirrored log and compared with what the
registry serves (`GET /v1/accountability/operators[/{did}]`).

A regulator reads those records to see who is overdue and who infringes again; they are only worth
something if nobody has to trust the registry's database for them. So the audit replays the entries
it has already verified with the same pure functions the registry uses
(`registry.accountability.record`), at the tree size and the moment each answer names, and reports
every difference as a `record` discrepancy. An answer computed at a tree size other than the audited
one is not compared (the log grew meanwhile) and says so in the notes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from crawler_client.audit.http import RegistryHttp
from crawler_client.audit.report import AuditReport
from crawler_client.errors import RegistryProblem

MAX_RECORDS = 200
"""Operators whose whole record is fetched and compared, in ranking order (the ranking itself always
covers every operator)."""


def _plain(value: Any) -> Any:
    """As it reads once sent as JSON (tuples become lists, and so on)."""
    return json.loads(json.dumps(value))


def _first_difference(served: Any, expected: Any, where: str = "") -> str:
    """The JSON pointer of the first place `served` and `expected` differ ("" for the whole)."""
    if isinstance(served, dict) and isinstance(expected, dict):
        for key in sorted(served.keys() | expected.keys()):
            if served.get(key, ...) != expected.get(key, ...):
                return _first_difference(served.get(key), expected.get(key), f"{where}/{key}")
    if isinstance(served, list) and isinstance(expected, list) and len(served) == len(expected):
        for position, (one, other) in enumerate(zip(served, expected, strict=True)):
            if one != other:
                return _first_difference(one, other, f"{where}/{position}")
    return where


def _differs(served: Any, computed: Any) -> str | None:
    """None when `served` is what the log gives (`computed`), else where they first differ."""
    expected = _plain(computed)
    return None if served == expected else _first_difference(served, expected) or "/"


def compare_records(
    http: RegistryHttp, entries: Iterable[bytes], size: int, registry_did: str, report: AuditReport
) -> int:
    """Compare the ranking (both orders) and up to `MAX_RECORDS` operators' records with the log's
    `size` entries `entries`; returns how many operators' records were compared."""
    from registry.accountability.record import SORTS, operator_record, ranking, replay_log
    from registry.documents import parse_timestamp

    try:
        first = http.json("GET", "/v1/accountability/operators")
    except RegistryProblem as exc:
        if exc.status in (404, 405):
            report.notes.append("the registry serves no operator records: none compared")
            return 0
        raise
    if first.get("tree_size") != size:
        report.notes.append(
            f"operator records computed at tree size {first.get('tree_size')}, not at the checkpoint "
            f"audited ({size}), were not compared"
        )
        return 0
    replay = replay_log(entries, registry_did)
    for index, why in replay.refused:
        message = f"log entry {index} is one the registry's own rules refuse ({why})"
        report.add("record", message, index)
    at = str(first.get("computed_at", ""))
    try:
        moment = parse_timestamp(at)
    except ValueError:
        message = f"the ranking's computed_at {at!r} is not an RFC 3339 UTC time"
        report.add("record", message)
        return 0
    compared = 0
    for sort in SORTS:
        served = (
            first
            if sort == "overdue"
            else http.json("GET", "/v1/accountability/operators", params={"sort": sort, "at": at})
        )
        if served.get("tree_size") != size:
            note = f"the ranking by {sort} was computed at tree size {served.get('tree_size')}: not compared"
            report.notes.append(note)
            continue
        where = _differs(served, ranking(replay, now=moment, sort=sort))
        if where is not None:
            message = f"the ranking by {sort} differs from the log's at {where}"
            report.add("record", message)
    for row in first.get("operators", [])[:MAX_RECORDS]:
        did = str(row.get("operator", ""))
        served = http.json("GET", f"/v1/accountability/operators/{quote(did, safe=':')}", params={"at": at})
        if served.get("tree_size") != size:
            note = f"the record of {did} was computed at tree size {served.get('tree_size')}: not compared"
            report.notes.append(note)
            continue
        compared += 1
        where = _differs(served, operator_record(replay, did, now=moment))
        if where is not None:
            message = f"the record of {did} differs from the log's at {where}"
            report.add("record", message)
    return compared
