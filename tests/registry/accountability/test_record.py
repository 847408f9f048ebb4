"""The public record as a pure function of log entries: replay, timeliness in log time, repeat
findings, supersession, authorities and requests, manifests and checkpoints, the ranking and CSV."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import keys
from registry.accountability.documents import new_disclosure, new_information_answer, new_information_request
from registry.accountability.record import notices_csv, operator_record, ranking, ranking_csv, replay_log
from registry.accountability.replay import Replay
from registry.accountability.vocabulary import PRINCIPLE_ITEMS
from registry.documents import format_timestamp, unsigned_document
from registry.entry_check import EntryRefused, check_entry_signature
from registry.notices.documents import new_notice, new_registration, new_response

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # a Monday


class Log:
    """Signed documents as log entries, in order, and their replay."""

    def __init__(self) -> None:
        self.registry = keys.SigningKey.generate()
        self.entries: list[bytes] = []

    def add(self, document: dict[str, Any], key: keys.SigningKey, at: datetime) -> str:
        signed = keys.sign_document(document, key, created=at)
        self.entries.append(keys.canonicalize(signed))
        return keys.document_id(signed)

    def by_registry(self, fields: dict[str, Any], at: datetime) -> str:
        return self.add(
            unsigned_document({**fields, "registry": self.registry.did}, created=at), self.registry, at
        )

    def replay(self) -> Replay:
        return replay_log(self.entries, self.registry.did)

    # the documents
    def register(self, key: keys.SigningKey, at: datetime, name: str = "Acme AI") -> str:
        return self.add(new_registration(key.did, name, "legal@acme.example", created=at), key, at)

    def notice(self, notifier: keys.SigningKey, operator: str, at: datetime, url: str, model: str) -> str:
        document = new_notice(
            notifier.did,
            operator,
            kind="work",
            identifiers=[("url", url)],
            locations=[("model", model)],
            actions=["stop-generation"],
            regimes=["dsa"],
            grounds="copied",
            statements={"good-faith": "yes"},
            created=at,
        )
        return self.add(document, notifier, at)

    def step(self, key: keys.SigningKey, notice: str, action: str, at: datetime, **options: Any) -> str:
        if action in ("reject", "counter-notice", "uphold"):
            options.setdefault("statement", f"why {action}")
        if action == "action":
            options.setdefault("actions_taken", ["stop-generation"])
        return self.add(new_response(key.did, notice, action, created=at, **options), key, at)

    def verify(self, did: str, host: str, at: datetime) -> str:
        fields = {
            "type": "DomainVerification",
            "subject": did,
            "host": host,
            "scope": "domain",
            "method": "well-known",
            "url": f"https://{host}/.well-known/kotowari-did",
            "sha256": "0" * 64,
            "checked_at": format_timestamp(at),
        }
        return self.by_registry(fields, at)

    def designate(self, did: str, at: datetime, status: str = "designated") -> str:
        fields = {
            "type": "AuthorityDesignation",
            "subject": did,
            "name": "Regulator",
            "host": "regulator.example",
            "status": status,
        }
        return self.by_registry(fields, at)


def disclosure(key: keys.SigningKey, at: datetime, model: str = "acme/p", **training: Any) -> dict[str, Any]:
    return new_disclosure(
        key.did,
        "model",
        model,
        training_data={"signals_honoured": ["robots.txt"], **training},
        contact={"url": "https://acme.example/ai"},
        principle_code={item: {"answer": "comply"} for item in PRINCIPLE_ITEMS},
        created=at,
    )


@pytest.fixture
def log() -> Log:
    return Log()


def test_log_time_keeps_a_backdated_answer_from_counting_as_on_time(log: Log) -> None:
    acme, aoi, other = (keys.SigningKey.generate() for _ in range(3))
    log.register(acme, T0)
    on_time = log.notice(aoi, acme.did, T0, "https://aoi.example/a/", "acme/p")
    late = log.notice(aoi, acme.did, T0, "https://aoi.example/b/", "acme/p")
    log.step(acme, on_time, "acknowledge", T0 + timedelta(hours=2))
    log.register(other, T0 + timedelta(days=2), "Other")  # the log has moved on two days
    log.step(acme, late, "acknowledge", T0 + timedelta(hours=3))  # signed as if two days earlier
    rows = {
        row["notice"]: row
        for row in operator_record(log.replay(), acme.did, now=T0 + timedelta(days=2))["notice_list"]
    }
    assert (
        rows[on_time]["acknowledged_at"] == "2026-05-04T11:00:00Z"
        and rows[on_time]["timeliness"] == "on-time"
    )
    assert rows[late]["acknowledged_at"] == "2026-05-06T09:00:00Z"  # log time, not its signed time
    assert (rows[late]["timeliness"], rows[late]["late"]) == ("late", ["acknowledge"])


def test_timeliness_is_judged_at_now(log: Log) -> None:
    acme, aoi = keys.SigningKey.generate(), keys.SigningKey.generate()
    log.register(acme, T0)
    decided = log.notice(aoi, acme.did, T0, "https://aoi.example/a/", "acme/p")
    waiting = log.notice(aoi, acme.did, T0, "https://aoi.example/b/", "acme/p")
    log.step(acme, decided, "acknowledge", T0 + timedelta(hours=1))
    log.step(acme, decided, "reject", T0 + timedelta(hours=2), statement="a parody, not a copy")
    replay = log.replay()
    early = operator_record(replay, acme.did, now=T0 + timedelta(hours=3))
    assert [r["timeliness"] for r in early["notice_list"]] == ["on-time", "pending"]
    later = operator_record(replay, acme.did, now=T0 + timedelta(days=8))
    assert [r["timeliness"] for r in later["notice_list"]] == ["on-time", "overdue"]
    assert later["notice_list"][1]["overdue"] == ["acknowledge", "decide"]
    assert later["notices"] | {} == {
        "received": 2,
        "acknowledged": 1,
        "answered_on_time": 1,
        "answered_late": 0,
        "overdue": 1,
        "pending": 0,
        "actioned": 0,
        "rejected": 1,
        "counter_noticed": 0,
        "restored": 0,
        "upheld": 0,
    }
    (rejection,) = later["rejections"]
    assert (rejection["notice"], rejection["statement"]) == (decided, "a parody, not a copy")
    assert waiting == later["notice_list"][1]["notice"]


def test_repeat_findings(log: Log) -> None:
    acme, aoi, ken = (keys.SigningKey.generate() for _ in range(3))
    log.register(acme, T0)
    t = T0
    first = log.notice(aoi, acme.did, t, "https://aoi.example/art/", "acme/p")
    before_action = log.notice(ken, acme.did, t, "https://aoi.example/art/", "acme/q")
    log.step(acme, first, "acknowledge", t)
    log.step(acme, first, "action", t)
    again = log.notice(ken, acme.did, t, "https://aoi.example/art/", "acme/q")  # the same subject, after
    unrelated = log.notice(aoi, acme.did, t, "https://aoi.example/other/", "acme/p")
    for notice in (unrelated, again):
        log.step(acme, notice, "acknowledge", t)
        log.step(acme, notice, "action", t)
    restored = log.notice(aoi, acme.did, t, "https://aoi.example/third/", "acme/p")
    log.step(acme, restored, "acknowledge", t)
    log.step(acme, restored, "action", t)
    log.step(acme, restored, "counter-notice", t)
    log.step(acme, restored, "restore", t + timedelta(days=30))
    record = operator_record(log.replay(), acme.did, now=t + timedelta(days=31))
    same, model = record["repeat_findings"]
    assert (same["kind"], same["notice"], same["earlier"]) == ("same-subject-after-action", again, first)
    assert same["shared"] == ["url:aoi.example/art/"]
    assert before_action not in {f.get("notice") for f in record["repeat_findings"]}
    # several upheld notices for one model: the restored one is not upheld
    assert (model["kind"], model["model"], model["notices"]) == (
        "several-upheld-for-model",
        "acme/p",
        [first, unrelated],
    )
    assert record["repeats"] == 2
    assert record["actions_taken"] == {"stop-generation": 4}
    assert record["notices"]["upheld"] == 3 and record["notices"]["restored"] == 1
    assert [c["notice"] for c in record["counter_notices"]] == [restored]


def test_later_disclosures_supersede_and_unregistered_ones_change_nothing(log: Log) -> None:
    acme, mallory = keys.SigningKey.generate(), keys.SigningKey.generate()
    log.add(disclosure(mallory, T0), mallory, T0)  # never registered: refused on replay
    log.register(acme, T0)
    first = log.add(disclosure(acme, T0), acme, T0)
    other = log.add(disclosure(acme, T0, "acme/q"), acme, T0)
    second = log.add(disclosure(acme, T0 + timedelta(days=1)), acme, T0 + timedelta(days=1))
    replay = log.replay()
    assert replay.refused[0][0] == 0 and "has not registered" in replay.refused[0][1]
    assert mallory.did not in replay.operators()
    record = operator_record(replay, acme.did, now=T0 + timedelta(days=1))
    assert [(d["id"], d["current"], d["supersedes"], d["superseded_by"]) for d in record["disclosures"]] == [
        (first, False, None, second),
        (other, True, None, None),
        (second, True, first, None),
    ]


def test_requests_count_only_from_designated_verified_authorities(log: Log) -> None:
    acme, regulator, pretender = (keys.SigningKey.generate() for _ in range(3))
    log.register(acme, T0)

    def request(key: keys.SigningKey, days: int) -> str:
        document = new_information_request(
            key.did,
            acme.did,
            topics=["safeguards"],
            questions=["which checks?"],
            deadline=T0 + timedelta(days=days),
            created=T0,
        )
        return log.add(document, key, T0)

    log.designate(regulator.did, T0)  # not verified yet: refused on replay
    request(regulator, 7)
    log.verify(regulator.did, "regulator.example", T0)
    log.designate(regulator.did, T0)
    answered = request(regulator, 7)
    late = request(regulator, 1)
    overdue = request(regulator, 3)
    request(pretender, 7)
    log.add(new_information_answer(pretender.did, answered, "not mine to answer", created=T0), pretender, T0)
    hour, days = T0 + timedelta(hours=1), T0 + timedelta(days=2)
    log.add(new_information_answer(acme.did, answered, "we check", created=hour), acme, hour)
    log.add(new_information_answer(acme.did, late, "sorry", created=days), acme, days)
    log.designate(regulator.did, T0 + timedelta(days=2), status="revoked")
    request(regulator, 7)
    replay = log.replay()
    reasons = [why for _, why in replay.refused]
    assert sum("not a designated, domain-verified authority" in why for why in reasons) == 3
    assert any("cannot be designated" in why for why in reasons)
    assert any("is not the operator the request was sent to" in why for why in reasons)
    record = operator_record(replay, acme.did, now=T0 + timedelta(days=4))
    assert [(r["id"], r["status"]) for r in record["information_requests"]] == [
        (answered, "answered"),
        (late, "answered-late"),
        (overdue, "overdue"),
    ]
    assert record["information_requests"][0]["answers"][0]["statement"] == "we check"


def test_manifests_and_checkpoints_are_checked_against_the_log(log: Log) -> None:
    acme = keys.SigningKey.generate()
    log.register(acme, T0)
    log.register(keys.SigningKey.generate(), T0, "Other")
    root = base64.b64encode(Replay(log.registry.did).root(0) or b"").decode()
    replay = log.replay()
    real = {"tree_size": 2, "root_hash": base64.b64encode(replay.root(2) or b"").decode()}
    fake = {"tree_size": 2, "root_hash": base64.b64encode(b"\x09" * 32).decode()}
    fields = {
        "type": "ManifestRecord",
        "manifest": "ab" * 32,
        "signer": acme.did,
        "purpose": "train-ai",
        "decided_at": format_timestamp(T0),
        "dataset": {"input": "01" * 32, "output": "02" * 32},
        "rows": {"total": 3, "kept": 2, "removed": 1},
        "snapshot": {"origin": "o", **real},
        "removed_rows_checked": True,
    }
    log.by_registry(fields, T0)
    log.add(unsigned_document({**fields, "registry": acme.did}, created=T0), acme, T0)  # not the registry's
    against = {"registry": log.registry.did, "mode": "snapshot", "checkpoint": fake}
    training = {"manifests": [{"id": "ab" * 32, "snapshot": real}, {"id": "cd" * 32, "snapshot": fake}]}
    document = disclosure(acme, T0, **training)
    document["safeguards"] = [{"stage": "prompt", "schemes": ["name"], "against": against}]
    log.add(document, acme, T0)
    replay = log.replay()
    assert any("not signed by this registry" in why for _, why in replay.refused)
    (shown,) = operator_record(replay, acme.did, now=T0)["disclosures"]
    backed, unbacked = shown["manifests"]
    assert (backed["submitted"], backed["snapshot_in_log"], backed["same_snapshot"]) == (True, True, True)
    assert (unbacked["submitted"], unbacked["snapshot_in_log"]) == (False, False)
    assert shown["safeguards"][0]["checkpoint_in_log"] is False
    assert root == base64.b64encode(replay.root(0) or b"").decode()


def test_the_ranking_orders_by_overdue_or_by_repeats_and_exports_csv(log: Log) -> None:
    slow, repeat, quiet, aoi = (keys.SigningKey.generate() for _ in range(4))
    log.register(slow, T0, "Slow AI")
    log.register(repeat, T0, "=cmd|' /C calc'!A0")
    log.register(quiet, T0, "Quiet AI")
    for n in range(2):
        log.notice(aoi, slow.did, T0, f"https://aoi.example/{n}/", "slow/m")
    for _ in range(3):
        notice = log.notice(aoi, repeat.did, T0, "https://aoi.example/same/", "rep/m")
        log.step(repeat, notice, "acknowledge", T0)
        log.step(repeat, notice, "action", T0)
    unregistered = keys.SigningKey.generate().did
    log.notice(aoi, unregistered, T0, "https://aoi.example/x/", "x/m")
    replay = log.replay()
    now = T0 + timedelta(days=10)
    by_overdue = ranking(replay, now=now)
    assert [row["operator"] for row in by_overdue["operators"]][:2] == [slow.did, unregistered]
    by_repeats = ranking(replay, now=now, sort="repeats")
    top = by_repeats["operators"][0]
    assert (top["operator"], top["repeats"], top["rank"]) == (repeat.did, 4, 1)  # 2 same-subject + (3 - 1)
    assert by_repeats["operators"][-1]["operator"] in (quiet.did, unregistered)
    rows = list(csv.DictReader(io.StringIO(ranking_csv(by_repeats))))
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0" and rows[0]["registered"] == "true"
    assert [int(row["rank"]) for row in rows] == [1, 2, 3, 4]
    notices = list(csv.DictReader(io.StringIO(notices_csv(operator_record(replay, slow.did, now=now)))))
    assert [row["timeliness"] for row in notices] == ["overdue", "overdue"]
    assert notices[0]["overdue"] == "acknowledge;decide" and notices[0]["regimes"] == "dsa"


def test_entry_check_verifies_every_accountability_type_and_the_registry_signs_its_own(log: Log) -> None:
    acme, regulator = keys.SigningKey.generate(), keys.SigningKey.generate()
    log.register(acme, T0)
    log.add(disclosure(acme, T0), acme, T0)
    log.verify(regulator.did, "regulator.example", T0)
    log.designate(regulator.did, T0)
    did_documents: dict[str, bytes] = {}
    kinds = [
        check_entry_signature(i, e, did_documents, log.registry.did).kind for i, e in enumerate(log.entries)
    ]
    assert kinds == ["OperatorRegistration", "Disclosure", "DomainVerification", "AuthorityDesignation"]
    fields = {
        "type": "AuthorityDesignation",
        "subject": acme.did,
        "name": "Me",
        "host": "acme.example",
        "status": "designated",
        "registry": acme.did,
    }
    forged = keys.canonicalize(keys.sign_document(unsigned_document(fields, created=T0), acme, created=T0))
    with pytest.raises(EntryRefused, match="signed by the registry"):
        check_entry_signature(9, forged, did_documents, log.registry.did)
