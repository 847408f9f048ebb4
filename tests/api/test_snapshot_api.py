"""Snapshots over HTTP: offline checks agree with online ones; deltas rebuild the full snapshot exactly;
anything tampered with, truncated or from another registry is refused."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import httpx
import pytest

import keys
from crawler_client.snapshot import Snapshot, SnapshotRefused
from registry.snapshot import InvalidSnapshot, apply_delta, read_delta, read_full
from tests.api.test_claims_api import assert_problem, file
from tests.api.test_matching_api import VOICE_SPACE, flip, isni_with_check, unit_vector_at
from tests.conftest import Clock
from tests.factories import signed_claim, signed_withdrawal

RNG = random.Random(2026)
VOICE = [RNG.gauss(0, 1) for _ in range(192)]
PDQ = RNG.randbytes(32)
ISNI = isni_with_check("000000012103268")


async def filed(api: httpx.AsyncClient, key: keys.SigningKey, clock: Clock, **kw: Any) -> str:
    response = await file(api, signed_claim(key, clock.now, **kw))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def populate(api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock) -> dict[str, str]:
    ids = {
        "site": await filed(api, alice, clock, urls=("https://example.com/",), deny=("train-ai",)),
        "gallery": await filed(
            api,
            alice,
            clock,
            urls=("https://art.example.org/gallery/",),
            deny=("generate",),
            allow={"search": "y"},
        ),
        "file": await filed(api, alice, clock, urls=(), sha256=("ab" * 32,), deny=("train-ai",)),
        "voice": await filed(
            api,
            alice,
            clock,
            urls=(),
            kind="voice",
            deny=("generate",),
            identifiers=[
                ("name", "山寺宏一"),
                ("name", "Koichi Yamadera"),
                ("isni", ISNI),
            ],
        ),
        "later": await filed(
            api, alice, clock, urls=("https://later.example.net/",), valid_from=clock.now + timedelta(days=30)
        ),
        "japan": await filed(api, alice, clock, urls=("https://jp.example.com/",), territories=["JP"]),
    }
    for name, identifier in (
        ("pdq", {"scheme": "pdq", "value": PDQ.hex(), "quality": 90}),
        ("embedding", {"scheme": "embedding", "space": VOICE_SPACE, "vector": VOICE}),
    ):
        claim = signed_claim(
            alice, clock.now, urls=(), identifiers=[identifier], kind="voice", deny=("generate",)
        )
        response = await file(api, claim)
        assert response.status_code == 201, response.text
        ids[name] = str(response.json()["id"])
    return ids


QUERIES: list[dict[str, Any]] = [
    {"scheme": "url", "value": "https://WWW.Example.com:443/a/b.png#x"},
    {"scheme": "url", "value": "http://example.com"},
    {"scheme": "url", "value": "https://art.example.org/gallery/2024/x.jpg?size=2"},
    {"scheme": "url", "value": "https://art.example.org/other/"},
    {"scheme": "url", "value": "https://unrelated.example/"},
    {"scheme": "url", "value": "https://later.example.net/page"},
    {"scheme": "url", "value": "https://jp.example.com/page"},
    {"scheme": "url", "value": "http://0x7f.1/%2e%2E/a"},
    {"scheme": "sha256", "value": "AB" * 32},
    {"scheme": "sha256", "value": "cd" * 32},
    {"scheme": "name", "value": "山寺 宏一"},
    {"scheme": "text", "value": "in the voice of koichi  YAMADERA please"},
    {"scheme": "name", "value": "Yamada"},
    {"scheme": "isni", "value": ISNI},
    {"scheme": "pdq", "value": flip(PDQ, 20, RNG).hex()},
    {"scheme": "pdq", "value": flip(PDQ, 60, RNG).hex()},
    {"scheme": "embedding", "space": VOICE_SPACE, "vector": unit_vector_at(VOICE, 0.93, RNG)},
    {"scheme": "embedding", "space": VOICE_SPACE, "vector": unit_vector_at(VOICE, 0.85, RNG)},
]


async def online(api: httpx.AsyncClient, clock: Clock, **extra: Any) -> dict[str, Any]:
    response = await api.post("/v1/check", json={"items": QUERIES, **extra})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def snapshot_bytes(api: httpx.AsyncClient, **params: Any) -> bytes:
    response = await api.get("/v1/snapshot", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.kotowari.snapshot"
    return response.content


@pytest.mark.parametrize("extra", [{}, {"purpose": "generate"}, {"purpose": "train-ai", "territory": "FR"}])
async def test_offline_checks_give_the_online_answers(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock, extra: dict[str, Any]
):
    await populate(api, alice, clock)
    answer = await online(api, clock, **extra)
    snapshot = Snapshot.from_bytes(await snapshot_bytes(api))
    offline = snapshot.check(QUERIES, at=clock.now, **extra)
    assert offline["checkpoint"] == answer["checkpoint"]
    assert offline["items"] == answer["items"]
    decided = [item["decisions"] for item in answer["items"]]
    assert sum(d["generate"] == "n" for d in decided) >= 6  # the queries do exercise every scheme


async def test_batch_url_decisions_agree_with_check(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    await populate(api, alice, clock)
    snapshot = Snapshot.from_bytes(await snapshot_bytes(api))
    values = [q["value"] for q in QUERIES if q["scheme"] == "url"] + ["not a url at all", "http://[::1", None]
    batch = snapshot.decide_urls(values, "train-ai", at=clock.now)
    expected = snapshot.check(
        [{"scheme": "url", "value": v} for v in values[:-3]], purpose="train-ai", at=clock.now
    )
    codes = {"unknown": 0, "y": 1, "n": 2}
    assert batch.codes.tolist()[:-3] == [codes[item["decision"]] for item in expected["items"]]
    assert batch.codes.tolist()[-2:] == [3, 3]
    assert batch.claims[0] == [m["claim"] for m in expected["items"][0]["matches"]]


async def test_a_delta_rebuilds_the_full_snapshot_byte_for_byte(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    ids = await populate(api, alice, clock)
    first = await snapshot_bytes(api)
    state, data = read_full(first)
    assert len(data.claims) == len(ids)
    # Withdraw one old claim, add two, and add-then-withdraw a third inside the same interval.
    clock.now += timedelta(seconds=5)
    for claim_id in (ids["gallery"],):
        response = await api.post(
            f"/v1/claims/{claim_id}/withdraw",
            content=keys.canonicalize(signed_withdrawal(alice, claim_id, clock.now)),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
    await filed(api, alice, clock, urls=("https://new.example/",))
    await filed(api, alice, clock, urls=(), sha256=("ef" * 32,))
    transient = await filed(api, alice, clock, urls=("https://brief.example/",))
    response = await api.post(
        f"/v1/claims/{transient}/withdraw",
        content=keys.canonicalize(signed_withdrawal(alice, transient, clock.now)),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200

    delta = read_delta(await snapshot_bytes(api, since=state.tree_size))
    assert delta.removed == [ids["gallery"]] and len(delta.added.claims) == 2
    full = await snapshot_bytes(api)
    new_state, new_data = read_full(full)
    merged = apply_delta(data, delta)
    from registry.snapshot import encode_full

    assert encode_full(delta.state, merged) == full
    assert delta.state.tree_size == new_state.tree_size == state.tree_size + 5
    # A delta from the current size changes nothing; one from 0 is everything.
    empty = read_delta(await snapshot_bytes(api, since=new_state.tree_size))
    assert empty.removed == [] and empty.added.claims == []
    everything = read_delta(await snapshot_bytes(api, since=0))
    assert (
        encode_full(everything.state, apply_delta(read_full(first)[1].without(ids.values()), everything))
        == full
    )
    # A delta does not apply to a snapshot it does not continue.
    with pytest.raises(InvalidSnapshot, match="does not continue"):
        apply_delta(new_data.without([ids["site"]]), delta)


async def test_bad_since_is_a_problem(api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock):
    await filed(api, alice, clock)
    assert_problem(await api.get("/v1/snapshot", params={"since": "abc"}), 400, "invalid-parameter")
    assert_problem(await api.get("/v1/snapshot", params={"since": "-1"}), 400, "invalid-parameter")
    assert_problem(await api.get("/v1/snapshot", params={"since": "99"}), 409, "snapshot-ahead")


async def test_tampered_truncated_and_foreign_snapshots_are_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    await populate(api, alice, clock)
    raw = await snapshot_bytes(api)
    state, _ = read_full(raw)
    Snapshot.from_bytes(raw, registry=state.registry)  # the genuine one verifies
    area_start = len(raw) - sum(-(-s["length"] // 8) * 8 for s in state.sections)
    hashes = next(s for s in state.sections if s["name"] == "exact/hashes")
    for position, why in (
        (area_start + hashes["offset"] + 3, "exact/hashes is corrupt"),
        (area_start - 1, "padding|JSON|header"),  # the header's last byte or its padding
        (20, "header|signature|JSON"),
        (len(raw) - 1, "padding|corrupt|after the last section"),
    ):
        damaged = bytearray(raw)
        damaged[position] ^= 0x01
        with pytest.raises(SnapshotRefused, match=why):
            Snapshot.from_bytes(bytes(damaged))
    for cut in (9, 1000, len(raw) - 10):
        with pytest.raises(SnapshotRefused, match=r"truncated|bad magic"):
            Snapshot.from_bytes(raw[: len(raw) - cut])
    with pytest.raises(SnapshotRefused, match="after the last section"):
        Snapshot.from_bytes(raw + bytes(8))
    with pytest.raises(SnapshotRefused, match="bad magic"):
        Snapshot.from_bytes(b"PK\x03\x04" + raw[4:])
    with pytest.raises(SnapshotRefused, match=r"not .*did:key|signed for registry"):
        Snapshot.from_bytes(raw, registry=mallory.did)
    # Re-signed by someone else, claiming to be the registry: the proof names the wrong key.
    forged = dict(state.document)
    del forged["proof"]
    from registry.snapshot_file import FULL_MAGIC, _frame

    resigned = keys.sign_document(forged, mallory)
    with pytest.raises(SnapshotRefused, match="signed by"):
        Snapshot.from_bytes(_frame(FULL_MAGIC, resigned, [raw[area_start:]]))


async def test_disputes_reach_snapshots_and_deltas(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    from registry.snapshot import encode_full
    from tests.notice_factories import dispute

    ours = await filed(api, alice, clock, urls=("https://contested.example/works/",))
    theirs = await filed(api, mallory, clock, urls=("https://contested.example/works/",))
    await filed(api, alice, clock, urls=("https://calm.example/",))
    before = await snapshot_bytes(api)
    state, data = read_full(before)
    opened = await api.post(
        "/v1/disputes",
        content=keys.canonicalize(dispute(alice, ours, theirs, clock.now)),
        headers={"Content-Type": "application/json"},
    )
    assert opened.status_code == 201, opened.text

    items = [
        {"scheme": "url", "value": u} for u in ("https://contested.example/works/a", "https://calm.example/")
    ]
    response = await api.post("/v1/check", json={"items": items, "purpose": "train-ai"})
    online = response.json()
    full = await snapshot_bytes(api)
    offline = Snapshot.from_bytes(full).check(items, purpose="train-ai", at=clock.now)
    assert offline["items"] == online["items"]
    assert {m["claim"] for m in online["items"][0]["matches"] if m.get("disputed")} == {ours, theirs}
    assert "disputed" not in online["items"][1]["matches"][0]

    delta = read_delta(await snapshot_bytes(api, since=state.tree_size))
    assert sorted(delta.removed) == sorted([ours, theirs])  # both come back, marked
    assert encode_full(delta.state, apply_delta(data, delta)) == full
