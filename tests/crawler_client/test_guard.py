"""The generation guard against a real registry process: offline over a snapshot pulled from it and
online through a `Client`; names in every script, images, embeddings, the signed record and its
verification (`kotowari verify` too), and every refusal."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import keys
from crawler_client import Guard, GuardInputError, InvalidGuardRecord, verify_guard_record
from crawler_client.cli import main
from crawler_client.client import Client
from crawler_client.fingerprint import fingerprint_file
from crawler_client.guard_names import loose_source
from crawler_client.snapshot import Snapshot, SnapshotRefused, pull
from keys.note import Checkpoint, sign_note
from registry.identity import note_signer
from registry.names import fold
from tests.conftest import ServerProcess, start_server, stop_server
from tests.crawler_client.test_cli_startup import OFFLINE_NO_SCHEMAS, loaded_by
from tests.crawler_client.test_content_cli import artwork
from tests.factories import signed_claim

VOICE = "speaker/ecapa-tdnn-voxceleb"
YAMADERA = ["Kōichi Yamadera", "Koichi Yamadera", "山寺宏一", "やまでら こういち"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = start_server(tmp_path_factory.mktemp("guard-registry"))
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="module")
def world(registry: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Claims filed with the registry: a voice (names and an embedding), a work (an image), a likeness
    that allows generation, and a name registered only with macrons; the snapshot pulled after."""
    folder = tmp_path_factory.mktemp("guard")
    creator = keys.SigningKey.generate()
    voice = np.random.default_rng(7).normal(size=192)
    artwork(11).save(folder / "work.png")
    now = datetime.now(UTC)

    def filed(**options: Any) -> str:
        with Client(registry.url) as client:
            return str(client.file_claim(signed_claim(creator, now, urls=(), **options))["id"])

    world: dict[str, Any] = {
        "folder": folder,
        "voice": voice,
        "yamadera": filed(
            kind="voice",
            identifiers=[{"scheme": "name", "value": name} for name in YAMADERA]
            + [{"scheme": "embedding", "space": VOICE, "vector": voice.tolist()}],
            deny=("train-ai", "generate"),
        ),
        "work": filed(kind="work", identifiers=fingerprint_file(folder / "work.png"), deny=("generate",)),
        "anna": filed(
            kind="likeness",
            identifiers=[{"scheme": "name", "value": "Anna"}],
            deny=(),
            allow={"generate": "y"},
        ),
        "ono": filed(
            kind="likeness", identifiers=[{"scheme": "name", "value": "Ōno Yōko"}], deny=("generate",)
        ),
        "trnka": filed(
            kind="likeness", identifiers=[{"scheme": "name", "value": "Jiri Trnka"}], deny=("generate",)
        ),
    }
    world["snapshot"] = folder / "claims.snapshot"
    pull(registry.url, world["snapshot"])
    return world


@pytest.fixture(scope="module")
def operator() -> keys.SigningKey:
    return keys.SigningKey.generate()


@pytest.fixture(scope="module")
def offline(world: dict[str, Any], operator: keys.SigningKey) -> Iterator[Guard]:
    with Guard(world["snapshot"], key=operator) as guard:
        yield guard


@pytest.fixture(scope="module")
def online(registry: ServerProcess, operator: keys.SigningKey) -> Iterator[Guard]:
    with Client(registry.url) as client:
        yield Guard(client, key=operator)


@pytest.fixture(params=["offline", "online"])
def guard(request: pytest.FixtureRequest) -> Guard:
    guard: Guard = request.getfixturevalue(request.param)
    return guard


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "written",
    [
        "Kōichi Yamadera",
        "KOICHI YAMADERA",
        "Kouichi Yamadera",  # a long vowel written "ou"
        "Kôichi Yamadera",  # … with a circumflex
        "ＫＯＩＣＨＩ　ＹＡＭＡＤＥＲＡ",  # full width
        "山寺宏一",
        "山寺 宏一",
        "ヤマデラ コウイチ",  # katakana for the registered hiragana
        "ﾔﾏﾃﾞﾗｺｳｲﾁ",  # half width
    ],
)
def test_a_registered_voice_is_found_in_every_script(
    guard: Guard, world: dict[str, Any], written: str
) -> None:
    prompt = f"read this in the voice of {written}, slowly"
    result = guard.check(prompt=prompt, purpose="generate")
    assert result.decision == "n" and not result.allowed
    assert result.claims == [world["yamadera"]]
    match = result.matches[0]
    assert (match.input, match.kind, match.match, match.counted) == ("prompt", "voice", "name", True)
    assert "self-asserted" in match.authority and match.claimant.startswith("did:key:")
    assert "the claim reserves generate" in match.why
    verified = verify_guard_record(result.record, prompt=prompt, operator=guard.key.did)
    assert verified.decision == "n" and verified.claims == (world["yamadera"],)


@pytest.mark.parametrize(
    ("prompt", "claim", "written", "registered"),
    [
        ("Yamadera Kouichi sings", "yamadera", None, None),  # the other order: offline only
        ("a song by Ono Yoko", "ono", "Ono Yoko", "Ōno Yōko"),
        ("a song by Oono Youko", "ono", "Oono Youko", "Ōno Yōko"),
        ("a puppet film by Jiří Trnka", "trnka", "Jiří Trnka", "Jiri Trnka"),  # the prompt loosened online
    ],
)
def test_spellings_the_registry_does_not_fold_together_are_found_offline(
    offline: Guard,
    online: Guard,
    world: dict[str, Any],
    prompt: str,
    claim: str,
    written: str | None,
    registered: str | None,
) -> None:
    """Offline names and prompt are loosened alike; online only the prompt is, and never swapped."""
    result = offline.check(prompt=prompt)
    assert result.decision == "n" and result.claims == [world[claim]]
    if result.matches[0].variant is not None:
        how = {"order": "in the other name order", "romanisation": "as a romanisation variant"}
        assert how[result.matches[0].variant] in result.matches[0].why
    folded_alike = written is not None and fold(written) == fold(registered or "")
    loosened_alike = written is not None and fold(loose_source(written).text) == fold(registered or "")
    expected = "n" if folded_alike or loosened_alike else "unknown"
    assert online.check(prompt=prompt).decision == expected  # the documented limit of the Client path
    assert Guard(world["snapshot"], variants=False).check(prompt=prompt).decision == (
        "n" if folded_alike else "unknown"
    )


@pytest.mark.parametrize(
    "prompt",
    [
        "a harbour at Annapolis at dawn",  # "Anna" ends inside a word
        "Hannah and Joanna on a boat",
        "maintain a calm tone, Koichi Yamaderas",
        "山寺 宏",  # part of a name is no name
        "Louis Armstrong playing",
    ],
)
def test_names_inside_other_words_are_not_found(guard: Guard, prompt: str) -> None:
    result = guard.check(prompt=prompt)
    assert (result.decision, result.matches) == ("unknown", ())
    assert verify_guard_record(result.record, prompt=prompt).claims == ()


def test_a_claim_that_allows_generation_says_so(guard: Guard, world: dict[str, Any]) -> None:
    result = guard.check(prompt="a portrait of ANNA in oils")
    assert (result.decision, result.allowed, result.claims) == ("y", True, [world["anna"]])
    assert "the claim allows generate" in result.matches[0].why
    assert result.decisions["train-ai"] == "unknown"


@pytest.mark.parametrize(
    "prompt",
    [
        "in the voice of Koichi Yamadera, a portrait of Anna",
        "声優の山寺宏一さんの声で",
        "Annapolis, Kōichi Yamadera, maintain",
        "nobody in particular",
    ],
)
def test_offline_exact_matches_are_the_registry_s(
    world: dict[str, Any], registry: ServerProcess, prompt: str
) -> None:
    """Without variants the guard finds, and decides, what `POST /v1/check` does for the text."""
    with Client(registry.url) as client:
        answer = client.check([{"scheme": "text", "value": prompt}], purpose="generate").items[0]
    exact = Guard(world["snapshot"], variants=False).check(prompt=prompt)
    assert sorted(exact.claims) == sorted(match["claim"] for match in answer["matches"])
    assert (exact.decision, dict(exact.decisions)) == (answer["decision"], answer["decisions"])


# ---------------------------------------------------------------- images and embeddings


def test_a_registered_image_and_its_copies_are_found(guard: Guard, world: dict[str, Any]) -> None:
    folder: Path = world["folder"]
    original = (folder / "work.png").read_bytes()
    reencoded = io.BytesIO()
    artwork(11).convert("RGB").save(reencoded, format="JPEG", quality=70)
    unrelated = io.BytesIO()
    artwork(12).save(unrelated, format="PNG")
    result = guard.check(images=[original, reencoded.getvalue(), folder / "work.png", unrelated.getvalue()])
    assert result.decision == "n" and result.claims == [world["work"]]
    by_input = {(m.index, m.match) for m in result.matches}
    assert {index for index, _ in by_input} == {0, 1, 2}
    assert (0, "sha256") in by_input or (0, "pdq") in by_input
    assert {scheme for index, scheme in by_input if index == 1} & {"pdq", "iscc-content-image"}
    assert [entry["decision"] for entry in result.inputs] == ["n", "n", "n", "unknown"]
    assert all("within Hamming distance" in m.why for m in result.matches if m.index == 1)
    verify_guard_record(result.record)


def test_a_voice_embedding_is_found_above_the_threshold(guard: Guard, world: dict[str, Any]) -> None:
    rng = np.random.default_rng(8)
    close = world["voice"] + rng.normal(scale=0.1, size=192)
    other = rng.normal(size=192)
    result = guard.check(embeddings=[(VOICE, close), {"space": VOICE, "vector": other.tolist()}])
    assert result.decision == "n" and result.claims == [world["yamadera"]]
    assert [entry["decision"] for entry in result.inputs] == ["n", "unknown"]
    assert result.matches[0].match == "embedding" and "cosine similarity 0.9" in result.matches[0].why
    assert result.record["inputs"][0]["dimensions"] == 192
    verify_guard_record(result.record)


def test_one_call_checks_everything_and_any_reservation_decides(guard: Guard, world: dict[str, Any]) -> None:
    png = (world["folder"] / "work.png").read_bytes()
    result = guard.check(prompt="a portrait of Anna", images=[png], embeddings=[(VOICE, world["voice"])])
    assert result.decision == "n"
    assert sorted(result.claims) == sorted([world["anna"], world["work"], world["yamadera"]])
    assert [(e["input"], e["decision"]) for e in result.inputs] == [
        ("prompt", "y"),
        ("image", "n"),
        ("embedding", "n"),
    ]


def test_matches_below_the_minimum_authority_are_listed_not_counted(world: dict[str, Any]) -> None:
    result = Guard(world["snapshot"], min_authority="domain-verified").check(prompt="Koichi Yamadera")
    assert result.decision == "unknown" and result.claims == [world["yamadera"]]
    assert not result.matches[0].counted and "not counted" in result.matches[0].why
    assert verify_guard_record(result.record).decision == "unknown"


# ---------------------------------------------------------------- bad input


def _bad_inputs(world: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    png = (world["folder"] / "work.png").read_bytes()
    return [
        ({"prompt": ""}, "empty"),
        ({"prompt": "  \n "}, "empty"),
        ({"prompt": 42}, "text"),
        ({"prompt": "x" * 10_001}, "over 10000"),
        ({"prompt": "voice of \ud800"}, "surrogate"),
        ({}, "nothing to check"),
        ({"prompt": "hi", "purpose": "cooking"}, "purpose"),
        ({"prompt": "hi", "at": datetime(2026, 12, 1)}, "timezone"),
        ({"prompt": "hi", "territory": "Japan"}, "territory"),
        ({"images": [b"GIF89a not really"]}, "images[0]"),  # announces an image it is not
        ({"images": [png, b"plain text, no image"]}, "images[1]: not an image"),
        ({"images": [png[: len(png) // 2]]}, "images[0]"),  # truncated
        ({"images": [7]}, "images[0] is image bytes or a path"),
        ({"images": [Path("/no/such/file.png")]}, "cannot read"),
        ({"images": b"bytes, not a list"}, "images is a list"),
        ({"images": [png] * 17}, "at most 16"),
        ({"embeddings": [(VOICE, [0.5] * 100)]}, "embeddings[0]"),  # wrong dimension
        ({"embeddings": [("speaker/unknown", [0.5] * 192)]}, "embeddings[0]"),
        ({"embeddings": [(VOICE, [float("nan")] * 192)]}, "embeddings[0]"),
        ({"embeddings": [(VOICE, ["a"] * 192)]}, "list of numbers"),
        ({"embeddings": [(VOICE, [])]}, "non-empty"),
        ({"embeddings": ["voice"]}, "(space, vector)"),
    ]


def test_bad_input_is_refused_with_a_reason_never_a_traceback(guard: Guard, world: dict[str, Any]) -> None:
    for given, reason in _bad_inputs(world):
        with pytest.raises(GuardInputError) as refused:
            guard.check(**given)
        assert reason in str(refused.value), (given.keys(), str(refused.value))


# ---------------------------------------------------------------- the record


def test_the_record_keeps_digests_not_the_prompt(offline: Guard, world: dict[str, Any]) -> None:
    prompt = "in the voice of Yamadera Kouichi, for Hanako (hanako@example.com)"
    result = offline.check(prompt=prompt)
    raw = json.dumps(result.record, ensure_ascii=False)
    assert "hanako" not in raw and "Yamadera Kouichi" not in raw
    record = result.record
    assert record["type"] == "GuardRecord" and record["operator"] == offline.key.did
    assert record["purpose"] == "generate" and record["checkpoint_note"].startswith(
        record["checkpoint"]["origin"]
    )
    snapshot = Snapshot.open(world["snapshot"])
    assert record["registry"] == snapshot.registry and record["checkpoint"] == snapshot.checkpoint_summary()
    assert record["snapshot_state"] == keys.document_id(snapshot.state.document)
    snapshot.close()
    match = record["matches"][0]
    assert {"claim", "claimant", "kind", "authority", "why", "uses"} <= set(match)
    assert match["variant"] == "order"


def test_an_online_record_names_the_signed_answers(online: Guard) -> None:
    prompt = "a puppet film by Jiří Trnka"
    result = online.check(prompt=prompt)
    assert result.decision == "n" and result.matches[0].variant == "romanisation"
    assert result.record["answers"] == [keys.document_id(answer) for answer in result.answers]
    assert "checkpoint_note" not in result.record
    verified = verify_guard_record(result.record, answers=result.answers, prompt=prompt)
    assert "the signed answers given are the record's" in " ".join(verified.lines)
    other = online.check(prompt="something else")
    with pytest.raises(InvalidGuardRecord, match="not the ones the record names"):
        verify_guard_record(result.record, answers=other.answers)


def _resigned(record: dict[str, Any], key: keys.SigningKey, **changes: Any) -> dict[str, Any]:
    body = {name: value for name, value in record.items() if name != "proof"} | changes
    return keys.sign_document(body, key)


def test_a_tampered_or_forged_record_is_refused(offline: Guard, world: dict[str, Any]) -> None:
    prompt = "Koichi Yamadera reads a story"
    record = offline.check(prompt=prompt).record
    point = record["checkpoint"]
    stranger = keys.SigningKey.generate()
    other_registry = keys.SigningKey.generate()
    forged_note = sign_note(
        Checkpoint(record["checkpoint"]["origin"], 1, bytes(32)).to_text(),
        [note_signer(other_registry, record["checkpoint"]["origin"])],
    )
    cases = [
        ({**record, "decision": "unknown"}, {}, "signature"),
        ({name: value for name, value in record.items() if name != "proof"}, {}, "no proof"),
        (_resigned(record, stranger), {}, "not by the operator it names"),
        (_resigned(record, stranger, operator=stranger.did), {"operator": offline.key.did}, "not by"),
        (_resigned(record, offline.key, checkpoint_note=forged_note), {}, "checkpoint"),
        (_resigned(record, offline.key, decision="unknown"), {}, "decision"),
        (_resigned(record, offline.key, decisions={**record["decisions"], "generate": "y"}), {}, "follow"),
        (_resigned(record, offline.key, matches=[]), {}, "follow from its matches"),
        (_resigned(record, offline.key, inputs=[]), {}, "names the inputs"),
        (_resigned(record, offline.key, type="CheckAnswer"), {}, "not a GuardRecord"),
        (_resigned(record, offline.key, version=2), {}, "version"),
        (_resigned(record, offline.key, registry="did:web:example.com"), {}, "no did:key"),
        (_resigned(record, offline.key, checkpoint={**point, "root_hash": "%%"}), {}, "base64"),
        (_resigned(record, offline.key, checked_at="yesterday"), {}, "malformed"),
        (record, {"prompt": "another prompt"}, "not the one this record checked"),
        (record, {"registry": other_registry.did}, "not " + other_registry.did),
        ("not a record", {}, "not a GuardRecord"),
    ]
    for document, options, reason in cases:
        with pytest.raises(InvalidGuardRecord) as refused:
            verify_guard_record(document, **options)
        assert reason in str(refused.value), (reason, str(refused.value))
    verify_guard_record(record, prompt=prompt, operator=offline.key.did, registry=record["registry"])


def test_a_snapshot_of_another_registry_is_refused(world: dict[str, Any]) -> None:
    elsewhere = keys.SigningKey.generate().did
    with pytest.raises(SnapshotRefused, match="not"):
        Guard(world["snapshot"], registry_did=elsewhere)
    snapshot = Snapshot.open(world["snapshot"])
    with pytest.raises(SnapshotRefused, match=elsewhere):
        Guard(snapshot, registry_did=elsewhere)
    assert Guard(snapshot, registry_did=snapshot.registry).check(prompt="Anna").decision == "y"
    snapshot.close()
    with pytest.raises(TypeError):
        Guard(object())  # type: ignore[arg-type]


def test_a_guard_without_the_operator_s_key_signs_with_its_own(world: dict[str, Any]) -> None:
    guard = Guard(world["snapshot"])
    record = guard.check(prompt="Anna").record
    assert verify_guard_record(record).operator == guard.key.did


# ---------------------------------------------------------------- kotowari verify


def test_kotowari_verify_checks_a_record_offline_and_against_the_registry(
    offline: Guard,
    online: Guard,
    registry: ServerProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, guard in (("offline.json", offline), ("online.json", online)):
        path = tmp_path / name
        path.write_text(json.dumps(guard.check(prompt="Koichi Yamadera").record), encoding="utf-8")
        assert main(["verify", str(path)]) == 0
        out = capsys.readouterr().out
        assert "valid guard record signed by " + offline.key.did in out and "generate" in out
        assert main(["verify", str(path), "--registry", registry.url, "--json"]) == 0
        details = json.loads(capsys.readouterr().out)["details"]
        assert any("extends the checkpoint checked against" in line for line in details)

    tampered = json.loads((tmp_path / "offline.json").read_text())
    tampered["decision"] = "unknown"
    (tmp_path / "tampered.json").write_text(json.dumps(tampered), encoding="utf-8")
    assert main(["verify", str(tmp_path / "tampered.json")]) == 1
    assert capsys.readouterr().out.startswith("INVALID: signature")


def test_verifying_a_record_loads_nothing_heavy(offline: Guard, tmp_path: Path) -> None:
    (tmp_path / "record.json").write_text(json.dumps(offline.check(prompt="Anna").record), encoding="utf-8")
    status, loaded = loaded_by(["verify", "record.json"], tmp_path)
    assert status == 0 and sorted(loaded & OFFLINE_NO_SCHEMAS) == []


def test_guards_can_be_shared_between_threads(offline: Guard, world: dict[str, Any]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    png = (world["folder"] / "work.png").read_bytes()
    prompts = [random.Random(n).choice(["Koichi Yamadera", "Anna", "nobody"]) for n in range(40)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda p: offline.check(prompt=p, images=[png]), prompts))
    assert all(result.decision == "n" for result in results)
    assert [world["anna"] in result.claims for result in results] == [p == "Anna" for p in prompts]
