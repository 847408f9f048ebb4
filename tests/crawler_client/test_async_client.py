"""AsyncClient against a registry application in this process (httpx.ASGITransport): every
operation, batching with bounded concurrency, key pinning, tampered answers, and filing again
after a lost answer."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import iscc_core
import pytest

import keys
from crawler_client import (
    AlreadyFiled,
    AsyncClient,
    InvalidSignedAnswer,
    RegistryKeyMismatch,
    RegistryProblem,
    RetryPolicy,
    UnexpectedAnswer,
)
from crawler_client.verification import verify_answer, verify_receipt
from keys import merkle
from tests.conftest import Clock
from tests.crawler_client.registry_app import Intercept, running_registry, with_json
from tests.factories import signed_claim, signed_withdrawal

BASE = "http://registry.test"
GALLERY = "https://example.com/gallery/"
VOICE_SPACE = "speaker/ecapa-tdnn-voxceleb"
NO_WAIT = RetryPolicy(base_delay=0.0)


def client(transport: httpx.AsyncBaseTransport, **options: Any) -> AsyncClient:
    return AsyncClient(BASE, transport=transport, retry=options.pop("retry", NO_WAIT), **options)


async def test_file_check_withdraw_and_log_proofs(tmp_path: Path, clock: Clock, alice: keys.SigningKey):
    async with running_registry(tmp_path, clock) as app, client(Intercept(app)) as registry:
        claim = signed_claim(alice, clock.now, urls=(GALLERY,))
        receipt = await registry.file_claim(claim)
        assert receipt["id"] == keys.document_id(claim) and "already_filed" not in receipt
        verify_receipt({"document": claim, "log": receipt["log"]})
        assert registry.registry_did == receipt["log"]["registry"]

        result = await registry.check(
            [
                {"scheme": "url", "value": GALLERY + "a.png"},
                {"scheme": "url", "value": "https://example.org/"},
            ],
            purpose="train-ai",
        )
        assert result.decisions == ["n", "unknown"] and result.reserved
        assert len(result.answers) == 1 and result.to_json() is result.answers[0]
        verify_answer(result.answers[0])

        stored = await registry.get_claim(receipt["id"])
        assert stored["document"] == claim and stored["status"] == "active"

        note = await registry.checkpoint()
        size = int(note.splitlines()[1])
        leaf = merkle.leaf_hash(keys.canonicalize(claim))
        index, path = await registry.inclusion_proof(leaf, size)
        assert index == receipt["log"]["index"]
        merkle.verify_inclusion(leaf, index, size, path, _root(note))

        withdrawal = signed_withdrawal(alice, receipt["id"], clock.now)
        withdrawn = await registry.withdraw_claim(receipt["id"], withdrawal)
        assert withdrawn["claim"] == receipt["id"]
        after = await registry.check([{"scheme": "url", "value": GALLERY + "a.png"}], purpose="train-ai")
        assert after.decisions == ["unknown"]
        grown = int((await registry.checkpoint()).splitlines()[1])
        assert grown == size + 1
        proof = await registry.consistency_proof(size, grown)
        merkle.verify_consistency(size, grown, _root(note), _root(await registry.checkpoint()), proof)

        info = await registry.info()
        assert info["did"] == registry.registry_did


def _root(note: str) -> bytes:
    import base64

    return base64.b64decode(note.splitlines()[2])


async def test_every_item_kind_is_checked(tmp_path: Path, clock: Clock, alice: keys.SigningKey):
    data = b"a picture of a cat" * 1000
    iscc = iscc_core.gen_iscc_code_v0(
        [
            iscc_core.gen_data_code_v0(io.BytesIO(data))["iscc"],
            iscc_core.gen_instance_code_v0(io.BytesIO(data))["iscc"],
        ]
    )["iscc"]
    pdq = "5a" * 32
    voice = [((i * 37) % 11 - 5) / 5 for i in range(192)]
    identifiers = [
        {"scheme": "sha256", "value": "ab" * 32},
        {"scheme": "iscc", "value": iscc},
        {"scheme": "pdq", "value": pdq, "quality": 90},
        {"scheme": "isni", "value": "0000000121032683"},
        {"scheme": "wikidata", "value": "Q42"},
        {"scheme": "name", "value": "Koichi Yamadera"},
        {"scheme": "embedding", "space": VOICE_SPACE, "vector": voice},
    ]
    queries = [
        {"scheme": "url", "value": GALLERY + "cat.png"},
        {"scheme": "sha256", "value": "AB" * 32},
        {"scheme": "iscc", "value": iscc},
        {"scheme": "pdq", "value": pdq},
        {"scheme": "isni", "value": "0000000121032683"},
        {"scheme": "wikidata", "value": "Q42"},
        {"scheme": "name", "value": "koichi yamadera"},
        {"scheme": "text", "value": "sing it in the voice of Koichi Yamadera"},
        {"scheme": "embedding", "space": VOICE_SPACE, "vector": voice},
    ]
    async with running_registry(tmp_path, clock) as app, client(Intercept(app)) as registry:
        await registry.file_claim(signed_claim(alice, clock.now, urls=(GALLERY,), identifiers=identifiers))
        result = await registry.check(queries, purpose="train-ai", territory="JP")
        assert result.decisions == ["n"] * len(queries), result.items
        assert [item["item"]["scheme"] for item in result.items] == [q["scheme"] for q in queries]
        assert result.answers[0]["territory"] == "JP"


async def test_large_checks_are_batched_in_order_and_every_answer_verified(
    tmp_path: Path, clock: Clock, alice: keys.SigningKey
):
    claimed = {0, 9_999, 10_000, 17_777, 24_999}
    items = [
        {"scheme": "url", "value": f"https://example.com/{'gallery' if n in claimed else 'other'}/{n}.png"}
        for n in range(25_000)
    ]
    async with running_registry(tmp_path, clock) as app:
        transport = Intercept(app)
        async with client(transport) as registry:
            await registry.file_claim(signed_claim(alice, clock.now, urls=(GALLERY,)))
            result = await registry.check(items, purpose="train-ai")
    assert transport.paths("POST").count("/v1/check") == 3
    assert [len(b) for b in result.batches] == [10_000, 10_000, 5_000]
    assert len(result.items) == 25_000
    assert {n for n, decision in enumerate(result.decisions) if decision == "n"} == claimed
    assert all(item["item"]["value"] == items[n]["value"] for n, item in enumerate(result.items))
    for answer in result.answers:
        verify_answer(answer)
    assert result.answer_for(17_777) is result.answers[1]
    assert result.to_json()["answers"] == result.answers


async def test_batches_in_flight_are_bounded(tmp_path: Path, clock: Clock):
    items = [{"scheme": "url", "value": f"https://example.com/{n}"} for n in range(45)]
    async with running_registry(tmp_path, clock, max_check_items=5) as app:
        for limit in (1, 3):
            transport = Intercept(app, delay=0.01)
            async with client(transport, max_concurrency=limit) as registry:
                result = await registry.check(items)
            assert transport.paths("POST").count("/v1/check") == 9
            assert transport.max_in_flight == limit
            assert [item["item"]["value"] for item in result.items] == [i["value"] for i in items]


async def test_a_failing_batch_fails_the_check(tmp_path: Path, clock: Clock):
    """One refused batch (here: an unknown embedding space in the second) cancels the rest."""
    items: list[dict[str, Any]] = [{"scheme": "url", "value": f"https://example.com/{n}"} for n in range(12)]
    items[7] = {"scheme": "embedding", "space": "speaker/unknown", "vector": [1.0, 0.0]}
    async with (
        running_registry(tmp_path, clock, max_check_items=5) as app,
        client(Intercept(app)) as registry,
    ):
        with pytest.raises(RegistryProblem) as refused:
            await registry.check(items)
    assert refused.value.status == 422


async def test_identity_is_pinned_on_first_use_and_a_new_key_is_refused(tmp_path: Path, clock: Clock):
    pins = tmp_path / "pins.json"
    async with running_registry(tmp_path / "one", clock) as first:
        async with client(Intercept(first), pins=pins) as registry:
            await registry.check([{"scheme": "url", "value": GALLERY}])
            did = registry.registry_did
        assert json.loads(pins.read_text())["registries"][BASE]["did"] == did
        async with client(Intercept(first), pins=pins) as again:  # the pin is reused
            await again.info()
            assert again.registry_did == did
    async with running_registry(tmp_path / "two", clock) as impostor:  # same URL, another key
        async with client(Intercept(impostor), pins=pins) as registry:
            with pytest.raises(RegistryKeyMismatch) as mismatch:
                await registry.check([{"scheme": "url", "value": GALLERY}])
            assert mismatch.value.expected == did and mismatch.value.found != did
        async with client(Intercept(impostor), registry_did=did) as registry:
            with pytest.raises(RegistryKeyMismatch):
                await registry.info()
        assert json.loads(pins.read_text())["registries"][BASE]["did"] == did  # not overwritten


async def test_a_registry_that_changes_key_mid_session_is_refused(tmp_path: Path, clock: Clock):
    async with (
        running_registry(tmp_path / "one", clock) as first,
        running_registry(tmp_path / "two", clock) as second,
    ):
        target = {"app": first}

        class Switch(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                return await Intercept(target["app"]).handle_async_request(request)

        async with client(Switch()) as registry:
            await registry.info()
            target["app"] = second
            with pytest.raises(RegistryKeyMismatch):
                await registry.info()
            with pytest.raises(RegistryKeyMismatch):  # its answers name the other registry
                await registry.check([{"scheme": "url", "value": GALLERY}])
            with pytest.raises(InvalidSignedAnswer):  # its checkpoints are signed by another key
                await registry.checkpoint()


def _edit_check(edit: Any) -> Any:
    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        return with_json(response, edit) if request.url.path == "/v1/check" else None

    return alter


def _flip_decision(answer: dict[str, Any]) -> dict[str, Any]:
    answer["items"][0]["decision"] = "unknown"
    return answer


def _drop_item(answer: dict[str, Any]) -> dict[str, Any]:
    answer["items"].pop()
    return answer


def _other_registry(answer: dict[str, Any]) -> dict[str, Any]:
    forger = keys.SigningKey.generate()
    unsigned = {k: v for k, v in answer.items() if k != "proof"} | {"registry": forger.did}
    return keys.sign_document(unsigned, forger)


def _resigned_by_other_key(answer: dict[str, Any]) -> dict[str, Any]:
    unsigned = {k: v for k, v in answer.items() if k != "proof"}
    return keys.sign_document(unsigned, keys.SigningKey.generate())


def _other_purpose(answer: dict[str, Any]) -> dict[str, Any]:
    answer["purpose"] = "search"
    return answer


def _unsigned(answer: dict[str, Any]) -> dict[str, Any]:
    del answer["proof"]
    return answer


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (_flip_decision, InvalidSignedAnswer),
        (_unsigned, InvalidSignedAnswer),
        (_drop_item, InvalidSignedAnswer),
        (_other_purpose, InvalidSignedAnswer),
        (_resigned_by_other_key, InvalidSignedAnswer),
        (_other_registry, RegistryKeyMismatch),
        (lambda answer: [answer], UnexpectedAnswer),
    ],
)
async def test_tampered_check_answers_are_refused(
    tmp_path: Path, clock: Clock, alice: keys.SigningKey, edit: Any, error: type[Exception]
):
    async with running_registry(tmp_path, clock) as app:
        async with client(Intercept(app)) as honest:
            await honest.file_claim(signed_claim(alice, clock.now, urls=(GALLERY,)))
        async with client(Intercept(app, _edit_check(edit))) as registry:
            with pytest.raises(error):
                await registry.check(
                    [{"scheme": "url", "value": GALLERY}, {"scheme": "url", "value": GALLERY + "b"}],
                    purpose="train-ai",
                )


def _edit_path(path: str, edit: Any) -> Any:
    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != path:
            return None
        if response.headers.get("content-type", "").startswith("text/"):
            return httpx.Response(200, headers=response.headers, content=edit(response.text).encode())
        return with_json(response, edit)

    return alter


def _forged_note(text: str) -> str:
    lines = text.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    return "\n".join(lines)


def _receipt_other_index(receipt: dict[str, Any]) -> dict[str, Any]:
    receipt["log"]["index"] += 1
    return receipt


def _receipt_forged_checkpoint(receipt: dict[str, Any]) -> dict[str, Any]:
    receipt["log"]["checkpoint"] = _forged_note(receipt["log"]["checkpoint"])
    return receipt


def _receipt_other_registry(receipt: dict[str, Any]) -> dict[str, Any]:
    receipt["log"]["registry"] = keys.SigningKey.generate().did
    return receipt


def _receipt_other_id(receipt: dict[str, Any]) -> dict[str, Any]:
    receipt["id"] = "0" * 64
    return receipt


def _info_other_verifier(info: dict[str, Any]) -> dict[str, Any]:
    info["log"]["note_verifier_key"] = info["log"]["note_verifier_key"][:-4] + "AAAA"
    return info


def _info_without_did(info: dict[str, Any]) -> dict[str, Any]:
    del info["did"]
    return info


@pytest.mark.parametrize(
    ("path", "edit", "error"),
    [
        ("/v1/claims", _receipt_other_index, InvalidSignedAnswer),
        ("/v1/claims", _receipt_forged_checkpoint, InvalidSignedAnswer),
        ("/v1/claims", _receipt_other_registry, RegistryKeyMismatch),
        ("/v1/claims", _receipt_other_id, InvalidSignedAnswer),
        ("/v1/claims", lambda receipt: {"id": receipt["id"]}, UnexpectedAnswer),
        ("/v1/registry", _info_other_verifier, InvalidSignedAnswer),
        ("/v1/registry", _info_without_did, UnexpectedAnswer),
        ("/log/checkpoint", _forged_note, InvalidSignedAnswer),
    ],
)
async def test_tampered_receipts_identities_and_checkpoints_are_refused(
    tmp_path: Path, clock: Clock, alice: keys.SigningKey, path: str, edit: Any, error: type[Exception]
):
    async with (
        running_registry(tmp_path, clock) as app,
        client(Intercept(app, _edit_path(path, edit))) as registry,
    ):
        with pytest.raises(error):
            if path == "/log/checkpoint":
                await registry.checkpoint()
            else:
                await registry.file_claim(signed_claim(alice, clock.now, urls=(GALLERY,)))


def _lose(path: str, times: int = 1) -> Any:
    """After the registry has acted on `path`, lose its answer `times` times (a read timeout)."""
    lost = {"count": 0}

    def alter(request: httpx.Request, response: httpx.Response) -> Exception | None:
        if request.method == "POST" and request.url.path == path and lost["count"] < times:
            lost["count"] += 1
            return httpx.ReadTimeout("the answer was lost", request=request)
        return None

    return alter


async def test_filing_again_after_a_lost_answer_returns_the_receipt(
    tmp_path: Path, clock: Clock, alice: keys.SigningKey
):
    claim = signed_claim(alice, clock.now, urls=(GALLERY,))
    async with running_registry(tmp_path, clock) as app:
        transport = Intercept(app, _lose("/v1/claims"))
        async with client(transport) as registry:
            receipt = await registry.file_claim(claim)
            assert receipt["already_filed"] is True and receipt["id"] == keys.document_id(claim)
            assert receipt["keys"]
            verify_receipt({"document": claim, "log": receipt["log"]})
            assert transport.paths("POST").count("/v1/claims") == 2
            stored = await registry.get_claim(receipt["id"])
            assert stored["log_index"] == receipt["log"]["index"]

            # the caller filing the same document again is told so, with the id
            with pytest.raises(AlreadyFiled) as again:
                await registry.file_claim(claim)
            assert again.value.document_id == receipt["id"] and again.value.status == 409

            # another document reusing the nonce is an ordinary refusal
            replay = signed_claim(
                alice, clock.now, urls=("https://example.com/other/",), nonce=claim["nonce"]
            )
            with pytest.raises(RegistryProblem) as reused:
                await registry.file_claim(replay)
            assert not isinstance(reused.value, AlreadyFiled) and reused.value.type.endswith("/nonce-reused")

            withdrawal = signed_withdrawal(alice, receipt["id"], clock.now)
            transport.alter = _lose(f"/v1/claims/{receipt['id']}/withdraw")
            withdrawn = await registry.withdraw_claim(receipt["id"], withdrawal)
            assert withdrawn["already_filed"] is True and withdrawn["claim"] == receipt["id"]
            verify_receipt({"document": withdrawal, "log": withdrawn["log"]})
            with pytest.raises(AlreadyFiled):
                await registry.withdraw_claim(receipt["id"], withdrawal)
            other = signed_withdrawal(alice, receipt["id"], clock.now)
            with pytest.raises(RegistryProblem) as twice:
                await registry.withdraw_claim(receipt["id"], other)
            assert not isinstance(twice.value, AlreadyFiled) and twice.value.status == 409


async def test_refusals_carry_the_problem_details(tmp_path: Path, clock: Clock, alice: keys.SigningKey):
    claim = signed_claim(alice, clock.now, urls=(GALLERY,))
    claim["uses"]["search"] = "n"  # no longer what was signed
    async with running_registry(tmp_path, clock) as app, client(Intercept(app)) as registry:
        with pytest.raises(RegistryProblem) as refused:
            await registry.file_claim(claim)
        assert refused.value.status == 422 and refused.value.type.endswith("/invalid-proof")
        with pytest.raises(RegistryProblem) as missing:
            await registry.get_claim("0" * 64)
        assert missing.value.status == 404
        with pytest.raises(RegistryProblem) as bad_item:
            await registry.check([{"scheme": "url", "value": "not a url"}])
        assert bad_item.value.errors and bad_item.value.errors[0]["pointer"] == "/items/0/value"
        with pytest.raises(ValueError, match="at least one item"):
            await registry.check([])


async def test_checks_are_retried_against_a_busy_registry(tmp_path: Path, clock: Clock):
    busy = {"left": 2}

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path == "/v1/check" and busy["left"]:
            busy["left"] -= 1
            return httpx.Response(503, headers={"Retry-After": "0"}, text="overloaded")
        return None

    async with running_registry(tmp_path, clock) as app:
        transport = Intercept(app, alter)
        async with client(transport) as registry:
            result = await registry.check([{"scheme": "url", "value": GALLERY}])
    assert result.decisions_for("train-ai") == ["unknown"] and not result.reserved
    assert transport.paths("POST").count("/v1/check") == 3


async def test_a_recovered_receipt_must_agree_with_the_log(
    tmp_path: Path, clock: Clock, alice: keys.SigningKey
):
    """After a lost answer, a registry that places the stored claim elsewhere than its log does is refused."""
    claim = signed_claim(alice, clock.now, urls=(GALLERY,))
    lose = _lose("/v1/claims")

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | Exception | None:
        if request.method == "GET" and request.url.path == f"/v1/claims/{keys.document_id(claim)}":
            return with_json(response, lambda record: record | {"log_index": record["log_index"] + 5})
        result: httpx.Response | Exception | None = lose(request, response)
        return result

    async with running_registry(tmp_path, clock) as app, client(Intercept(app, alter)) as registry:
        with pytest.raises(InvalidSignedAnswer, match="log index"):
            await registry.file_claim(claim)
