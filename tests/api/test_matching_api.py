"""Works, voices and likenesses over HTTP: every identifier scheme filed, matched and refused."""

from __future__ import annotations

import io
import math
import random
from typing import Any

import httpx
import iscc_core
import pytest

import keys
from tests.api.test_claims_api import assert_problem, file, refused
from tests.conftest import Clock
from tests.factories import signed_claim

VOICE_SPACE = "speaker/ecapa-tdnn-voxceleb"


def isni_with_check(digits15: str) -> str:
    """ISO 7064 MOD 11-2, as ISO 27729 prescribes, to build valid ISNIs for tests."""
    total = 0
    for digit in digits15:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    return digits15 + ("X" if check == 10 else str(check))


def flip(code: bytes, bits: int, rng: random.Random) -> bytes:
    value = int.from_bytes(code, "big")
    for position in rng.sample(range(len(code) * 8), bits):
        value ^= 1 << position
    return value.to_bytes(len(code), "big")


def unit_vector_at(base: list[float], cosine: float, rng: random.Random) -> list[float]:
    """A vector whose cosine similarity with `base` is exactly `cosine`."""
    norm = math.sqrt(sum(x * x for x in base))
    u = [x / norm for x in base]
    r = [rng.gauss(0, 1) for _ in base]
    dot = sum(a * b for a, b in zip(r, u, strict=True))
    w = [a - dot * b for a, b in zip(r, u, strict=True)]
    w_norm = math.sqrt(sum(x * x for x in w))
    sine = math.sqrt(1 - cosine * cosine)
    return [cosine * a + sine * b / w_norm for a, b in zip(u, w, strict=True)]


async def claim_with(
    api: httpx.AsyncClient, key: keys.SigningKey, clock: Clock, identifiers: list[dict], **kw: Any
) -> str:
    claim = signed_claim(key, clock.now, urls=(), identifiers=identifiers, **kw)
    response = await file(api, claim)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def decisions(api: httpx.AsyncClient, purpose: str, *items: dict) -> list[dict[str, Any]]:
    response = await api.post("/v1/check", json={"purpose": purpose, "items": list(items)})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_names_match_in_any_script_and_inside_prompts(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    names = [{"scheme": "name", "value": v} for v in ("山寺宏一", "やまでら こういち", "Koichi Yamadera")]
    claim_id = await claim_with(api, alice, clock, names, kind="voice", deny=("generate",))
    queries = [
        {"scheme": "name", "value": "山寺 宏一"},
        {"scheme": "name", "value": "ヤマデラ コウイチ"},
        {"scheme": "name", "value": "koichi  YAMADERA"},
        {"scheme": "text", "value": "Read this line in the voice of Koichi Yamadera, please."},
        {"scheme": "name", "value": "Yamada"},
        {"scheme": "text", "value": "A story about Mr Yamada and a koichi-shaped cloud."},
    ]
    answers = await decisions(api, "generate", *queries)
    assert [a["decision"] for a in answers] == ["n", "n", "n", "n", "unknown", "unknown"]
    for answer in answers[:4]:
        assert answer["matches"][0]["match"] == "name" and answer["matches"][0]["claim"] == claim_id
    assert answers[3]["matches"][0]["key"] == "Koichi Yamadera"
    assert answers[0]["decisions"]["train-ai"] == "unknown"


async def test_pdq_matches_within_31_bits_including_dihedral_variants(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    rng = random.Random(4)
    original = rng.randbytes(32)
    variants = [rng.randbytes(32) for _ in range(7)]
    identifier = {
        "scheme": "pdq",
        "value": original.hex(),
        "quality": 90,
        "variants": [v.hex() for v in variants],
    }
    await claim_with(api, alice, clock, [identifier])
    near, far, mirrored = flip(original, 31, rng), flip(original, 32, rng), flip(variants[3], 12, rng)
    answers = await decisions(
        api,
        "train-ai",
        {"scheme": "pdq", "value": near.hex()},
        {"scheme": "pdq", "value": far.hex()},
        {"scheme": "pdq", "value": mirrored.hex()},
    )
    assert [a["decision"] for a in answers] == ["n", "unknown", "n"]
    assert answers[0]["matches"][0]["distance"] == 31 and answers[0]["matches"][0]["match"] == "pdq"
    assert answers[2]["matches"][0]["distance"] == 12


async def test_iscc_instance_matches_exactly_and_data_units_by_distance(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    rng = random.Random(5)
    data = rng.randbytes(200_000)
    changed = bytearray(data)
    changed[100_000:100_010] = bytes(10)

    def code(blob: bytes) -> str:
        parts = [
            iscc_core.gen_data_code_v0(io.BytesIO(blob))["iscc"],
            iscc_core.gen_instance_code_v0(io.BytesIO(blob))["iscc"],
        ]
        return str(iscc_core.gen_iscc_code_v0(parts)["iscc"])

    await claim_with(api, alice, clock, [{"scheme": "iscc", "value": code(data)}])
    long_instance = str(iscc_core.gen_instance_code_v0(io.BytesIO(data), bits=256)["iscc"])
    same, edited, other, standalone = await decisions(
        api,
        "train-ai",
        {"scheme": "iscc", "value": code(data)},
        {"scheme": "iscc", "value": code(bytes(changed))},
        {"scheme": "iscc", "value": code(rng.randbytes(200_000))},
        {"scheme": "iscc", "value": long_instance},
    )
    # A 256-bit Instance-Code of the same file meets the ISCC-CODE's 64-bit Instance unit.
    assert standalone["decision"] == "n" and standalone["matches"][0]["match"] == "iscc-instance"
    assert same["decision"] == "n" and {m["match"] for m in same["matches"]} <= {"iscc-instance", "iscc-data"}
    assert edited["decision"] == "n" and edited["matches"][0]["match"] == "iscc-data"
    assert edited["matches"][0]["distance"] <= 8
    assert other["decision"] == "unknown"


async def test_isni_and_wikidata_match_in_any_accepted_spelling(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    isni = isni_with_check("000000012103268")
    spaced = " ".join(isni[i : i + 4] for i in range(0, 16, 4))
    await claim_with(
        api,
        alice,
        clock,
        [{"scheme": "isni", "value": spaced}, {"scheme": "wikidata", "value": "Q42"}],
        kind="likeness",
    )
    answers = await decisions(
        api,
        "train-ai",
        {"scheme": "isni", "value": isni},
        {"scheme": "wikidata", "value": "https://www.wikidata.org/wiki/Q42"},
        {"scheme": "wikidata", "value": "Q43"},
    )
    assert [a["decision"] for a in answers] == ["n", "n", "unknown"]


async def test_embeddings_match_at_the_claims_threshold(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    rng = random.Random(6)
    voice = [rng.gauss(0, 1) for _ in range(192)]
    strict = {"scheme": "embedding", "space": VOICE_SPACE, "vector": voice}
    await claim_with(api, alice, clock, [strict], kind="voice", deny=("generate",))
    other = [rng.gauss(0, 1) for _ in range(192)]
    loose = {"scheme": "embedding", "space": VOICE_SPACE, "vector": other, "threshold": 0.7}
    await claim_with(api, alice, clock, [loose], kind="voice", deny=("generate",))
    query = lambda v: {"scheme": "embedding", "space": VOICE_SPACE, "vector": v}  # noqa: E731
    answers = await decisions(
        api,
        "generate",
        query(unit_vector_at(voice, 0.95, rng)),
        query(unit_vector_at(voice, 0.85, rng)),
        query(unit_vector_at(other, 0.75, rng)),
        query(unit_vector_at(other, 0.65, rng)),
    )
    assert [a["decision"] for a in answers] == ["n", "unknown", "n", "unknown"]
    assert answers[0]["matches"][0]["similarity"] == pytest.approx(0.95, abs=1e-4)
    assert answers[0]["item"] == {"scheme": "embedding", "space": VOICE_SPACE, "dimensions": 192}


def _pdq(**extra: Any) -> dict[str, Any]:
    return {"scheme": "pdq", "value": "ab" * 32, **extra}


@pytest.mark.parametrize(
    ("identifier", "pointer"),
    [
        ({"scheme": "iscc", "value": "ISCC:NOTACODE"}, "/subject/identifiers/0/value"),
        ({"scheme": "iscc", "value": "ISCC:GAARXXLBD25EKY7"}, "/subject/identifiers/0/value"),
        (_pdq(value="ab" * 31, quality=90), "/subject/identifiers/0/value"),
        (_pdq(quality=40), "/subject/identifiers/0/quality"),
        (_pdq(), "/subject/identifiers/0/quality"),
        (_pdq(quality=90, variants=["ab"] * 2), "/subject/identifiers/0/variants"),
        ({"scheme": "isni", "value": "0000000121032684"}, "/subject/identifiers/0/value"),
        ({"scheme": "wikidata", "value": "P31"}, "/subject/identifiers/0/value"),
        ({"scheme": "name", "value": " ・ "}, "/subject/identifiers/0/value"),
        (
            {"scheme": "embedding", "space": VOICE_SPACE, "vector": [0.0] * 192},
            "/subject/identifiers/0/vector",
        ),
        ({"scheme": "embedding", "space": VOICE_SPACE, "vector": [1.0] * 191}, "/subject/identifiers/0"),
        (
            {"scheme": "embedding", "space": "speaker/unknown-model", "vector": [1.0] * 192},
            "/subject/identifiers/0",
        ),
        (
            {"scheme": "embedding", "space": VOICE_SPACE, "vector": [1.0] * 192, "threshold": 1.5},
            "/subject/identifiers/0/threshold",
        ),
        ({"scheme": "text", "value": "free text is for checks"}, "/subject/identifiers/0/scheme"),
    ],
    ids=[
        "malformed-iscc",
        "truncated-iscc",
        "short-pdq",
        "low-quality-pdq",
        "pdq-without-quality",
        "bad-variants",
        "isni-check-character",
        "wikidata-property",
        "empty-name",
        "zero-norm-embedding",
        "wrong-dimension",
        "unknown-space",
        "threshold-above-1",
        "text-in-a-claim",
    ],
)
async def test_bad_identifiers_are_refused_and_nothing_is_stored(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock, identifier: dict, pointer: str
):
    claim = signed_claim(alice, clock.now, urls=(), identifiers=[identifier])
    problem = await refused(api, file(api, claim), 422, "invalid-document")
    assert problem["errors"][0]["pointer"] == pointer, problem


async def test_nan_in_an_embedding_is_not_json(api: httpx.AsyncClient):
    raw = b'{"items": [{"scheme": "embedding", "space": "speaker/ecapa-tdnn-voxceleb", "vector": [NaN]}]}'
    assert_problem(await api.post("/v1/check", content=raw), 400, "malformed-json")


@pytest.mark.parametrize(
    ("item", "pointer"),
    [
        ({"scheme": "embedding", "space": VOICE_SPACE, "vector": [1.0] * 10}, "/items/0"),
        ({"scheme": "pdq", "value": "zz" * 32}, "/items/0/value"),
        ({"scheme": "text", "value": ""}, "/items/0/value"),
        ({"scheme": "colour", "value": "red"}, "/items/0/scheme"),
    ],
)
async def test_bad_check_items_are_refused(api: httpx.AsyncClient, item: dict, pointer: str):
    problem = assert_problem(await api.post("/v1/check", json={"items": [item]}), 422, "invalid-document")
    assert problem["errors"][0]["pointer"] == pointer


async def test_withdrawn_claims_leave_every_index(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    from tests.factories import body, signed_withdrawal

    rng = random.Random(9)
    voice = [rng.gauss(0, 1) for _ in range(192)]
    pdq = rng.randbytes(32)
    identifiers = [
        {"scheme": "name", "value": "Koichi Yamadera"},
        {"scheme": "pdq", "value": pdq.hex(), "quality": 80},
        {"scheme": "embedding", "space": VOICE_SPACE, "vector": voice},
        {"scheme": "wikidata", "value": "Q42"},
    ]
    claim_id = await claim_with(api, alice, clock, identifiers, kind="voice", deny=("generate",))
    items = [
        {"scheme": "text", "value": "as Koichi Yamadera"},
        {"scheme": "pdq", "value": pdq.hex()},
        {"scheme": "embedding", "space": VOICE_SPACE, "vector": voice},
        {"scheme": "wikidata", "value": "Q42"},
    ]
    assert [a["decision"] for a in await decisions(api, "generate", *items)] == ["n"] * 4
    withdrawal = signed_withdrawal(alice, claim_id, clock.now)
    assert (await api.post(f"/v1/claims/{claim_id}/withdraw", content=body(withdrawal))).status_code == 200
    assert [a["decision"] for a in await decisions(api, "generate", *items)] == ["unknown"] * 4
