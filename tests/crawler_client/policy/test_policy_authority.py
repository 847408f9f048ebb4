"""`Policy(..., min_authority=…)` and `kotowari policy --min-authority`: only claims of at least that
authority decide, and the registry verdict names every matching claim with its authority."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import keys
from crawler_client.cli import main
from crawler_client.policy import Policy
from crawler_client.snapshot import Snapshot
from registry.authority.documents import new_mandate
from registry.documents import new_claim
from registry.snapshot import of_log
from tests.factories import signed_claim

from .conftest import Site

UA = "ExampleBot/1.0"


def snapshot_for(site: Site) -> tuple[bytes, str, str]:
    """A snapshot with a self-asserted claim over /works/ and a mandated one over /voices/."""
    registry, creator, principal, agency = (keys.SigningKey.generate() for _ in range(4))
    now = datetime.now(UTC)
    mandate = keys.sign_document(new_mandate(principal.did, agency.did, created=now), principal, created=now)
    behalf = {
        "principal": "Ayaka",
        "authority": "agreement",
        "did": principal.did,
        "mandate": keys.document_id(mandate),
    }
    mandated = keys.sign_document(
        new_claim(
            agency.did,
            "voice",
            [("url", site.url("/voices/"))],
            {"train-ai": "n"},
            created=now,
            on_behalf_of=behalf,
        ),
        agency,
        created=now,
    )
    works = signed_claim(creator, now, urls=(site.url("/works/"),), deny=("train-ai",))
    raw = of_log([mandate, mandated, works], key=registry, origin="kotowari.test/policy", spaces={}, now=now)
    return raw, keys.document_id(works), keys.document_id(mandated)


def registry_reason(decision: Any) -> str:
    (verdict,) = [s for s in decision.signals if s.source == "registry"]
    return str(verdict.reason)


def test_a_minimum_decides_which_claims_count(site: Site) -> None:
    raw, works, mandated = snapshot_for(site)
    with Policy(Snapshot.from_bytes(raw), allow_private=True) as everything:
        decision = everything.evaluate(site.url("/works/a.png"), "train-ai", UA)
        assert not decision.allowed
        assert (
            registry_reason(decision)
            == f"registry decision n: {works} (url 127.0.0.1/works/) [self-asserted]"
        )
    with Policy(Snapshot.from_bytes(raw), allow_private=True, min_authority="mandated") as strict:
        works_decision = strict.evaluate(site.url("/works/a.png"), "train-ai", UA)
        assert works_decision.allowed
        assert registry_reason(works_decision) == (
            f"registry decision unknown counting claims of at least mandated: {works} (url 127.0.0.1/works/) "
            "[self-asserted] not counted"
        )
        voices = strict.evaluate(site.url("/voices/x.wav"), "train-ai", UA)
        assert not voices.allowed and f"{mandated} (url 127.0.0.1/voices/) [mandated]" in voices.explain()


class Recording:
    """A registry source that records what it was asked and answers as told."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.asked: list[dict[str, Any]] = []

    def check(self, items: Sequence[Mapping[str, Any]], *, purpose: str, **options: Any) -> dict[str, Any]:
        self.asked.append({"purpose": purpose, **options})
        return self.answer


def test_the_minimum_is_passed_on_and_an_answer_that_ignores_it_counts_as_n(site: Site) -> None:
    plain = Recording({"items": [{"decision": "unknown", "matches": []}]})
    with Policy(plain, allow_private=True) as policy:
        assert policy.evaluate(site.url("/a"), "train-ai", UA).allowed
    assert plain.asked == [{"purpose": "train-ai"}]  # sources without the parameter keep working

    ignoring = Recording({"items": [{"decision": "unknown", "matches": []}]})
    with Policy(ignoring, allow_private=True, min_authority="attested") as policy:
        decision = policy.evaluate(site.url("/a"), "train-ai", UA)
    assert ignoring.asked == [{"purpose": "train-ai", "min_authority": "attested"}]
    assert not decision.allowed and "does not count from attested" in registry_reason(decision)

    with pytest.raises(
        ValueError, match="self-asserted, agent-asserted, mandated, attested, domain-verified"
    ):
        Policy(None, min_authority="trusted")


def test_policy_cli_min_authority(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw, works, _ = snapshot_for(site)
    (tmp_path / "claims.snapshot").write_bytes(raw)
    argv = [
        "policy",
        site.url("/works/b.png"),
        "--purpose",
        "train-ai",
        "--user-agent",
        UA,
        "--allow-private",
    ]
    argv += ["--snapshot", str(tmp_path / "claims.snapshot"), "--pre-fetch-only"]
    assert main(argv) == 1
    assert "[self-asserted]" in capsys.readouterr().out
    assert main([*argv, "--min-authority", "agent-asserted"]) == 0
    assert f"{works} (url 127.0.0.1/works/) [self-asserted] not counted" in capsys.readouterr().out
    assert main([*argv, "--min-authority", "agent"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mandated, attested, domain-verified" in err[0]
