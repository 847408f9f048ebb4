"""Notice documents, regimes, lifecycle rules, deadlines and exports: the pure parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import keys
from registry.documents import InvalidDocument
from registry.notices.deadlines import Deadline, DeadlineConfig, add_business_days, schedule
from registry.notices.documents import (
    Notice,
    NoticeResponse,
    missing_elements,
    new_notice,
    validate_notice_document,
)
from registry.notices.exports import (
    DSA_SOR_FIELDS,
    DSA_SOR_REQUIRED,
    LUMEN_NOTICE_FIELDS,
    LUMEN_ROLES,
    LUMEN_TYPES,
    NoRestriction,
    dsa_statement_of_reasons,
    lumen_notice,
)
from registry.notices.lifecycle import IllegalTransition, WrongParty, transition
from tests.notice_factories import response
from tests.notice_factories import whole_notice as complete_notice

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday


def _notice(document: dict[str, object]) -> Notice:
    return validate_notice_document(Notice, document)


def test_a_complete_notice_meets_every_regime(notifier: keys.SigningKey, operator: keys.SigningKey) -> None:
    notice = _notice(complete_notice(notifier, operator.did, T0, regimes=("dmca", "dsa", "jp-platform")))
    assert missing_elements(notice) == []
    likeness = _notice(
        complete_notice(notifier, operator.did, T0, regimes=("no-fakes", "dsa"), kind="likeness")
    )
    assert missing_elements(likeness) == []


def test_every_missing_element_of_every_regime_is_named(
    notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    bare = new_notice(
        notifier.did,
        operator.did,
        kind="work",
        identifiers=[("url", "https://aoi.example.jp/works/")],
        locations=[],
        actions=["remove"],
        regimes=["dmca", "dsa", "jp-platform"],
        created=T0,
    )
    errors = missing_elements(_notice(keys.sign_document(bare, notifier, created=T0)))
    by_regime: dict[str, set[str]] = {}
    for pointer, reason in errors:
        by_regime.setdefault(reason.split(":")[0], set()).add(pointer)
    assert by_regime["dmca"] == {
        "/signature",
        "/subject/title",
        "/material/locations",
        "/contact/name",
        "/contact/address",
        "/statements/good-faith",
        "/statements/accuracy",
        "/statements/authority-under-penalty-of-perjury",
    }
    assert by_regime["dsa"] == {
        "/grounds",
        "/material/locations",
        "/contact/name",
        "/contact/email",
        "/statements/good-faith",
    }
    assert by_regime["jp-platform"] == {
        "/contact/name",
        "/contact/email",
        "/material/locations",
        "/jp_platform/infringed_right",
        "/jp_platform/reason",
    }
    assert any("512(c)(3)(A)(vi)" in reason for _, reason in errors)
    assert any("Art. 16(2)(c)" in reason for _, reason in errors)


def test_regimes_refuse_subjects_they_do_not_cover(
    notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    voice_under_dmca = _notice(complete_notice(notifier, operator.did, T0, regimes=("dmca",), kind="voice"))
    assert (
        "/regimes/0",
        "dmca covers copyrighted works; for a voice or likeness use no-fakes",
    ) in missing_elements(voice_under_dmca)
    work_under_no_fakes = _notice(complete_notice(notifier, operator.did, T0, regimes=("no-fakes",)))
    assert missing_elements(work_under_no_fakes)[0][0] == "/regimes/0"


def test_no_fakes_needs_the_individual_and_authority(
    notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    statements = {"good-faith": "Not authorised by me."}
    doc = complete_notice(
        notifier, operator.did, T0, regimes=("no-fakes",), kind="voice", title=None, statements=statements
    )
    pointers = [pointer for pointer, _ in missing_elements(_notice(doc))]
    assert pointers == ["/subject/title", "/statements/authority"]
    agency = complete_notice(
        notifier,
        operator.did,
        T0,
        regimes=("no-fakes",),
        kind="voice",
        title=None,
        statements=statements,
        on_behalf_of={"principal": "Aoi Tanaka", "authority": "Exclusive management agreement of 2024"},
    )
    assert missing_elements(_notice(agency)) == []


def test_japanese_field_names_are_accepted(notifier: keys.SigningKey, operator: keys.SigningKey) -> None:
    doc = complete_notice(
        notifier,
        operator.did,
        T0,
        regimes=("jp-platform",),
        jp_platform={"権利": "著作者人格権", "理由": "改変されたため", "住所": "東京都千代田区"},
    )
    notice = _notice(doc)
    assert notice.jp_platform is not None and notice.jp_platform.infringed_right == "著作者人格権"
    assert missing_elements(notice) == []


def test_schema_errors_point_at_the_field(notifier: keys.SigningKey, operator: keys.SigningKey) -> None:
    doc = complete_notice(notifier, operator.did, T0, actions=["delete-everything"])
    with pytest.raises(InvalidDocument) as caught:
        _notice(doc)
    assert caught.value.errors[0][0] == "/actions/0"
    doc = complete_notice(notifier, operator.did, T0, locations=[("output-sha256", "not-a-hash")])
    with pytest.raises(InvalidDocument) as caught:
        _notice(doc)
    assert caught.value.errors[0][0] == "/material/locations/0"
    doc = complete_notice(notifier, operator.did, T0, identifiers=[])
    with pytest.raises(InvalidDocument) as caught:
        _notice(doc)
    assert caught.value.errors[0][0] == "/subject"
    with pytest.raises(InvalidDocument):
        validate_notice_document(Notice, {**doc, "type": "Claim"})


def test_rejection_needs_a_statement_of_reasons(operator: keys.SigningKey) -> None:
    doc = response(operator, "0" * 64, "reject", T0, statement=None)
    doc = {key: value for key, value in doc.items() if key != "statement"}
    with pytest.raises(InvalidDocument) as caught:
        validate_notice_document(NoticeResponse, doc)
    assert "statement" in caught.value.errors[0][1]


@pytest.mark.parametrize(
    ("state", "action", "party", "after"),
    [
        ("filed", "deliver", "registry", "delivered"),
        ("filed", "acknowledge", "operator", "acknowledged"),
        ("delivered", "acknowledge", "operator", "acknowledged"),
        ("acknowledged", "action", "operator", "actioned"),
        ("acknowledged", "reject", "operator", "rejected"),
        ("actioned", "counter-notice", "operator", "counter-noticed"),
        ("counter-noticed", "restore", "operator", "restored"),
        ("counter-noticed", "uphold", "notifier", "upheld"),
        ("restored", "close", "notifier", "closed"),
        ("acknowledged", "remind", "registry", "acknowledged"),
    ],
)
def test_allowed_steps(state: str, action: str, party: str, after: str) -> None:
    assert transition(state, action, party) == after  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "action", "party"),
    [
        ("acknowledged", "action", "notifier"),
        ("delivered", "acknowledge", "notifier"),
        ("counter-noticed", "restore", "notifier"),
        ("filed", "deliver", "operator"),
        ("acknowledged", "action", None),
    ],
)
def test_wrong_party_is_refused_before_the_state_is_looked_at(
    state: str, action: str, party: str | None
) -> None:
    with pytest.raises(WrongParty):
        transition(state, action, party)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "action", "party"),
    [
        ("filed", "action", "operator"),
        ("closed", "close", "notifier"),
        ("rejected", "restore", "operator"),
        ("actioned", "acknowledge", "operator"),
        ("closed", "remind", "registry"),
        ("filed", "fly-away", "operator"),
    ],
)
def test_illegal_transitions_are_refused(state: str, action: str, party: str) -> None:
    with pytest.raises(IllegalTransition):
        transition(state, action, party)  # type: ignore[arg-type]


def test_business_days_skip_weekends() -> None:
    friday = datetime(2026, 12, 4, 12, tzinfo=UTC)
    assert add_business_days(friday, 1) == datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert add_business_days(friday, 10) == datetime(2026, 12, 18, 12, tzinfo=UTC)


def test_dmca_restoration_window_is_10_to_14_business_days() -> None:
    config = DeadlineConfig()
    countered = T0 + timedelta(days=3)  # Thursday
    plan = schedule(
        config, ["dmca"], "counter-noticed", filed_at=T0, counter_noticed_at=countered, now=countered
    )
    assert plan.restore_not_before == add_business_days(countered, 10)
    assert plan.restore_by == add_business_days(countered, 14)
    late = schedule(
        config,
        ["dmca"],
        "counter-noticed",
        filed_at=T0,
        counter_noticed_at=countered,
        now=countered + timedelta(days=21),
    )
    assert late.overdue == ("restore-or-uphold",)


def test_the_earliest_regime_deadline_applies_and_overrides_work() -> None:
    config = DeadlineConfig()
    plan = schedule(
        config,
        ["dmca", "dsa"],
        "filed",
        filed_at=T0,
        counter_noticed_at=None,
        now=T0 + timedelta(days=1, seconds=1),
    )
    assert plan.acknowledge_by == T0 + timedelta(days=1)
    assert plan.overdue == ("acknowledge",)
    strict = config.with_override("dmca", "decide", Deadline(24, "hours", "test"))
    assert strict.due("dmca", "decide", T0) == T0 + timedelta(hours=24)
    assert all(d.source for clocks in config.table.values() for d in clocks.values())


def _decided(
    notifier: keys.SigningKey, operator: keys.SigningKey, kind: str = "work"
) -> tuple[Notice, list[NoticeResponse]]:
    regimes = ("dmca", "dsa") if kind == "work" else ("no-fakes", "dsa")
    notice = _notice(complete_notice(notifier, operator.did, T0, regimes=regimes, kind=kind))
    steps = [
        NoticeResponse.model_validate(response(operator, "0" * 64, "acknowledge", T0)),
        NoticeResponse.model_validate(
            response(
                operator, "0" * 64, "action", T0 + timedelta(days=1), statement="Removed from the model."
            )
        ),
    ]
    return notice, steps


def test_dsa_statement_of_reasons_uses_the_databases_field_names(
    notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    for kind in ("work", "voice", "likeness"):
        notice, steps = _decided(notifier, operator, kind)
        sor = dsa_statement_of_reasons(notice, "ab" * 32, T0, steps)
        assert set(sor) <= DSA_SOR_FIELDS
        assert set(sor) >= DSA_SOR_REQUIRED
        assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
        assert sor["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
        assert sor["illegal_content_legal_ground"] and sor["illegal_content_explanation"]
        assert sor["source_type"] == "SOURCE_ARTICLE_16"
        assert sor["application_date"] == "2026-12-01"
        assert sor["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
        assert sor["puid"] == "ab" * 32
    work, _ = _decided(notifier, operator, "work")
    assert (
        dsa_statement_of_reasons(work, "ab" * 32, T0, _)["category"]
        == "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    )


def test_a_rejection_has_no_statement_of_reasons_to_publish(
    notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    notice, steps = _decided(notifier, operator)
    rejected = [steps[0], NoticeResponse.model_validate(response(operator, "0" * 64, "reject", T0))]
    with pytest.raises(NoRestriction):
        dsa_statement_of_reasons(notice, "ab" * 32, T0, rejected)


def test_lumen_export_uses_lumens_submission_fields(
    notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    notice, steps = _decided(notifier, operator)
    exported = lumen_notice(notice, "ab" * 32, T0, steps, "Acme AI")
    body = exported["notice"]
    assert set(body) <= LUMEN_NOTICE_FIELDS
    assert body["type"] in LUMEN_TYPES and body["type"] == "DMCA"
    assert body["action_taken"] == "Yes"
    assert {role["name"] for role in body["entity_notice_roles_attributes"]} <= LUMEN_ROLES
    work = body["works_attributes"][0]
    assert work["infringing_urls_attributes"] == [{"url": "https://models.example.com/acme/painter-v2"}]
    assert work["copyrighted_urls_attributes"] == [{"url": "https://aoi.example.jp/works/"}]
    assert "model: acme/painter-v2" in work["description"]
    voice, _ = _decided(notifier, operator, "voice")
    assert lumen_notice(voice, "ab" * 32, T0, [], "Acme AI")["notice"]["type"] == "PrivateInformation"
