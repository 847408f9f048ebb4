"""Authority replayed from the log: mandates, attestations, domain verifications, key successions.

The index replays signed documents exactly as the registry logs them; every rule that makes a
mandate, attestation or recovery not count has a test saying why.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

import keys
from registry.authority.documents import (
    new_attestation,
    new_mandate,
    new_recovery_keys,
    new_recovery_step,
    new_revocation,
    new_rotation,
)
from registry.authority.levels import LEVELS, ClaimAuthority, Grant, counts, host_covered, parse_level
from registry.authority.state import AuthorityState
from registry.checking import decide
from registry.documents import new_claim, unsigned_document
from registry.index import ClaimIndex
from registry.schemes import CheckItem, identifier

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def signed(key: keys.SigningKey, document: dict[str, Any], at: datetime = NOW) -> dict[str, Any]:
    return keys.sign_document(document, key, created=at)


class Log:
    """A list of documents and the index that replays them, as the registry does."""

    def __init__(self) -> None:
        self.index = ClaimIndex()
        self.registry = keys.SigningKey.generate()

    def add(self, document: dict[str, Any]) -> str:
        self.index.apply(self.index.position, keys.canonicalize(document))
        return keys.document_id(document)

    def verify(self, subject: str, host: str, scope: str = "domain", method: str = "well-known") -> str:
        fields = {
            "type": "DomainVerification",
            "registry": self.registry.did,
            "subject": subject,
            "host": host,
            "scope": scope,
            "method": method,
            "url": f"https://{host}/.well-known/kotowari-did",
            "sha256": "0" * 64,
            "checked_at": "2026-06-01T00:00:00Z",
        }
        return self.add(signed(self.registry, unsigned_document(fields, created=NOW)))

    def lapse(self, verification: str, subject: str, host: str) -> str:
        fields = {
            "type": "DomainVerificationLapse",
            "registry": self.registry.did,
            "verification": verification,
            "subject": subject,
            "host": host,
            "reason": "the file is gone",
            "checked_at": "2026-06-02T00:00:00Z",
        }
        return self.add(signed(self.registry, unsigned_document(fields, created=NOW)))

    def match(self, scheme: str, value: str, *, at: datetime = NOW, minimum: str | None = None) -> Any:
        item = identifier({"scheme": scheme, "value": value})
        return decide(item, self.index.match(item), at=at, purpose="train-ai", min_authority=minimum)


def claim(key: keys.SigningKey, urls: list[str], **options: Any) -> dict[str, Any]:
    identifiers: list[Any] = [("url", url) for url in urls] + options.pop("identifiers", [])
    return signed(
        key,
        new_claim(
            key.did, options.pop("kind", "work"), identifiers, {"train-ai": "n"}, created=NOW, **options
        ),
    )


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def creator() -> keys.SigningKey:
    return keys.SigningKey.generate()


@pytest.fixture
def agency() -> keys.SigningKey:
    return keys.SigningKey.generate()


def test_a_claim_alone_is_self_asserted(log: Log, creator: keys.SigningKey) -> None:
    log.add(claim(creator, ["https://example.com/art/"]))
    [match] = log.match("url", "https://example.com/art/a.png")["matches"]
    assert match["authority"] == ["self-asserted"]
    assert "chain" not in match


def test_domain_verification_covers_the_registrable_domain_and_below(
    log: Log, creator: keys.SigningKey
) -> None:
    log.add(claim(creator, ["https://www.example.com/art/", "https://other.example/x/"]))
    verification = log.verify(creator.did, "example.com")
    [match] = log.match("url", "https://www.example.com/art/a.png")["matches"]
    assert match["authority"] == ["self-asserted", "domain-verified"]
    assert match["chain"][0]["document"] == verification
    assert match["chain"][0]["method"] == "well-known"
    [other] = log.match("url", "https://other.example/x/1")["matches"]
    assert other["authority"] == ["self-asserted"]


def test_a_host_verification_covers_that_host_only(log: Log, creator: keys.SigningKey) -> None:
    log.add(claim(creator, ["https://blog.example.com/", "https://example.com/"]))
    log.verify(creator.did, "blog.example.com", scope="host")
    assert log.match("url", "https://blog.example.com/p")["matches"][0]["authority"][-1] == "domain-verified"
    assert log.match("url", "https://example.com/p")["matches"][0]["authority"] == ["self-asserted"]


def test_a_lapse_counts_from_its_index_on_and_is_recorded_as_a_change(
    log: Log, creator: keys.SigningKey
) -> None:
    claim_id = log.add(claim(creator, ["https://example.com/"]))
    verification = log.verify(creator.did, "example.com")
    lapse_index = log.index.position
    log.lapse(verification, creator.did, "example.com")
    assert log.match("url", "https://example.com/")["matches"][0]["authority"] == ["self-asserted"]
    assert (lapse_index, claim_id) in log.index.authority_changes
    assert (lapse_index - 1, claim_id) in log.index.authority_changes


def test_someone_elses_verification_does_not_raise_a_claim(
    log: Log, creator: keys.SigningKey, agency: keys.SigningKey
) -> None:
    log.add(claim(creator, ["https://example.com/"]))
    log.verify(agency.did, "example.com")
    assert log.match("url", "https://example.com/")["matches"][0]["authority"] == ["self-asserted"]


def agent_claim(
    agency: keys.SigningKey, principal: keys.SigningKey | None, mandate: str | None = None, **kw: Any
) -> dict[str, Any]:
    behalf: dict[str, str] = {"principal": "Ayaka Sato", "authority": "management agreement"}
    if principal is not None:
        behalf["did"] = principal.did
    if mandate is not None:
        behalf["mandate"] = mandate
    urls = kw.pop("urls", ["https://talent.example/ayaka/"])
    return claim(agency, urls, kind=kw.pop("kind", "voice"), on_behalf_of=behalf, **kw)


def test_an_agent_without_a_principal_did_is_agent_asserted_and_says_why(
    log: Log, agency: keys.SigningKey
) -> None:
    log.add(agent_claim(agency, None))
    [match] = log.match("url", "https://talent.example/ayaka/1")["matches"]
    assert match["authority"] == ["agent-asserted"]
    assert "no principal DID" in match["authority_notes"][0]


def test_a_mandate_in_scope_makes_the_claim_mandated(
    log: Log, creator: keys.SigningKey, agency: keys.SigningKey
) -> None:
    mandate = log.add(
        signed(
            creator,
            new_mandate(
                creator.did,
                agency.did,
                created=NOW,
                kinds=["voice"],
                uses=["train-ai", "generate"],
                identifiers=[{"scheme": "url", "value": "https://talent.example/ayaka/"}],
            ),
        )
    )
    log.add(agent_claim(agency, creator, mandate, urls=["https://talent.example/ayaka/samples/"]))
    [match] = log.match("url", "https://talent.example/ayaka/samples/1.wav")["matches"]
    assert match["authority"] == ["mandated"]
    assert match["chain"][0] | {"at": None} == {
        "authority": "mandated",
        "by": creator.did,
        "method": "mandate",
        "document": mandate,
        "log_index": 0,
        "at": None,
    }


def test_a_mandate_found_without_its_id(log: Log, creator: keys.SigningKey, agency: keys.SigningKey) -> None:
    log.add(signed(creator, new_mandate(creator.did, agency.did, created=NOW)))
    log.add(agent_claim(agency, creator))
    assert log.match("url", "https://talent.example/ayaka/")["matches"][0]["authority"] == ["mandated"]


def test_a_mandate_filed_after_the_claim_raises_it(
    log: Log, creator: keys.SigningKey, agency: keys.SigningKey
) -> None:
    claim_id = log.add(agent_claim(agency, creator))
    assert log.match("url", "https://talent.example/ayaka/")["matches"][0]["authority"] == ["agent-asserted"]
    log.add(signed(creator, new_mandate(creator.did, agency.did, created=NOW)))
    assert log.match("url", "https://talent.example/ayaka/")["matches"][0]["authority"] == ["mandated"]
    assert log.index.authority_changes[-1] == (1, claim_id)


@pytest.mark.parametrize(
    ("scope", "why"),
    [
        ({"kinds": ["likeness"]}, "covers likeness, not voice"),
        ({"uses": ["search"]}, "does not cover the uses train-ai"),
        (
            {"identifiers": [{"scheme": "url", "value": "https://talent.example/other/"}]},
            "does not cover url:",
        ),
    ],
)
def test_a_claim_outside_the_mandate_is_agent_asserted(
    log: Log, creator: keys.SigningKey, agency: keys.SigningKey, scope: dict[str, Any], why: str
) -> None:
    mandate = log.add(signed(creator, new_mandate(creator.did, agency.did, created=NOW, **scope)))
    log.add(agent_claim(agency, creator, mandate))
    [match] = log.match("url", "https://talent.example/ayaka/")["matches"]
    assert match["authority"] == ["agent-asserted"]
    assert why in match["authority_notes"][0]


def test_a_mandate_for_another_agent_does_not_count(
    log: Log, creator: keys.SigningKey, agency: keys.SigningKey
) -> None:
    other = keys.SigningKey.generate()
    mandate = log.add(signed(creator, new_mandate(creator.did, other.did, created=NOW)))
    log.add(agent_claim(agency, creator, mandate))
    [match] = log.match("url", "https://talent.example/ayaka/")["matches"]
    assert match["authority"] == ["agent-asserted"]
    assert f"names the agent {other.did}" in match["authority_notes"][0]


def test_a_revoked_mandate_counts_no_more(
    log: Log, creator: keys.SigningKey, agency: keys.SigningKey
) -> None:
    mandate = log.add(signed(creator, new_mandate(creator.did, agency.did, created=NOW)))
    log.add(agent_claim(agency, creator, mandate))
    log.add(signed(creator, new_revocation("MandateRevocation", creator.did, mandate, created=NOW)))
    [match] = log.match("url", "https://talent.example/ayaka/")["matches"]
    assert match["authority"] == ["agent-asserted"]
    assert "revoked by the principal at log index 2" in match["authority_notes"][0]
    for did in (creator.did, agency.did):  # both parties keep it in their history
        [ended] = log.index.authority.history[did]
        assert ended == {"id": mandate, "type": "Mandate", "ended": "revoked by the principal at log index 2"}


def test_a_revocation_by_anyone_else_changes_nothing(
    log: Log, creator: keys.SigningKey, agency: keys.SigningKey
) -> None:
    mandate = log.add(signed(creator, new_mandate(creator.did, agency.did, created=NOW)))
    log.add(agent_claim(agency, creator, mandate))
    revocation = signed(agency, new_revocation("MandateRevocation", agency.did, mandate, created=NOW))
    from registry.authority.documents import MandateRevocation

    assert log.index.authority.refusal(MandateRevocation.model_validate(revocation), "x") == (
        "only the principal revokes a mandate"
    )
    log.add(revocation)
    assert log.match("url", "https://talent.example/ayaka/")["matches"][0]["authority"] == ["mandated"]


def test_an_expired_mandate_does_not_count_at_a_later_moment(
    log: Log, creator: keys.SigningKey, agency: keys.SigningKey
) -> None:
    log.add(
        signed(
            creator, new_mandate(creator.did, agency.did, created=NOW, valid_until=NOW + timedelta(days=30))
        )
    )
    log.add(agent_claim(agency, creator))
    assert log.match("url", "https://talent.example/ayaka/")["matches"][0]["authority"] == ["mandated"]
    later = log.match("url", "https://talent.example/ayaka/", at=NOW + timedelta(days=31))
    assert later["matches"][0]["authority"] == ["agent-asserted"]


def test_an_attestation_counts_only_while_its_issuer_is_domain_verified(
    log: Log, creator: keys.SigningKey
) -> None:
    union = keys.SigningKey.generate()
    isni = {"scheme": "isni", "value": "0000 0001 2103 2683"}
    log.add(claim(creator, [], kind="voice", identifiers=[isni, ("name", "山寺宏一")]))
    log.add(
        signed(
            union,
            new_attestation(
                union.did, creator.did, "identity", created=NOW, name="山寺宏一", identifiers=[isni]
            ),
        )
    )
    [match] = log.match("isni", "0000000121032683")["matches"]
    assert match["authority"] == ["self-asserted"]
    assert "holds no domain verification" in match["authority_notes"][0]
    verification = log.verify(union.did, "union.example")
    assert log.match("isni", "0000000121032683")["matches"][0]["authority"] == ["self-asserted", "attested"]
    # the attestation names the ISNI, not the name: a name hit stays self-asserted
    prompt = TypeAdapter(CheckItem).validate_python({"scheme": "text", "value": "in the voice of 山寺宏一"})
    names = decide(prompt, log.index.match(prompt), at=NOW)
    assert names["matches"][0]["authority"] == ["self-asserted"]
    log.lapse(verification, union.did, "union.example")
    assert log.match("isni", "0000000121032683")["matches"][0]["authority"] == ["self-asserted"]


def test_a_member_attestation_covers_every_identifier_but_urls(log: Log, creator: keys.SigningKey) -> None:
    union = keys.SigningKey.generate()
    log.verify(union.did, "union.example")
    log.add(claim(creator, ["https://creator.example/"], identifiers=[("isni", "0000 0001 2103 2683")]))
    attestation = log.add(signed(union, new_attestation(union.did, creator.did, "member", created=NOW)))
    assert log.match("isni", "0000000121032683")["matches"][0]["authority"] == ["self-asserted", "attested"]
    assert log.match("url", "https://creator.example/")["matches"][0]["authority"] == ["self-asserted"]
    log.add(signed(union, new_revocation("AttestationRevocation", union.did, attestation, created=NOW)))
    [match] = log.match("isni", "0000000121032683")["matches"]
    assert match["authority"] == ["self-asserted"]


def test_min_authority_keeps_weaker_matches_listed_but_uncounted(log: Log, creator: keys.SigningKey) -> None:
    other = keys.SigningKey.generate()
    log.add(claim(creator, ["https://example.com/"]))
    log.add(claim(other, ["https://example.com/a/"]))
    log.verify(creator.did, "example.com")
    answer = log.match("url", "https://example.com/a/1", minimum="domain-verified")
    assert answer["decision"] == "n"
    counted = {m["claimant"]: m["counted"] for m in answer["matches"]}
    assert counted == {creator.did: True, other.did: False}
    assert any("below domain-verified: not counted" in reason for reason in answer["reasons"])
    log2 = Log()
    log2.add(claim(other, ["https://example.com/a/"]))
    assert log2.match("url", "https://example.com/a/1", minimum="mandated")["decision"] == "unknown"


# ------------------------------------------------------------------ keys


def test_rotation_hands_control_to_the_successor_and_retires_the_old_key(
    log: Log, creator: keys.SigningKey
) -> None:
    successor, third = keys.SigningKey.generate(), keys.SigningKey.generate()
    state = log.index.authority
    log.add(signed(creator, new_rotation(creator.did, successor.did, created=NOW)))
    assert state.controller(creator.did) == successor.did
    assert state.retired(creator.did)
    from registry.authority.documents import KeyRotation

    again = KeyRotation.model_validate(signed(creator, new_rotation(creator.did, third.did, created=NOW)))
    assert "may sign nothing more" in str(state.refusal(again, "x"))
    back = KeyRotation.model_validate(signed(third, new_rotation(third.did, creator.did, created=NOW)))
    assert "was itself replaced" in str(state.refusal(back, "x"))
    log.add(signed(successor, new_rotation(successor.did, third.did, created=NOW)))
    assert state.controller(creator.did) == third.did


def recovery(log: Log, creator: keys.SigningKey, helper: keys.SigningKey, successor: keys.SigningKey) -> str:
    log.add(signed(creator, new_recovery_keys(creator.did, [helper.did], created=NOW, waiting_period_days=7)))
    return log.add(
        signed(
            helper,
            new_recovery_step(
                "RecoveryRequest", helper.did, created=NOW, did=creator.did, successor=successor.did
            ),
        )
    )


def test_recovery_completes_only_after_the_waiting_period(log: Log, creator: keys.SigningKey) -> None:
    from registry.authority.documents import RecoveryCompletion

    helper, successor = keys.SigningKey.generate(), keys.SigningKey.generate()
    request = recovery(log, creator, helper, successor)
    state = log.index.authority
    early = signed(
        successor,
        new_recovery_step(
            "RecoveryCompletion", successor.did, created=NOW + timedelta(days=6), request=request
        ),
        NOW + timedelta(days=6),
    )
    assert "waiting period runs until" in str(state.refusal(RecoveryCompletion.model_validate(early), "x"))
    log.add(early)  # a forged log entry changes nothing
    assert not state.retired(creator.did)
    on_time = signed(
        successor,
        new_recovery_step(
            "RecoveryCompletion", successor.did, created=NOW + timedelta(days=7), request=request
        ),
        NOW + timedelta(days=7),
    )
    log.add(on_time)
    assert state.controller(creator.did) == successor.did


def test_a_veto_ends_a_recovery(log: Log, creator: keys.SigningKey) -> None:
    from registry.authority.documents import RecoveryCompletion

    helper, successor = keys.SigningKey.generate(), keys.SigningKey.generate()
    request = recovery(log, creator, helper, successor)
    log.add(signed(creator, new_recovery_step("RecoveryVeto", creator.did, created=NOW, request=request)))
    late = NOW + timedelta(days=8)
    completion = signed(
        successor, new_recovery_step("RecoveryCompletion", successor.did, created=late, request=request), late
    )
    assert "already vetoed or completed" in str(
        log.index.authority.refusal(RecoveryCompletion.model_validate(completion), "x")
    )


def test_only_a_designated_recovery_key_may_ask(log: Log, creator: keys.SigningKey) -> None:
    from registry.authority.documents import RecoveryRequest

    stranger, successor = keys.SigningKey.generate(), keys.SigningKey.generate()
    request = RecoveryRequest.model_validate(
        signed(
            stranger,
            new_recovery_step(
                "RecoveryRequest", stranger.did, created=NOW, did=creator.did, successor=successor.did
            ),
        )
    )
    assert "is not a recovery key of" in str(log.index.authority.refusal(request, "x"))


# ------------------------------------------------------------------ levels


def test_levels_are_ordered_weakest_first_and_parsed_strictly() -> None:
    assert LEVELS[0] == "self-asserted" and LEVELS[-1] == "domain-verified"
    assert counts(["self-asserted", "attested"], "mandated")
    assert not counts(["agent-asserted"], "mandated")
    assert counts([], None)
    with pytest.raises(ValueError, match="unknown authority"):
        parse_level("verified")


def test_host_cover_rules() -> None:
    assert host_covered("a.b.example.com", [".example.com"])
    assert host_covered("example.com", [".example.com"])
    assert not host_covered("badexample.com", [".example.com"])
    assert not host_covered("a.example.com", ["example.com"])


def test_authority_round_trips_through_json() -> None:
    authority = ClaimAuthority(
        "agent-asserted",
        (
            Grant(
                "mandated",
                "did:key:zP",
                "mandate",
                "ab" * 32,
                3,
                "2026-01-01T00:00:00Z",
                valid_until="2027-01-01T00:00:00Z",
            ),
        ),
        ("a note",),
    )
    assert ClaimAuthority.from_json(authority.to_json()) == authority
    assert AuthorityState().authority_of  # the default state is usable without a log


@pytest.mark.parametrize("kind", ["Claim", "Mandate", "Attestation"])
def test_a_validity_window_that_ends_before_it_starts_is_refused(kind: str, creator: keys.SigningKey) -> None:
    from registry.authority.documents import validate_authority_document
    from registry.documents import InvalidDocument, validate_document

    start, end = NOW + timedelta(days=2), NOW + timedelta(days=1)
    other = keys.SigningKey.generate().did
    if kind == "Claim":
        document = new_claim(
            creator.did, "work", [("url", "https://example.com/")], {"train-ai": "n"},
            created=NOW, valid_from=start, valid_until=end,
        )  # fmt: skip
        validate = validate_document
    elif kind == "Mandate":
        document = new_mandate(creator.did, other, created=NOW, valid_from=start, valid_until=end)
        validate = validate_authority_document
    else:
        document = new_attestation(
            creator.did, other, "member", created=NOW, valid_from=start, valid_until=end
        )
        validate = validate_authority_document
    from registry.authority.documents import AUTHORITY_DOCUMENT_TYPES
    from registry.documents import DOCUMENT_TYPES

    model = {**DOCUMENT_TYPES, **AUTHORITY_DOCUMENT_TYPES}[kind]
    with pytest.raises(InvalidDocument, match="valid_until must be later than valid_from"):
        validate(model, signed(creator, document))  # type: ignore[operator]
