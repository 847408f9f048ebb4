"""One claim from `claim new`'s values, shared by `claim new` (flags) and `claim import` (columns).

Both hand the same values (an `argparse.Namespace` with the flags' attribute names) to
`build_claim`, which applies every check `claim new` makes and then the registry's own validation,
so a row of an import file is refused exactly where the same flags would be, before anything is
signed. `label` names a value in messages: `--on-behalf-of` for flags, `on_behalf_of` for columns.

Like the other command modules, this imports pydantic and the schemas only when a claim is built.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from crawler_client.cli_support import UsageError, as_if_signed, given, parse_items, unknown_use
from crawler_client.i18n import _
from registry.vocabulary import UnknownUse, parse_uses

__all__ = ["CLAIM_VALUES", "build_claim", "flag_label", "time_of", "uses_of", "validate_claim"]

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
    from registry.documents import parse_timestamp

    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise UsageError(_("{flag}: {detail}").format(flag=label, detail=exc)) from None


def validate_claim(document: dict[str, Any]) -> None:
    """Refuse here what the registry would refuse, before anything is signed."""
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
    from registry.documents import new_claim

    try:
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
