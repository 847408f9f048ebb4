"""The batch check's fast path (`registry.check_fast`) against the reference path it replaces.

- Answers: over mixed items (plain URL items, including URLs that need every canonicalising step,
  and names, text, hashes, ISNI, Wikidata, URL items written with their members in another order),
  several checks in a row sharing one template cache while the registry changes between them (a
  withdrawal, an authority raised by a grant that lapses, a dispute, another moment, territory,
  purpose or minimum), `plan_check` + `answer_all` give byte for byte the signed answer of
  `validate_check_request` + matching every URL by all its Safe Browsing expressions
  (`exact_keys`) + `AnswerItems.add` — the same signature too, Ed25519 being deterministic — and
  that answer parses to the one `decide` + `keys.sign_document` gives.
- Refusals: for bodies broken in every way a check body can be, `plan_check` refuses exactly when
  `validate_check_request` does, with the same message and the same JSON pointers.
- Templates: a second check reuses every URL template, except for a claim whose authority rests on
  a grant (grants lapse with time), which is decided afresh.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from registry import check_fast, urls
from registry.answers import AnswerItems, signed_answer
from registry.authority.levels import LEVELS, ClaimAuthority, Grant
from registry.check_fast import TemplateCache, answer_all, plan_check
from registry.checking import Hit, decide, validate_check_request
from registry.documents import Claim, InvalidDocument, new_claim
from registry.index import ClaimIndex
from registry.schemes import UrlId, exact_keys
from registry.vocabulary import USES

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
KEYS = [keys.SigningKey.from_bytes(bytes([n]) * 32) for n in range(1, 4)]
REGISTRY = keys.SigningKey.from_bytes(b"r" * 32)
ENVELOPE: dict[str, Any] = {
    "type": "CheckAnswer",
    "registry": REGISTRY.did,
    "checked_at": "2026-12-02T12:00:00Z",
    "at": "2026-12-02T12:00:00Z",
    "checkpoint": {"origin": "kotowari.test", "tree_size": 3, "root_hash": "AAAA"},
}

# Hosts that need every step: case, IDNA, a trailing dot, userinfo, IPv4 in other forms, IPv6,
# an escaped letter, runs of dots; beside plain ones. Claims and items draw from the same lists.
HOSTS = [
    "example.com",
    "www.example.com",
    "a.b.example.com",
    "other.org",
    "x.y.z.w.deep.example.net",
    "1.2.3.4",
    "3279880203",
    "0x7f.1",
    "[2001:DB8::1]",
    "日本.example",
    "xn--wgv71a.example",
    "example.com.",
    "user@example.com",
    "u:p@www.example.com",
    "ex%61mple.com",
    "www..example.com",
]
SEGMENTS = ["gallery", "2024", "a.png", "%7Euser", "日本", "..", ".", "", "A%2fB", "a b", "x\ty"]
NAMES = ["Hatsune Miku", "初音ミク", "はつね みく", "Koichi Yamadera"]
SHA = "ab" * 32
ISNI = "0000000121032683"


@st.composite
def any_url(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(HOSTS))
    if draw(st.booleans()):
        host = host.upper()
    scheme = draw(st.sampled_from(["http://", "https://", "HTTPS://", "", "//"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":"]))
    path = "/".join(draw(st.lists(st.sampled_from(SEGMENTS), max_size=5)))
    query = draw(st.sampled_from(["", "?q=1", "?a=%41&b", "?"]))
    trailing = draw(st.sampled_from(["", "/", "#frag", "#"]))
    space = draw(st.sampled_from(["", " "]))
    return f"{space}{scheme}{host}{port}/{path}{trailing}{query}"


def valid(value: str) -> bool:
    try:
        urls.claim_expression(value)
    except urls.InvalidURL:
        return False
    return True


def url() -> st.SearchStrategy[str]:
    return any_url().filter(valid)


def claim(draw: st.DrawFn, number: int) -> tuple[str, Claim]:
    key = KEYS[number % len(KEYS)]
    uses = draw(
        st.dictionaries(st.sampled_from(list(USES)), st.sampled_from(["n", "y"]), min_size=1, max_size=3)
    )
    identifiers: list[tuple[str, str]] = [("url", u) for u in draw(st.lists(url(), min_size=1, max_size=2))]
    identifiers += draw(
        st.lists(
            st.sampled_from([("name", n) for n in NAMES] + [("sha256", SHA), ("isni", ISNI)]), max_size=2
        )
    )
    document = new_claim(
        key.did,
        "work",
        identifiers,
        uses,
        created=NOW - timedelta(days=2),
        nonce=f"nonce-{number:012d}",
        licence=draw(st.sampled_from([None, {"contact": "rights@example.com"}])),
        territories=draw(st.sampled_from([None, ["JP"], ["EU", "JP"]])),
        valid_until=draw(st.sampled_from([None, NOW - timedelta(days=1), NOW + timedelta(days=30)])),
    )
    signed = keys.sign_document(document, key, created=NOW - timedelta(days=2))
    return keys.document_id(signed), Claim.model_validate(signed)


def item(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["url"] * 6 + ["reordered", "name", "text", "sha256", "isni", "wikidata"]))
    if kind == "url":
        return {"scheme": "url", "value": draw(url())}
    if kind == "reordered":
        return {"value": draw(url()), "scheme": "url"}
    if kind in ("name", "text"):
        name = draw(st.sampled_from(NAMES))
        return {"scheme": kind, "value": name if kind == "name" else f"a song in the style of {name}"}
    value = {"sha256": SHA.upper(), "isni": "0000 0001 2103 2683", "wikidata": "Q42"}[kind]
    return {"scheme": kind, "value": value}


@st.composite
def scenario(draw: st.DrawFn) -> tuple[ClaimIndex, list[str], list[dict[str, Any]]]:
    index = ClaimIndex()
    ids = []
    for number in range(draw(st.integers(min_value=0, max_value=10))):
        claim_id, model = claim(draw, number)
        index.add(claim_id, model)
        ids.append(claim_id)
    items = [item(draw) for _ in range(draw(st.integers(min_value=1, max_value=20)))]
    return index, ids, items + items[:3]  # repeats share a template


def reference_hits(index: ClaimIndex, item: Any) -> list[Hit]:
    """Every URL matched by all of its Safe Browsing expressions; other schemes by `match`."""
    if not isinstance(item, UrlId):
        return index.match(item)
    hits: list[Hit] = []
    for key in exact_keys(item, query=True):
        hits += [Hit(index.view(ref), "url", key[4:]) for ref in index.exact_refs(key)]
    return hits


def reference_answer(
    index: ClaimIndex, body: dict[str, Any], options: dict[str, Any], disputed: set[str]
) -> bytes:
    """The path `ClaimStore.check_bytes` took before the fast path: every item validated by pydantic,
    matched and added one by one."""
    answers = AnswerItems(**options, disputed=disputed)
    for each in validate_check_request(body).items:
        answers.add(each, reference_hits(index, each))
    return signed_answer(ENVELOPE, answers, REGISTRY, NOW)


def fast_answer(
    index: ClaimIndex, body: dict[str, Any], options: dict[str, Any], disputed: set[str], cache: TemplateCache
) -> bytes:
    planned = plan_check(body)
    answers = AnswerItems(**options, disputed=disputed)
    answer_all(index, planned.items, answers, cache)
    return signed_answer(ENVELOPE, answers, REGISTRY, NOW)


def decided_document(
    index: ClaimIndex, body: dict[str, Any], options: dict[str, Any], disputed: set[str]
) -> Any:
    """The answer as a dict, every item decided on its own, signed whole."""
    answers = []
    for each in validate_check_request(body).items:
        answer = decide(each, reference_hits(index, each), **options)
        for match in answer["matches"]:
            if match["claim"] in disputed:
                match["disputed"] = True
        answers.append(answer)
    return keys.sign_document({**ENVELOPE, "items": answers}, REGISTRY, created=NOW)


def raise_by_grant(index: ClaimIndex, claim_id: str, until: datetime) -> None:
    """Give a claim a domain verification that lapses at `until`, as the log's replay would
    (`ClaimIndex._reassess` replaces the claim's view)."""
    ref = index._refs[claim_id]
    grant = Grant(
        level="domain-verified",
        by="did:web:registry.test",
        method="well-known",
        document="0" * 64,
        log_index=7,
        at="2026-12-01T00:00:00Z",
        covers=(".example.com",),
        valid_until=until.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    index._views[ref] = replace(index._views[ref], authority=ClaimAuthority("self-asserted", grants=(grant,)))


def lower_to_agent(index: ClaimIndex, claim_id: str) -> None:
    ref = index._refs[claim_id]
    index._views[ref] = replace(index._views[ref], authority=ClaimAuthority("agent-asserted"))


CHANGES = st.sampled_from(
    ["none", "withdraw", "grant", "agent", "dispute", "later", "territory", "purpose", "minimum"]
)


@settings(max_examples=200)
@given(
    scenario(),
    st.lists(CHANGES, min_size=1, max_size=3),
    st.sampled_from([None, *USES]),
    st.sampled_from([None, "JP", "US"]),
    st.sampled_from([None, *LEVELS]),
    st.data(),
)
def test_the_fast_path_signs_the_reference_bytes_check_after_check(
    state: tuple[ClaimIndex, list[str], list[dict[str, Any]]],
    changes: list[str],
    purpose: str | None,
    territory: str | None,
    minimum: str | None,
    data: st.DataObject,
) -> None:
    index, ids, items = state
    cache = TemplateCache()
    options: dict[str, Any] = {
        "at": NOW,
        "purpose": purpose,
        "territory": territory,
        "min_authority": minimum,
    }
    disputed: set[str] = set()
    for number, change in enumerate(["none", *changes]):
        if change in ("withdraw", "grant", "agent", "dispute") and ids:
            chosen = data.draw(st.sampled_from(ids))
            if change == "withdraw":
                index.remove(chosen)
                ids = [other for other in ids if other != chosen]
            elif change == "grant":
                raise_by_grant(index, chosen, until=NOW + timedelta(hours=1))
            elif change == "agent":
                lower_to_agent(index, chosen)
            else:
                disputed = disputed | {chosen}
        elif change == "later":
            options["at"] = options["at"] + timedelta(days=data.draw(st.sampled_from([1, 40])))
        elif change == "territory":
            options["territory"] = data.draw(st.sampled_from([None, "JP", "US"]))
        elif change == "purpose":
            options["purpose"] = data.draw(st.sampled_from([None, *USES]))
        elif change == "minimum":
            options["min_authority"] = data.draw(st.sampled_from([None, *LEVELS]))
        body: dict[str, Any] = {"items": items}
        for name in ("purpose", "territory", "min_authority"):
            if options[name] is not None:
                body[name] = options[name]

        for each in validate_check_request(body).items:
            if isinstance(each, UrlId):
                expected = [(index._refs[hit.claim.id], hit.key) for hit in reference_hits(index, each)]
                assert index.url_hits(each.value) == expected
        fast = fast_answer(index, body, options, disputed, cache)
        assert fast == reference_answer(index, body, options, disputed), f"check {number} after {change}"
        signed = json.loads(fast)
        keys.verify_document(signed, key=REGISTRY.public)
        if number == 0:
            assert signed == decided_document(index, body, options, disputed)


# ---------------------------------------------------------------- refusals

VALID_ITEM = {"scheme": "url", "value": "https://example.com/a.png"}
BROKEN_ITEMS = [
    {"scheme": "url", "value": ""},
    {"scheme": "url", "value": 7},
    {"scheme": "url", "value": None},
    {"scheme": "url", "value": ["https://example.com/"]},
    {"scheme": "url", "value": "ftp://example.com/"},
    {"scheme": "url", "value": "http://"},
    {"scheme": "url", "value": "http://exa mple.com/"},
    {"scheme": "url", "value": "http://1.2.3.256/"},
    {"scheme": "url", "value": "http://[::1/"},
    {"scheme": "url", "value": "http://example.com:99999/"},
    {"scheme": "url", "value": "https://example.com/" + "a" * 8200},
    {"scheme": "url", "value": "http://\ud800.example/"},
    {"scheme": "url", "value": "http://a/\udc80"},  # surrogateescape would take it; pydantic does not
    {"scheme": "url"},
    {"value": "https://example.com/"},
    {"scheme": "url", "value": "https://example.com/", "extra": 1},
    {"scheme": "URL", "value": "https://example.com/"},
    {"scheme": 1, "value": "https://example.com/"},
    {"scheme": "nope", "value": "x"},
    {"scheme": "name", "value": ""},
    {"scheme": "sha256", "value": "zz"},
    {"scheme": "embedding", "space": "Bad Space", "vector": [1.0]},
    "https://example.com/",
    None,
    [],
]
BROKEN_MEMBERS = [
    ("purpose", "train"),
    ("purpose", 1),
    ("territory", "Japan"),
    ("at", "yesterday"),
    ("min_authority", "ultimate"),
    ("extra", True),
]


JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12), url()
)
ANY_ITEM = st.dictionaries(
    st.sampled_from(["scheme", "value", "space", "vector", "quality", "extra"]),
    st.one_of(
        st.sampled_from(["url", "name", "text", "embedding", "pdq"]), JSON_LEAVES, st.lists(JSON_LEAVES)
    ),
    max_size=4,
)


@st.composite
def broken_body(draw: st.DrawFn) -> object:
    shape = draw(st.sampled_from(["item", "member", "items", "body", "any"]))
    if shape == "any":  # whatever a client might send
        return {"items": draw(st.lists(st.one_of(ANY_ITEM, st.just(VALID_ITEM), JSON_LEAVES), max_size=5))}
    items: list[object] = [VALID_ITEM] * draw(st.integers(min_value=0, max_value=3))
    if shape == "body":
        return draw(st.sampled_from([[VALID_ITEM], "items", None, 3]))
    if shape == "items":
        return draw(st.sampled_from([{}, {"items": []}, {"items": VALID_ITEM}, {"items": None}]))
    if shape == "item":
        for _ in range(draw(st.integers(min_value=1, max_value=2))):
            items.insert(
                draw(st.integers(min_value=0, max_value=len(items))), draw(st.sampled_from(BROKEN_ITEMS))
            )
        return {"items": items}
    name, value = draw(st.sampled_from(BROKEN_MEMBERS))
    return {"items": items or [VALID_ITEM], name: value}


def outcome(validate: Any, body: object) -> tuple[str, Any]:
    try:
        validated = validate(body)
    except InvalidDocument as exc:
        return "refused", (str(exc), exc.errors)
    return "accepted", validated


@settings(max_examples=300)
@given(broken_body())
def test_a_broken_body_is_refused_with_the_reference_errors(body: object) -> None:
    fast, reference = outcome(plan_check, body), outcome(validate_check_request, body)
    assert fast[0] == reference[0]
    if fast[0] == "refused":
        assert fast == reference
    else:
        values = [each if isinstance(each, str) else each.value for each in fast[1].items]
        assert values == [each.value for each in reference[1].items]


def test_plain_url_items_are_planned_as_their_values_and_others_as_models() -> None:
    planned = plan_check(
        {
            "purpose": "train-ai",
            "items": [
                {"scheme": "url", "value": "https://Example.com/a"},
                {"scheme": "name", "value": "Hatsune Miku"},
                {"value": "http://例え.jp/%7E", "scheme": "url"},
            ],
        }
    )
    assert planned.request.purpose == "train-ai"
    assert planned.items[0] == "https://Example.com/a"
    assert planned.items[1].value == "Hatsune Miku"
    assert planned.items[2] == "http://例え.jp/%7E"


# ---------------------------------------------------------------- templates across checks


@pytest.fixture
def two_claims() -> tuple[ClaimIndex, list[str]]:
    index = ClaimIndex()
    ids = []
    for number, target in enumerate(["https://example.com/a/", "https://example.com/b/"]):
        document = new_claim(
            KEYS[number].did,
            "work",
            [("url", target)],
            {"train-ai": "n"},
            created=NOW,
            nonce=f"nonce-{number:012d}",
        )
        signed = keys.sign_document(document, KEYS[number], created=NOW)
        ids.append(keys.document_id(signed))
        index.add(ids[-1], Claim.model_validate(signed))
    return index, ids


def templates_made(
    monkeypatch: pytest.MonkeyPatch, index: ClaimIndex, cache: TemplateCache, body: dict[str, Any]
) -> int:
    made = []
    original = AnswerItems.template

    def counting(self: AnswerItems, item: Any, hits: Any) -> tuple[bytes, bytes]:
        made.append(hits)
        return original(self, item, hits)

    monkeypatch.setattr(AnswerItems, "template", counting)
    options: dict[str, Any] = {"at": NOW, "purpose": "train-ai", "territory": None, "min_authority": None}
    fast_answer(index, body, options, set(), cache)
    monkeypatch.setattr(AnswerItems, "template", original)
    return len(made)


def test_a_second_check_reuses_the_templates(monkeypatch: pytest.MonkeyPatch, two_claims: Any) -> None:
    index, _ = two_claims
    cache = TemplateCache()
    urls = ["https://example.com/a/1", "https://example.com/b/2", "https://example.com/c", "https://x.org/"]
    body = {"items": [{"scheme": "url", "value": u} for u in urls], "purpose": "train-ai"}
    assert templates_made(monkeypatch, index, cache, body) == 3  # a, b, and no hits
    assert templates_made(monkeypatch, index, cache, body) == 0


def test_a_claim_raised_by_a_grant_is_decided_afresh(
    monkeypatch: pytest.MonkeyPatch, two_claims: Any
) -> None:
    index, ids = two_claims
    raise_by_grant(index, ids[0], until=NOW + timedelta(hours=1))
    cache = TemplateCache()
    body = {"items": [{"scheme": "url", "value": "https://example.com/a/1"}], "purpose": "train-ai"}
    assert templates_made(monkeypatch, index, cache, body) == 1
    assert templates_made(monkeypatch, index, cache, body) == 1


def test_the_cache_starts_afresh_when_full(two_claims: Any) -> None:
    index, _ = two_claims
    cache = TemplateCache(max_bytes=1)
    options: dict[str, Any] = {"at": NOW, "purpose": None, "territory": None, "min_authority": None}
    body = {
        "items": [
            {"scheme": "url", "value": "https://example.com/a/"},
            {"scheme": "url", "value": "https://example.com/b/"},
        ]
    }
    assert fast_answer(index, body, options, set(), cache) == reference_answer(index, body, options, set())
    assert len(cache) == 1


@given(st.text())
def test_the_echo_of_a_plain_url_item_is_its_canonical_json(value: str) -> None:
    try:
        expected = keys.canonicalize({"scheme": "url", "value": value})
    except keys.InvalidJSON:  # a lone surrogate: no canonical form, and no echo either
        with pytest.raises(UnicodeEncodeError):
            check_fast.url_echo(value)
        return
    echo = check_fast._ECHO_HEAD + check_fast.url_echo(value) + check_fast._ECHO_TAIL
    assert echo == b'"item":' + expected
