"""Takedown notices over HTTP, on SQLite and PostgreSQL: every lifecycle path with a fake clock,
webhooks delivered to a receiver on 127.0.0.1 and their RFC 9421 signatures verified, failing
endpoints retried without blocking filing, every refusal as problem+json."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from api import Settings, create_app
from api.state import RegistryState
from registry.notices.exports import DSA_SOR_FIELDS, DSA_SOR_REQUIRED, LUMEN_NOTICE_FIELDS
from registry.notices.webhooks import verify_request
from tests.authority_helpers import lapse, verify_domain
from tests.conftest import Clock
from tests.factories import body, signed_claim
from tests.notice_factories import complete_notice, dispute, registration, response

PROBLEM = "https://kotowari.dev/problems/"


# ------------------------------------------------------------------ a webhook receiver on 127.0.0.1


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A real HTTP server on a loopback port; `script` says how to answer each POST in turn
    (an int status, "timeout" to answer too late, "redirect"); afterwards it answers 204."""

    def __init__(self, script: list[int | str] | None = None) -> None:
        self.script = list(script or [])
        self.received: list[Received] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length)
                outer.received.append(Received(self.path, dict(self.headers.items()), data))
                how = outer.script.pop(0) if outer.script else 204
                try:
                    if how == "timeout":
                        time.sleep(0.6)
                        how = 204
                    if how == "redirect":
                        self.send_response(302)
                        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    else:
                        self.send_response(int(how))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the registry gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kotowari"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------ the registry


@dataclass
class Registry:
    http: httpx.AsyncClient
    state: RegistryState
    clock: Clock

    async def drain(self) -> None:
        assert self.state.webhooks is not None
        await self.state.webhooks.drain()

    async def post(self, path: str, document: Any) -> httpx.Response:
        return await self.http.post(path, content=body(document))


@pytest.fixture
async def registry(db_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[Registry]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    settings = Settings(
        data_dir=tmp_path / "data",
        db_url=db_url,
        max_body_bytes=256 * 1024,
        webhook_allow_private=True,
        webhook_timeout=0.3,
        webhook_attempts=4,
        webhook_backoff=0.01,
        reminder_interval=0,
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield Registry(client, app.state.registry, clock)


async def _register(
    registry: Registry, operator: keys.SigningKey, webhook: str | None = None
) -> dict[str, Any]:
    answer = await registry.post("/v1/operators", registration(operator, registry.clock(), webhook=webhook))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def _file(registry: Registry, notifier: keys.SigningKey, operator: str, **options: Any) -> str:
    answer = await registry.post(
        "/v1/notices", complete_notice(notifier, operator, registry.clock(), **options)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _step(
    registry: Registry, key: keys.SigningKey, notice_id: str, action: str, **options: Any
) -> httpx.Response:
    return await registry.post(
        f"/v1/notices/{notice_id}/responses", response(key, notice_id, action, registry.clock(), **options)
    )


async def _walk(registry: Registry, notice_id: str, *steps: tuple[keys.SigningKey, str]) -> None:
    for key, action in steps:
        registry.clock.advance(hours=1)
        answer = await _step(registry, key, notice_id, action)
        assert answer.status_code == 201, answer.text


async def _notice(registry: Registry, notice_id: str) -> dict[str, Any]:
    answer = await registry.http.get(f"/v1/notices/{notice_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _problem(answer: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["type"] == PROBLEM + slug, problem
    return dict(problem)


# ------------------------------------------------------------------ paths through the lifecycle


async def test_notice_delivered_by_signed_webhook_then_actioned_and_closed(
    registry: Registry, receiver: Receiver, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    await _register(registry, operator, receiver.url)
    filed = await registry.post("/v1/notices", complete_notice(notifier, operator.did, registry.clock()))
    assert filed.status_code == 201
    receipt = filed.json()
    assert filed.headers["location"] == f"/v1/notices/{receipt['id']}"
    assert receipt["operator_registered"] is True and receipt["log"]["index"] >= 1
    await registry.drain()

    assert len(receiver.received) == 1
    delivery = receiver.received[0]
    info = (await registry.http.get("/v1/registry")).json()
    verified = verify_request(
        "POST",
        receiver.url,
        delivery.headers,
        delivery.body,
        keys.resolve_did_key(info["did"]),
        now=registry.clock(),
    )
    assert verified.params["alg"] == "ed25519" and verified.params["tag"] == "kotowari-notice"
    payload = json.loads(delivery.body)
    assert payload["type"] == "NoticeDelivery" and payload["notice"]["id"] == receipt["id"]
    keys.verify_document(payload["notice"]["document"], key=keys.resolve_did_key(notifier.did))

    notice = await _notice(registry, receipt["id"])
    assert notice["state"] == "delivered"
    assert [(e["action"], e["party"]) for e in notice["events"]] == [("deliver", "registry")]
    assert notice["webhook_attempts"][0]["outcome"] == "delivered"

    await _walk(registry, receipt["id"], (operator, "acknowledge"), (operator, "action"), (notifier, "close"))
    notice = await _notice(registry, receipt["id"])
    assert notice["state"] == "closed"
    assert [e["to"] for e in notice["events"]] == ["delivered", "acknowledged", "actioned", "closed"]
    assert notice["overdue"] == []
    for event in notice["events"]:
        keys.verify_document(event["document"])

    sor = (await registry.http.get(f"/v1/notices/{receipt['id']}/export/dsa-sor")).json()
    assert DSA_SOR_REQUIRED <= set(sor) <= DSA_SOR_FIELDS
    lumen = (await registry.http.get(f"/v1/notices/{receipt['id']}/export/lumen")).json()
    assert set(lumen["notice"]) <= LUMEN_NOTICE_FIELDS and lumen["notice"]["action_taken"] == "Yes"
    recipient = next(r for r in lumen["notice"]["entity_notice_roles_attributes"] if r["name"] == "recipient")
    assert recipient["entity_attributes"]["name"] == "Acme AI"


async def test_rejected_with_a_statement_of_reasons(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    await _register(registry, operator)
    notice_id = await _file(registry, notifier, operator.did)
    await _walk(registry, notice_id, (operator, "acknowledge"), (operator, "reject"))
    notice = await _notice(registry, notice_id)
    assert notice["state"] == "rejected"
    assert notice["events"][-1]["document"]["statement"] == "statement for reject"
    _problem(await registry.http.get(f"/v1/notices/{notice_id}/export/dsa-sor"), 409, "illegal-transition")
    lumen = (await registry.http.get(f"/v1/notices/{notice_id}/export/lumen")).json()
    assert lumen["notice"]["action_taken"] == "No"
    _problem(await registry.http.get(f"/v1/notices/{notice_id}/export/pdf"), 404, "not-found")


async def test_counter_noticed_and_restored_within_the_dmca_window(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    await _register(registry, operator)
    notice_id = await _file(registry, notifier, operator.did, regimes=("dmca",))
    await _walk(
        registry, notice_id, (operator, "acknowledge"), (operator, "action"), (operator, "counter-notice")
    )
    notice = await _notice(registry, notice_id)
    assert notice["state"] == "counter-noticed"
    assert notice["deadlines"]["restore_not_before"] and notice["deadlines"]["restore_by"]
    registry.clock.advance(days=30)
    assert (await _notice(registry, notice_id))["overdue"] == ["restore-or-uphold"]
    await _walk(registry, notice_id, (operator, "restore"), (operator, "close"))
    notice = await _notice(registry, notice_id)
    assert [e["to"] for e in notice["events"]] == [
        "acknowledged",
        "actioned",
        "counter-noticed",
        "restored",
        "closed",
    ]
    assert notice["overdue"] == []
    _problem(await registry.http.get(f"/v1/notices/{notice_id}/export/dsa-sor"), 409, "illegal-transition")


async def test_counter_notice_upheld_by_the_notifier_reporting_legal_action(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    notice_id = await _file(registry, notifier, operator.did, regimes=("dmca",))
    await _walk(registry, notice_id, (operator, "acknowledge"), (operator, "counter-notice"))
    answer = await _step(registry, notifier, notice_id, "uphold", legal_action=True, statement="Suit filed.")
    assert answer.status_code == 201 and answer.json()["state"] == "upheld"


async def test_overdue_notices_are_flagged_and_reminded(
    registry: Registry, receiver: Receiver, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    await _register(registry, operator, receiver.url)
    notice_id = await _file(registry, notifier, operator.did, regimes=("dsa",))
    await registry.drain()
    assert (await _notice(registry, notice_id))["overdue"] == []
    registry.clock.advance(days=8)
    assert (await _notice(registry, notice_id))["overdue"] == ["acknowledge", "decide"]
    assert registry.state.notices is not None
    assert await registry.state.notices.remind_overdue() == [notice_id]
    assert await registry.state.notices.remind_overdue() == []  # once a day at most
    await registry.drain()
    reminder = json.loads(receiver.received[-1].body)
    assert reminder["type"] == "NoticeReminder" and reminder["notice"]["overdue"] == ["acknowledge", "decide"]
    notice = await _notice(registry, notice_id)
    assert notice["events"][-1]["action"] == "remind" and notice["state"] == "delivered"
    stats = (await registry.http.get("/v1/stats/operators")).json()["operators"]
    assert [(row["operator"], row["overdue"]) for row in stats] == [(operator.did, 1)]
    await _walk(registry, notice_id, (operator, "acknowledge"), (operator, "action"))
    assert (await _notice(registry, notice_id))["overdue"] == []


# ------------------------------------------------------------------ refusals


async def test_missing_regime_elements_are_all_listed_in_one_422(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    document = complete_notice(
        notifier, operator.did, registry.clock(), regimes=("dmca", "dsa", "jp-platform"),
        statements={"accuracy": "accurate"}, contact={"name": "Aoi"}, jp_platform={"reason": "無断学習"},
    )  # fmt: skip
    problem = _problem(await registry.post("/v1/notices", document), 422, "invalid-document")
    listed = {(error["pointer"], error["detail"].split(":")[0]) for error in problem["errors"]}
    assert listed == {
        ("/contact/address", "dmca"),
        ("/statements/good-faith", "dmca"),
        ("/statements/authority-under-penalty-of-perjury", "dmca"),
        ("/contact/email", "dsa"),
        ("/statements/good-faith", "dsa"),
        ("/contact/email", "jp-platform"),
        ("/jp_platform/infringed_right", "jp-platform"),
    }
    assert "7 element(s)" in problem["detail"]


async def test_bad_notice_bodies_are_refused_without_a_500(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey, mallory: keys.SigningKey
) -> None:
    _problem(
        await registry.http.post("/v1/notices", content=b'{"type": "Notice", "type": 1}'),
        400,
        "malformed-json",
    )
    _problem(await registry.post("/v1/notices", {"type": "Claim"}), 422, "invalid-document")
    _problem(await registry.post("/v1/notices", [1, 2]), 422, "invalid-document")
    forged = complete_notice(mallory, operator.did, registry.clock())
    forged["document"]["notifier"] = notifier.did
    _problem(await registry.post("/v1/notices", forged), 422, "wrong-signer")
    tampered = complete_notice(notifier, operator.did, registry.clock())
    tampered["document"]["grounds"] = "something else"
    _problem(await registry.post("/v1/notices", tampered), 422, "invalid-proof")
    stale = complete_notice(notifier, operator.did, registry.clock() - timedelta(days=3))
    _problem(await registry.post("/v1/notices", stale), 422, "clock-window")
    to_self = complete_notice(notifier, notifier.did, registry.clock())
    _problem(await registry.post("/v1/notices", to_self), 422, "invalid-document")
    document = complete_notice(notifier, operator.did, registry.clock())
    assert (await registry.post("/v1/notices", document)).status_code == 201
    _problem(await registry.post("/v1/notices", document), 409, "nonce-reused")
    bad_hook = registration(operator, registry.clock(), webhook="ftp://example.com/")
    _problem(await registry.post("/v1/operators", bad_hook), 422, "invalid-document")


async def test_responses_by_the_wrong_party_are_403(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey, mallory: keys.SigningKey
) -> None:
    notice_id = await _file(registry, notifier, operator.did)
    problem = _problem(await _step(registry, mallory, notice_id, "acknowledge"), 403, "wrong-party")
    assert "stranger" in problem["detail"]
    _problem(await _step(registry, notifier, notice_id, "acknowledge"), 403, "wrong-party")
    await _walk(registry, notice_id, (operator, "acknowledge"))
    _problem(await _step(registry, notifier, notice_id, "action"), 403, "wrong-party")
    assert (await _notice(registry, notice_id))["state"] == "acknowledged"


async def test_illegal_transitions_are_409(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    notice_id = await _file(registry, notifier, operator.did)
    _problem(await _step(registry, operator, notice_id, "action"), 409, "illegal-transition")
    _problem(await _step(registry, operator, notice_id, "deliver"), 409, "illegal-transition")
    await _walk(registry, notice_id, (operator, "acknowledge"), (operator, "reject"), (notifier, "close"))
    _problem(await _step(registry, notifier, notice_id, "close"), 409, "illegal-transition")
    _problem(await _step(registry, operator, notice_id, "restore"), 409, "illegal-transition")
    other = await _file(registry, notifier, operator.did)
    mismatched = response(operator, other, "acknowledge", registry.clock())
    _problem(await registry.post(f"/v1/notices/{notice_id}/responses", mismatched), 422, "invalid-document")
    _problem(await _step(registry, operator, "f" * 64, "acknowledge"), 404, "not-found")
    _problem(await registry.http.get("/v1/notices/not-an-id"), 404, "not-found")


# ------------------------------------------------------------------ operators, inboxes, statistics


async def test_notice_for_an_unregistered_operator_is_held_then_delivered_on_registration(
    registry: Registry, receiver: Receiver, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    filed = await registry.post("/v1/notices", complete_notice(notifier, operator.did, registry.clock()))
    assert filed.status_code == 201 and filed.json()["operator_registered"] is False
    stats = (await registry.http.get("/v1/stats/operators")).json()["operators"]
    assert stats[0]["operator"] == operator.did and stats[0]["registered"] is False
    assert stats[0]["held_undelivered"] == 1 and stats[0]["received"] == 1

    registered = await _register(registry, operator, receiver.url)
    assert registered["held_notices"] == 1
    await registry.drain()
    assert (await _notice(registry, filed.json()["id"]))["state"] == "delivered"
    stats = (await registry.http.get("/v1/stats/operators")).json()["operators"]
    assert stats[0]["registered"] is True and stats[0]["held_undelivered"] == 0 and stats[0]["delivered"] == 1


async def test_inbox_lists_an_operators_notices(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    first = await _file(registry, notifier, operator.did)
    registry.clock.advance(minutes=5)
    second = await _file(registry, notifier, operator.did)
    await _walk(registry, first, (operator, "acknowledge"))
    inbox = (await registry.http.get(f"/v1/operators/{operator.did}/notices")).json()
    assert [n["id"] for n in inbox["notices"]] == [first, second] and inbox["registered"] is False
    filed = (
        await registry.http.get(f"/v1/operators/{operator.did}/notices", params={"state": "filed"})
    ).json()
    assert [n["id"] for n in filed["notices"]] == [second]
    for bad in ("did:example:123", "did:web:Example..com", "did:key:nope"):
        _problem(await registry.http.get(f"/v1/operators/{bad}/notices"), 400, "invalid-parameter")
    web = (await registry.http.get("/v1/operators/did:web:example.com/notices")).json()
    assert web["notices"] == [] and web["operator_profile"]["authority"] == "self-asserted"
    bad_state = await registry.http.get(f"/v1/operators/{operator.did}/notices", params={"state": "lost"})
    _problem(bad_state, 400, "invalid-parameter")


async def test_operator_stats_give_counts_median_and_p90(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    await _register(registry, operator)
    start = registry.clock()
    ids = [await _file(registry, notifier, operator.did) for _ in range(3)]
    for notice_id, hours in zip(ids, (1, 2, 10), strict=True):
        registry.clock.now = start + timedelta(hours=hours)
        assert (await _step(registry, operator, notice_id, "acknowledge")).status_code == 201
    registry.clock.now = start + timedelta(hours=11)
    assert (await _step(registry, operator, ids[0], "action")).status_code == 201
    assert (await _step(registry, operator, ids[1], "reject")).status_code == 201
    (row,) = (await registry.http.get("/v1/stats/operators")).json()["operators"]
    assert row["name"] == "Acme AI"
    assert (row["received"], row["acknowledged"], row["actioned"], row["rejected"]) == (3, 3, 1, 1)
    assert row["seconds_to_acknowledge"] == {"median": 7200, "p90": 36000}
    assert row["seconds_to_act"] == {"median": 39600, "p90": 39600}


# ------------------------------------------------------------------ operators' names and authority


def _named(operator: keys.SigningKey, clock: Clock, name: str, contact: str = "legal@acme.example") -> Any:
    from registry.notices.documents import new_registration

    document = new_registration(operator.did, name, contact, created=clock())
    return keys.sign_document(document, operator, created=clock())


async def _log_size(registry: Registry) -> int:
    return int((await registry.http.get("/log/checkpoint")).text.splitlines()[1])


async def _stats(registry: Registry) -> dict[str, dict[str, Any]]:
    rows = (await registry.http.get("/v1/stats/operators")).json()["operators"]
    return {row["operator"]: row for row in rows}


async def test_the_app_tells_the_notice_store_who_is_verified(registry: Registry) -> None:
    """api/app.py wires the claim store's replayed authority into the notice store."""
    assert registry.state.notices is not None and registry.state.notices.claims is registry.state.claims


async def test_a_verified_operators_name_is_its_own(registry: Registry) -> None:
    clock = registry.clock
    early, copycat, verified, impostor, rival = (keys.SigningKey.generate() for _ in range(5))
    # Unverified operators may share a name: nobody's name is protected yet.
    first = await registry.post("/v1/operators", _named(early, clock, "Acme AI"))
    assert first.status_code == 201, first.text
    assert first.json()["operator_profile"] | {"registration_log_index": None} == {
        "did": early.did,
        "registered": True,
        "name": "Acme AI",
        "authority": "self-asserted",
        "domain": "unverified",
        "verified_hosts": [],
        "name_disputed": False,
        "name_held_by": None,
        "registration_log_index": None,
    }
    assert (await registry.post("/v1/operators", _named(copycat, clock, "ACME  ai"))).status_code == 201

    # A verified operator takes the name the unverified ones use: accepted; theirs are disputed.
    await verify_domain(registry.state, verified.did, "acme.example")
    taken = await registry.post("/v1/operators", _named(verified, clock, "Acme AI"))
    assert taken.status_code == 201, taken.text
    profile = taken.json()["operator_profile"]
    assert (profile["authority"], profile["domain"], profile["verified_hosts"]) == (
        "domain-verified",
        "acme.example",
        [".acme.example"],
    )
    assert profile["name_disputed"] is False
    stats = await _stats(registry)
    assert next(iter(stats)) == verified.did  # verified operators first
    for did in (early.did, copycat.did):
        assert stats[did]["name_disputed"] is True and stats[did]["name_held_by"] == verified.did
        assert stats[did]["authority"] == "self-asserted" and stats[did]["domain"] == "unverified"

    # Anyone else registering that name, in any spelling, is refused, and nothing changes.
    size = await _log_size(registry)
    for key, name in ((impostor, "ａｃｍｅ　ＡＩ"), (impostor, "acme-ai"), (early, "Acme AI")):
        refused = _problem(
            await registry.post("/v1/operators", _named(key, clock, name, "x@y.example")),
            409,
            "operator-name-taken",
        )
        assert verified.did in refused["detail"] and refused["errors"][0]["pointer"] == "/name"
    assert await _log_size(registry) == size
    stats = await _stats(registry)
    assert impostor.did not in stats and stats[early.did]["name"] == "Acme AI"
    assert (await registry.state.notices.inbox(early.did))["operator_profile"]["name_disputed"] is True  # type: ignore[union-attr]

    # A second verified operator cannot take it either; the holder may register again.
    await verify_domain(registry.state, rival.did, "rival.example")
    _problem(
        await registry.post("/v1/operators", _named(rival, clock, "Acme AI")), 409, "operator-name-taken"
    )
    assert (
        await registry.post("/v1/operators", _named(verified, clock, "Acme AI", "new@acme.example"))
    ).status_code == 201
    # An unverified operator that renames itself is no longer disputed.
    assert (await registry.post("/v1/operators", _named(early, clock, "Early Bird AI"))).status_code == 201
    assert (await _stats(registry))[early.did]["name_disputed"] is False


async def test_a_lapsed_verification_no_longer_holds_the_name(registry: Registry) -> None:
    clock = registry.clock
    holder, newcomer = keys.SigningKey.generate(), keys.SigningKey.generate()
    verification = await verify_domain(registry.state, holder.did, "holder.example")
    assert (await registry.post("/v1/operators", _named(holder, clock, "Holder AI"))).status_code == 201
    _problem(
        await registry.post("/v1/operators", _named(newcomer, clock, "Holder AI")), 409, "operator-name-taken"
    )
    await lapse(registry.state, verification, holder.did, "holder.example")
    assert (await _stats(registry))[holder.did]["authority"] == "self-asserted"
    assert (await registry.post("/v1/operators", _named(newcomer, clock, "Holder AI"))).status_code == 201


async def test_a_verification_logged_meanwhile_is_seen_under_the_logs_lock(registry: Registry) -> None:
    """The refusal reads verifications appended after its replayed snapshot (a did:web operator's
    first registration logs its own) from the log itself."""
    store = registry.state.notices
    assert store is not None
    holder, other = keys.SigningKey.generate(), keys.SigningKey.generate()
    assert (
        await registry.post("/v1/operators", _named(holder, registry.clock, "Meanwhile AI"))
    ).status_code == 201
    before = await store.verified([holder.did])
    assert holder.did not in before
    await verify_domain(registry.state, holder.did, "meanwhile.example")
    from registry.errors import NameTaken
    from registry.notices.documents import operator_name_key

    await store._refuse_taken_name(
        other.did, "Meanwhile AI", operator_name_key("Meanwhile AI"), before, before.tree_size
    )
    with pytest.raises(NameTaken):
        await store._refuse_taken_name(
            other.did, "Meanwhile AI", operator_name_key("Meanwhile AI"), before, await _log_size(registry)
        )


async def test_notices_name_their_operators_domain_and_authority(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    impostor, stranger = keys.SigningKey.generate(), keys.SigningKey.generate()
    assert (
        await registry.post("/v1/operators", _named(impostor, registry.clock, "Acme AI"))
    ).status_code == 201
    await verify_domain(registry.state, operator.did, "acme.example")
    await _register(registry, operator)  # also "Acme AI": the impostor's name is now disputed
    notice_id = await _file(registry, notifier, operator.did)
    to_impostor = await _file(registry, notifier, impostor.did)
    held = await _file(registry, notifier, stranger.did)
    shown = (await _notice(registry, notice_id))["operator_profile"]
    assert (shown["did"], shown["authority"], shown["domain"], shown["name"]) == (
        operator.did,
        "domain-verified",
        "acme.example",
        "Acme AI",
    )
    disputed = (await _notice(registry, to_impostor))["operator_profile"]
    assert (disputed["authority"], disputed["name_disputed"], disputed["name_held_by"]) == (
        "self-asserted",
        True,
        operator.did,
    )
    unknown = (await _notice(registry, held))["operator_profile"]
    assert (unknown["registered"], unknown["authority"], unknown["domain"]) == (
        False,
        "self-asserted",
        "unverified",
    )
    inbox = (await registry.http.get(f"/v1/operators/{operator.did}/notices")).json()
    assert inbox["operator_profile"]["authority"] == "domain-verified"
    assert inbox["notices"][0]["operator_profile"]["domain"] == "acme.example"

    # An export names the verified operator by its name, the disputed one by its DID only.
    def recipient(lumen: dict[str, Any]) -> str:
        roles = lumen["notice"]["entity_notice_roles_attributes"]
        return str(next(r for r in roles if r["name"] == "recipient")["entity_attributes"]["name"])

    assert recipient((await registry.http.get(f"/v1/notices/{notice_id}/export/lumen")).json()) == "Acme AI"
    exported = (await registry.http.get(f"/v1/notices/{to_impostor}/export/lumen")).json()
    assert recipient(exported) == impostor.did


# ------------------------------------------------------------------ webhook failures


async def test_failing_webhooks_are_retried_and_never_block_filing(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    failing = Receiver(["timeout", 500, "redirect"])
    try:
        await _register(registry, operator, failing.url)
        started = time.monotonic()
        filed = await registry.post("/v1/notices", complete_notice(notifier, operator.did, registry.clock()))
        assert filed.status_code == 201 and time.monotonic() - started < 0.3  # the first attempt takes 0.3 s
        assert filed.json()["state"] == "filed"
        await registry.drain()
    finally:
        failing.close()
    notice = await _notice(registry, filed.json()["id"])
    outcomes = [(a["attempt"], a["outcome"], a["status_code"]) for a in notice["webhook_attempts"]]
    assert outcomes == [(1, "timeout", None), (2, "failed", 500), (3, "redirect", 302), (4, "delivered", 204)]
    assert "not followed" in notice["webhook_attempts"][2]["error"]
    assert notice["state"] == "delivered"
    assert len(failing.received) == 4


async def test_a_webhook_that_never_answers_gives_up_and_leaves_the_notice_in_the_inbox(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    dead = Receiver([500, 500, 500, 500])
    try:
        await _register(registry, operator, dead.url)
        notice_id = await _file(registry, notifier, operator.did)
        await registry.drain()
    finally:
        dead.close()
    notice = await _notice(registry, notice_id)
    assert [a["outcome"] for a in notice["webhook_attempts"]] == ["failed"] * 4
    assert notice["state"] == "filed"
    await _walk(registry, notice_id, (operator, "acknowledge"))


# ------------------------------------------------------------------ disputes


async def test_claimants_on_the_same_subject_are_linked_and_disputes_show_in_checks(
    registry: Registry, alice: keys.SigningKey, mallory: keys.SigningKey, notifier: keys.SigningKey
) -> None:
    now = registry.clock()
    urls = ("https://aoi.example.jp/works/",)
    ours = (await registry.post("/v1/claims", signed_claim(alice, now, urls=urls))).json()["id"]
    theirs = (await registry.post("/v1/claims", signed_claim(mallory, now, urls=urls))).json()["id"]
    elsewhere = (
        await registry.post("/v1/claims", signed_claim(notifier, now, urls=("https://other.example/",)))
    ).json()["id"]
    links = (await registry.http.get(f"/v1/claims/{ours}/links")).json()
    assert [link["claim"] for link in links["linked"]] == [theirs]

    _problem(await registry.post("/v1/disputes", dispute(mallory, ours, theirs, now)), 403, "not-claimant")
    _problem(
        await registry.post("/v1/disputes", dispute(alice, ours, elsewhere, now)), 422, "invalid-document"
    )
    _problem(await registry.post("/v1/disputes", dispute(alice, ours, "0" * 64, now)), 404, "not-found")
    opened = await registry.post("/v1/disputes", dispute(alice, ours, theirs, now))
    assert opened.status_code == 201, opened.text
    _problem(
        await registry.post("/v1/disputes", dispute(alice, ours, theirs, now)), 409, "illegal-transition"
    )

    check = await registry.http.post(
        "/v1/check", json={"items": [{"scheme": "url", "value": "https://aoi.example.jp/works/a.png"}]}
    )
    matches = check.json()["items"][0]["matches"]
    assert {(m["claim"], m.get("disputed")) for m in matches} == {(ours, True), (theirs, True)}
    other = await registry.http.post(
        "/v1/check", json={"items": [{"scheme": "url", "value": "https://other.example/"}]}
    )
    assert "disputed" not in other.json()["items"][0]["matches"][0]


async def test_openapi_describes_the_notice_endpoints(registry: Registry) -> None:
    document = (await registry.http.get("/openapi.json")).json()
    for path in (
        "/v1/notices",
        "/v1/notices/{notice_id}/responses",
        "/v1/operators/{did}/notices",
        "/v1/stats/operators",
    ):
        assert path in document["paths"]
    assert "Notice" in document["components"]["schemas"]
    assert "403" in document["paths"]["/v1/notices/{notice_id}/responses"]["post"]["responses"]


async def test_deliveries_cut_short_resume_on_start(
    registry: Registry, receiver: Receiver, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    await _register(registry, operator, receiver.url)
    notices, webhooks = registry.state.notices, registry.state.webhooks
    assert notices is not None and webhooks is not None
    notices.on_event = None  # as if the process stopped before delivering
    notice_id = await _file(registry, notifier, operator.did)
    notices.on_event = webhooks.schedule
    assert await webhooks.resume() == 1
    await registry.drain()
    assert (await _notice(registry, notice_id))["state"] == "delivered"
    assert await webhooks.resume() == 0


async def test_private_and_plain_http_webhooks_are_refused_by_default(
    api: httpx.AsyncClient, clock: Clock, operator: keys.SigningKey
) -> None:
    for webhook in ("https://127.0.0.1/hook", "https://[::1]/hook", "https://169.254.169.254/latest",
                    "https://10.0.0.7/", "http://93.184.216.34/hook"):  # fmt: skip
        answer = await api.post(
            "/v1/operators", content=body(registration(operator, clock(), webhook=webhook))
        )
        problem = _problem(answer, 422, "invalid-document")
        assert problem["errors"][0]["pointer"] == "/webhook", webhook


@pytest.mark.parametrize("spelling", ["{base}/x/../hooks/kotowari", "{base}/./hooks/kotowari"])
async def test_the_signed_target_uri_is_the_one_sent(
    registry: Registry,
    receiver: Receiver,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    spelling: str,
) -> None:
    """A receiver verifies RFC 9421 against the URI it is reached at (its Host and request path);
    a webhook registered with dot segments is normalised at registration and signed as sent."""
    base = receiver.url.removesuffix("/hooks/kotowari")
    await _register(registry, operator, spelling.format(base=base))
    filed = await registry.post("/v1/notices", complete_notice(notifier, operator.did, registry.clock()))
    assert filed.status_code == 201, filed.text
    await registry.drain()
    (delivery,) = receiver.received
    assert delivery.path == "/hooks/kotowari"
    reconstructed = f"http://{delivery.headers['Host']}{delivery.path}"
    info = (await registry.http.get("/v1/registry")).json()
    verify_request(
        "POST",
        reconstructed,
        delivery.headers,
        delivery.body,
        keys.resolve_did_key(info["did"]),
        now=registry.clock(),
    )
    profile = (await registry.http.get(f"/v1/operators/{operator.did}/notices")).json()
    assert "/../" not in json.dumps(profile)
