"""The operator directory, per-operator statistics and the DMCA restoration floor over HTTP, with a
fake clock, on SQLite and PostgreSQL: every page, filter and refusal as the API answers it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from api import Settings, create_app
from api.state import RegistryState
from registry.notices.business_days import add_business_days
from registry.notices.directory import OperatorPage, OperatorRecordAnswer
from registry.notices.documents import new_registration
from registry.privacy.personal import sign_split
from tests.authority_helpers import verify_domain
from tests.conftest import Clock
from tests.factories import body
from tests.notice_factories import complete_notice, registration, response

PROBLEM = "https://kotowari.dev/problems/"


@dataclass
class Registry:
    http: httpx.AsyncClient
    state: RegistryState
    clock: Clock

    async def post(self, path: str, document: Any) -> httpx.Response:
        return await self.http.post(path, content=body(document))

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.http.get(path, params=params)


@pytest.fixture
async def registry(db_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[Registry]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    settings = Settings(
        data_dir=tmp_path / "data",
        db_url=db_url,
        webhook_allow_private=True,
        webhook_timeout=0.2,
        webhook_attempts=1,
        reminder_interval=0,
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield Registry(client, app.state.registry, clock)


def _problem(answer: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["type"] == PROBLEM + slug
    return dict(problem)


async def _register(registry: Registry, key: keys.SigningKey, name: str, **options: Any) -> dict[str, Any]:
    now = registry.clock()
    document = new_registration(key.did, name, "legal@operator.example", created=now, **options)
    answer = await registry.post("/v1/operators", sign_split("OperatorRegistration", document, key, now))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


# ------------------------------------------------------------------ the directory


async def test_the_directory_pages_every_operator_by_did_with_a_stable_cursor(registry: Registry) -> None:
    operators = [keys.SigningKey.generate() for _ in range(5)]
    for number, key in enumerate(operators):
        await _register(registry, key, f"Operator {number}")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = await registry.get("/v1/operators", **params)
        assert answer.status_code == 200, answer.text
        page = OperatorPage.model_validate(answer.json())  # the OpenAPI schema is the answer's shape
        assert len(page.operators) <= 2
        seen += [entry.did for entry in page.operators]
        if page.cursor is None:
            assert page.next is None and "link" not in answer.headers
            break
        cursor = page.cursor
        assert page.next == f"/v1/operators?limit=2&cursor={cursor}"
        assert answer.headers["link"] == f'<{page.next}>; rel="next"'
        # an operator registering between pages neither repeats nor hides those after the cursor
        if len(seen) == 2:
            late = keys.SigningKey.generate()
            await _register(registry, late, "Late AI")
            operators.append(late)
    expected = sorted(key.did for key in operators)
    assert [did for did in seen if did > seen[1]] == [did for did in expected if did > seen[1]]
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


async def test_entries_say_whether_there_is_a_webhook_but_never_its_url_or_contacts(
    registry: Registry,
) -> None:
    hooked, plain = keys.SigningKey.generate(), keys.SigningKey.generate()
    person = {"name": "Hanako Sato", "email": "hanako.sato@operator.example", "phone": "+81 3 0000 0000"}
    webhook = "http://127.0.0.1:9/hooks/secret-token-7f3a"
    await _register(registry, hooked, "Hooked AI", webhook=webhook, contact_person=person)
    await _register(registry, plain, "Plain AI")
    answer = await registry.get("/v1/operators")
    entries = {entry["did"]: entry for entry in answer.json()["operators"]}
    assert entries[hooked.did]["webhook"] is True and entries[plain.did]["webhook"] is False
    for leaked in (webhook, "secret-token", "legal@operator.example", *person.values()):
        assert leaked not in answer.text
    record = await registry.get(f"/v1/operators/{hooked.did}")
    assert record.status_code == 200
    entry = OperatorRecordAnswer.model_validate(record.json())
    assert entry.name == "Hooked AI" and entry.webhook is True
    assert webhook not in record.text and person["email"] not in record.text
    assert entry.links.notices == f"/v1/operators/{hooked.did}/notices"
    stats = await registry.http.get(entry.links.stats)
    assert [row["operator"] for row in stats.json()["operators"]] == [hooked.did]


async def test_operators_are_found_by_folded_name_or_by_verified_domain(registry: Registry) -> None:
    acme, impostor, other = (keys.SigningKey.generate() for _ in range(3))
    await _register(registry, impostor, "Acme AI")
    await verify_domain(registry.state, acme.did, "acme.example")
    await _register(registry, acme, "ACME ai")
    await _register(registry, other, "Other Labs")

    async def dids(**params: str) -> set[str]:
        answer = await registry.get("/v1/operators", **params)
        assert answer.status_code == 200, answer.text
        return {entry["did"] for entry in answer.json()["operators"]}

    assert await dids(name="ａｃｍｅ") == {acme.did, impostor.did}  # width and case folded
    assert await dids(name="labs") == {other.did}
    assert await dids(name="nobody") == set()
    for domain in ("acme.example", "ACME.example.", "https://acme.example/path", "www.acme.example"):
        assert await dids(domain=domain) == {acme.did}, domain
    assert await dids(domain="other.example") == set()
    found = {e["did"]: e for e in (await registry.get("/v1/operators", name="acme")).json()["operators"]}
    assert found[acme.did]["authority"] == "domain-verified" and found[acme.did]["domain"] == "acme.example"
    assert found[impostor.did]["name_disputed"] is True and found[impostor.did]["name_held_by"] == acme.did


def test_a_did_web_operator_is_found_by_its_own_host_and_the_domains_above_it() -> None:
    from registry.notices.directory import DirectoryQuery, _matches

    profile = {"did": "did:web:voices.example.jp%3A8443", "name": "Voices", "verified_hosts": []}
    for domain in ("voices.example.jp", "example.jp"):
        assert _matches(DirectoryQuery(domain=domain), profile)
    for domain in ("other.jp", "api.voices.example.jp", "xvoices.example.jp"):
        assert not _matches(DirectoryQuery(domain=domain), profile)


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"cursor": "not-a-cursor"}, "/cursor"),
        ({"cursor": "ZGlkOm5vcGU"}, "/cursor"),  # base64url of "did:nope": not a DID
        ({"limit": "0"}, "/limit"),
        ({"limit": "201"}, "/limit"),
        ({"limit": "ten"}, "/limit"),
        ({"limit": "١٠"}, "/limit"),  # Arabic-Indic digits are digits to Python, not to us
        ({"domain": "a b"}, "/domain"),
        ({"domain": "https://"}, "/domain"),
        ({"domain": "user@acme.example"}, "/domain"),
        ({"domain": "co.jp"}, "/domain"),  # a public suffix would list everyone below it
        ({"domain": "example"}, "/domain"),
        ({"domain": "192.0.2.1"}, "/domain"),
        ({"name": "  "}, "/name"),
        ({"q": "acme"}, "/q"),
    ],
)
async def test_bad_directory_queries_are_400_naming_the_parameter(
    registry: Registry, params: dict[str, str], pointer: str
) -> None:
    problem = _problem(await registry.get("/v1/operators", **params), 400, "invalid-parameter")
    assert problem["errors"][0]["pointer"] == pointer


async def test_one_operator_is_400_for_a_non_did_and_404_when_not_registered(registry: Registry) -> None:
    _problem(await registry.get("/v1/operators/did:example:acme"), 400, "invalid-parameter")
    stranger = keys.SigningKey.generate()
    problem = _problem(await registry.get(f"/v1/operators/{stranger.did}"), 404, "not-found")
    assert "has not registered" in problem["detail"]


async def test_stats_of_one_operator(registry: Registry) -> None:
    operator, notifier, unregistered = (keys.SigningKey.generate() for _ in range(3))
    await _register(registry, operator, "Acme AI")
    await registry.post("/v1/notices", complete_notice(notifier, unregistered.did, registry.clock()))
    one = (await registry.get("/v1/stats/operators", operator=operator.did)).json()["operators"]
    assert [row["operator"] for row in one] == [operator.did]
    held = (await registry.get("/v1/stats/operators", operator=unregistered.did)).json()["operators"]
    assert held[0]["held_undelivered"] == 1 and held[0]["registered"] is False
    _problem(await registry.get("/v1/stats/operators", operator="acme"), 400, "invalid-parameter")
    nobody = keys.SigningKey.generate().did
    _problem(await registry.get("/v1/stats/operators", operator=nobody), 404, "not-found")


async def test_receipts_say_how_notices_reach_the_operator(registry: Registry) -> None:
    operator, notifier, stranger = (keys.SigningKey.generate() for _ in range(3))
    held = await registry.post("/v1/notices", complete_notice(notifier, operator.did, registry.clock()))
    assert held.json()["delivery"] == "held"
    first = await _register(registry, operator, "Acme AI")
    assert (first["replaced"], first["delivery"], first["held_notices"]) == (False, "inbox", 1)
    again = await _register(registry, operator, "Acme AI", webhook="http://127.0.0.1:9/hook")
    assert (again["replaced"], again["delivery"]) == (True, "webhook")
    filed = await registry.post("/v1/notices", complete_notice(notifier, operator.did, registry.clock()))
    assert filed.json()["delivery"] == "webhook" and filed.json()["state"] == "filed"
    other = await registry.post("/v1/operators", registration(stranger, registry.clock(), name="Pull AI"))
    assert other.json()["delivery"] == "inbox"


async def test_openapi_describes_the_directory(registry: Registry) -> None:
    document = (await registry.get("/openapi.json")).json()
    listing = document["paths"]["/v1/operators"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"name", "domain", "cursor", "limit"}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "OperatorPage"
    )
    assert "400" in listing["responses"] and "post" in document["paths"]["/v1/operators"]
    assert "404" in document["paths"]["/v1/operators/{did}"]["get"]["responses"]
    assert {"OperatorPage", "OperatorEntry", "OperatorRecordAnswer"} <= set(document["components"]["schemas"])
    stats = document["paths"]["/v1/stats/operators"]["get"]
    assert [p["name"] for p in stats["parameters"]] == ["operator"]


# ------------------------------------------------------------------ the DMCA restoration floor


async def _counter_noticed(registry: Registry, regimes: tuple[str, ...] = ("dmca",)) -> tuple[str, Any]:
    operator, notifier = keys.SigningKey.generate(), keys.SigningKey.generate()
    await _register(registry, operator, "Acme AI")
    filed = await registry.post(
        "/v1/notices", complete_notice(notifier, operator.did, registry.clock(), regimes=regimes)
    )
    notice_id = str(filed.json()["id"])
    for action in ("acknowledge", "counter-notice"):
        registry.clock.advance(minutes=1)
        step = response(operator, notice_id, action, registry.clock())
        assert (await registry.post(f"/v1/notices/{notice_id}/responses", step)).status_code == 201
    return notice_id, operator


async def test_a_restoration_before_the_statutory_floor_is_409_naming_the_date(registry: Registry) -> None:
    # A counter-notice on Monday 2026-11-16: ten business days skip the weekends and Thanksgiving
    # (Thursday 26 November), so the floor is Tuesday 1 December, not Monday 30 November.
    registry.clock.now = datetime(2026, 11, 16, 9, 58, tzinfo=UTC)
    notice_id, operator = await _counter_noticed(registry)
    countered = registry.clock()
    floor = add_business_days(countered, 10)
    assert floor == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    notice = (await registry.get(f"/v1/notices/{notice_id}")).json()
    assert notice["deadlines"]["restore_not_before"] == "2026-12-01T10:00:00Z"

    for moment in (
        countered + timedelta(seconds=3),
        datetime(2026, 11, 30, 10, tzinfo=UTC),
        floor - timedelta(seconds=1),
    ):
        registry.clock.now = moment
        early = response(operator, notice_id, "restore", moment)
        problem = _problem(await registry.post(f"/v1/notices/{notice_id}/responses", early), 409, "too-early")
        assert "2026-12-01T10:00:00Z" in problem["detail"] and "512(g)(2)(C)" in problem["detail"]
        assert problem["errors"] == [
            {"pointer": "/action", "detail": "restore not before 2026-12-01T10:00:00Z"}
        ]
    assert (await registry.get(f"/v1/notices/{notice_id}")).json()["state"] == "counter-noticed"

    registry.clock.now = floor
    on_time = response(operator, notice_id, "restore", floor)
    restored = await registry.post(f"/v1/notices/{notice_id}/responses", on_time)
    assert restored.status_code == 201 and restored.json()["state"] == "restored"


async def test_a_notice_without_a_restoration_floor_restores_at_once(registry: Registry) -> None:
    notice_id, operator = await _counter_noticed(registry, regimes=("dsa",))
    assert (await registry.get(f"/v1/notices/{notice_id}")).json()["deadlines"]["restore_not_before"] is None
    step = response(operator, notice_id, "restore", registry.clock())
    assert (await registry.post(f"/v1/notices/{notice_id}/responses", step)).status_code == 201


async def test_the_wrong_party_restoring_early_learns_nothing_about_the_floor(registry: Registry) -> None:
    notice_id, _ = await _counter_noticed(registry)
    stranger = keys.SigningKey.generate()
    step = response(stranger, notice_id, "restore", registry.clock())
    problem = _problem(await registry.post(f"/v1/notices/{notice_id}/responses", step), 403, "wrong-party")
    assert "not before" not in problem["detail"]
