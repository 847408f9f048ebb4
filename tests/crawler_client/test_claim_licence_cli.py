"""Claims pointing to an RSL licence, end to end: `claim new --licence-rsl` (https only), a registry
in this process filing it and answering a signed check that shows the licence, and the lines
`kotowari check` prints for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import keys
from crawler_client import AsyncClient, RetryPolicy
from crawler_client.cli import explained, main
from crawler_client.verification import verify_answer
from tests.conftest import Clock
from tests.crawler_client.registry_app import Intercept, running_registry
from tests.factories import signed_claim

RSL = "https://rights.example/licences/rsl.xml"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    assert main(["keys", "new", "--out", "me.key"]) == 0
    return tmp_path


def claim_new(*extra: str) -> list[str]:
    return [
        "claim",
        "new",
        "--key",
        "me.key",
        "--kind",
        "work",
        "--url",
        "https://example.com/",
        "--deny",
        "train-ai",
        *extra,
    ]


def test_claim_new_writes_an_rsl_licence(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(claim_new("--licence-rsl", RSL, "--licence-contact", "rights@example.com", "--out", "c.json"))
        == 0
    )
    claim = json.loads((in_tmp / "c.json").read_text())
    keys.verify_document(claim)
    assert claim["licence"] == {"contact": "rights@example.com", "rsl": RSL}


@pytest.mark.parametrize(
    "url", ["http://rights.example/rsl.xml", "https://user:pw@rights.example/x", "rsl.xml"]
)
def test_claim_new_refuses_an_rsl_licence_that_is_not_https(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    capsys.readouterr()
    assert main(claim_new("--licence-rsl", url)) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("kotowari: error: ") and "licence/rsl" in error and "https" in error


async def test_a_signed_answer_shows_the_claims_rsl_licence(
    tmp_path: Path, clock: Clock, alice: keys.SigningKey
) -> None:
    async with (
        running_registry(tmp_path, clock) as app,
        AsyncClient(
            "http://registry.test", transport=Intercept(app), retry=RetryPolicy(base_delay=0.0)
        ) as registry,
    ):
        claim = signed_claim(alice, clock.now, licence={"rsl": RSL})
        await registry.file_claim(claim)
        result = await registry.check(
            [{"scheme": "url", "value": "https://example.com/gallery/a.png"}], purpose="train-ai"
        )
    verify_answer(result.answers[0])  # the licence is inside what the registry signed
    [item] = result.answers[0]["items"]
    assert item["decision"] == "n" and item["matches"][0]["licence"] == {"rsl": RSL}
    lines = explained(item)
    assert lines[-1].endswith(f"offers a licence: RSL licence {RSL}")


def test_check_output_lists_each_claims_licence_once() -> None:
    match = {
        "claim": "a" * 64,
        "authority": ["self-asserted"],
        "licence": {"rsl": RSL, "terms": "https://t.example/"},
    }
    item = {
        "reasons": [f"claim {'a' * 16}… by did:key:x reserves train-ai for url example.com/"],
        "matches": [match],
    }
    assert explained(item) == [
        f"claim {'a' * 16}… by did:key:x reserves train-ai for url example.com/ [self-asserted]",
        f"claim {'a' * 16}… offers a licence: RSL licence {RSL}; terms https://t.example/",
    ]
    assert explained({"reasons": [], "matches": [{"claim": "b" * 64}]}) == []
