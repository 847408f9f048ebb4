"""What the registry serves against what its log implies: claim lookups and check answers.

Pure: each function takes the served JSON and the replayed `ClaimIndex` and returns the
differences as one-line messages (an empty list when they agree).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import keys
from registry.checking import decide
from registry.index import ClaimIndex, UnknownEmbeddingSpace

__all__ = ["check_items", "compare_claim", "compare_item", "expected_items", "label"]


def _short(claim_id: str) -> str:
    return f"{claim_id[:16]}…"


def _id_of(document: object) -> str | None:
    if not isinstance(document, dict):
        return None
    try:
        return hashlib.sha256(keys.canonicalize(document)).hexdigest()
    except keys.KeysError:
        return None


def _plain(value: Any) -> Any:
    """`value` as it reads back from JSON (tuples become lists, and so on)."""
    return json.loads(json.dumps(value))


def compare_claim(claim_id: str, filed_at: int, served: dict[str, Any], index: ClaimIndex) -> list[str]:
    """Differences between `GET /v1/claims/{claim_id}` and the replay: the document byte for byte
    (canonical), the status, log indexes, the withdrawal, the authority and the acting claimant."""
    name = f"claim {_short(claim_id)} (log entry {filed_at})"
    problems: list[str] = []
    if served.get("id") != claim_id:
        problems.append(f"{name}: the registry answers for id {str(served.get('id'))[:16]}…")
    if _id_of(served.get("document")) != claim_id:
        problems.append(f"{name}: the registry serves a document that is not the logged one")
    if served.get("log_index") != filed_at:
        problems.append(f"{name}: the registry says it is log entry {served.get('log_index')}")
    withdrawal = index.withdrawals.get(claim_id)
    status = "withdrawn" if withdrawal else "active"
    if served.get("status") != status:
        problems.append(f"{name}: the registry says {served.get('status')}, the log says {status}")
    shown = served.get("withdrawal")
    if withdrawal is None and shown is not None:
        problems.append(f"{name}: the registry shows a withdrawal the log does not hold")
    elif withdrawal is not None:
        if not isinstance(shown, dict):
            problems.append(f"{name}: the registry does not show its withdrawal (log entry {withdrawal[0]})")
        elif (shown.get("id"), shown.get("log_index"), _id_of(shown.get("document"))) != (
            withdrawal[1],
            withdrawal[0],
            withdrawal[1],
        ):
            problems.append(f"{name}: the withdrawal shown is not the one at log entry {withdrawal[0]}")
    expected = index.authority_of_claim(claim_id)
    authority = served.get("authority")
    if expected is None and authority is not None:
        problems.append(f"{name}: the registry gives an authority to a claim not in force")
    elif expected is not None:
        given = (
            {k: v for k, v in authority.items() if k != "tree_size"} if isinstance(authority, dict) else None
        )
        if given != _plain(expected.to_json()):
            problems.append(
                f"{name}: the registry gives authority {json.dumps(given, ensure_ascii=False)}, "
                f"the log implies {json.dumps(_plain(expected.to_json()), ensure_ascii=False)}"
            )
    claimant = (
        served.get("document", {}).get("claimant") if isinstance(served.get("document"), dict) else None
    )
    if isinstance(claimant, str):
        acting = index.authority.controller(claimant)
        if served.get("acting_claimant", claimant) != acting:
            problems.append(
                f"{name}: the registry says {served.get('acting_claimant', claimant)} acts for it, "
                f"the log says {acting}"
            )
    return problems


def served_tree_size(served: dict[str, Any]) -> int | None:
    """The tree size a claim lookup says it was computed at, when it says (claims in force)."""
    authority = served.get("authority")
    size = authority.get("tree_size") if isinstance(authority, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def check_items(document: dict[str, Any], index: ClaimIndex) -> list[dict[str, Any]]:
    """The items to check for a claim: its identifiers, as check items, that this index can compare
    (an embedding in a space it does not know is left out: the registry would refuse the batch)."""
    from registry.schemes import identifier

    subject = document.get("subject")
    items = subject.get("identifiers", []) if isinstance(subject, dict) else []
    usable = []
    for obj in items:
        try:
            index.check_query(identifier(obj))
        except (UnknownEmbeddingSpace, ValueError):
            continue
        usable.append(obj)
    return usable


def expected_items(index: ClaimIndex, items: Sequence[Any], at: datetime) -> list[dict[str, Any]]:
    """What `POST /v1/check` must answer for `items` (validated check items) at `at`, by the
    replayed index, exactly as the registry computes it (disputes as logged up to its position)."""
    answers = [decide(item, index.match(item), at=at) for item in items]
    for match in (m for answer in answers for m in answer["matches"] if m["claim"] in index.disputed):
        match["disputed"] = True
    return [_plain(answer) for answer in answers]


def label(item: dict[str, Any]) -> str:
    if item.get("scheme") == "embedding":
        return f"embedding in {item.get('space')}"
    value = str(item.get("value", ""))
    return f"{item.get('scheme')} {value if len(value) <= 60 else value[:59] + '…'}"


def compare_item(served: object, expected: dict[str, Any], name: str) -> str | None:
    """How a served answer item differs from the replay's (decisions first, then the matching
    claims, then their authority), or None when they are equal."""
    if not isinstance(served, dict):
        return f"check of {name}: the answer item is not an object"
    if served == expected:
        return None
    decisions, wanted = served.get("decisions"), expected["decisions"]
    if decisions != wanted:
        if isinstance(decisions, dict):
            said = ", ".join(
                f"{use}={decisions.get(use)} (log: {value})"
                for use, value in wanted.items()
                if decisions.get(use) != value
            )
        else:
            said = f"decisions {decisions!r}"
        return f"check of {name}: the registry answers {said}"
    given_matches = served.get("matches")
    matches: list[Any] = given_matches if isinstance(given_matches, list) else []
    by_claim = {m.get("claim"): m for m in matches if isinstance(m, dict)}
    expected_by_claim = {m["claim"]: m for m in expected["matches"]}
    if by_claim.keys() != expected_by_claim.keys():
        extra = sorted(str(c)[:16] for c in by_claim.keys() - expected_by_claim.keys())
        missing = sorted(str(c)[:16] for c in expected_by_claim.keys() - by_claim.keys())
        return (
            f"check of {name}: the registry matches claims [{', '.join(extra)}] the log does not, "
            f"and not [{', '.join(missing)}] that the log does"
        )
    for claim, match in expected_by_claim.items():
        given = by_claim[claim]
        for part in ("authority", "chain", "authority_notes", "disputed", "uses", "claimant"):
            if given.get(part) != match.get(part):
                return (
                    f"check of {name}: claim {_short(claim)} has {part} "
                    f"{json.dumps(given.get(part), ensure_ascii=False)}, the log implies "
                    f"{json.dumps(match.get(part), ensure_ascii=False)}"
                )
    differing = sorted(k for k in set(served) | set(expected) if served.get(k) != expected.get(k))
    return f"check of {name}: the answer differs from the replay in {', '.join(differing)}"
