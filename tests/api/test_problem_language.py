"""Problems in the reader's language (issue 16): Accept-Language asks for Japanese title, detail and
field reasons; English stays the default and byte-identical; type, status, instance and pointers never
change; every problem names its language (Content-Language) and varies by it. On the real app, on
SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import httpx

import keys
from tests.conftest import Clock
from tests.factories import body, signed_claim, signed_withdrawal

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
JSON = {"Content-Type": "application/json"}


async def post(api: httpx.AsyncClient, path: str, content: bytes, language: str | None) -> httpx.Response:
    headers = {**JSON, **({"Accept-Language": language} if language is not None else {})}
    return await api.post(path, content=content, headers=headers)


def texts(problem: dict[str, Any]) -> list[str]:
    return [problem["title"], problem["detail"], *(error["detail"] for error in problem.get("errors", []))]


def machine_fields(problem: dict[str, Any]) -> dict[str, Any]:
    """Everything but the localised texts."""
    out = {key: value for key, value in problem.items() if key not in ("title", "detail", "errors")}
    out["pointers"] = [error["pointer"] for error in problem.get("errors", [])]
    return out


async def test_a_schema_refusal_in_japanese_keeps_every_machine_field(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
) -> None:
    claim = signed_claim(alice, clock.now)
    claim["uses"] = {"train-ai": "maybe"}
    raw = body(claim)
    english = await post(api, "/v1/claims", raw, None)
    japanese = await post(api, "/v1/claims", raw, "ja-JP,ja;q=0.9,en;q=0.5")
    assert english.status_code == japanese.status_code == 422
    assert english.headers["content-language"] == "en" and japanese.headers["content-language"] == "ja"
    assert "accept-language" in english.headers["vary"].lower()
    en, ja = english.json(), japanese.json()
    assert machine_fields(en) == machine_fields(ja)
    assert en["detail"] == "Input should be 'y' or 'n' at /uses/train-ai"
    assert ja["title"] == "文書がスキーマに合いません"
    assert ja["detail"] == "'y'、'n' のいずれかにしてください（/uses/train-ai の箇所）"
    assert ja["errors"][0] == {"pointer": "/uses/train-ai", "detail": "'y'、'n' のいずれかにしてください"}
    assert all(JAPANESE.search(text) for text in texts(ja))


async def test_english_is_byte_identical_without_a_japanese_preference(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
) -> None:
    claim = signed_claim(alice, clock.now)
    claim["subject"]["identifiers"][0]["value"] = "ftp://example.com/"
    raw = body(claim)
    plain = await post(api, "/v1/claims", raw, None)
    for language in ("en", "en-GB,en;q=0.9,ja;q=0.5", "fr, de;q=0.5", "*", "ja;q=0", "garbage;;q=x"):
        answer = await post(api, "/v1/claims", raw, language)
        assert answer.content == plain.content, language
        assert answer.headers["content-language"] == "en"
    assert b"invalid URL: not an http(s) URL" in plain.content


async def test_japanese_is_chosen_by_quality_as_rfc_9110_orders_it(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
) -> None:
    missing = "0" * 64
    for language in ("ja", "JA-jp", "fr, ja;q=0.9, en;q=0.8", "en;q=0.4, ja;q=0.6"):
        answer = await api.get(f"/v1/claims/{missing}", headers={"Accept-Language": language})
        assert answer.status_code == 404 and answer.headers["content-language"] == "ja", language
        assert answer.json()["detail"] == f"ID {missing} の留保はありません"
        assert answer.json()["type"].endswith("/not-found") and answer.json()["title"] == "見つかりません"


async def test_refusals_users_meet_read_as_japanese_sentences(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
) -> None:
    """Filing twice, withdrawing someone else's claim, bad JSON, an unknown route, a bad check."""
    claim = signed_claim(alice, clock.now)
    assert (await post(api, "/v1/claims", body(claim), None)).status_code == 201
    claim_id = keys.document_id(claim)
    again = (await post(api, "/v1/claims", body(claim), "ja")).json()
    assert again["detail"].startswith(f"この文書は {claim_id} として提出済みです")
    assert again["errors"][0]["detail"].startswith("この文書は")

    withdrawal = signed_withdrawal(mallory, claim_id, clock.now, claimant=mallory.did)
    refused = await post(api, f"/v1/claims/{claim_id}/withdraw", body(withdrawal), "ja")
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        f"留保 {claim_id} は {alice.did} のものです。{mallory.did} は取り下げられません"
    )

    duplicate = await post(api, "/v1/claims", b'{"a": 1, "a": 2}', "ja")
    assert duplicate.status_code == 400 and JAPANESE.search(duplicate.json()["detail"])

    unknown_route = await api.get("/v1/nowhere", headers={"Accept-Language": "ja"})
    assert unknown_route.status_code == 404 and unknown_route.json()["title"] == "見つかりません"

    request = {"purpose": "train-ai", "items": [{"scheme": "sha256", "value": "abc"}], "extra": 1}
    check = await post(api, "/v1/check", json.dumps(request).encode(), "ja")
    assert check.status_code == 422, check.text
    for text in texts(check.json()):
        assert JAPANESE.search(text), text


async def test_each_result_of_a_bulk_filing_is_in_the_asked_language(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
) -> None:
    good = signed_claim(alice, clock.now)
    bad = copy.deepcopy(signed_claim(alice, clock.now, urls=("https://example.org/",)))
    bad["uses"] = {"train-ai": "maybe"}
    raw = b"[" + body(good) + b"," + body(bad) + b"]"
    answer = await post(api, "/v1/claims", raw, "ja")
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert results[0]["status"] == 201 and results[1]["status"] == 422
    assert results[1]["detail"] == "'y'、'n' のいずれかにしてください（/uses/train-ai の箇所）"
    assert results[1]["type"].endswith("/invalid-document")
