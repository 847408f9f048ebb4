"""One claim from `claim new`'s values, shared by `claim new` (flags) and `claim import` (columns).

Both hand the same values (an `argparse.Namespace` with the flags' attribute names) to
`build_claim`, which applies every check `claim new` makes and then the registry's own validation,
so a row of an import file is refused exactly where the same flags would be, before anything is
signed. `label` names a value in messages: `--on-behalf-of` for flags, `on_behalf_of` for columns.

Most claims (items by `--url`, `--sha256`, `--name`, `--isni`, `--wikidata`, `--iscc`; uses, title,
window, territories) are checked without pydantic: `identifier_accepted` and `claim_accepted` say
True only where the registry's models surely accept, by the same field rules and the same
validators, and anything else goes to the models themselves, which then give their own refusal.
Building those models is most of `claim new`'s start-up (tests/crawler_client/test_cli_startup.py
holds the two paths to the same decisions and messages).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from crawler_client.cli_support import UsageError, as_if_signed, given, parse_items, unknown_use
from crawler_client.i18n import _
from crawler_client.items import _FLAGS as ITEM_FLAGS
from registry.vocabulary import SUBJECT_KINDS, USES, VALUES, UnknownUse, parse_uses

__all__ = [
    "CLAIM_VALUES",
    "build_claim",
    "claim_accepted",
    "flag_label",
    "identifier_accepted",
    "time_of",
    "uses_of",
    "validate_claim",
]

CLAIM_VALUES: tuple[str, ...] = (
    "kind",
    "deny",
    "allow",
    "title",
    "on_behalf_of",
    "authority",
    "principal_did",
    "mandate",
    "licence_contact",
    "licence_terms",
    "licence_rsl",
    "valid_from",
    "valid_until",
    "territory",
)
"""The non-item values of a claim, by their `claim new` attribute names (items: `crawler_client.items`)."""

_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def flag_label(name: str) -> str:
    """How `claim new` names a value: its flag."""
    return "--" + name.replace("_", "-")


def uses_of(text: str | None, value: str, label: str = "--deny") -> dict[str, str]:
    """`{use: value}` for a comma-separated list of uses (`--deny`, `--allow`), tokens or Japanese names."""
    if not text:
        return {}
    try:
        return {use: value for use in parse_uses(text)}
    except UnknownUse as exc:
        raise unknown_use(exc, label) from None


def time_of(text: str | None, label: str) -> datetime | None:
    """An RFC 3339 UTC time (`--valid-from`), or None when not given."""
    if text is None:
        return None
    from registry.document_fields import parse_timestamp

    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise UsageError(_("{flag}: {detail}").format(flag=label, detail=exc)) from None


def validate_claim(document: dict[str, Any]) -> None:
    """Refuse here what the registry would refuse, before anything is signed."""
    if claim_accepted(document):
        return
    from registry.documents import Claim, InvalidDocument, validate_document

    try:
        validate_document(Claim, as_if_signed(document))
    except InvalidDocument as exc:
        raise UsageError(_("the claim would be refused: {detail}").format(detail=exc)) from None


def build_claim(
    values: argparse.Namespace,
    claimant: str,
    *,
    now: datetime,
    nonce: str | None = None,
    label: Callable[[str], str] = flag_label,
) -> dict[str, Any]:
    """The unsigned claim `values` describe, by `claimant`, created `now`; `UsageError` saying what
    is wrong (in `label`'s names) when the registry, or `claim new`, would refuse it."""
    from registry.document_fields import new_claim

    try:
        items = _accepted_items(values)
        if items is None:
            items = parse_items(values, query=False)
    except UsageError as exc:
        raise UsageError(_FLAG.sub(lambda m: label(m.group(1).replace("-", "_")), str(exc))) from None
    if not items:
        named = ", ".join(label(name) for name in ("url", "file", "name", "isni"))
        raise UsageError(_("name at least one item ({items}, …)").format(items=named))
    if not values.deny and not values.allow:
        message = _("say which uses you reserve ({deny}) or allow ({allow})")
        raise UsageError(message.format(deny=label("deny"), allow=label("allow")))
    denied, allowed = uses_of(values.deny, "n", label("deny")), uses_of(values.allow, "y", label("allow"))
    if set(denied) & set(allowed):
        raise UsageError(_("a use cannot be both denied and allowed"))
    if bool(values.on_behalf_of) != bool(values.authority):
        message = _("{first} and {second} go together")
        raise UsageError(message.format(first=label("on_behalf_of"), second=label("authority")))
    if (values.principal_did or values.mandate) and not values.on_behalf_of:
        message = _("{did} and {mandate} describe the principal: give {principal} too")
        raise UsageError(
            message.format(
                did=label("principal_did"), mandate=label("mandate"), principal=label("on_behalf_of")
            )
        )
    if values.mandate and not values.principal_did:
        message = _("{mandate} needs {did}: the DID of the principal who signed it")
        raise UsageError(message.format(mandate=label("mandate"), did=label("principal_did")))
    on_behalf_of = (
        given(
            {
                "principal": values.on_behalf_of,
                "authority": values.authority,
                "did": values.principal_did,
                "mandate": values.mandate.lower() if values.mandate else None,
            }
        )
        if values.on_behalf_of
        else None
    )
    licence = given(
        {
            "contact": values.licence_contact,
            "terms": values.licence_terms,
            "rsl": getattr(values, "licence_rsl", None),
        }
    )
    document = new_claim(
        claimant,
        values.kind,
        items,
        denied | allowed,
        created=now,
        nonce=nonce,
        title=values.title,
        on_behalf_of=on_behalf_of,
        licence=licence or None,
        valid_from=time_of(values.valid_from, label("valid_from")),
        valid_until=time_of(values.valid_until, label("valid_until")),
        territories=values.territory or None,
    )
    validate_claim(document)
    return document


def _accepted_items(values: argparse.Namespace) -> list[dict[str, Any]] | None:
    """The items `parse_items(values, query=False)` returns, when every one is surely accepted
    (no `--file` or `--embedding`, each `identifier_accepted`); None to ask `parse_items`."""
    if values.file or values.embedding:
        return None
    items = [
        {"scheme": flag, "value": value} for flag, _m, _t in ITEM_FLAGS for value in getattr(values, flag)
    ]
    return items if all(identifier_accepted(item) for item in items) else None


def _text(value: object, lengths: tuple[int, int] = (0, 1 << 62)) -> bool:
    """A `str` of `lengths` characters that pydantic-core can read (no lone surrogates)."""
    if type(value) is not str or not lengths[0] <= len(value) <= lengths[1]:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def identifier_accepted(item: object) -> bool:
    """True if `registry.schemes.identifier(item, filing=True)` accepts `item` for sure, by the
    rules and validators of its scheme's model; False if it refuses or for a scheme not done here."""
    from registry import content_ids, names
    from registry.identifiers import normalize_sha256
    from registry.suffixes import refuse_public_suffix
    from registry.urls import MAX_URL_LENGTH, claim_expression, filable

    if type(item) is not dict or item.keys() != {"scheme", "value"}:
        return False
    scheme, value = item["scheme"], item["value"]
    if type(scheme) is not str or not _text(value):
        return False
    try:
        if scheme == "url":  # ClaimUrlId: UrlId's validator, then (filing) no public suffix
            if not _text(value, (1, MAX_URL_LENGTH)):
                return False
            claim_expression(value)
            refuse_public_suffix(filable(value).host)
        elif scheme == "sha256":
            normalize_sha256(value)
        elif scheme == "name":
            if not _text(value, (1, names.MAX_NAME_CHARS)):
                return False
            names.validate_name(value)
        elif scheme == "isni":
            content_ids.normalize_isni(value)
        elif scheme == "wikidata":
            content_ids.normalize_wikidata(value)
        elif scheme == "iscc":
            if not _text(value, (1, 200)):
                return False
            content_ids.normalize_iscc(value)
        else:
            return False
    except Exception:  # refused, or not sure: the model decides
        return False
    return True


_CLAIM_FIELDS = frozenset(
    {"type", "claimant", "subject", "uses", "created", "nonce", "valid_from", "valid_until", "territories"}
)


def claim_accepted(document: object) -> bool:
    """True if `validate_document(Claim, as_if_signed(document))` accepts `document` for sure: the
    fields `build_claim` writes, checked by the `Claim` model's rules; False if it refuses, or for
    fields not done here (`on_behalf_of`, `licence`), which the model then checks itself."""
    from registry import document_fields as fields

    if type(document) is not dict or not document.keys() <= _CLAIM_FIELDS:
        return False
    try:
        subject, uses = document["subject"], document["uses"]
        if document["type"] != "Claim" or type(document["type"]) is not str:
            return False
        if not _text(document["claimant"]):
            return False
        fields._did(document["claimant"])
        for name in ("created", *(name for name in ("valid_from", "valid_until") if name in document)):
            if not _text(document[name]):
                return False
            fields.parse_timestamp(document[name])
        fields.check_window(document.get("valid_from"), document.get("valid_until"))
        nonce = document["nonce"]
        if not _text(nonce, fields.NONCE_LENGTHS) or not re.fullmatch(fields.NONCE_PATTERN, nonce):
            return False
        if type(uses) is not dict or not uses:
            return False
        for use, value in uses.items():
            if type(use) is not str or use not in USES or type(value) is not str or value not in VALUES:
                return False
        if "territories" in document:
            territories = document["territories"]
            low, high = fields.TERRITORIES_PER_CLAIM
            if type(territories) is not list or not low <= len(territories) <= high:
                return False
            for territory in territories:
                if not _text(territory):
                    return False
                fields._territory(territory)
        if type(subject) is not dict or not subject.keys() <= {"kind", "identifiers", "title"}:
            return False
        kind, identifiers = subject["kind"], subject["identifiers"]
        if type(kind) is not str or kind not in SUBJECT_KINDS:
            return False
        if "title" in subject and not _text(subject["title"], fields.TITLE_LENGTHS):
            return False
        low, high = fields.IDENTIFIERS_PER_SUBJECT
        if type(identifiers) is not list or not low <= len(identifiers) <= high:
            return False
        return all(identifier_accepted(item) for item in identifiers)
    except Exception:  # refused, or not sure: the model decides
        return False
