"""The fast check path against the reference it replaces, as properties.

- `ClaimIndex.match` (which skips the expressions of hosts that hold no URL key) finds the same
  hits, in the same order, as looking up every Safe Browsing expression (`exact_keys`);
- `registry.answers` (one decision per distinct hit list, canonical fragments, bytes signed
  directly) gives exactly the signed answer that deciding every item with `decide` and signing the
  whole dict with `keys.sign_document` gives: same decisions, same matches, same reasons, same bytes
  under the same signature.
URLs include ones that need full canonicalisation (case, escapes, dot segments, ports, IPs).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from registry.answers import AnswerItems, signed_answer
from registry.authority.levels import LEVELS
from registry.checking import Hit, decide, validate_check_request
from registry.documents import Claim, new_claim
from registry.index import ClaimIndex
from registry.schemes import exact_keys
from registry.vocabulary import USES

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
KEYS = [keys.SigningKey.from_bytes(bytes([n]) * 32) for n in range(1, 4)]
REGISTRY = keys.SigningKey.from_bytes(b"r" * 32)

HOSTS = [
    "example.com",
    "www.example.com",
    "a.b.example.com",
    "other.org",
    "x.y.z.w.deep.example.net",
    "1.2.3.4",
]
SEGMENTS = ["gallery", "2024", "a.png", "%7Euser", "日本", "..", ".", "", "A%2fB"]


@st.composite
def url(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(HOSTS))
    if draw(st.booleans()):
        host = host.upper()
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/".join(draw(st.lists(st.sampled_from(SEGMENTS), max_size=5)))
    query = draw(st.sampled_from(["", "?q=1", "?a=%41&b"]))
    trailing = draw(st.sampled_from(["", "/", "#frag"]))
    return f"{scheme}://{host}{port}/{path}{trailing}{query}"


def claim(draw: st.DrawFn, number: int) -> tuple[str, Claim]:
    key = KEYS[number % len(KEYS)]
    uses = draw(
        st.dictionaries(st.sampled_from(list(USES)), st.sampled_from(["n", "y"]), min_size=1, max_size=3)
    )
    territories = draw(st.sampled_from([None, ["JP"], ["EU", "JP"]]))
    valid_until = draw(st.sampled_from([None, NOW - timedelta(days=1), NOW + timedelta(days=30)]))
    document = new_claim(
        key.did,
        "work",
        [("url", draw(url()))],
        uses,
        created=NOW - timedelta(days=2),
        nonce=f"nonce-{number:012d}",
        territories=territories,
        valid_until=valid_until,
    )
    signed = keys.sign_document(document, key, created=NOW - timedelta(days=2))
    return keys.document_id(signed), Claim.model_validate(signed)


@st.composite
def registry_state(draw: st.DrawFn) -> tuple[ClaimIndex, set[str]]:
    index = ClaimIndex()
    ids = []
    for number in range(draw(st.integers(min_value=0, max_value=12))):
        claim_id, model = claim(draw, number)
        index.add(claim_id, model)
        ids.append(claim_id)
    for claim_id in draw(st.lists(st.sampled_from(ids), max_size=2)) if ids else []:
        index.remove(claim_id)  # withdrawn
    disputed = set(draw(st.lists(st.sampled_from(ids), max_size=2))) if ids else set()
    return index, disputed


def reference_hits(index: ClaimIndex, item: Any) -> list[Hit]:
    hits: list[Hit] = []
    for key in exact_keys(item, query=True):
        scheme, _, value = key.partition(":")
        hits += [Hit(index.view(ref), scheme, value) for ref in index.exact_refs(key)]
    return hits


@settings(max_examples=150, deadline=None)
@given(
    registry_state(),
    st.lists(url(), min_size=1, max_size=25),
    st.sampled_from([None, *USES]),
    st.sampled_from([None, "JP", "US"]),
    st.sampled_from([None, *LEVELS]),
)
def test_the_fast_check_gives_the_reference_answer(
    state: tuple[ClaimIndex, set[str]],
    urls: list[str],
    purpose: str | None,
    territory: str | None,
    minimum: str | None,
) -> None:
    index, disputed = state
    body: dict[str, Any] = {"items": [{"scheme": "url", "value": u} for u in urls + urls[:3]]}
    for name, value in (("purpose", purpose), ("territory", territory), ("min_authority", minimum)):
        if value is not None:
            body[name] = value
    request = validate_check_request(body)
    options: dict[str, Any] = {
        "at": NOW,
        "purpose": purpose,
        "territory": territory,
        "min_authority": minimum,
    }

    fast = AnswerItems(**options, disputed=disputed)
    reference_items = []
    for item in request.items:
        hits = index.match(item)
        assert [(h.claim.id, h.match, h.key) for h in hits] == [
            (h.claim.id, h.match, h.key) for h in reference_hits(index, item)
        ]
        fast.add(item, hits)
        answer = decide(item, reference_hits(index, item), **options)
        for match in answer["matches"]:
            if match["claim"] in disputed:
                match["disputed"] = True
        reference_items.append(answer)
    assert fast.distinct <= len(request.items)

    envelope: dict[str, Any] = {
        "type": "CheckAnswer",
        "registry": REGISTRY.did,
        "checked_at": "2026-12-02T12:00:00Z",
        "at": "2026-12-02T12:00:00Z",
        "checkpoint": {"origin": 'kotowari.test/"items":[]', "tree_size": 3, "root_hash": "AAAA"},
    }
    signed = json.loads(signed_answer(envelope, fast, REGISTRY, NOW))
    expected = keys.sign_document({**envelope, "items": reference_items}, REGISTRY, created=NOW)
    assert signed == expected
    assert keys.canonicalize(signed) == keys.canonicalize(expected)
    keys.verify_document(signed, key=REGISTRY.public)
