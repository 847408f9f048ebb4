"""`POST /v1/check` through the fast path (`registry.check_fast`) against the same application with
the reference path put back: for signed answers and for every kind of refusal, the same status,
the same media type and the same bytes (the signature included; the clock stands still); bodies of
plain ASCII URL items among them, which `registry.check_urls` reads without parsing them whole."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

import keys
import registry.store
from registry.answers import AnswerItems
from registry.check_fast import PlannedCheck
from registry.checking import validate_check_request
from registry.index import ClaimIndex
from tests.api.test_claims_api import file
from tests.conftest import Clock
from tests.factories import signed_claim
from tests.registry.test_check_fast import BROKEN_ITEMS, reference_hits

CLAIMED = (
    "https://example.com/gallery/",
    "https://www.example.org/",
    "http://日本.example/作品/",
    "http://1.2.3.4/a/",
)
ITEMS: list[dict[str, Any]] = [
    {"scheme": "url", "value": "https://example.com/gallery/2024/a.png"},
    {"scheme": "url", "value": "HTTPS://WWW.EXAMPLE.COM:443/gallery/../gallery/b.png#top"},
    {"scheme": "url", "value": "https://user@shop.www.example.org./cart?x=1"},
    {"scheme": "url", "value": "http://xn--wgv71a.example/%E4%BD%9C%E5%93%81/1"},
    {"scheme": "url", "value": "http://0x01020304/a/b"},
    {"scheme": "url", "value": 'http://日本.example/作品/\u2028"x\\'},
    {"scheme": "url", "value": "https://unclaimed.example/"},
    {"value": "https://example.com/gallery/c", "scheme": "url"},
    {"scheme": "name", "value": "Hatsune Miku"},
    {"scheme": "text", "value": "in the style of 初音ミク"},
    {"scheme": "sha256", "value": "AB" * 32},
]


def reference_plan(body: object) -> PlannedCheck:
    request = validate_check_request(body)
    return PlannedCheck(request, list(request.items))


def reference_answer_all(index: ClaimIndex, items: Any, answers: AnswerItems, cache: Any = None) -> None:
    for item in items:
        answers.add(item, reference_hits(index, item))


def bodies() -> list[bytes]:
    good: list[object] = [
        {"purpose": "train-ai", "items": ITEMS},
        {"items": ITEMS * 3, "territory": "JP", "min_authority": "self-asserted"},
        {"purpose": "generate", "items": [ITEMS[0]] * 40},
    ]
    broken: list[object] = [
        {"items": [ITEMS[0], item, ITEMS[1]]} for item in BROKEN_ITEMS if not _lone_surrogate(item)
    ]
    broken += [
        {"items": []},
        {"items": ITEMS[0]},
        {"purpose": "train", "items": ITEMS},
        {"items": ITEMS, "at": "yesterday"},
        {"items": ITEMS, "extra": 1},
        [ITEMS[0]],
        {"items": [ITEMS[0]] * 51},  # beyond the test registry's 50
    ]
    texts = [json.dumps(body, ensure_ascii=False).encode() for body in good + broken]
    # Bodies of plain ASCII URL items, which `registry.check_urls` reads without parsing them whole.
    plain = [
        item
        for item in ITEMS
        if list(item) == ["scheme", "value"] and item["scheme"] == "url" and "\\" not in json.dumps(item)
    ]
    texts[3:3] = [
        json.dumps({"items": plain * 2, "purpose": "train-ai"}, separators=(",", ":")).encode(),
        json.dumps({"territory": "JP", "items": plain}, indent="\t").encode(),
    ]
    texts += [
        json.dumps({"items": plain + [ITEMS[0]] * 50}).encode(),  # beyond the test registry's 50
        json.dumps({"items": [*plain, {"scheme": "url", "value": "ftp://example.com/"}]}).encode(),
        b'{"items": [' + json.dumps(ITEMS[0]).encode() + b",]}",
        b'{"items": [' + json.dumps(ITEMS[0]).encode() + b'], "purpose": "train"}',
    ]
    texts += [b'{"items": [' + b",".join([json.dumps(ITEMS[0]).encode()] * 30) + b"], "]  # cut short
    texts += [b'{"items": [{"scheme": "url", "value": "https://example.com/", "value": "x"}]}']
    texts += [b'{"items": ' + b"[" * 70 + b"]" * 70 + b"}"]
    return texts


def _lone_surrogate(item: object) -> bool:
    """Not sendable as UTF-8 JSON at all (the strict parse refuses its escaped form first)."""
    return isinstance(item, dict) and any(
        isinstance(v, str) and any("\ud800" <= c <= "\udfff" for c in v) for v in item.values()
    )


async def answers_to(api: httpx.AsyncClient) -> list[tuple[int, str, bytes]]:
    out = []
    for body in bodies():
        response = await api.post("/v1/check", content=body, headers={"Content-Type": "application/json"})
        out.append((response.status_code, response.headers["content-type"], response.content))
    return out


async def test_the_fast_path_answers_and_refuses_byte_for_byte_as_the_reference(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number, url in enumerate(CLAIMED):
        extra: dict[str, Any] = {"territories": ["JP"]} if number == 1 else {}
        if number == 2:
            extra["identifiers"] = [{"scheme": "name", "value": "初音ミク"}]
        response = await file(
            api, signed_claim(alice, clock.now - timedelta(seconds=number), urls=(url,), **extra)
        )
        assert response.status_code == 201, response.text

    taken: list[int] = []
    answer_plain = registry.store.answer_plain
    monkeypatch.setattr(registry.store, "answer_plain", lambda *args: taken.append(1) or answer_plain(*args))
    fast = await answers_to(api)
    assert len(taken) == 3  # the plain bodies
    again = await answers_to(api)  # from the templates kept by the first round
    monkeypatch.setattr(registry.store, "plan_check", reference_plan)
    monkeypatch.setattr(registry.store, "answer_all", reference_answer_all)
    monkeypatch.setattr(registry.store, "plan_plain_body", lambda raw, limit: None)
    reference = await answers_to(api)

    assert [status for status, _, _ in fast][:5] == [200] * 5
    assert {status for status, _, _ in fast[5:]} <= {400, 413, 422}
    assert fast == reference
    assert again == reference
    signed = json.loads(fast[0][2])
    assert sum(item["decision"] == "n" for item in signed["items"]) >= 5
