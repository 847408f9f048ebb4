"""The filter's shortcuts answer as the reference path does.

* `MatchSets` reuses one claim's answer for every claim of the same shape (claimant, kind, uses,
  base authority, whether it applies), swapping the claim id in the matches, the reasons and the
  manifest text: each answer equals `registry.checking.decide`'s for that claim alone.
* `arrow_of`, `strings_of` and `valid_rows` (which keep pyarrow from importing pandas) are
  `pa.array` and `is_valid` for what the filter hands them, sliced arrays included.
* `decide_batch` over a snapshot where many claims share a shape, for URLs that need the full
  canonicalisation (upper-case and trailing-dot hosts, default ports, IDNA, escapes, dot segments,
  fragments, userinfo), gives `Snapshot.check`'s decision, claims and reasons row by row, and the
  manifest lines of its removed rows are those the check's matches make.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from crawler_client.arrow_arrays import arrow_of, strings_of, valid_rows
from crawler_client.filter import decide_batch
from crawler_client.manifest import removed_lines
from crawler_client.match_sets import DECISION_CODES, MatchSets, _NoItem, match_summary
from crawler_client.snapshot import INVALID, RESERVED, Snapshot
from registry.authority.levels import LEVELS, ClaimAuthority
from registry.checking import ClaimView, Hit, decide
from registry.snapshot import of_log
from tests.factories import signed_claim

NOW = datetime(2026, 11, 30, tzinfo=UTC)
USES = ["train-ai", "search", "generate", "ai-input"]

# ------------------------------------------------------------------ MatchSets against decide

ids = st.sampled_from(
    ["a" * 64, "a" * 16 + "b" * 48, "a" * 15 + "c" * 49, "d" * 64, "urn:x:" + "e" * 58, "f" * 10]
)  # some share their first 16 characters, which is all a reason shows of an id
views = st.tuples(
    st.sampled_from(["did:key:z6MkA", "did:key:z6MkB"]),
    st.sampled_from(["work", "site"]),
    st.dictionaries(st.sampled_from(USES), st.sampled_from(["y", "n"]), max_size=3),
    st.sampled_from([(None, None), (None, NOW + timedelta(days=1)), (NOW + timedelta(days=1), None)]),
    st.sampled_from([None, frozenset({"JP"}), frozenset({"US", "JP"})]),
    st.sampled_from(["self-asserted", "agent-asserted"]),
    st.sampled_from([(), ("offered",), ("offered", "revoked")]),  # authority notes
    st.sampled_from([None, {"url": "https://licensing.example/"}, {"contact": "mailto:l@example.com"}]),
)
url_keys = st.sampled_from(["example.com/", "example.com/a/", "www.example.com/x?y=1", "b.example/"])


def reference(view: ClaimView, key: str, question: dict[str, Any]) -> tuple[int, list[Any], list[str], str]:
    answer = decide(_NoItem(), [Hit(view, "url", key)], **question)
    matches = [match_summary(match) for match in answer["matches"]]
    text = json.dumps(matches, ensure_ascii=False, separators=(",", ":"), default=str)
    return (
        DECISION_CODES[answer["decision"]],
        matches,
        answer["reasons"],
        f',"claims":{text}' if matches else "",
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(ids, views), min_size=1, max_size=8, unique_by=lambda pair: pair[0]),
    st.lists(st.tuples(st.integers(0, 7), url_keys), min_size=1, max_size=20),
    st.sampled_from(USES),
    st.sampled_from([None, "JP", "US"]),
    st.sampled_from([None, *LEVELS]),
)
def test_claims_of_one_shape_answer_as_each_alone(
    claims: list[tuple[str, Any]], asked: list[tuple[int, str]], purpose: str, territory: Any, minimum: Any
):
    made = [
        ClaimView(
            id=claim_id,
            claimant=claimant,
            kind=kind,
            uses=uses,
            valid_from=window[0],
            valid_until=window[1],
            territories=territories,
            authority=ClaimAuthority(base, notes=notes),
            licence=licence,
        )
        for claim_id, (claimant, kind, uses, window, territories, base, notes, licence) in claims
    ]
    question = {"at": NOW, "purpose": purpose, "territory": territory, "min_authority": minimum}
    sets = MatchSets(made.__getitem__, **question)
    for ordinal, key in asked:
        ordinal %= len(made)
        found = sets.single("url", ordinal, key) if ordinal % 2 else sets.get("url", ((ordinal, key),))
        code, matches, reasons, text = reference(made[ordinal], key, question)
        assert (found.code, found.matches, found.reasons) == (code, matches, reasons), (ordinal, key)
        assert found.claims == [match["claim"] for match in matches]
        assert found.claims_json() == text


@pytest.mark.parametrize(
    "change",
    [
        {"licence": {"url": "https://licensing.example/"}},
        {"authority": ClaimAuthority("self-asserted", notes=("offered",))},
        {"authority": ClaimAuthority("agent-asserted")},
        {"uses": {"train-ai": "y"}},
        {"claimant": "did:key:z6MkB"},
        {"kind": "site"},
        {"valid_from": NOW + timedelta(days=1)},
        {"territories": frozenset({"US"})},
        {},
    ],
    ids=lambda change: ",".join(change) or "nothing",
)
def test_two_claims_differing_in_one_field_get_their_own_answers(change: dict[str, Any]):
    """What the reuse of one claim's answer for another must not carry over: every field a match
    shows or decides. Each claim is asked first and second, under both orders."""
    first = ClaimView(
        id="a" * 64,
        claimant="did:key:z6MkA",
        kind="work",
        uses={"train-ai": "n"},
        valid_from=None,
        valid_until=None,
        territories=None,
        authority=ClaimAuthority("self-asserted"),
    )
    second = dataclasses.replace(first, id="b" * 64, **change)
    question = {"at": NOW, "purpose": "train-ai", "territory": "JP", "min_authority": None}
    for made in ([first, second], [second, first]):
        sets = MatchSets(made.__getitem__, **question)
        for ordinal, key in ((0, "example.com/"), (1, "example.com/a/")):
            found = sets.get("url", ((ordinal, key),))
            code, matches, reasons, text = reference(made[ordinal], key, question)
            assert (found.code, found.matches, found.reasons) == (code, matches, reasons)
            assert found.claims_json() == text


# ------------------------------------------------------------------ Arrow without pandas


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.lists(st.booleans(), max_size=80).map(lambda v: np.array(v, dtype=bool)),
        st.lists(st.integers(-(2**62), 2**62), max_size=80).map(lambda v: np.array(v, dtype=np.int64)),
        st.lists(st.integers(0, 2**31 - 1), max_size=80).map(lambda v: np.array(v, dtype=np.int32)),
    ),
    st.integers(1, 3),
)
def test_arrow_of_is_pa_array(values: Any, step: int):
    strided = values[::step]  # not contiguous when step > 1
    assert arrow_of(strided).equals(pa.array(strided))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.text(max_size=8), st.none()), max_size=40), st.integers(0, 40), st.integers(0, 40)
)
def test_strings_of_and_valid_are_arrows_own(texts: list[str | None], start: int, length: int):
    present = [text for text in texts if text is not None]
    assert strings_of(present).equals(pa.array(present, pa.string()))
    sliced = pa.array(texts, pa.string()).slice(start, length)
    assert valid_rows(sliced).tolist() == sliced.is_valid().to_pylist()


# ------------------------------------------------------------------ decide_batch against check

CREATOR, OTHER = keys.SigningKey.generate(), keys.SigningKey.generate()
REGISTRY = keys.SigningKey.generate()
SITES = [f"site{n}.example" for n in range(8)]
CLAIMS = [  # most of one shape, as in a registry where one agency files for many sites
    signed_claim(CREATOR, NOW, urls=(f"https://{site}/",), deny=("train-ai",)) for site in SITES[:4]
]
CLAIMS += [
    signed_claim(CREATOR, NOW, urls=(f"https://{site}/img/", f"https://www.{site}/a/b/"), deny=("train-ai",))
    for site in SITES[4:]
]
CLAIMS += [
    signed_claim(OTHER, NOW, urls=("https://site0.example/",), deny=("train-ai",)),
    signed_claim(CREATOR, NOW, urls=("https://site1.example/img/",), deny=(), allow={"train-ai": "y"}),
    signed_claim(CREATOR, NOW, urls=("https://site2.example/jp/",), deny=("train-ai",), territories=["JP"]),
    signed_claim(
        CREATOR, NOW, urls=("https://site3.example/old/",), deny=("train-ai",), valid_until=NOW + timedelta(1)
    ),
    signed_claim(CREATOR, NOW, urls=("https://xn--r8jz45g.jp/",), deny=("train-ai",)),
    signed_claim(CREATOR, NOW, urls=("https://site5.example/~me/",), deny=("search", "train-ai")),
]
SNAPSHOT = Snapshot.from_bytes(
    of_log(CLAIMS, key=REGISTRY, origin="kotowari.test/filter-fast", spaces={}, now=NOW)
)

hosts = st.sampled_from(
    [
        *SITES, "SITE0.EXAMPLE", "Site5.Example", "site1.example.", "www.site4.example", "WWW.site6.example",
        "a.b.site7.example", "www.site0.example", "例え.jp", "xn--r8jz45g.jp", "XN--R8JZ45G.JP",
        "site%31.example", "other.example", "1.2.3.4",
    ]
)  # fmt: skip
paths = st.sampled_from(
    [
        "", "/", "/img/", "/img/a.png", "/IMG/a.png", "/a/b/", "/a/b/c.html", "/a/./b/", "/x/../img/",
        "/img//a", "/img/%61.png", "/%7Eme/", "/~me/x", "/jp/", "/old/x", "/a/b/?q=1", "/img/?q=%2F",
    ]
)  # fmt: skip
urls = st.builds(
    lambda scheme, user, host, port, path, tail: scheme + user + host + port + path + tail,
    st.sampled_from(["https://", "http://", "HTTPS://"]),
    st.sampled_from(["", "", "", "user:pw@", "u@"]),
    hosts,
    st.sampled_from(["", "", ":443", ":80", ":8080"]),
    paths,
    st.sampled_from(["", "", "#f", "#/../x", "#é"]),
)
questions = st.fixed_dictionaries(
    {
        "purpose": st.sampled_from(["train-ai", "search"]),
        "at": st.sampled_from([NOW, NOW + timedelta(days=4)]),
        "territory": st.sampled_from([None, "JP", "US"]),
        "min_authority": st.sampled_from([None, *LEVELS]),
    }
)


def checked(value: str | None, question: dict[str, Any]) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        item: dict[str, Any] = SNAPSHOT.check([{"scheme": "url", "value": value}], **question)["items"][0]
    except Exception:
        return None
    return item


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(urls, urls, urls, st.none()), min_size=1, max_size=40), questions)
def test_batches_and_their_manifest_lines_are_the_checks_row_by_row(
    listed: list[str | None], question: dict[str, Any]
):
    values = pa.array(listed, pa.string())
    decided = decide_batch(pa.RecordBatch.from_pydict({"url": values}), SNAPSHOT, column="url", **question)
    wanted = []
    for row, value in enumerate(listed):
        item = checked(value, question)
        if item is None:
            assert decided.codes[row] == INVALID, value
            wanted.append({"row": 7 + row, "value": value, "decision": "invalid"})
            continue
        matches = [match_summary(match) for match in item["matches"]]
        assert decided.codes[row] == DECISION_CODES[item["decision"]], (value, item)
        assert decided.claims.get(row, []) == [match["claim"] for match in matches], value
        assert decided.matches.get(row, []) == matches, value
        assert decided.reasons.get(row, []) == (item["reasons"] if matches else []), value
        wanted.append({"row": 7 + row, "value": value, "decision": item["decision"]})
        if matches:
            wanted[-1]["claims"] = matches
    if len(listed) > 3:  # a slice of a larger array (an offset into its buffers) answers the same
        part = decide_batch(
            pa.RecordBatch.from_pydict({"url": pa.array([None, *listed], pa.string()).slice(1)}),
            SNAPSHOT,
            column="url",
            **question,
        )
        assert part.codes.tolist() == decided.codes.tolist()
        assert [part.claims.get(r) for r in range(len(listed))] == [
            decided.claims.get(r) for r in range(len(listed))
        ]
    removed = np.flatnonzero((decided.codes == RESERVED) | (decided.codes == INVALID))
    lines = removed_lines(7, removed, values.take(pa.array(removed)), decided).to_pylist()
    expected = [wanted[row] for row in removed.tolist()]
    assert lines == [
        json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n" for entry in expected
    ]


@settings(max_examples=500, deadline=None)
@given(
    claim=st.text()
    | st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
    | st.text(st.characters(max_codepoint=127))
)
def test_first_claim_is_what_json_dumps_makes(claim: str):
    """The start of a set's manifest claims, made without `json.dumps` for plain ids, is its text."""
    from crawler_client.match_sets import _first_claim

    assert _first_claim(claim) == ',"claims":[{"claim":' + json.dumps(claim, ensure_ascii=False)
