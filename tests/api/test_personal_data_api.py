# ruff: noqa: F811 - the fixtures of test_notices_api are imported and named as parameters
"""Personal data of notifiers, on SQLite and PostgreSQL: filed under every regime with distinctive
values, then searched for in every public surface (notice, inbox, stats, exports, log tiles and
entries, snapshot, portal pages, the webhook to the operator, server logs, the database file);
read only by the notifier and the registered operator with RFC 9421 signed requests; every
refusal as problem+json that changes nothing; erasure by the author, by the registry, by retention.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import keys
from keys.http_signatures import access_headers
from registry.privacy.documents import new_erasure
from registry.privacy.personal import split
from tests.api.test_notices_api import (  # noqa: F401 - fixtures
    PROBLEM,
    Receiver,
    Registry,
    _problem,
    _register,
    _step,
    _walk,
    registry,
)
from tests.notice_factories import complete_notice, document_of, registration, signed_with_part


def _secret(label: str) -> str:
    return f"{label}-{secrets.token_hex(6)}"


def _values() -> dict[str, str]:
    return {
        "name": _secret("Kotone Privata"),
        "email": f"{_secret('kotone')}@example.jp",
        "address": _secret("3-3 Secret-cho Minato Tokyo"),
        "phone": f"+81-3-{secrets.randbelow(10**8):08d}",
        "signature": "/" + _secret("Kotone") + "/",
        "requester_address": _secret("東京都港区秘密町"),
    }


def _notice_body(
    notifier_key: keys.SigningKey,
    operator_did: str,
    now: Any,
    values: dict[str, str],
    regimes: tuple[str, ...],
) -> dict[str, Any]:
    kind = "voice" if "no-fakes" in regimes else "work"
    contact = {key: values[key] for key in ("name", "email", "address", "phone")}
    jp = {"infringed_right": "著作権", "reason": "無断学習", "requester_address": values["requester_address"]}
    return complete_notice(
        notifier_key, operator_did, now, regimes=regimes, kind=kind, contact=contact,
        signature=values["signature"], jp_platform=jp,
    )  # fmt: skip


def _signed_get(registry: Registry, path: str, key: keys.SigningKey, **changes: Any) -> dict[str, str]:
    url = str(registry.http.base_url).rstrip("/") + path
    created = int(registry.clock().timestamp())
    return access_headers(
        changes.get("method", "GET"), url, key, keys.verification_method_for(key.did),
        created=changes.get("created", created), nonce=changes.get("nonce", secrets.token_urlsafe(18)),
    )  # fmt: skip


async def _tree_size(registry: Registry) -> int:
    return int((await registry.http.get("/log/checkpoint")).text.splitlines()[1])


REGIMES = [("dmca",), ("dsa",), ("jp-platform",), ("no-fakes", "dsa"), ("dmca", "dsa", "jp-platform")]


async def test_personal_values_appear_on_no_public_surface(
    registry: Registry,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    db_url: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    person = {"name": _secret("Contact Person"), "email": f"{_secret('person')}@acme.example"}
    document = registration(operator, registry.clock(), webhook=receiver.url)
    document.pop("proof")
    document["contact_person"] = person
    answer = await registry.post(
        "/v1/operators", signed_with_part("OperatorRegistration", document, operator, registry.clock())
    )
    assert answer.status_code == 201, answer.text
    secrets_filed = list(person.values())
    ids = []
    for regimes in REGIMES:
        values = _values()
        secrets_filed += list(values.values())
        answer = await registry.post(
            "/v1/notices", _notice_body(notifier, operator.did, registry.clock(), values, regimes)
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["personal"][0]["state"] == "held"
        ids.append(answer.json()["id"])
    await registry.drain()  # deliveries first, so the steps below do not race them
    counter = {"name": _secret("Uploader Person"), "email": f"{_secret('uploader')}@example.com"}
    secrets_filed += list(counter.values())
    await _walk(registry, ids[0], (operator, "acknowledge"), (operator, "action"))
    answer = await _step(
        registry, operator, ids[0], "counter-notice", contact=counter, signature="/Uploader/"
    )
    assert answer.status_code == 201, answer.text
    await _walk(registry, ids[1], (operator, "acknowledge"), (operator, "reject"))
    await registry.drain()

    surfaces: list[str] = []
    for notice_id in ids:
        for path in (
            f"/v1/notices/{notice_id}",
            f"/v1/notices/{notice_id}/export/lumen",
            f"/notices/{notice_id}",
        ):
            surfaces.append((await registry.http.get(path)).text)
    surfaces.append((await registry.http.get(f"/v1/notices/{ids[1]}/export/dsa-sor")).text)
    for path in (
        f"/v1/operators/{operator.did}/notices",
        "/v1/stats/operators",
        "/stats",
        "/takedown",
        "/openapi.json",
    ):
        surfaces.append((await registry.http.get(path)).text)
    size = await _tree_size(registry)
    tile = await registry.http.get(f"/log/tile/entries/000.p/{size}")
    assert tile.status_code == 200 and b"NoticeResponse" in tile.content
    surfaces.append(tile.content.decode("latin-1"))
    surfaces.append((await registry.http.get("/v1/snapshot")).content.decode("latin-1"))
    surfaces += [received.body.decode() for received in receiver.received]
    surfaces += [record.getMessage() for record in caplog.records]
    if db_url.startswith("sqlite"):
        surfaces += [
            path.read_bytes().decode("latin-1")
            for path in Path(db_url.removeprefix("sqlite://")).parent.glob("*.sqlite3*")
        ]
    assert receiver.received, "the webhook to the operator ran"
    for value in secrets_filed:
        for surface in surfaces:
            assert value not in surface and value.encode().decode("latin-1") not in surface, value

    # ... yet the notifier and the operator see every part, and the commitment binds it.
    answer = await registry.http.get(
        f"/v1/notices/{ids[0]}/personal",
        headers=_signed_get(registry, f"/v1/notices/{ids[0]}/personal", operator),
    )
    assert answer.status_code == 200, answer.text
    parts = answer.json()["parts"]
    assert [part["type"] for part in parts] == ["Notice", "NoticeResponse"]
    assert parts[1]["data"]["contact"] == counter
    mine = await registry.http.get(
        f"/v1/operators/{operator.did}/personal",
        headers=_signed_get(registry, f"/v1/operators/{operator.did}/personal", operator),
    )
    assert mine.status_code == 200 and mine.json()["parts"][0]["data"]["contact_person"] == person


async def test_only_the_notifier_and_the_registered_operator_read_and_each_read_is_recorded(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    values = _values()
    answer = await registry.post(
        "/v1/notices", _notice_body(notifier, operator.did, registry.clock(), values, ("dsa",))
    )
    notice_id = answer.json()["id"]
    path = f"/v1/notices/{notice_id}/personal"
    problem = _problem(await registry.http.get(path), 401, "authentication-required")
    assert "Accept-Signature" in (await registry.http.get(path)).headers and values[
        "email"
    ] not in json.dumps(problem)
    # the operator has not registered yet: not until it does
    _problem(
        await registry.http.get(path, headers=_signed_get(registry, path, operator)), 403, "not-entitled"
    )
    mallory = keys.SigningKey.generate()
    _problem(await registry.http.get(path, headers=_signed_get(registry, path, mallory)), 403, "not-entitled")
    await _register(registry, operator)
    headers = _signed_get(registry, path, operator)
    seen = await registry.http.get(path, headers=headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["parts"][0]["data"]["contact"]["email"] == values["email"]
    assert seen.headers["cache-control"] == "no-store"
    _problem(await registry.http.get(path, headers=headers), 401, "signature-refused")  # a replay
    stale = _signed_get(registry, path, operator, created=int(registry.clock().timestamp()) - 3600)
    _problem(await registry.http.get(path, headers=stale), 401, "signature-refused")
    other_path = _signed_get(registry, f"/v1/notices/{'0' * 64}/personal", operator)
    _problem(await registry.http.get(path, headers=other_path), 401, "signature-refused")
    forged = dict(_signed_get(registry, path, operator))
    forged["Signature-Input"] = forged["Signature-Input"].replace(operator.did, notifier.did)
    _problem(await registry.http.get(path, headers=forged), 401, "signature-refused")
    own = await registry.http.get(path, headers=_signed_get(registry, path, notifier))
    assert own.status_code == 200
    assert [(read["reader"], read["role"]) for read in own.json()["reads"]] == [
        (operator.did, "operator"), (notifier.did, "notifier"),
    ]  # fmt: skip


async def test_bad_personal_parts_are_refused_and_change_nothing(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    before = await _tree_size(registry)
    now = registry.clock()
    good = _notice_body(notifier, operator.did, now, _values(), ("dsa",))

    wrong = _notice_body(notifier, operator.did, now, _values(), ("dsa",))
    wrong["personal"]["data"]["contact"]["name"] = "Someone Else"
    problem = _problem(await registry.post("/v1/notices", wrong), 422, "invalid-personal-part")
    assert "Someone Else" not in json.dumps(problem)

    missing = dict(good)
    missing.pop("personal")
    _problem(await registry.post("/v1/notices", missing), 422, "invalid-personal-part")

    inline = complete_notice(notifier, operator.did, now, regimes=("dsa",))
    whole = dict(document_of(inline))
    whole.pop("proof"), whole.pop("personal")
    whole["contact"] = {"name": "Inline Name", "email": "inline@example.jp"}
    signed = keys.sign_document(whole, notifier, created=now)
    problem = _problem(await registry.post("/v1/notices", signed), 422, "invalid-document")
    assert {error["pointer"] for error in problem["errors"]} == {"/contact/name", "/contact/email"}
    assert "inline@example.jp" not in json.dumps(problem)

    extra = _notice_body(notifier, operator.did, now, _values(), ("dsa",))
    unsigned = dict(extra["document"])
    unsigned.pop("proof")
    unsigned.pop("personal")
    data = dict(extra["personal"]["data"], grounds="not personal")
    public, part = split("Notice", {**unsigned, **data})
    assert part is not None
    part["data"]["grounds"] = "smuggled"
    from registry.privacy.personal import commitment_of, decode_salt

    public["personal"] = {"commitment": commitment_of(decode_salt(part["salt"]), part["data"])}
    problem = _problem(
        await registry.post(
            "/v1/notices", {"document": keys.sign_document(public, notifier, created=now), "personal": part}
        ),
        422,
        "invalid-personal-part",
    )
    assert problem["errors"][0]["pointer"] == "/personal/data/grounds"

    huge = _notice_body(notifier, operator.did, now, _values(), ("dsa",))
    huge["personal"]["data"]["contact"]["address"] = "z" * 17_000
    problem = _problem(await registry.post("/v1/notices", huge), 413, "personal-part-too-large")
    assert "zzzz" not in json.dumps(problem)
    malformed = dict(good, personal={"salt": "short", "data": {"contact": {"name": "x"}}})
    _problem(await registry.post("/v1/notices", malformed), 422, "invalid-personal-part")
    _problem(await registry.post("/v1/notices", dict(good, extra=1)), 422, "invalid-document")
    assert await _tree_size(registry) == before
    assert (await registry.post("/v1/notices", good)).status_code == 201


async def test_erasure_by_the_notifier_the_registry_and_retention(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    await _register(registry, operator)
    values = _values()
    first = (
        await registry.post(
            "/v1/notices", _notice_body(notifier, operator.did, registry.clock(), values, ("dsa",))
        )
    ).json()["id"]
    now = registry.clock()

    def erasure(key: keys.SigningKey, ground: str = "request", notice_id: str = first) -> dict[str, Any]:
        return keys.sign_document(
            new_erasure(key.did, notice_id, [first], ground, created=registry.clock()),
            key,
            created=registry.clock(),
        )

    path = f"/v1/notices/{first}/erasure"
    before = await _tree_size(registry)
    _problem(await registry.post(path, erasure(operator)), 403, "not-entitled")
    _problem(await registry.post(path, erasure(keys.SigningKey.generate())), 403, "not-entitled")
    _problem(await registry.post(path, erasure(notifier, "legal-order")), 403, "not-entitled")
    _problem(
        await registry.post(f"/v1/notices/{'1' * 64}/erasure", erasure(notifier)), 422, "invalid-document"
    )
    assert await _tree_size(registry) == before
    done = await registry.post(path, erasure(notifier))
    assert done.status_code == 201, done.text
    _problem(await registry.post(path, erasure(notifier)), 409, "already-erased")
    notice = (await registry.http.get(f"/v1/notices/{first}")).json()
    assert notice["personal"][0]["state"] == "erased" and notice["personal"][0]["ground"] == "request"
    seen = (
        await registry.http.get(
            f"/v1/notices/{first}/personal",
            headers=_signed_get(registry, f"/v1/notices/{first}/personal", notifier),
        )
    ).json()
    assert "data" not in seen["parts"][0] and values["email"] not in json.dumps(seen)
    entry = (await registry.http.get(f"/log/tile/entries/000.p/{await _tree_size(registry)}")).content
    assert b"PersonalDataErasure" in entry and values["email"].encode() not in entry

    # an administrator on a legal order, and retention after close
    privacy = registry.state.notices.privacy  # type: ignore[union-attr]
    second = (
        await registry.post("/v1/notices", _notice_body(notifier, operator.did, now, _values(), ("dsa",)))
    ).json()["id"]
    receipt = await privacy.erase_by_registry(
        "legal-order", notice_id=second, reference="Tokyo District Court 2026(ワ)123"
    )
    assert receipt["ground"] == "legal-order"
    third = (
        await registry.post(
            "/v1/notices", _notice_body(notifier, operator.did, registry.clock(), _values(), ("dsa",))
        )
    ).json()["id"]
    await _walk(registry, third, (operator, "acknowledge"), (operator, "action"), (notifier, "close"))
    assert await privacy.erase_expired() == []
    registry.clock.advance(days=1096)
    assert await privacy.erase_expired() == [third]
    assert (await registry.http.get(f"/v1/notices/{third}")).json()["personal"][0]["ground"] == "retention"
    assert now < registry.clock() - timedelta(days=1000)
