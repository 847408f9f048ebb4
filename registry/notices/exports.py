"""Notices and decisions in the formats others already read.

* `dsa_statement_of_reasons`: an operator's restriction decision as a statement of reasons for the
  EU DSA Transparency Database (`POST https://transparency.dsa.ec.europa.eu/api/v1/statement`), with
  that API's field names and enumeration keys (`DSA_SOR_FIELDS`, taken from the database's own
  request validation, digital-services-act/transparency-database `StatementStoreRequest`). Only a
  restriction can be reported there: a rejected notice restricted nothing (`NoRestriction`).
* `lumen_notice`: a notice in the JSON Lumen's submission API accepts (`{"notice": {...}}` with
  `works_attributes`, `entity_notice_roles_attributes`, … as in berkmancenter/lumendatabase).

Pure: no database. The operator's name is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from registry.notices.documents import Notice, NoticeResponse

#: Every field the DSA Transparency Database accepts for one statement of reasons.
DSA_SOR_FIELDS: Final = frozenset(
    {
        "decision_visibility", "decision_visibility_other", "decision_monetary", "decision_monetary_other",
        "decision_provision", "decision_account", "account_type", "category_specification",
        "category_specification_other", "decision_ground", "decision_ground_reference_url",
        "illegal_content_legal_ground", "illegal_content_explanation", "incompatible_content_ground",
        "incompatible_content_explanation", "incompatible_content_illegal", "content_type",
        "content_type_other",
        "category", "category_addition", "territorial_scope", "content_language", "content_date",
        "application_date", "end_date_account_restriction", "end_date_monetary_restriction",
        "end_date_service_restriction", "end_date_visibility_restriction", "decision_facts", "source_type",
        "source_identity", "automated_detection", "automated_decision", "puid",
    }
)  # fmt: skip
#: Required unconditionally (plus one of the decision_* fields, and the ground's explanation fields).
DSA_SOR_REQUIRED: Final = frozenset(
    {
        "decision_ground", "content_type", "category", "content_date", "application_date", "decision_facts",
        "source_type", "automated_detection", "automated_decision", "puid",
    }
)  # fmt: skip

#: Lumen notice types (Notice::TYPES) and entity roles.
LUMEN_TYPES: Final = frozenset(
    {"DMCA", "Trademark", "Defamation", "CourtOrder", "LawEnforcementRequest", "PrivateInformation",
     "DataProtection", "GovernmentRequest", "Other"}
)  # fmt: skip
LUMEN_NOTICE_FIELDS: Final = frozenset(
    {"title", "type", "subject", "body", "date_sent", "date_received", "source", "tag_list",
     "jurisdiction_list", "action_taken", "language", "works_attributes", "entity_notice_roles_attributes"}
)  # fmt: skip
LUMEN_ROLES: Final = frozenset({"sender", "principal", "recipient", "submitter", "attorney"})

_LEGAL_GROUNDS: Final = {
    "dmca": "Copyright: 17 U.S.C. 512(c)",
    "dsa": "Illegal content notified under Regulation (EU) 2022/2065 Art. 16",
    "jp-platform": "情報流通プラットフォーム対処法 (Japan, Information Distribution Platform Act)",
    "no-fakes": "Unauthorised digital replica of a voice or likeness (NO FAKES Act notice)",
}


class NoRestriction(ValueError):
    """The notice's outcome restricted nothing, so there is no statement of reasons to report."""


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _decision(responses: Sequence[NoticeResponse]) -> NoticeResponse | None:
    actioned = [r for r in responses if r.action == "action"]
    restored = any(r.action == "restore" for r in responses)
    if not actioned or restored:
        return None
    return actioned[-1]


def dsa_statement_of_reasons(
    notice: Notice, notice_id: str, received_at: datetime, responses: Sequence[NoticeResponse]
) -> dict[str, Any]:
    """The operator's `action` decision on `notice` as a DSA Transparency Database statement."""
    decision = _decision(responses)
    if decision is None:
        raise NoRestriction("this notice has no standing restriction decision (not actioned, or restored)")
    taken = set(decision.actions_taken or ())
    visibility = ["DECISION_VISIBILITY_CONTENT_REMOVED"] if taken & {"remove", "retrain"} else []
    if taken & {"disable", "stop-generation", "stop-training-use", "stay-down"}:
        visibility.append("DECISION_VISIBILITY_CONTENT_DISABLED")
    kind = notice.subject.kind
    if kind == "work":
        category, keyword = (
            "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            "KEYWORD_COPYRIGHT_INFRINGEMENT",
        )
        content_type = ["CONTENT_TYPE_OTHER"]
    else:
        category, keyword = (
            "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
            "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",
        )
        content_type = [
            "CONTENT_TYPE_AUDIO" if kind == "voice" else "CONTENT_TYPE_IMAGE",
            "CONTENT_TYPE_SYNTHETIC_MEDIA",
        ]
    statement: dict[str, Any] = {
        "decision_visibility": visibility,
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "; ".join(_LEGAL_GROUNDS[regime] for regime in notice.regimes)[:500],
        "illegal_content_explanation": (notice.grounds or decision.statement or "See the notice.")[:2000],
        "content_type": content_type,
        "category": category,
        "category_specification": [keyword],
        "content_date": _day(received_at),
        "application_date": _day(datetime.fromisoformat(decision.created)),
        "decision_facts": (
            f"Notice {notice_id} (Kotowari registry) asked for: {', '.join(notice.actions)}. "
            f"The operator took: {', '.join(sorted(taken))}. {decision.statement or ''}"
        ).strip()[:5000],
        "source_type": "SOURCE_ARTICLE_16" if "dsa" in notice.regimes else "SOURCE_TYPE_OTHER_NOTIFICATION",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_FULLY"
        if decision.automated
        else "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": notice_id,
    }
    if "CONTENT_TYPE_OTHER" in content_type:
        statement["content_type_other"] = "AI training data, model or generated output"
    if notice.language:
        statement["content_language"] = notice.language.split("-")[0].upper()
    return statement


def lumen_notice(
    notice: Notice,
    notice_id: str,
    received_at: datetime,
    responses: Sequence[NoticeResponse],
    operator_name: str,
) -> dict[str, Any]:
    """`notice` as Lumen's notice submission JSON; non-URL locations are described in the work."""
    urls = [location.value for location in notice.material.locations if location.kind == "url"]
    others = [
        f"{location.kind}: {location.value}"
        for location in notice.material.locations
        if location.kind != "url"
    ]
    originals = [i.value for i in notice.subject.identifiers if i.scheme == "url"]
    description = (
        notice.subject.title or notice.subject.description or f"{notice.subject.kind} {notice_id[:16]}"
    )
    if others:
        description += " — also at " + "; ".join(others)
    decision = _decision(responses)
    decided = [r for r in responses if r.action in ("action", "reject")]
    if decision is not None:
        action_taken = "Yes" if set(decision.actions_taken or ()) >= set(notice.actions) else "Partial"
    else:
        action_taken = "No" if decided else ""
    sender = notice.notifier  # names are personal data and never reach an export: the DID stands in
    roles: list[dict[str, Any]] = [
        {"name": "sender", "entity_attributes": {"name": sender, "kind": "individual"}},
        {"name": "recipient", "entity_attributes": {"name": operator_name, "kind": "organization"}},
        {"name": "submitter", "entity_attributes": {"name": "Kotowari registry", "kind": "organization"}},
    ]
    if notice.on_behalf_of is not None:
        roles.append({"name": "principal", "entity_attributes": {"name": notice.on_behalf_of.principal}})
    kind = (
        "DMCA"
        if "dmca" in notice.regimes
        else ("PrivateInformation" if notice.subject.kind != "work" else "Other")
    )
    jurisdictions = sorted(
        {"dmca": "US", "no-fakes": "US", "dsa": "EU", "jp-platform": "JP"}[r] for r in notice.regimes
    )
    body = "\n\n".join(part for part in (notice.grounds, notice.material.description) if part)
    return {
        "notice": {
            "title": f"Takedown notice to {operator_name} ({', '.join(notice.regimes)})",
            "type": kind,
            "subject": description[:500],
            "body": body,
            "date_sent": notice.created[:10],
            "date_received": _day(received_at),
            "source": "Kotowari registry",
            "tag_list": ", ".join(["ai", *notice.actions]),
            "jurisdiction_list": ", ".join(jurisdictions),
            "action_taken": action_taken,
            "language": (notice.language or "en").split("-")[0],
            "works_attributes": [
                {
                    "description": description,
                    "copyrighted_urls_attributes": [{"url": url} for url in originals],
                    "infringing_urls_attributes": [{"url": url} for url in urls],
                }
            ],
            "entity_notice_roles_attributes": roles,
        }
    }
