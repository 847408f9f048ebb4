"""What the command line says about errors and answers that come from elsewhere, in the locale's language.

The client's exceptions (`crawler_client.errors`) and the registry's answers are English on the wire
and in the SDK, where programs read them; the command line shows a person the same facts in the
locale's language: an error by its class and, for the registry's refusals, by the problem's stable
`type` (with the registry's own English detail beside it), and a check answer's reasons rebuilt from
the signed answer's own fields.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from crawler_client.i18n import N_, _, language, said

__all__ = ["decision_shown", "explained_error", "reason_shown", "refusal_line"]

PROBLEMS: dict[str, str] = {
    "already-withdrawn": N_("This claim was already withdrawn."),
    "authority-conflict": N_("The key and authority rules do not allow this."),
    "body-too-large": N_("This is too large: send it in several parts."),
    "clock-window": N_(
        "The signature's time is too far from the registry's clock: check this machine's clock."
    ),
    "document-too-large": N_("This is too large: send it in several parts."),
    "illegal-transition": N_("The notice's state does not allow this step now."),
    "invalid-document": N_("The registry does not accept this document as it is."),
    "invalid-parameter": N_("The registry does not accept one of the values asked for."),
    "invalid-proof": N_("The signature does not verify."),
    "key-retired": N_("This key was rotated away or recovered from, and may sign nothing more."),
    "malformed-json": N_("The registry could not read what was sent as strict JSON."),
    "nonce-reused": N_("This signed document was already sent once (its nonce is used)."),
    "not-claimant": N_("Only the claimant who signed the claim may withdraw it."),
    "not-found": N_("The registry holds nothing by that id."),
    "operator-name-taken": N_("Another, domain-verified operator holds this name."),
    "rate-limited": N_("Too many requests in a short time: wait a little and try again."),
    "too-early": N_("It is too early for this step."),
    "too-many-items": N_("Too many items in one check: split it."),
    "verification-failed": N_("The registry could not verify it."),
    "wrong-party": N_("Only a party to this notice may take this step."),
    "wrong-signer": N_("This document is signed by a key other than its author's."),
}
"""An explanation per problem `type` (its last path segment) the command line often meets."""


def refusal_line(status: object, slug: str, title: str, detail: str, where: str = "") -> str:
    """One line for a problem the registry answered: the explanation for its type, if there is one,
    and the registry's own status, title and (English) detail."""
    refusal = _("registry refused ({status} {title}): {detail}{where}").format(
        status=status, title=title, detail=detail, where=where
    )
    explanation = PROBLEMS.get(slug)
    if explanation is None:
        return refusal
    return _("{refusal} {explanation}").format(refusal=refusal, explanation=_(explanation))


def explained_error(exc: Exception) -> str:
    """The one line `kotowari: error: …` shows for an input error, a client error or a key error."""
    from crawler_client.cli_support import UsageError

    if isinstance(exc, UsageError):
        return str(exc)
    errors = sys.modules.get("crawler_client.errors")
    if errors is not None and isinstance(exc, errors.RegistryProblem):
        where = ""
        if exc.errors and exc.errors[0].get("pointer"):
            where = _(" (at {pointer})").format(pointer=exc.errors[0]["pointer"])
        slug = exc.type.rsplit("/", 1)[-1]
        return refusal_line(exc.status, slug, said(exc.title), said(exc.detail), where)
    if language() == "en":
        return str(exc)  # the SDK's own message, in English already
    classes = {cls.__name__ for cls in type(exc).__mro__}
    for name, text in CLIENT_ERRORS:
        if name in classes:
            return _(text).format(detail=said(exc))
    keys_errors = sys.modules.get("keys.errors")
    if keys_errors is not None and isinstance(exc, keys_errors.KeysError):
        return _("a key, signature or JSON problem ({detail})").format(detail=said(exc))
    return said(exc)


CLIENT_ERRORS: tuple[tuple[str, str], ...] = (
    ("RegistryBusy", N_("the registry is busy and kept refusing; try again later ({detail})")),
    ("RegistryUnavailable", N_("the registry could not be reached ({detail})")),
    ("NotWitnessed", N_("not enough witnesses cosigned the registry's checkpoint ({detail})")),
    ("UntrustedAnswer", N_("the registry's answer cannot be trusted ({detail})")),
    ("UnexpectedAnswer", N_("the registry answered something unexpected ({detail})")),
    ("SnapshotRefused", N_("the snapshot was refused ({detail})")),
    ("FetchRefused", N_("the fetch was refused ({detail})")),
    ("KotowariError", N_("the registry's answer could not be used ({detail})")),
)
"""What the command line says (in a language other than English) for each client error, by class name
(the first in this order that the error is), with the SDK's English message beside it."""


# ---------------------------------------------------------------- check answers

DECISIONS: dict[str, str] = {"n": N_("reserved"), "y": N_("allowed"), "unknown": N_("no statement")}


def decision_shown(decision: str) -> str:
    """A check decision for the text output: the token itself in English (`n`, `y`, `unknown`, which
    scripts read), the word in other languages."""
    if language() == "en" or decision not in DECISIONS:
        return decision
    return _(DECISIONS[decision])


_CLAIM_REASON = re.compile(
    r"claim (?P<claim>[0-9a-f]+)… by (?P<claimant>\S+) (?P<verb>reserves|allows) (?P<use>[a-z-]+)"
    r"(?: \(through (?P<parent>[a-z-]+)\))? for (?P<how>.+)"
)
_UNCOUNTED = re.compile(
    r"claim (?P<claim>[0-9a-f]+)… is (?P<held>.+), below (?P<minimum>[a-z-]+): not counted"
)


def reason_shown(reason: str) -> str:
    """A reason of a check answer (registry.checking writes them in English), in the locale's
    language; a reason of another form is shown as it is."""
    if language() == "en":
        return reason
    found = _CLAIM_REASON.fullmatch(reason)
    if found:
        values: dict[str, Any] = found.groupdict()
        if values["verb"] == "reserves":
            text = _("claim {claim}… by {claimant} reserves {use} for {how}")
        else:
            text = _("claim {claim}… by {claimant} allows {use} for {how}")
        shown = text.format(**values)
        if values["parent"]:
            shown += _(" (through {parent})").format(parent=values["parent"])
        return shown
    found = _UNCOUNTED.fullmatch(reason)
    if found:
        return _("claim {claim}… is {held}, below {minimum}: not counted").format(**found.groupdict())
    return reason


# ---------------------------------------------------------------- notice words

WORDS: tuple[str, ...] = (
    # notice states (registry.notices.lifecycle.STATES)
    N_("filed"),
    N_("delivered"),
    N_("acknowledged"),
    N_("actioned"),
    N_("rejected"),
    N_("counter-noticed"),
    N_("restored"),
    N_("upheld"),
    N_("closed"),
    # parties
    N_("notifier"),
    N_("operator"),
    N_("registry"),
    # lifecycle steps (notice respond --action)
    N_("file"),
    N_("acknowledge"),
    N_("action"),
    N_("reject"),
    N_("counter-notice"),
    N_("restore"),
    N_("uphold"),
    N_("close"),
    # deadlines, as `notice show` names them
    N_("acknowledge by"),
    N_("decide by"),
    N_("restore by"),
    N_("restore not before"),
    # claim status
    N_("active"),
    N_("withdrawn"),
)
"""Tokens of the notice lifecycle and claim status that the text output shows: each is its own English
msgid, so English shows the token and other languages a word."""


def word(token: str) -> str:
    """A lifecycle token (`filed`, `acknowledge by`, …) in the locale's language; unknown ones as they are."""
    return _(token) if token else token
