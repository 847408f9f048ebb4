"""`GET /v1/claims`: filters that match as a check does, cursor pages, authority on every item, and a
400 `invalid-parameter` naming the parameter for anything it cannot take; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import keys
from api.claim_list_routes import ClaimPage
from registry.claim_queries import ClaimFilter, encode_cursor
from tests.api.test_claims_api import assert_problem, file
from tests.conftest import Clock
from tests.factories import signed_claim, signed_withdrawal


async def listed(api: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await api.get("/v1/claims", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = ClaimPage.model_validate(response.json()).model_dump(exclude_none=True)
    return page


async def everything(api: httpx.AsyncClient, **params: Any) -> list[str]:
    """The ids of every page, followed by `next` links."""
    ids: list[str] = []
    page = await listed(api, **params)
    while True:
        ids += [claim["id"] for claim in page["claims"]]
        if page.get("next") is None:
            return ids
        response = await api.get(page["next"])
        assert response.status_code == 200, response.text
        page = response.json()


async def filed(api: httpx.AsyncClient, document: dict[str, Any]) -> str:
    response = await file(api, document)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_filters_match_as_a_check_would_and_name_each_claims_authority(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    gallery = await filed(api, signed_claim(alice, clock.now, urls=("https://example.com/gallery/",)))
    voice = await filed(
        api,
        signed_claim(
            alice,
            clock.now,
            urls=(),
            kind="voice",
            identifiers=[("name", "山田花子"), ("name", "Hanako Yamada")],
            title="山田花子の声",
        ),
    )
    other = await filed(api, signed_claim(mallory, clock.now, urls=("https://example.org/",)))
    withdrawn = await filed(api, signed_claim(alice, clock.now, urls=("https://example.com/old/",)))
    response = await api.post(
        f"/v1/claims/{withdrawn}/withdraw",
        content=keys.canonicalize(signed_withdrawal(alice, withdrawn, clock.now)),
    )
    assert response.status_code == 200, response.text

    every = await listed(api)
    assert [c["id"] for c in every["claims"]] == [gallery, voice, other, withdrawn]
    assert every.get("cursor") is None and every.get("next") is None
    assert every["tree_size"] == 5
    assert all(claim["authority"] == ["self-asserted"] for claim in every["claims"])
    assert every["claims"][1]["title"] == "山田花子の声" and every["claims"][1]["kind"] == "voice"
    assert keys.document_id(every["claims"][0]["document"]) == gallery

    mine = await listed(api, claimant=alice.did)
    assert [c["id"] for c in mine["claims"]] == [gallery, voice, withdrawn]
    by_url = await listed(api, url="https://WWW.Example.com:443/gallery/2024/a.png#x")
    assert [c["id"] for c in by_url["claims"]] == [gallery]
    assert by_url["claims"][0]["matches"] == [
        {"match": "url", "key": "example.com/gallery/", "authority": ["self-asserted"]}
    ]
    assert [
        c["id"] for c in (await listed(api, name="やまだ はなこ"))["claims"]
    ] == []  # readings are not derived
    assert [c["id"] for c in (await listed(api, name="HANAKO  yamada"))["claims"]] == [voice]
    assert [c["id"] for c in (await listed(api, kind="voice"))["claims"]] == [voice]
    assert [c["id"] for c in (await listed(api, status="active"))["claims"]] == [gallery, voice, other]
    gone = (await listed(api, status="withdrawn"))["claims"]
    assert [c["id"] for c in gone] == [withdrawn] and gone[0]["withdrawal"]["log_index"] == 4
    assert [c["id"] for c in (await listed(api, url="https://example.com/old/x.png"))["claims"]] == [
        withdrawn
    ]
    assert (await listed(api, url="https://example.com/old/x.png", status="active"))["claims"] == []
    assert [
        c["id"] for c in (await listed(api, url="https://example.com/", claimant=mallory.did))["claims"]
    ] == []
    both = await listed(api, url="https://example.com/gallery/", name="Hanako Yamada")
    assert both["claims"] == []  # every filter must hold


async def test_pages_in_log_order_follow_next_links_and_see_later_claims_at_the_end(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    ids = [
        await filed(api, signed_claim(alice, clock.now, urls=(f"https://example.com/{n}/",)))
        for n in range(6)
    ]
    ids.append(await filed(api, signed_claim(alice, clock.now, urls=("https://example.com/",))))
    first = await listed(api, claimant=alice.did, limit=3)
    assert [c["id"] for c in first["claims"]] == ids[:3]
    response = await api.get("/v1/claims", params={"claimant": alice.did, "limit": 3})
    assert response.headers["link"] == f'<{first["next"]}>; rel="next"'
    later = await filed(api, signed_claim(alice, clock.now, urls=("https://example.com/later/",)))
    assert await everything(api, claimant=alice.did, limit=3) == [*ids, later]
    later_url = await filed(api, signed_claim(alice, clock.now, urls=("https://example.com/2/",)))
    assert await everything(api, url="https://example.com/2/a.png", limit=1) == [ids[2], ids[6], later_url]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"claimant": "alice"}, "claimant"),
        ({"kind": "song"}, "kind"),
        ({"status": "gone"}, "status"),
        ({"url": "ftp://example.com/"}, "url"),
        ({"name": "・・・"}, "name"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "bm9wZQ"}, "cursor"),
        ({"kind": ""}, "kind"),
        ({"claimaint": "did:key:z6Mk"}, "claimaint"),
        ([("kind", "work"), ("kind", "voice")], "kind"),
    ],
    ids=[
        "claimant",
        "kind",
        "status",
        "url",
        "name",
        "limit-0",
        "limit-1001",
        "limit-text",
        "cursor",
        "empty",
        "unknown",
        "repeated",
    ],
)
async def test_bad_parameters_are_a_problem_naming_the_parameter(
    api: httpx.AsyncClient, params: Any, parameter: str
):
    problem = assert_problem(await api.get("/v1/claims", params=params), 400, "invalid-parameter")
    assert problem["errors"][0]["pointer"] == parameter


async def test_a_cursor_is_refused_with_other_filters(api: httpx.AsyncClient, alice: keys.SigningKey):
    cursor = encode_cursor(ClaimFilter(kind="work"), 3)
    assert (await api.get("/v1/claims", params={"kind": "work", "cursor": cursor})).status_code == 200
    problem = assert_problem(
        await api.get("/v1/claims", params={"kind": "voice", "cursor": cursor}), 400, "invalid-parameter"
    )
    assert "other filters" in problem["detail"]


async def test_the_listing_is_in_the_openapi(api: httpx.AsyncClient):
    spec = (await api.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/claims"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "claimant", "name", "url", "kind", "status", "cursor", "limit",
    }  # fmt: skip
    assert "post" in spec["paths"]["/v1/claims"] and "ClaimPage" in spec["components"]["schemas"]
