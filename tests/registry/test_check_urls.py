"""Plain URL check bodies read by regular expressions (`registry.check_urls`) against the reference.

- URLs: every URL `strict_parts` takes (drawn near and far from its grammar, and from the URLs of
  `test_check_fast`, which need every canonicalising step) is valid and filable, canonicalises
  (by `urls.canonicalize` and by every step, `urls._canonicalize_slowly`) to its host, path and
  query, and has `urls.lookup_expressions` equal to its hosts x `path_candidates`; its directory
  groups hold every prefix; an item holding it in a body gives the same groups.
- Bodies: for ASCII bodies of plain URL items in any JSON layout and member order, strict or not,
  `plan_plain_body` + `answer_plain` sign byte for byte the answer of the reference path
  (`validate_check_request`, every URL matched by all its Safe Browsing expressions,
  `AnswerItems.add`), check after check while the registry changes; and whenever it takes a body,
  even a mangled one, the strict parse and `CheckRequest` take it too, with the same items and
  members (otherwise the caller parses it the reference way, which gives every refusal).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from registry import check_fast, check_urls, urls
from registry.answers import AnswerItems, signed_answer
from registry.authority.levels import LEVELS
from registry.check_fast import TemplateCache, answer_plain
from registry.check_urls import path_candidates, plan_plain_body, strict_groups, strict_parts
from registry.checking import validate_check_request
from registry.documents import Claim, InvalidDocument, new_claim
from registry.index import ClaimIndex
from registry.schemes import UrlId
from registry.vocabulary import USES
from tests.registry.test_check_fast import (
    ENVELOPE,
    NOW,
    REGISTRY,
    any_url,
    claim,
    raise_by_grant,
    reference_answer,
)
from tests.registry.test_check_fast import url as filable_url

LIMIT = 10_000

# ---------------------------------------------------------------- URLs

LABEL = st.text(alphabet="abcXYZ019-_", max_size=4)
SEGMENT = st.one_of(
    st.text(alphabet="abZ09._~!$&'()*+,;=:@-%", max_size=4), st.sampled_from(["", ".", "..", "...", ".a"])
)


@st.composite
def near_strict_url(draw: st.DrawFn) -> str:
    """URLs from `STRICT_URL`'s grammar, with a few of its rules broken now and then."""
    scheme = draw(st.sampled_from(["http://", "https://", "HtTpS://", "ftp://", "", "http:/", "http:"]))
    host = ".".join(draw(st.lists(LABEL, min_size=1, max_size=4)))
    port = draw(st.sampled_from(["", "", ":80", ":443", ":8080", ":", ":65536", ":00080"]))
    path = "".join("/" + segment for segment in draw(st.lists(SEGMENT, max_size=6)))
    query = draw(st.sampled_from(["", "", "?", "?q=1", "?a/b?c", "?x%41", "?a b"]))
    fragment = draw(st.sampled_from(["", "", "#", "#top", "#a/../b", "#日本", '#"', "#\x7f"]))
    return scheme + host + port + path + query + fragment


@st.composite
def strictish_url(draw: st.DrawFn) -> str:
    """Mostly URLs `STRICT_URL` takes: letters, digits and hyphens in labels, paths and queries of
    the characters it allows (dot segments and doubled slashes now and then)."""
    labels = draw(st.lists(st.text(alphabet="aZ09-", min_size=1, max_size=4), min_size=1, max_size=6))
    last = draw(st.text(alphabet="aZ", min_size=1, max_size=1)) + draw(st.text(alphabet="aZ0-", max_size=3))
    host = ".".join([*labels[:-1], last])
    port = draw(st.sampled_from(["", "", ":1", ":443", ":8080", ":0000"]))
    segments = draw(st.lists(st.text(alphabet="aZ09._~!$&'()*+,;=:@-", max_size=4), max_size=7))
    path = "".join("/" + segment for segment in segments)
    query = draw(st.one_of(st.just(""), st.text(alphabet="a0/?=&.%", max_size=6).map(lambda q: "?" + q)))
    fragment = draw(st.one_of(st.just(""), st.text(alphabet="a#/?\x7f .", max_size=4).map(lambda f: "#" + f)))
    return (
        draw(st.sampled_from(["http://", "https://", "HTTPS://", "hTTp://"]))
        + host
        + port
        + path
        + query
        + fragment
    )


URLS = st.one_of(
    strictish_url(),
    strictish_url(),
    near_strict_url(),
    any_url(),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
    st.text(max_size=12).map(lambda text: "https://www.example.com/" + text),
)


def query_text(query: str | None) -> str:
    return "" if query is None else f"?{query}"


@settings(max_examples=2000)
@given(URLS)
def test_a_strict_url_is_valid_and_has_the_reference_parts_and_expressions(url: str) -> None:
    parts = strict_parts(url)
    if parts is None:
        return
    host, path, query = parts
    for canonical in (urls.canonicalize(url), urls._canonicalize_slowly(url)):
        assert (canonical.host, canonical.path, canonical.query) == parts
    urls.claim_expression(url)  # filable
    assert UrlId(scheme="url", value=url).value == url
    candidates = path_candidates(path, query_text(query))
    expected = list(dict.fromkeys(h + c for h in urls.host_suffixes(host) for c in candidates))
    assert urls.lookup_expressions(url) == expected
    groups = strict_groups(url)
    assert groups is not None
    prefixes = {candidate for candidate in candidates if candidate not in (path, "/")} - {
        path + query_text(query)
    }
    assert prefixes <= {group for group in groups[2:5] if group}


@settings(max_examples=1000)
@given(URLS)
def test_path_candidates_are_the_reference_paths_once_each(url: str) -> None:
    try:
        canonical = urls.canonicalize(url)
    except urls.InvalidURL:
        return
    assert path_candidates(canonical.path, query_text(canonical.query)) == list(
        dict.fromkeys(urls.path_prefixes(canonical.path, canonical.query))
    )


@settings(max_examples=1000)
@given(URLS)
def test_an_item_in_a_body_has_the_groups_of_the_url_alone(url: str) -> None:
    body = json.dumps({"items": [{"scheme": "url", "value": url}]}).encode()
    if not body.isascii() or b"\\" in body:
        return
    parts = check_urls._ITEM.split(body[len(b'{"items": [') :])
    assert len(parts) == 1 + check_urls._GROUPS
    found = parts[1 : check_urls._GROUPS]
    if found[0] is None:  # not strict: the value is taken as it is
        assert strict_groups(url) is None
        assert found[7] == url.encode()
        return
    assert found[0] == url.encode()
    assert strict_groups(url) == tuple((part or b"").decode() for part in found[1:7])


def test_the_urls_of_a_crawl_are_strict() -> None:
    assert strict_parts("https://www.example.com/gallery/2024/a.png") == (
        "www.example.com",
        "/gallery/2024/a.png",
        None,
    )
    assert strict_groups("http://h/a/b/c/d/e?x") == ("h", "/a/b/c/d/e", "/a/b/c/", "/a/b/", "/a/", "?x")
    for other in ("http://1.2.3.4/", "http://h//a", "http://h/a/./b", "http://日本.example/", "http://h:/"):
        assert strict_parts(other) is None


# ---------------------------------------------------------------- bodies

HOSTS = [
    "example.com",
    "www.example.com",
    "a.b.example.com",
    "Other.ORG",
    "1.2.3.4",
    "0x7f.1",
    "ex%61mple.com",
]
PATHS = [
    "",
    "/",
    "/gallery/",
    "/gallery/2024/a.png",
    "/gallery/../gallery/",
    "/a//b",
    "/%7Euser/",
    "/x/y/z/w/",
]


@st.composite
def ascii_url(draw: st.DrawFn) -> str:
    """Mostly strict URLs on a few hosts and paths, some needing canonicalisation (an IP address,
    an escape, a dot segment, an empty segment, upper case): claims and items draw from the same."""
    scheme = draw(st.sampled_from(["https://", "http://", "HTTP://"]))
    port = draw(st.sampled_from(["", "", ":443", ":8080"]))
    query = draw(st.sampled_from(["", "", "?q=1", "?"]))
    fragment = draw(st.sampled_from(["", "", "#top"]))
    return scheme + draw(st.sampled_from(HOSTS)) + port + draw(st.sampled_from(PATHS)) + query + fragment


@st.composite
def plain_scenario(draw: st.DrawFn) -> tuple[ClaimIndex, list[str], list[dict[str, Any]]]:
    index = ClaimIndex()
    ids = []
    for number in range(draw(st.integers(min_value=0, max_value=8))):
        claim_id, model = claim(draw, number)
        index.add(claim_id, model)
        ids.append(claim_id)
    for number in range(draw(st.integers(min_value=0, max_value=4))):  # claims on the items' hosts
        claim_id, model = ascii_claim(draw, 100 + number)
        index.add(claim_id, model)
        ids.append(claim_id)
    values = draw(st.lists(st.one_of(ascii_url(), ascii_url(), filable_url()), min_size=1, max_size=20))
    values = [value for value in values if value.isascii() and json.dumps(value) == f'"{value}"']
    items = [{"scheme": "url", "value": value} for value in values or ["https://example.com/"]]
    return index, ids, items + items[:3]


def ascii_claim(draw: st.DrawFn, number: int) -> Any:
    key = keys.SigningKey.from_bytes(bytes([number % 200 + 1]) * 32)
    value = draw(ascii_url().filter(lambda url: "%61" not in url))
    document = new_claim(
        key.did,
        "work",
        [("url", value)],
        {draw(st.sampled_from(list(USES))): draw(st.sampled_from(["n", "y"]))},
        created=NOW - timedelta(days=2),
        nonce=f"nonce-{number:012d}",
    )
    signed = keys.sign_document(document, key, created=NOW - timedelta(days=2))
    return keys.document_id(signed), Claim.model_validate(signed)


LAYOUTS = [
    {"separators": (",", ":")},
    {},
    {"indent": 1},
    {"indent": "\t", "separators": (" ,", " : ")},
]


def written(body: dict[str, Any], layout: int, items_first: bool) -> bytes:
    ordered = dict(sorted(body.items(), key=lambda member: (member[0] != "items") == items_first))
    return json.dumps(ordered, **LAYOUTS[layout]).encode()  # type: ignore[arg-type]


def plain_answer(
    index: ClaimIndex, raw: bytes, options: dict[str, Any], disputed: set[str], cache: TemplateCache
) -> bytes:
    plain = plan_plain_body(raw, LIMIT)
    assert plain is not None, raw
    answers = AnswerItems(**options, disputed=disputed)
    answer_plain(index, plain, answers, cache)
    return signed_answer(ENVELOPE, answers, REGISTRY, NOW)


CHANGES = st.sampled_from(
    ["none", "withdraw", "grant", "dispute", "later", "purpose", "territory", "minimum"]
)


@settings(max_examples=300)
@given(
    plain_scenario(),
    st.lists(CHANGES, min_size=1, max_size=3),
    st.sampled_from([None, *USES]),
    st.integers(min_value=0, max_value=len(LAYOUTS) - 1),
    st.booleans(),
    st.data(),
)
def test_a_plain_body_signs_the_reference_bytes_check_after_check(
    state: tuple[ClaimIndex, list[str], list[dict[str, Any]]],
    changes: list[str],
    purpose: str | None,
    layout: int,
    items_first: bool,
    data: st.DataObject,
) -> None:
    index, ids, items = state
    cache = TemplateCache()
    options: dict[str, Any] = {"at": NOW, "purpose": purpose, "territory": None, "min_authority": None}
    disputed: set[str] = set()
    for number, change in enumerate(["none", *changes]):
        if change in ("withdraw", "grant", "dispute") and ids:
            chosen = data.draw(st.sampled_from(ids))
            if change == "withdraw":
                index.remove(chosen)
                ids = [other for other in ids if other != chosen]
            elif change == "grant":
                raise_by_grant(index, chosen, until=NOW + timedelta(hours=1))
            else:
                disputed = disputed | {chosen}
        elif change == "later":
            options["at"] = options["at"] + timedelta(days=data.draw(st.sampled_from([1, 40])))
        elif change == "purpose":
            options["purpose"] = data.draw(st.sampled_from([None, *USES]))
        elif change == "territory":
            options["territory"] = data.draw(st.sampled_from([None, "JP", "US"]))
        elif change == "minimum":
            options["min_authority"] = data.draw(st.sampled_from([None, *LEVELS]))
        body: dict[str, Any] = {"items": items}
        for name in ("purpose", "territory", "min_authority"):
            if options[name] is not None:
                body[name] = options[name]
        raw = written(body, layout, items_first)
        fast = plain_answer(index, raw, options, disputed, cache)
        assert fast == reference_answer(index, body, options, disputed), f"check {number} after {change}"


def test_a_host_with_many_paths_is_matched_without_its_screen() -> None:
    index = ClaimIndex()
    values = [f"https://example.com/p/{n}/" for n in range(check_fast_screen() + 1)] + ["https://x.org/"]
    for number, value in enumerate(values):
        document = new_claim(
            REGISTRY.did,
            "work",
            [("url", value)],
            {"train-ai": "n"},
            created=NOW,
            nonce=f"nonce-{number:012d}",
        )
        signed = keys.sign_document(document, REGISTRY, created=NOW)
        index.add(keys.document_id(signed), Claim.model_validate(signed))
    items = [
        {"scheme": "url", "value": v}
        for v in ("https://example.com/p/3/a", "https://www.x.org/a", "http://a/")
    ]
    options: dict[str, Any] = {"at": NOW, "purpose": "train-ai", "territory": None, "min_authority": None}
    raw = json.dumps({"items": items}).encode()
    fast = plain_answer(index, raw, options, set(), TemplateCache())
    assert fast == reference_answer(index, {"items": items}, options, set())
    assert [item["decision"] for item in json.loads(fast)["items"]] == ["n", "n", "unknown"]


def check_fast_screen() -> int:
    return int(check_fast._SCREENED_PATHS)


# ---------------------------------------------------------------- what a plain body may be


MANGLES = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "replace"]),
        st.integers(min_value=0, max_value=10_000),
        st.sampled_from([*'{}[],:" \t\n\r\f\\aéu0', '"items":[', '"value"', "\\u0041", '{"a":1}']),
    ),
    min_size=1,
    max_size=3,
)


def mangled(raw: bytes, edits: list[tuple[str, int, str]]) -> bytes:
    text = raw.decode()
    for edit, at, chunk in edits:
        at %= len(text) + 1
        if edit == "insert":
            text = text[:at] + chunk + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + len(chunk) :]
        else:
            text = text[:at] + chunk + text[at + len(chunk) :]
    return text.encode()


def reference_plan(raw: bytes) -> Any:
    """The reference's reading: the strict parse, then `CheckRequest`; None if either refuses."""
    try:
        return validate_check_request(keys.parse_strict_json(raw))
    except (keys.InvalidJSON, InvalidDocument):
        return None


@settings(max_examples=1500)
@given(
    st.lists(st.one_of(ascii_url(), near_strict_url()), min_size=1, max_size=4),
    st.sampled_from([{}, {"purpose": "train-ai"}, {"territory": "JP", "at": "2026-12-01T00:00:00Z"}]),
    st.integers(min_value=0, max_value=len(LAYOUTS) - 1),
    st.booleans(),
    MANGLES,
    st.integers(min_value=1, max_value=5),
)
def test_a_body_taken_plainly_is_one_the_reference_takes_with_the_same_items(
    values: list[str],
    members: dict[str, Any],
    layout: int,
    items_first: bool,
    edits: list[tuple[str, int, str]],
    limit: int,
) -> None:
    body = {**members, "items": [{"scheme": "url", "value": value} for value in values]}
    raw = written(body, layout, items_first)
    for each in (raw, mangled(raw, edits)):
        plain = plan_plain_body(each, limit)
        reference = reference_plan(each)
        if plain is None:
            continue
        assert reference is not None, each
        assert len(plain) == len(reference.items) <= limit
        assert all(isinstance(item, UrlId) for item in reference.items)
        assert plain.values() == [item.value for item in reference.items]
        assert plain.request.model_dump(exclude={"items"}) == reference.model_dump(exclude={"items"})


def test_what_is_not_plainly_a_check_is_left_to_the_reference() -> None:
    item = '{"scheme":"url","value":"https://example.com/a"}'
    for raw in [
        '{"items":[' + item + "]}",  # the one that is plain
        '{"items":[' + item + ",]}",
        '{"items":[' + item + "," + item + "]",
        '{"items":[' + item + item + "]}",
        '{"items":[{"scheme":"url","value":"https://example.com/a","value":"x"}]}',
        '{"items":[{"value":"https://example.com/a","scheme":"url"}]}',
        '{"items":[' + item + '],"items":[' + item + "]}",
        '{"x":{"items":[' + item + ']},"items":[' + item + "]}",
        '{"items":[' + item + '],"x":' + item + "}",
        '{"items":[' + item + '],"purpose":"train"}',
        '{"items":[' + item + '],"extra":1}',
        '{"items":[{"scheme":"url","value":"https://example.com/\\u0041"}]}',
        '{"items":[{"scheme":"url","value":"https://例え.jp/"}]}',
        '{"items":[{"scheme":"url","value":"ftp://example.com/"}]}',
        '{"items":[{"scheme":"url","value":""}]}',
        '{"items":[]}',
        '[{"items":[' + item + "]}]",
        '{"items":[' + item + "]}x",
    ]:
        taken = plan_plain_body(raw.encode(), LIMIT) is not None
        assert taken == (raw == '{"items":[' + item + "]}"), raw
    assert plan_plain_body(('{"items":[' + ",".join([item] * 3) + "]}").encode(), 2) is None
