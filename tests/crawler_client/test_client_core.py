"""The I/O-free core: request bodies, batching plans, answer checks, identity pinning, pin files.
No network: responses are built by hand and answers signed with a key standing in for the registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from crawler_client.core import (
    CheckBatch,
    CheckResult,
    ClientCore,
    RegistryIdentity,
    Response,
    RetryPolicy,
    Sleep,
    Unreachable,
    run_flow,
    run_steps,
)
from crawler_client.errors import (
    InvalidSignedAnswer,
    RegistryBusy,
    RegistryKeyMismatch,
    RegistryProblem,
    RegistryUnavailable,
    UnexpectedAnswer,
)
from crawler_client.pins import Pin, PinFile
from crawler_client.verification import note_verifier
from keys.note import verifier_key

BASE = "https://registry.example"
ORIGIN = "registry.example/log"
REGISTRY_KEY = keys.SigningKey.generate()


def info(key: keys.SigningKey = REGISTRY_KEY, origin: str = ORIGIN, **limits: int) -> dict[str, Any]:
    published = verifier_key(origin, note_verifier(key.did, origin).public_key)
    return {"did": key.did, "log": {"origin": origin, "note_verifier_key": published}, "limits": limits}


def core(**options: Any) -> ClientCore:
    return ClientCore(BASE, **options)


def pinned(max_check_items: int = 10_000, max_body_bytes: int = 4 * 1024 * 1024) -> ClientCore:
    registry = core()
    registry.identity = RegistryIdentity(REGISTRY_KEY.did, ORIGIN, max_check_items, max_body_bytes)
    return registry


def response(status: int, body: Any = None, content_type: str = "application/json", **extra: Any) -> Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(status, httpx.Headers({"content-type": content_type}), content, BASE + "/x", **extra)


URLS = [{"scheme": "url", "value": f"https://example.com/{n}"} for n in range(7)]


# ------------------------------------------------------------------ requests


def test_documents_are_sent_canonical_and_only_reads_are_repeatable():
    registry = core()
    request = registry.build("post", "/v1/claims", document={"b": 1, "a": "é"})
    assert request.content == keys.canonicalize({"a": "é", "b": 1})
    assert request.headers == {"Content-Type": "application/json"} and request.method == "POST"
    assert not request.repeatable
    assert registry.build("GET", "/v1/registry").repeatable
    assert registry.build("POST", "/v1/check", document={}).repeatable
    assert not registry.build("POST", "/v1/notices", document={}).repeatable
    assert registry.build("GET", "/x", params={"a": 1}).params == {"a": 1}


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"purpose": "train-ai"},
        {"purpose": "train-ai", "territory": "JP"},
        {"at": "2026-01-01T00:00:00Z", "territory": "FR"},
    ],
)
def test_batch_bodies_are_the_canonical_form_of_the_request(options: dict[str, Any]):
    items = [
        *URLS,
        {"scheme": "name", "value": "山寺宏一"},
        {"scheme": "embedding", "space": "s", "vector": [0.5]},
    ]
    (batch,) = pinned().check_plan(items, **options)
    assert batch.body == keys.canonicalize({"items": items, **options})


def test_batches_respect_the_item_limit_and_keep_order():
    batches = pinned(max_check_items=3).check_plan(URLS, purpose="search")
    assert [(b.start, b.stop) for b in batches] == [(0, 3), (3, 6), (6, 7)]
    for batch in batches:
        assert json.loads(batch.body)["items"] == URLS[batch.start : batch.stop]
        assert json.loads(batch.body)["purpose"] == "search"


def test_batches_respect_the_body_limit():
    big = [{"scheme": "text", "value": "x" * 300} for _ in range(10)]
    limit = 512 + 800  # the overhead the plan keeps free, plus room for two such items
    batches = pinned(max_body_bytes=limit).check_plan(big)
    assert [len(b) for b in batches] == [2, 2, 2, 2, 2]
    assert all(len(b.body) <= limit for b in batches)


def test_an_item_too_large_for_any_body_goes_alone():
    items = [URLS[0], {"scheme": "text", "value": "x" * 5000}, URLS[1]]
    batches = pinned(max_body_bytes=2000).check_plan(items)
    assert [(b.start, b.stop) for b in batches] == [(0, 1), (1, 2), (2, 3)]


@pytest.mark.parametrize(
    ("items", "error"), [([], ValueError), ("https://a", ValueError), ([["url"]], TypeError)]
)
def test_impossible_checks_are_refused_before_sending(items: Any, error: type[Exception]):
    with pytest.raises(error):
        pinned().check_plan(items)


def test_merged_results_find_their_evidence():
    registry = pinned(max_check_items=2)
    batches = registry.check_plan(URLS[:3], purpose="train-ai")
    answers = [{"items": [{"decision": "n"}, {"decision": "unknown"}]}, {"items": [{"decision": "y"}]}]
    result = registry.merge(batches, answers)
    assert result.decisions == ["n", "unknown", "y"] and result.reserved
    assert result.answer_for(2) is answers[1]
    with pytest.raises(IndexError):
        result.answer_for(3)
    unnamed = CheckResult([{"decisions": {"search": "n"}}], [{}], [range(1)])
    assert unnamed.reserved and unnamed.decisions_for("search") == ["n"]
    with pytest.raises(ValueError, match="no purpose"):
        _ = unnamed.decisions


# ------------------------------------------------------------------ answers


def test_answers_become_results_or_errors():
    registry = core()
    assert registry.json_object(response(200, {"a": 1})) == {"a": 1}
    problem = {"type": "https://kotowari.dev/problems/not-found", "title": "Not found", "detail": "none"}
    with pytest.raises(RegistryProblem) as refused:
        registry.json_object(response(404, problem, "application/problem+json"))
    assert refused.value.status == 404 and "none" in str(refused.value)
    with pytest.raises(RegistryBusy) as busy:
        registry.json_object(response(503, problem, "application/problem+json", attempts=4))
    assert busy.value.status == 503 and "after 4 attempts: none" in str(busy.value)
    for bad in (response(200, b"{"), response(200, [1]), response(500, b"oops", "text/plain")):
        with pytest.raises(UnexpectedAnswer):
            registry.json_object(bad)
    assert response(400, b"{", "application/problem+json").problem() is None
    assert registry.raw(response(200, b"\x00\x01")) == b"\x00\x01"


def signed_answer(batch: CheckBatch, key: keys.SigningKey = REGISTRY_KEY, **changes: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "type": "CheckAnswer",
        "registry": key.did,
        "checkpoint": {"origin": ORIGIN, "tree_size": 1, "root_hash": "AAAA"},
        "purpose": batch.purpose,
        "items": [{"decision": "unknown"}] * len(batch),
    }
    answer.update(changes)
    return keys.sign_document({k: v for k, v in answer.items() if v is not None}, key)


def test_a_signed_answer_to_the_question_asked_is_accepted():
    registry = pinned()
    (batch,) = registry.check_plan(URLS, purpose="train-ai")
    registry.verify_check_answer(signed_answer(batch), batch)


@pytest.mark.parametrize(
    "changes",
    [
        {"purpose": "search"},  # a genuine answer to another question, replayed
        {"purpose": None},
        {"territory": "FR"},  # answered for a territory not asked about
        {"items": [{"decision": "unknown"}]},  # fewer items than asked
        {"items": "none"},
        {"type": "Other"},
        {"checkpoint": {"origin": "another/log", "tree_size": 1, "root_hash": "AAAA"}},
        {"checkpoint": None},
    ],
)
def test_signed_answers_to_another_question_are_refused(changes: dict[str, Any]):
    registry = pinned()
    (batch,) = registry.check_plan(URLS, purpose="train-ai")
    with pytest.raises(InvalidSignedAnswer):
        registry.verify_check_answer(signed_answer(batch, **changes), batch)


def test_answers_signed_by_another_registry_are_refused():
    registry = pinned()
    (batch,) = registry.check_plan(URLS, purpose="train-ai")
    other = keys.SigningKey.generate()
    with pytest.raises(RegistryKeyMismatch):
        registry.verify_check_answer(signed_answer(batch, other), batch)
    with pytest.raises(InvalidSignedAnswer, match="not by the registry"):
        registry.verify_check_answer(signed_answer(batch, other, registry=REGISTRY_KEY.did), batch)


def test_receipts_must_carry_a_log_entry_of_the_pinned_registry():
    registry = pinned()
    claim = keys.sign_document({"type": "Claim"}, keys.SigningKey.generate())
    with pytest.raises(UnexpectedAnswer):
        registry.verify_receipt(claim, {"id": "x"})
    with pytest.raises(InvalidSignedAnswer, match=r"not 'registry\.example/log'"):
        registry.verify_receipt(claim, {"log": {"registry": REGISTRY_KEY.did, "origin": "other"}})
    with pytest.raises(InvalidSignedAnswer, match="does not verify"):
        registry.verify_receipt(claim, {"log": {"registry": REGISTRY_KEY.did, "origin": ORIGIN}})


# ------------------------------------------------------------------ identity and pins


def adopt(registry: ClientCore, answer: dict[str, Any]) -> RegistryIdentity:
    return run_flow(registry.identity_flow(), lambda request: response(200, answer))


def test_first_use_pins_and_later_uses_compare(tmp_path: Path):
    pins = tmp_path / "pins.json"
    PinFile(pins).put("https://other.example", Pin("did:key:zOther", "o"))
    identity = adopt(core(pins=pins), info(max_check_items=7))
    assert identity.max_check_items == 7 and identity.did == REGISTRY_KEY.did
    stored = json.loads(pins.read_text())["registries"]
    assert stored[BASE] == {"did": REGISTRY_KEY.did, "origin": ORIGIN} and "https://other.example" in stored
    adopt(core(pins=pins), info())  # the same registry again
    with pytest.raises(RegistryKeyMismatch, match="pinned in"):
        adopt(core(pins=pins), info(keys.SigningKey.generate()))
    with pytest.raises(RegistryKeyMismatch):  # same key, another log: not the registry pinned
        adopt(core(pins=pins), info(origin="registry.example/other-log"))


def test_a_given_did_is_the_only_one_trusted():
    adopt(core(registry_did=REGISTRY_KEY.did), info())
    with pytest.raises(RegistryKeyMismatch, match="given identity"):
        adopt(core(registry_did=keys.SigningKey.generate().did), info())


def test_the_identity_flow_asks_once():
    registry = core()
    adopt(registry, info())
    assert run_flow(registry.identity_flow(), lambda request: pytest.fail("asked again")) == registry.identity


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"did": REGISTRY_KEY.did}, UnexpectedAnswer),
        (info() | {"limits": {"max_check_items": "many"}}, UnexpectedAnswer),
        (info(max_check_items=0), UnexpectedAnswer),
        (info() | {"did": "did:web:registry.example"}, UnexpectedAnswer),
        (info() | {"log": {"origin": ORIGIN, "note_verifier_key": "x+1+AAAA"}}, InvalidSignedAnswer),
    ],
)
def test_unusable_identities_are_refused(answer: dict[str, Any], error: type[Exception]):
    with pytest.raises(error):
        adopt(core(), answer)


@pytest.mark.parametrize(
    "content", ["not json", "[]", '{"registries": []}', '{"registries": {"' + BASE + '": "x"}}']
)
def test_broken_pin_files_are_refused(tmp_path: Path, content: str):
    pins = tmp_path / "pins.json"
    pins.write_text(content)
    with pytest.raises(ValueError, match="pin file"):
        adopt(core(pins=pins), info())


@pytest.mark.parametrize(
    "options",
    [
        {"registry": "registry.example"},
        {"registry": BASE, "max_concurrency": 0},
        {"registry": BASE, "registry_did": "did:web:registry.example"},
    ],
)
def test_impossible_clients_are_refused(options: dict[str, Any]):
    with pytest.raises(ValueError):
        ClientCore(**options)


def test_results_read_like_the_signed_answer_they_used_to_be():
    registry = pinned(max_check_items=2)
    one = registry.merge(registry.check_plan(URLS[:1]), [{"items": [{"x": 1}], "registry": "did:key:z"}])
    assert one["items"] == [{"x": 1}] and one["registry"] == "did:key:z"
    two = registry.merge(registry.check_plan(URLS[:3]), [{"items": [{}, {}]}, {"items": [{}]}])
    assert len(two["items"]) == 3
    with pytest.raises(KeyError, match="one signed answer per request"):
        two["registry"]


def test_a_retry_after_date_is_read_on_the_cores_clock():
    moment = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    registry = core(now=lambda: moment, random=lambda: 0.0)
    later = format_datetime(moment + timedelta(seconds=9), usegmt=True)
    busy = Response(503, httpx.Headers({"retry-after": later}), b"", BASE)
    assert registry.retry_delay(registry.build("GET", "/v1/registry"), busy, elapsed=0.0) == 9.0
    assert registry.retry_delay(registry.build("POST", "/v1/notices"), busy, elapsed=0.0) is None


# ------------------------------------------------------------------ the retry flow


def test_the_retry_flow_yields_attempts_and_sleeps_and_counts_attempts():
    registry = core(random=lambda: 1.0, retry=RetryPolicy(base_delay=0.5))
    request = registry.build("GET", "/v1/registry")
    answers = iter([Unreachable(OSError("reset")), response(503, {}), response(200, {"ok": True})])
    steps = registry.attempts(request, clock=lambda: 0.0)
    seen = [next(steps)]
    try:
        while True:
            seen.append(steps.send(next(answers) if seen[-1] is request else None))
    except StopIteration as done:
        final = done.value
    assert seen == [request, Sleep(0.5), request, Sleep(1.0), request]
    assert (final.status, final.attempts) == (200, 3)


def test_the_retry_flow_gives_up_on_an_unrepeatable_request_without_sleeping():
    registry = core()
    request = registry.build("POST", "/v1/notices", document={"type": "Notice"})
    slept: list[float] = []
    with pytest.raises(RegistryUnavailable, match="cannot reach"):
        run_steps(
            registry.steps(run_flow_once(request), clock=lambda: 0.0),
            lambda sent: Unreachable(OSError("refused")),
            slept.append,
        )
    assert slept == []


def run_flow_once(request: Any) -> Any:
    return (yield request)
