"""The array path for URL batches (`crawler_client.url_batch`, behind `decide_batch`) answers exactly
as `Snapshot.check` does row by row: the same decision, claims, match summaries (authority,
`counted`) and reasons, over canonical URLs and ones that need the full canonicalisation, for any
use, moment, territory and minimum authority; and it still does when every fingerprint collides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from crawler_client import url_batch
from crawler_client.filter import decide_batch
from crawler_client.match_sets import DECISION_CODES, match_summary
from crawler_client.snapshot import Snapshot
from registry.authority.levels import LEVELS
from registry.snapshot import InvalidSnapshot, SnapshotData, of_log, read_full
from tests.crawler_client.test_authority_offline import DOCUMENTS, NOW, REGISTRY
from tests.factories import signed_claim, signed_withdrawal

CREATOR, OTHER = keys.SigningKey.generate(), keys.SigningKey.generate()
LONG = "x" * 40  # path parts longer than the 32 bytes the words hold
WITHDRAWN = signed_claim(CREATOR, NOW, urls=("https://withdrawn.example/",), deny=("train-ai",))
CLAIMS = [
    signed_claim(CREATOR, NOW, urls=("https://example.com/",), deny=("train-ai",)),
    signed_claim(OTHER, NOW, urls=("https://example.com/",), deny=(), allow={"train-ai": "y", "search": "y"}),
    signed_claim(OTHER, NOW, urls=("https://www.example.com/private/",), deny=("search", "train-ai")),
    signed_claim(
        CREATOR, NOW, urls=("http://art.example.org/gallery/",), deny=("train-ai",), allow={"search": "y"}
    ),
    signed_claim(
        CREATOR, NOW, urls=("https://example.net/a/b/c/", "https://example.net/a/b/c/d/"), deny=("generate",)
    ),
    signed_claim(
        CREATOR,
        NOW,
        urls=("https://files.example/dir/file.png", "https://files.example/dir/page?id=7"),
        deny=("train-ai",),
    ),
    signed_claim(OTHER, NOW, urls=("https://files.example/dir/page",), deny=("ai-input",)),
    signed_claim(
        CREATOR,
        NOW,
        urls=(
            f"https://long.example/{LONG}/one.png",
            f"https://long.example/{LONG}/",
            "https://long.example/a/",
        ),
        deny=("train-ai",),
    ),
    signed_claim(OTHER, NOW, urls=(f"https://long.example/{LONG}/two.png",), deny=("search",)),
    signed_claim(CREATOR, NOW, urls=("https://a.b.c.d.e.example.net/deep/",), deny=("train-ai",)),
    signed_claim(CREATOR, NOW, urls=("http://192.168.1.1/admin/",), deny=("train-ai",)),
    signed_claim(CREATOR, NOW, urls=("https://xn--r8jz45g.jp/",), deny=("train-ai",)),
    signed_claim(CREATOR, NOW, urls=("https://jp-only.example/",), deny=("train-ai",), territories=["JP"]),
    signed_claim(
        CREATOR,
        NOW,
        urls=("https://expired.example/",),
        deny=("train-ai",),
        valid_until=NOW + timedelta(days=2),
    ),
    WITHDRAWN,
    signed_withdrawal(CREATOR, keys.document_id(WITHDRAWN), NOW),
]
RAW = of_log([*DOCUMENTS, *CLAIMS], key=REGISTRY, origin="kotowari.test/url-batch", spaces={}, now=NOW)
SNAPSHOT = Snapshot.from_bytes(RAW)

hosts = st.sampled_from(
    [
        "example.com", "EXAMPLE.COM", "www.example.com", "a.www.example.com", "x.y.z.w.www.example.com",
        "example.com.", "..example.com", "art.example.org", "x.art.example.org", "example.org",
        "example.net", "a.b.c.d.e.example.net", "b.c.d.e.example.net", "z.a.b.c.d.e.example.net",
        "files.example", "long.example", "www.long.example", "jp-only.example", "expired.example",
        "withdrawn.example", "pub.example", "www.pub.example", "deep.www.pub.example", "mirror.example",
        "open.example", "voices.example", "ayaka.example", "sub.ayaka.example", "actor.example",
        "192.168.1.1", "0xc0.0xa8.1.1", "3232235777", "xn--r8jz45g.jp", "例え.jp", "ex%61mple.com",
        "unrelated.test", "a-.example.com", "example-.com", "1example.com", "example.c0m",
        "very-long-subdomain-name.example.com", "x" * 40 + ".example.com", "localhost",
    ]
)  # fmt: skip
paths = st.sampled_from(
    [
        "", "/", "/a/", "/a/b/c/", "/a/b/c/d/", "/a/b/c/d/e.html", "/a/b/c/x?y=1", "/dir/file.png",
        "/dir/file.png?v=2", "/dir/page", "/dir/page?id=7", "/dir/page?id=8", "/dir/page?", "/gallery/",
        "/gallery/a.png", "/Gallery/", "/private/x", "/deep/", "/deep/x", "/admin/", "/admin/x",
        "/x/../gallery/", "/./gallery/", "//gallery/", "/gallery//x", "/gallery/.", "/gallery/..",
        "/.well-known/x", "/%67allery/", "/a b", "/é", f"/{LONG}/one.png", f"/{LONG}/two.png",
        f"/{LONG}/thr.png", f"/{LONG}/", f"/{LONG}/one.png?x", "/books/1", "/pub/x", "/ayaka/", "/ayaka/1",
        "/other/", "/later/x", "?q=1", "?q=a/b", "#frag", "/a?b?c", "/~user/$&'()*+,;=:@!-_.x",
    ]
)  # fmt: skip
schemes = st.sampled_from(
    ["https://", "http://", "HTTPS://", "Http://", "ftp://", "", " https://", "https:/"]
)
ports = st.sampled_from(["", "", "", ":8080", ":443", ":", ":99999", ":0080", ":1"])
tails = st.sampled_from(["", "", "", "#f", "#x/../y", "#a\nb", "#é", "#", " ", "\t"])
userinfo = st.sampled_from(["", "", "", "", "user:pw@"])
built = st.builds(
    lambda s, u, h, p, path, t: s + u + h + p + path + t, schemes, userinfo, hosts, ports, paths, tails
)
plain = st.builds(  # what the array path takes: canonical but for case, port and fragment
    lambda *parts: "".join(parts),
    st.sampled_from(["https://", "http://", "HTTPS://"]),
    hosts,
    st.sampled_from(["", ":8080"]),
    paths,
    st.sampled_from(["", "#f", "#x/../y"]),
)
values = st.one_of(plain, plain, built, built, st.none(), st.text(max_size=20))
values |= st.text(alphabet="htps:/.exampl?#%@1", max_size=30)
questions = st.fixed_dictionaries(
    {
        "purpose": st.sampled_from(["train-ai", "search", "generate", "ai-input"]),
        "at": st.sampled_from([NOW, NOW + timedelta(days=4)]),
        "territory": st.sampled_from([None, "JP", "US"]),
        "min_authority": st.sampled_from([None, *LEVELS]),
    }
)


def expected(snapshot: Snapshot, value: str | None, question: dict[str, Any]) -> dict[str, Any] | None:
    """What `check` says of one value, or None for what the registry refuses."""
    if value is None:
        return None
    try:
        answer = snapshot.check([{"scheme": "url", "value": value}], **question)
    except Exception:
        return None
    item: dict[str, Any] = answer["items"][0]
    return item


def assert_same(snapshot: Snapshot, listed: list[str | None], question: dict[str, Any]) -> None:
    batch = pa.RecordBatch.from_pydict({"url": pa.array(listed, pa.string())})
    decided = decide_batch(batch, snapshot, column="url", **question)
    for row, value in enumerate(listed):
        item = expected(snapshot, value, question)
        if item is None:
            assert decided.codes[row] == DECISION_CODES["invalid"], value
            continue
        assert decided.codes[row] == DECISION_CODES[item["decision"]], (value, item)
        assert decided.claims.get(row, []) == [m["claim"] for m in item["matches"]], value
        assert decided.matches.get(row, []) == [match_summary(m) for m in item["matches"]], value
        assert decided.reasons.get(row, []) == (item["reasons"] if item["matches"] else []), value


@settings(max_examples=400, deadline=None)
@given(st.lists(values, min_size=1, max_size=25), questions)
def test_batch_answers_are_check_answers_row_by_row(listed: list[str | None], question: dict[str, Any]):
    assert_same(SNAPSHOT, listed, question)


def without_url_keys() -> Snapshot:
    """The same claims as a snapshot written before `url/keys` existed reads them."""
    state, data = read_full(RAW)
    data.url_keys = None
    return Snapshot(state, data)


OLD = without_url_keys()
COLLIDING = Snapshot.from_bytes(RAW)  # its tables are built, and searched, with `_length_only`


def _length_only(words: Any, lengths: Any, salt: Any = None) -> Any:
    return lengths.astype(np.uint64) % np.uint64(3)  # nearly every lookup finds nearly every key


@settings(max_examples=150, deadline=None)
@given(st.lists(values, min_size=1, max_size=25), questions)
def test_a_snapshot_without_url_keys_answers_the_same(listed: list[str | None], question: dict[str, Any]):
    assert_same(OLD, listed, question)


@settings(max_examples=150, deadline=None)
@given(st.lists(values, min_size=1, max_size=25), questions)
def test_colliding_fingerprints_change_no_answer(listed: list[str | None], question: dict[str, Any]):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(url_batch, "_fingerprint", _length_only)
        assert_same(COLLIDING, listed, question)


def test_canonical_urls_on_registered_hosts_take_no_per_row_path(monkeypatch: pytest.MonkeyPatch):
    listed = [
        "https://www.example.com/private/a.png",
        "https://EXAMPLE.com:8080/x?y#z",
        "http://art.example.org/gallery/a/b/c/d",
        f"https://long.example/{LONG}/two.png",
        "https://example.net/a/b/c/d/",
        "https://files.example/dir/page?id=7",
        "https://jp-only.example",
        "https://unrelated.test/x",
    ]

    def refuse(values: Any, *_: Any, **__: Any) -> Any:
        assert not list(values), "a canonical URL took the per-row path"

    fresh = Snapshot.from_bytes(RAW)
    monkeypatch.setattr(fresh, "decide_urls", refuse)
    decided = decide_batch(
        pa.RecordBatch.from_pydict({"url": listed}), fresh, column="url", purpose="train-ai", at=NOW
    )
    answers = [expected(SNAPSHOT, value, {"purpose": "train-ai", "at": NOW}) for value in listed]
    assert decided.codes.tolist() == [DECISION_CODES[a["decision"]] for a in answers if a is not None]
    assert set(decided.codes.tolist()) == {0, 2}


def test_url_keys_survive_the_format_and_every_merge():
    _, data = read_full(RAW)
    assert data.url_keys and all("/" in key for _, key in data.url_keys)
    again = SnapshotData.from_sections(dict(data.sections()))
    assert again.url_keys == data.url_keys
    first = data.ids[: len(data.ids) // 2]
    part = data.without(first)
    rest = data.without(set(data.ids) - set(first))
    assert part.plus(rest).url_keys == data.url_keys
    assert SnapshotData.from_sections({}).url_keys == []
    old = dict(data.sections())
    old.pop("url/keys"), old.pop("url/key_claims")
    assert SnapshotData.from_sections(old).url_keys is None  # URL claims, keys not in the file


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s | {"url/key_claims": s["url/key_claims"][:-1]},  # one ordinal short
        lambda s: s | {"url/key_claims": np.full_like(s["url/key_claims"], 250)},  # no such claim
        lambda s: s | {"url/keys": np.frombuffer("é/".encode() * 3, np.uint8)},  # not ASCII
        lambda s: s | {"url/keys": np.frombuffer(b"no-path\nx/", np.uint8)},  # a key without a path
        lambda s: {k: v for k, v in s.items() if k != "url/key_claims"},
    ],
    ids=["short", "ordinal", "ascii", "path", "missing"],
)
def test_inconsistent_url_keys_are_refused(damage: Any):
    _, data = read_full(RAW)
    with pytest.raises(InvalidSnapshot):
        SnapshotData.from_sections(damage(dict(data.sections())))
