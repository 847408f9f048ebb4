"""An operator's public record, the ranked list and their CSV exports, computed from a log replay.

Pure functions of a `Replay` (the log, see `registry.accountability.replay`) and of `now`, the moment
deadlines are judged at: the registry serves them (`GET /v1/operators/{did}`,
`GET /v1/accountability/operators…`) with their `tree_size` and `computed_at`, and anyone who
replays that many entries from the log's tiles and calls the same function at that moment gets the
same answer (tests/api/test_accountability_recompute.py does so).

What a record says, and where each number comes from:

* identity — its latest `OperatorRegistration`, and the registry-signed domain verifications in
  force (`domain-verified` or `self-asserted`);
* disclosures — every `Disclosure`, current or superseded, each manifest it relies on linked to
  the registry's `ManifestRecord` for that hash (if one was submitted), and every checkpoint it
  names checked against this log's root at that size;
* notices — received, acknowledged, answered on time, answered late, overdue (deadlines as in
  `registry.notices.deadlines`, judged in log time), actioned, rejected (with the statement of
  reasons), counter-noticed, and the actions taken;
* repeat findings — `same-subject-after-action`: a notice whose subject shares an identifier with
  an earlier notice to the same operator that had been acted upon before it was filed;
  `several-upheld-for-model`: two or more upheld notices (acted upon and not restored, or upheld)
  naming the same model. `repeats` counts the first kind once each and the second once for each
  upheld notice beyond the first;
* information requests — each with its deadline and answers: `answered`, `answered-late`,
  `overdue` (no answer and the deadline passed) or `open`.

>>> replay = Replay("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
>>> ranking(replay, now=datetime(2026, 1, 1, tzinfo=UTC))["operators"]
[]
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime  # noqa: F401 - UTC is used by the doctest
from typing import Any, Final, Literal

from registry.accountability.exports import RANKING_COLUMNS, notices_csv, ranking_csv
from registry.accountability.replay import NoticeFact, Replay
from registry.documents import format_timestamp
from registry.notices.deadlines import DeadlineConfig, schedule

__all__ = [
    "RANKING_COLUMNS",
    "SORTS",
    "disclosure_entry",
    "notices_csv",
    "operator_record",
    "ranking",
    "ranking_csv",
    "replay_log",
    "request_entry",
]

Sort = Literal["overdue", "repeats"]
SORTS: Final[tuple[Sort, ...]] = ("overdue", "repeats")
DEFAULT_DEADLINES: Final = DeadlineConfig()


def _ts(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment is not None else None


def replay_log(entries: Iterable[bytes], registry: str) -> Replay:
    """A replay of `entries` (log entries from index 0, in order) for the registry `registry`."""
    replay = Replay(registry)
    for index, entry in enumerate(entries):
        replay.apply(index, entry)
    return replay


# ------------------------------------------------------------------ one operator


def operator_record(
    replay: Replay, did: str, *, now: datetime, deadlines: DeadlineConfig = DEFAULT_DEADLINES
) -> dict[str, Any]:
    """The public record of `did` at the replay's position, deadlines judged at `now`."""
    notices = [replay.notices[i] for i in replay.notices_to.get(did, [])]
    rows = [_notice_row(notice, deadlines, now) for notice in notices]
    findings = repeat_findings(notices)
    requests = [request_entry(replay, replay.requests[i], now) for i in replay.requests_to.get(did, [])]
    actions: dict[str, int] = {}
    for notice in notices:
        for action in notice.actioned.actions_taken if notice.actioned else ():
            actions[action] = actions.get(action, 0) + 1
    return {
        "operator": did,
        "tree_size": replay.position,
        "computed_at": format_timestamp(now),
        "identity": _identity(replay, did),
        "disclosures": [disclosure_entry(replay, i) for i in replay.disclosures_by.get(did, [])],
        "notices": _notice_counts(notices, rows),
        "actions_taken": dict(sorted(actions.items())),
        "rejections": _steps(notices, "reject"),
        "counter_notices": _steps(notices, "counter-notice"),
        "repeat_findings": findings,
        "repeats": _repeats(findings),
        "information_requests": requests,
        "information_requests_summary": {
            status: sum(r["status"] == status for r in requests)
            for status in ("answered", "answered-late", "overdue", "open")
        }
        | {"received": len(requests)},
        "notice_list": rows,
    }


def _identity(replay: Replay, did: str) -> dict[str, Any]:
    registration = replay.registrations.get(did)
    state = replay.authority
    verifications = state.about(did)[0]
    designation = replay.designations.get(did)
    return {
        "did": did,
        "registered": registration is not None,
        "name": registration.name if registration else None,
        "registered_at": _ts(registration.first_at) if registration else None,
        "registration": {"id": registration.id, "log_index": registration.index} if registration else None,
        "authority": "domain-verified" if verifications else "self-asserted",
        "verified_hosts": state.verified_hosts(did),
        "verifications": [
            {
                "id": v.id,
                "log_index": v.log_index,
                "host": v.doc.host,
                "scope": v.doc.scope,
                "method": v.doc.method,
                "checked_at": v.doc.checked_at,
            }
            for v in verifications
        ],
        "controller": state.controller(did),
        "designated_authority": replay.is_authority(did),
        "designation": None
        if designation is None
        else {
            "id": designation.id,
            "log_index": designation.index,
            "name": designation.name,
            "host": designation.host,
            "status": designation.status,
        },
    }


def _in_log(replay: Replay, checkpoint: Mapping[str, Any] | None) -> bool | None:
    """Whether (tree_size, root_hash) is a checkpoint of this log (None: no checkpoint named)."""
    if not checkpoint:
        return None
    try:
        root = base64.b64decode(str(checkpoint.get("root_hash")), validate=True)
    except (binascii.Error, ValueError):
        return False
    return replay.root(int(checkpoint.get("tree_size", -1))) == root


def disclosure_entry(replay: Replay, disclosure_id: str) -> dict[str, Any]:
    fact = replay.disclosures[disclosure_id]
    document = fact.document
    training = document.get("training_data", {})
    manifests = []
    for ref in training.get("manifests", []):
        recorded = replay.manifests.get(ref["id"])
        record = None
        if recorded is not None:
            record_id, index, at, body = recorded
            record = {
                "id": record_id,
                "log_index": index,
                "recorded_at": format_timestamp(at),
                "signer": body["signer"],
                "purpose": body["purpose"],
                "min_authority": body.get("min_authority"),
                "snapshot": body["snapshot"],
                "rows": body["rows"],
                "removed_rows_checked": body["removed_rows_checked"],
            }
        stated = ref["snapshot"]
        manifests.append(
            {
                "sha256": ref["id"],
                "snapshot": stated,
                "snapshot_in_log": _in_log(replay, stated),
                "submitted": record is not None,
                "record": record,
                "same_snapshot": None
                if record is None
                else (record["snapshot"]["tree_size"], record["snapshot"]["root_hash"])
                == (stated["tree_size"], stated["root_hash"]),
            }
        )
    safeguards = []
    for safeguard in document.get("safeguards", []):
        against = safeguard.get("against")
        in_log = None
        if against and against.get("registry") == replay.registry:
            in_log = _in_log(replay, against.get("checkpoint"))
        safeguards.append({**safeguard, "checkpoint_in_log": in_log})
    code = document.get("principle_code", {})
    return {
        "id": fact.id,
        "log_index": fact.index,
        "filed_at": format_timestamp(fact.at),
        "subject": document.get("subject"),
        "current": fact.superseded_by is None,
        "supersedes": fact.supersedes,
        "superseded_by": fact.superseded_by,
        "principle_code": {
            "comply": sorted(item for item, answer in code.items() if answer.get("answer") == "comply"),
            "explain": [
                {"item": item, "explanation": answer.get("explanation")}
                for item, answer in sorted(code.items())
                if answer.get("answer") == "explain"
            ],
        },
        "signals_honoured": training.get("signals_honoured", []),
        "datasets": training.get("datasets", []),
        "manifests": manifests,
        "safeguards": safeguards,
        "contact": document.get("contact"),
        "document": document,
    }


def _notice_row(notice: NoticeFact, config: DeadlineConfig, now: datetime) -> dict[str, Any]:
    plan = schedule(
        config,
        notice.regimes,
        notice.state,
        filed_at=notice.at,
        counter_noticed_at=notice.counter_noticed_at,
        now=now,
    )
    late = []
    if notice.acknowledged_at and plan.acknowledge_by and notice.acknowledged_at > plan.acknowledge_by:
        late.append("acknowledge")
    if notice.decided_at and plan.decide_by and notice.decided_at > plan.decide_by:
        late.append("decide")
    if notice.restored_at and plan.restore_by and notice.restored_at > plan.restore_by:
        late.append("restore")
    if plan.overdue:
        timeliness = "overdue"
    elif late:
        timeliness = "late"
    else:
        timeliness = "on-time" if notice.acknowledged_at else "pending"
    return {
        "notice": notice.id,
        "log_index": notice.index,
        "notifier": notice.notifier,
        "filed_at": format_timestamp(notice.at),
        "regimes": list(notice.regimes),
        "models": list(notice.models),
        "state": notice.state,
        "acknowledge_by": _ts(plan.acknowledge_by),
        "decide_by": _ts(plan.decide_by),
        "acknowledged_at": _ts(notice.acknowledged_at),
        "decided_at": _ts(notice.decided_at),
        "timeliness": timeliness,
        "late": late,
        "overdue": list(plan.overdue),
        "actions_taken": list(notice.actioned.actions_taken) if notice.actioned else [],
        "upheld": notice.upheld,
    }


def _notice_counts(notices: Sequence[NoticeFact], rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    def steps(action: str) -> int:
        return sum(any(step.action == action for step in notice.steps) for notice in notices)

    return {
        "received": len(notices),
        "acknowledged": sum(notice.acknowledged_at is not None for notice in notices),
        "answered_on_time": sum(row["timeliness"] == "on-time" for row in rows),
        "answered_late": sum(row["timeliness"] == "late" for row in rows),
        "overdue": sum(row["timeliness"] == "overdue" for row in rows),
        "pending": sum(row["timeliness"] == "pending" for row in rows),
        "actioned": steps("action"),
        "rejected": steps("reject"),
        "counter_noticed": steps("counter-notice"),
        "restored": steps("restore"),
        "upheld": sum(notice.upheld for notice in notices),
    }


def _steps(notices: Sequence[NoticeFact], action: str) -> list[dict[str, Any]]:
    """Every `action` step (rejections, counter-notices) with its statement (of reasons)."""
    return [
        {
            "notice": notice.id,
            "response": step.id,
            "log_index": step.index,
            "at": format_timestamp(step.at),
            "by": step.by,
            "statement": step.statement,
        }
        for notice in notices
        for step in notice.steps
        if step.action == action
    ]


def repeat_findings(notices: Sequence[NoticeFact]) -> list[dict[str, Any]]:
    """The repeat findings among one operator's notices (in log order); see the module docstring."""
    events = sorted(
        [(notice.index, 1, notice) for notice in notices]
        + [(notice.actioned.index, 0, notice) for notice in notices if notice.actioned is not None]
    )
    actioned: dict[str, NoticeFact] = {}  # subject key -> the first notice acted upon that names it
    findings: list[dict[str, Any]] = []
    for _, is_notice, notice in events:
        if not is_notice:
            for key in sorted(notice.keys):
                actioned.setdefault(key, notice)
            continue
        earlier = sorted(
            {actioned[key].index: actioned[key] for key in notice.keys if key in actioned}.items()
        )
        if earlier:
            first = earlier[0][1]
            assert first.actioned is not None
            findings.append(
                {
                    "kind": "same-subject-after-action",
                    "notice": notice.id,
                    "log_index": notice.index,
                    "earlier": first.id,
                    "earlier_actioned_at": format_timestamp(first.actioned.at),
                    "shared": sorted(notice.keys & first.keys),
                }
            )
    by_model: dict[str, list[NoticeFact]] = {}
    for notice in notices:
        if notice.upheld:
            for model in notice.models:
                by_model.setdefault(model, []).append(notice)
    for model, upheld in sorted(by_model.items()):
        if len(upheld) >= 2:
            findings.append(
                {
                    "kind": "several-upheld-for-model",
                    "model": model,
                    "notices": [notice.id for notice in upheld],
                    "log_index": upheld[-1].index,
                }
            )
    return findings


def _repeats(findings: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 if f["kind"] == "same-subject-after-action" else len(f["notices"]) - 1 for f in findings)


def request_entry(replay: Replay, request: Any, now: datetime) -> dict[str, Any]:
    document = request.document
    first = request.answers[0] if request.answers else None
    if first is not None:
        status = "answered" if first.at <= request.deadline else "answered-late"
    else:
        status = "overdue" if now > request.deadline else "open"
    designation = replay.designations.get(request.authority)
    return {
        "id": request.id,
        "log_index": request.index,
        "authority": request.authority,
        "authority_name": designation.name if designation else None,
        "filed_at": format_timestamp(request.at),
        "deadline": format_timestamp(request.deadline),
        "topics": document["topics"],
        "questions": document["questions"],
        "subjects": document.get("subjects", []),
        "legal_basis": document.get("legal_basis"),
        "reference": document.get("reference"),
        "status": status,
        "answers": [
            {
                "id": answer.id,
                "log_index": answer.index,
                "answered_at": format_timestamp(answer.at),
                "statement": answer.document["statement"],
                "answers": answer.document.get("answers", []),
                "disclosures": answer.document.get("disclosures", []),
            }
            for answer in request.answers
        ],
    }


# ------------------------------------------------------------------ every operator, ranked


def ranking(
    replay: Replay,
    *,
    now: datetime,
    sort: Sort = "overdue",
    deadlines: DeadlineConfig = DEFAULT_DEADLINES,
) -> dict[str, Any]:
    """Every operator the log speaks of, most overdue first (`sort="overdue"`: overdue notices, then
    overdue information requests, then repeats) or most repeats first (`"repeats"`), ties by DID."""
    rows = []
    for did in replay.operators():
        record = operator_record(replay, did, now=now, deadlines=deadlines)
        identity, counts, requests = (
            record["identity"],
            record["notices"],
            record["information_requests_summary"],
        )
        rows.append(
            {
                "operator": did,
                "name": identity["name"],
                "registered": identity["registered"],
                "authority": identity["authority"],
                "notices_received": counts["received"],
                "overdue": counts["overdue"],
                "answered_on_time": counts["answered_on_time"],
                "answered_late": counts["answered_late"],
                "actioned": counts["actioned"],
                "rejected": counts["rejected"],
                "counter_noticed": counts["counter_noticed"],
                "repeats": record["repeats"],
                "information_requests": requests["received"],
                "information_requests_overdue": requests["overdue"],
                "information_requests_answered_late": requests["answered-late"],
                "current_disclosures": sum(d["current"] for d in record["disclosures"]),
            }
        )

    def key(row: Mapping[str, Any]) -> tuple[Any, ...]:
        overdue = (-row["overdue"], -row["information_requests_overdue"])
        repeats = (-row["repeats"],)
        first = overdue + repeats if sort == "overdue" else repeats + overdue
        return (*first, -row["notices_received"], row["operator"])

    ordered = sorted(rows, key=key)
    return {
        "tree_size": replay.position,
        "computed_at": format_timestamp(now),
        "sort": sort,
        "operators": [{"rank": rank, **row} for rank, row in enumerate(ordered, start=1)],
    }
