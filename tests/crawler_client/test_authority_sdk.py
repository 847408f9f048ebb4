"""Authority through the SDK against the real application (in process, SQLite and PostgreSQL):
`min_authority` online equals offline item by item, mandates and their revocation, key rotation,
recovery with its waiting period and veto, and filing an authority document twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from crawler_client import AlreadyFiled, AsyncClient, InvalidSignedAnswer, RegistryProblem, RetryPolicy
from crawler_client.snapshot import Snapshot
from crawler_client.verification import verify_receipt
from registry.authority.documents import (
    new_mandate,
    new_recovery_keys,
    new_recovery_step,
    new_revocation,
    new_rotation,
)
from registry.authority.levels import LEVELS
from registry.documents import new_claim
from tests.conftest import Clock
from tests.crawler_client.registry_app import Intercept
from tests.factories import signed_claim, signed_withdrawal

BASE = "http://registry.test"
NO_WAIT = RetryPolicy(base_delay=0.0)
AYAKA_URL = "https://voices.example.com/ayaka/"


@pytest.fixture
async def app(db_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[Any]:
    """The registry application on SQLite and on PostgreSQL (as the `api` fixture), lifespan running."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    EXECUTOR_CACHE.clear()
    application = create_app(Settings(data_dir=tmp_path / "data", db_url=db_url), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def registry(app: Any) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(BASE, transport=Intercept(app), retry=NO_WAIT) as client:
        yield client


def sign(document: dict[str, Any], key: keys.SigningKey, clock: Clock) -> dict[str, Any]:
    return keys.sign_document(document, key, created=clock.now)


def agency_claim(
    agency: keys.SigningKey, principal: str, mandate: str | None, clock: Clock, *, kind: str = "voice"
) -> dict[str, Any]:
    behalf = {"principal": "Ayaka Sato (佐藤彩花)", "authority": "management agreement", "did": principal}
    if mandate is not None:
        behalf["mandate"] = mandate
    document = new_claim(
        agency.did,
        kind,
        [("url", AYAKA_URL)],
        {"train-ai": "n", "generate": "n"},
        created=clock.now,
        on_behalf_of=behalf,
    )
    return sign(document, agency, clock)


QUERIES = [
    {"scheme": "url", "value": AYAKA_URL + "sample.wav"},
    {"scheme": "url", "value": "https://self.example.org/a.png"},
    {"scheme": "url", "value": "https://unrelated.example.net/"},
]


async def assert_offline_equals_online(
    registry: AsyncClient, clock: Clock, **asked: Any
) -> list[dict[str, Any]]:
    """Under every minimum (and none), the snapshot answers exactly what the registry signed."""
    snapshot = Snapshot.from_bytes(await registry.snapshot())
    online_items = []
    for minimum in (None, *LEVELS):
        online = await registry.check(QUERIES, at=_at(clock), min_authority=minimum, **asked)
        assert online.min_authority == minimum
        assert online.answers[0].get("min_authority") == minimum
        offline = snapshot.check(QUERIES, at=clock.now, min_authority=minimum, **asked)
        assert offline["checkpoint"] == online.answers[0]["checkpoint"]
        assert offline["items"] == online.items, minimum
        online_items.append(online.items)
    return online_items[0]


def _at(clock: Clock) -> str:
    return clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_mandated_claim_then_its_revocation_online_and_offline(
    registry: AsyncClient, clock: Clock, alice: keys.SigningKey
):
    principal, agency = keys.SigningKey.generate(), keys.SigningKey.generate()
    await registry.file_claim(signed_claim(alice, clock.now, urls=("https://self.example.org/",)))
    mandate = sign(
        new_mandate(
            principal.did, agency.did, created=clock.now, kinds=["voice"], uses=["train-ai", "generate"]
        ),
        principal,
        clock,
    )
    filed = await registry.file_authority(mandate)
    assert filed["type"] == "Mandate" and filed["id"] == keys.document_id(mandate)
    verify_receipt({"document": mandate, "log": filed["log"]})
    claim = agency_claim(agency, principal.did, filed["id"], clock)
    claim_id = (await registry.file_claim(claim))["id"]

    items = await assert_offline_equals_online(registry, clock, purpose="train-ai")
    (match,) = items[0]["matches"]
    assert match["claim"] == claim_id and match["authority"] == ["mandated"]
    assert match["chain"] == [
        {
            "authority": "mandated",
            "by": principal.did,
            "method": "mandate",
            "document": filed["id"],
            "log_index": filed["log"]["index"],
            "at": mandate["created"],
        }
    ]
    assert items[1]["matches"][0]["authority"] == ["self-asserted"]
    counted = await registry.check(QUERIES, purpose="train-ai", min_authority="mandated")
    assert counted.decisions == ["n", "unknown", "unknown"]
    assert [m["counted"] for m in counted.items[1]["matches"]] == [False]

    described = await registry.authority(principal.did)
    assert [m["id"] for m in described["mandates"]] == [filed["id"]]

    revocation = sign(
        new_revocation("MandateRevocation", principal.did, filed["id"], created=clock.now), principal, clock
    )
    revoked = await registry.file_authority(revocation)
    items = await assert_offline_equals_online(registry, clock, purpose="train-ai")
    (match,) = items[0]["matches"]
    assert match["authority"] == ["agent-asserted"] and "chain" not in match
    assert match["authority_notes"] == [
        f"mandate {filed['id'][:16]}… revoked by the principal at log index {revoked['log']['index']}"
    ]
    after = await registry.check(QUERIES[:1], purpose="train-ai", min_authority="mandated")
    assert after.decisions == ["unknown"] and after.items[0]["matches"][0]["counted"] is False
    assert any("agent-asserted, below mandated: not counted" in r for r in after.items[0]["reasons"])
    await assert_offline_equals_online(registry, clock)  # every use, no purpose

    with pytest.raises(RegistryProblem) as refused:  # a revoked mandate cannot be revoked again
        await registry.file_authority(
            sign(
                new_revocation("MandateRevocation", principal.did, filed["id"], created=clock.now),
                principal,
                clock,
            )
        )
    assert refused.value.status == 409


async def test_a_claim_outside_its_mandate_is_agent_asserted_with_the_reason(
    registry: AsyncClient, clock: Clock
):
    principal, agency = keys.SigningKey.generate(), keys.SigningKey.generate()
    mandate = sign(
        new_mandate(principal.did, agency.did, created=clock.now, kinds=["work"]), principal, clock
    )
    filed = await registry.file_authority(mandate)
    await registry.file_claim(agency_claim(agency, principal.did, filed["id"], clock, kind="voice"))
    await registry.file_claim(agency_claim(agency, principal.did, None, clock, kind="work"))
    items = await assert_offline_equals_online(registry, clock, purpose="generate")
    by_kind = {m["kind"]: m for m in items[0]["matches"]}
    assert by_kind["voice"]["authority"] == ["agent-asserted"]
    assert "covers work, not voice" in by_kind["voice"]["authority_notes"][0]
    assert by_kind["work"]["authority"] == ["mandated"]  # the principal's mandate found without its id


async def test_unknown_levels_are_refused_before_anything_is_sent(app: Any, clock: Clock):
    transport = Intercept(app)
    async with AsyncClient(BASE, transport=transport, retry=NO_WAIT) as registry:
        for bad in ("verified", "Mandated", "", 3):
            with pytest.raises(
                ValueError, match="self-asserted, agent-asserted, mandated, attested, domain-verified"
            ):
                await registry.check(QUERIES, purpose="train-ai", min_authority=bad)  # type: ignore[arg-type]
    assert transport.requests == []


class DropMinimum(Intercept):
    """A proxy that strips `min_authority` from checks: the registry then signs another question."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/check":
            body = keys.parse_strict_json(await request.aread())
            body.pop("min_authority", None)
            content = keys.canonicalize(body)
            request = httpx.Request(
                "POST", request.url, headers={"content-type": "application/json"}, content=content
            )
        return await super().handle_async_request(request)


async def test_an_answer_that_does_not_echo_the_minimum_is_refused(app: Any, clock: Clock):
    async with AsyncClient(BASE, transport=DropMinimum(app), retry=NO_WAIT) as registry:
        assert (await registry.check(QUERIES, purpose="train-ai")).decisions == ["unknown"] * 3
        with pytest.raises(InvalidSignedAnswer, match="different question"):
            await registry.check(QUERIES, purpose="train-ai", min_authority="mandated")


async def test_rotation_the_successor_withdraws_and_the_old_key_is_retired(
    registry: AsyncClient, clock: Clock, alice: keys.SigningKey
):
    successor = keys.SigningKey.generate()
    claim = signed_claim(alice, clock.now, urls=("https://alice.example.org/art/",))
    claim_id = (await registry.file_claim(claim))["id"]
    rotation = sign(
        new_rotation(alice.did, successor.did, created=clock.now, reason="new laptop"), alice, clock
    )
    receipt = await registry.file_authority(rotation)
    assert receipt["type"] == "KeyRotation"
    described = await registry.authority(alice.did)
    assert described["retired"] is True and described["acting"] == successor.did
    stored = await registry.get_claim(claim_id)
    assert stored["status"] == "active" and stored["acting_claimant"] == successor.did

    with pytest.raises(RegistryProblem) as retired:
        await registry.file_claim(signed_claim(alice, clock.now, urls=("https://alice.example.org/new/",)))
    assert retired.value.status == 409 and retired.value.type.endswith("/key-retired")
    with pytest.raises(RegistryProblem) as again:  # nor can it rotate a second time
        await registry.file_authority(
            sign(new_rotation(alice.did, keys.SigningKey.generate().did, created=clock.now), alice, clock)
        )
    assert again.value.status == 409

    withdrawal = signed_withdrawal(successor, claim_id, clock.now)
    assert (await registry.withdraw_claim(claim_id, withdrawal))["claim"] == claim_id
    assert (await registry.check(QUERIES, purpose="train-ai")).decisions == ["unknown"] * 3


async def test_recovery_waiting_period_veto_and_completion(
    registry: AsyncClient, clock: Clock, alice: keys.SigningKey
):
    agency, device, successor = (keys.SigningKey.generate() for _ in range(3))
    claim_id = (
        await registry.file_claim(signed_claim(alice, clock.now, urls=("https://alice.example.org/",)))
    )["id"]
    designation = sign(
        new_recovery_keys(alice.did, [agency.did, device.did], created=clock.now, waiting_period_days=7),
        alice,
        clock,
    )
    await registry.file_authority(designation)

    def step(kind: str, key: keys.SigningKey, **fields: str) -> dict[str, Any]:
        return sign(new_recovery_step(kind, key.did, created=clock.now, **fields), key, clock)

    with pytest.raises(RegistryProblem) as stranger:  # only a designated key may ask
        await registry.file_authority(
            step("RecoveryRequest", successor, did=alice.did, successor=successor.did)
        )
    assert stranger.value.status == 409 and stranger.value.type.endswith("/authority-conflict")

    first = await registry.file_authority(
        step("RecoveryRequest", agency, did=alice.did, successor=successor.did)
    )
    recovery = (await registry.authority(alice.did))["recovery"]
    assert recovery["open_request"]["id"] == first["id"] and recovery["waiting_period_days"] == 7
    clock.advance(days=6)
    with pytest.raises(RegistryProblem) as early:  # the old key may still veto: too early
        await registry.file_authority(step("RecoveryCompletion", agency, request=first["id"]))
    assert early.value.status == 409 and "waiting period" in early.value.detail
    await registry.file_authority(step("RecoveryVeto", alice, request=first["id"]))
    clock.advance(days=2)
    with pytest.raises(RegistryProblem) as vetoed:
        await registry.file_authority(step("RecoveryCompletion", agency, request=first["id"]))
    assert vetoed.value.status == 409 and "vetoed" in vetoed.value.detail
    assert (await registry.authority(alice.did))["retired"] is False

    second = await registry.file_authority(
        step("RecoveryRequest", device, did=alice.did, successor=successor.did)
    )
    clock.advance(days=7, seconds=1)
    done = await registry.file_authority(step("RecoveryCompletion", successor, request=second["id"]))
    assert done["type"] == "RecoveryCompletion"
    described = await registry.authority(alice.did)
    assert described["retired"] is True and described["acting"] == successor.did
    with pytest.raises(RegistryProblem) as retired:
        await registry.file_claim(signed_claim(alice, clock.now, urls=("https://alice.example.org/x/",)))
    assert retired.value.type.endswith("/key-retired")
    await registry.withdraw_claim(claim_id, signed_withdrawal(successor, claim_id, clock.now))


async def test_an_authority_filing_whose_answer_was_lost_is_recovered(
    app: Any, clock: Clock, alice: keys.SigningKey
):
    lost: list[str] = []

    def lose_first_filing(request: httpx.Request, response: httpx.Response) -> Exception | None:
        if request.url.path == "/v1/authority" and not lost:
            lost.append(request.url.path)
            return httpx.ReadError("connection reset after the registry acted")
        return None

    agent = keys.SigningKey.generate()
    mandate = sign(new_mandate(alice.did, agent.did, created=clock.now), alice, clock)
    async with AsyncClient(BASE, transport=Intercept(app, lose_first_filing), retry=NO_WAIT) as registry:
        receipt = await registry.file_authority(mandate)
        assert receipt["already_filed"] is True and receipt["id"] == keys.document_id(mandate)
        verify_receipt({"document": mandate, "log": receipt["log"]})
        with pytest.raises(AlreadyFiled) as twice:
            await registry.file_authority(mandate)
        assert twice.value.document_id == receipt["id"]
        with pytest.raises(RegistryProblem) as unknown:
            await registry.file_authority({**mandate, "type": "Testimonial"})
        assert unknown.value.status == 422


async def test_a_tampered_authority_receipt_is_refused(app: Any, clock: Clock, alice: keys.SigningKey):
    from tests.crawler_client.registry_app import with_json

    def move(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path == "/v1/authority":
            return with_json(
                response, lambda body: {**body, "log": {**body["log"], "index": body["log"]["index"] + 1}}
            )
        return None

    mandate = sign(new_mandate(alice.did, keys.SigningKey.generate().did, created=clock.now), alice, clock)
    async with AsyncClient(BASE, transport=Intercept(app, move), retry=NO_WAIT) as registry:
        with pytest.raises(InvalidSignedAnswer, match="receipt"):
            await registry.file_authority(mandate)
        with pytest.raises(RegistryProblem) as unknown:
            await registry.authority(keys.SigningKey.generate().did)
        assert unknown.value.status == 404
        with pytest.raises(ValueError):
            await registry.authority("not a did")
        with pytest.raises(ValueError, match="method"):
            await registry.verify_domain(alice.did, "publisher.example", "carrier-pigeon")
