"""`min_authority` offline: the fast batch paths (`Snapshot.decide_urls`, `decide_sha256`, the Arrow
`decide_batch`, `batch_filter`) decide exactly as `Snapshot.check`, over claims of every authority;
the compliance manifest records the minimum and every removed row's claims with their authority."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from crawler_client.cli import main
from crawler_client.filter import batch_filter, decide_batch
from crawler_client.snapshot import DECISION_CODES, Snapshot, match_summary
from registry.authority.documents import new_attestation, new_mandate, new_revocation
from registry.authority.levels import LEVELS
from registry.documents import new_claim, unsigned_document
from registry.snapshot import of_log
from tests.factories import signed_claim

NOW = datetime(2026, 11, 30, tzinfo=UTC)
REGISTRY = keys.SigningKey.generate()
CREATOR, PUBLISHER, UNION, ACTOR, PRINCIPAL, AGENCY = (keys.SigningKey.generate() for _ in range(6))
DIGEST = "cd" * 32
MINIMUMS = [None, *LEVELS]


def signed(document: dict[str, Any], key: keys.SigningKey) -> dict[str, Any]:
    return keys.sign_document(document, key, created=NOW)


def verification(subject: str, host: str, scope: str = "domain") -> dict[str, Any]:
    """A registry-signed domain verification, as the registry appends after checking `host`."""
    fields = {
        "type": "DomainVerification",
        "registry": REGISTRY.did,
        "subject": subject,
        "host": host,
        "scope": scope,
        "method": "well-known",
        "url": f"https://{host}/.well-known/kotowari-did",
        "sha256": "ab" * 32,
        "checked_at": "2026-11-29T00:00:00Z",
    }
    return signed(unsigned_document(fields, created=NOW), REGISTRY)


def agency_claim(url: str, mandate: str | None, *, kind: str = "voice", **extra: Any) -> dict[str, Any]:
    behalf = {"principal": "Ayaka Sato", "authority": "management agreement", "did": PRINCIPAL.did}
    if mandate:
        behalf["mandate"] = mandate
    document = new_claim(
        AGENCY.did, kind, [("url", url), *extra.pop("identifiers", [])], {"train-ai": "n"},
        created=NOW, on_behalf_of=behalf, **extra,
    )  # fmt: skip
    return signed(document, AGENCY)


MANDATE = signed(new_mandate(PRINCIPAL.did, AGENCY.did, created=NOW, kinds=["voice"]), PRINCIPAL)
REVOKED = signed(new_mandate(PRINCIPAL.did, AGENCY.did, created=NOW, kinds=["work"]), PRINCIPAL)
ATTESTATION = signed(new_attestation(UNION.did, ACTOR.did, "member", created=NOW), UNION)

DOCUMENTS = [
    verification(PUBLISHER.did, "pub.example"),
    verification(UNION.did, "union.example"),
    verification(PRINCIPAL.did, "ayaka.example", scope="host"),
    MANDATE,
    REVOKED,
    ATTESTATION,
    # self-asserted everywhere, and one that allows: several claims on one URL
    signed_claim(CREATOR, NOW, urls=("https://pub.example/",), deny=("train-ai",)),
    signed_claim(CREATOR, NOW, urls=("https://open.example/",), deny=(), allow={"train-ai": "y"}),
    # domain-verified on its own domain (and subdomains), self-asserted elsewhere
    signed_claim(PUBLISHER, NOW, urls=("https://www.pub.example/books/", "https://mirror.example/pub/")),
    signed_claim(PUBLISHER, NOW, urls=("https://open.example/",), deny=(), allow={"train-ai": "y"}),
    # attested (a member of a verified union) for its file hash, never for URLs
    signed_claim(ACTOR, NOW, urls=("https://actor.example/",), sha256=(DIGEST,), deny=("train-ai",)),
    # mandated; mandated and domain-verified (the principal's own host); agent-asserted with a note
    agency_claim("https://voices.example/ayaka/", keys.document_id(MANDATE)),
    agency_claim("https://ayaka.example/", keys.document_id(MANDATE), identifiers=[("sha256", "ef" * 32)]),
    agency_claim("https://voices.example/other/", None, kind="work"),
    agency_claim("https://voices.example/ayaka/", keys.document_id(REVOKED), kind="work"),
    signed(
        new_revocation("MandateRevocation", PRINCIPAL.did, keys.document_id(REVOKED), created=NOW), PRINCIPAL
    ),
    # valid only later: matches nothing now
    signed_claim(PUBLISHER, NOW, urls=("https://pub.example/later/",), valid_from=NOW + timedelta(days=3)),
]
RAW = of_log(DOCUMENTS, key=REGISTRY, origin="kotowari.test/authority", spaces={}, now=NOW)
SNAPSHOT = Snapshot.from_bytes(RAW)


def levels_seen() -> set[str]:
    queries = [
        {"scheme": "url", "value": u}
        for u in (
            "https://pub.example/a",
            "https://www.pub.example/books/1",
            "https://mirror.example/pub/x",
            "https://voices.example/ayaka/1",
            "https://ayaka.example/",
            "https://voices.example/other/",
        )
    ] + [{"scheme": "sha256", "value": DIGEST}]
    answer = SNAPSHOT.check(queries, purpose="train-ai", at=NOW)
    return {level for item in answer["items"] for m in item["matches"] for level in m["authority"]}


def test_the_snapshot_holds_claims_of_every_authority():
    assert levels_seen() == set(LEVELS)
    item = SNAPSHOT.check([{"scheme": "url", "value": "https://voices.example/ayaka/x"}], at=NOW)["items"][0]
    notes = [note for m in item["matches"] for note in m.get("authority_notes", [])]
    assert any("revoked by the principal" in note for note in notes)


hosts = st.sampled_from(
    [
        "pub.example", "www.pub.example", "deep.www.pub.example", "mirror.example", "open.example",
        "voices.example", "ayaka.example", "sub.ayaka.example", "actor.example", "unrelated.example",
        "PUB.example", "pub.example.", "192.168.0.1",
    ]
)  # fmt: skip
paths = st.sampled_from(
    ["", "/", "/books/", "/books/1.png", "/pub/x", "/ayaka/", "/ayaka/1.wav", "/other/", "/later/x"]
)
urls = st.builds(
    lambda s, h, p: s + h + p, st.sampled_from(["https://", "http://", "ftp://", ""]), hosts, paths
) | st.text(max_size=12)


def expected(scheme: str, value: Any, minimum: str | None) -> tuple[int, list[dict[str, Any]]]:
    try:
        answer = SNAPSHOT.check(
            [{"scheme": scheme, "value": value}], purpose="train-ai", at=NOW, min_authority=minimum
        )
    except Exception:  # the registry refuses the item: the batch calls it invalid
        return DECISION_CODES["invalid"], []
    assert answer["min_authority"] == minimum if minimum else "min_authority" not in answer
    item = answer["items"][0]
    return DECISION_CODES[item["decision"]], [match_summary(m) for m in item["matches"]]


@settings(max_examples=150, deadline=None)
@given(st.lists(urls, min_size=1, max_size=12), st.sampled_from(MINIMUMS))
def test_batch_url_decisions_equal_check_under_every_minimum(values: list[str], minimum: str | None):
    batch = pa.RecordBatch.from_pydict({"url": values})
    decided = decide_batch(batch, SNAPSHOT, column="url", purpose="train-ai", at=NOW, min_authority=minimum)
    direct = SNAPSHOT.decide_urls(values, "train-ai", at=NOW, min_authority=minimum)
    assert decided.codes.tolist() == direct.codes.tolist()
    for row, value in enumerate(values):
        code, matches = expected("url", value, minimum)
        assert decided.codes[row] == code, (value, minimum)
        assert decided.matches.get(row, []) == matches, (value, minimum)
        assert decided.claims.get(row, []) == [m["claim"] for m in matches]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([DIGEST, DIGEST.upper(), "ef" * 32, "00" * 32, "nope"]), min_size=1, max_size=6),
    st.sampled_from(MINIMUMS),
)
def test_batch_sha256_decisions_equal_check_under_every_minimum(values: list[str], minimum: str | None):
    batch = pa.RecordBatch.from_pydict({"h": values})
    decided = decide_batch(
        batch, SNAPSHOT, column="h", purpose="train-ai", scheme="sha256", at=NOW, min_authority=minimum
    )
    for row, value in enumerate(values):
        code, matches = expected("sha256", value, minimum)
        assert decided.codes[row] == code, (value, minimum)
        assert decided.matches.get(row, []) == matches


def test_a_minimum_stops_weaker_claims_from_deciding():
    values = ["https://pub.example/a", "https://www.pub.example/books/1", "https://voices.example/ayaka/x"]
    codes = {
        minimum: SNAPSHOT.decide_urls(values, "train-ai", at=NOW, min_authority=minimum).codes.tolist()
        for minimum in MINIMUMS
    }
    n, unknown = DECISION_CODES["n"], DECISION_CODES["unknown"]
    assert codes[None] == codes["self-asserted"] == [n, n, n]
    assert codes["mandated"] == [unknown, n, n]  # pub.example/a is only self-asserted
    assert codes["domain-verified"] == [unknown, n, unknown]
    found = SNAPSHOT.decide_urls(values[:1], "train-ai", at=NOW, min_authority="domain-verified")
    claim = DOCUMENTS[6]
    assert found.matches[0] == [
        {
            "claim": keys.document_id(claim),
            "claimant": claim["claimant"],
            "kind": claim["subject"]["kind"],
            "uses": claim["uses"],
            "authority": ["self-asserted"],
            "counted": False,
        }
    ]


def test_unknown_levels_raise_value_error():
    batch = pa.RecordBatch.from_pydict({"url": ["https://pub.example/"]})
    for call in (
        lambda: SNAPSHOT.check(
            [{"scheme": "url", "value": "https://pub.example/"}], min_authority="verified"
        ),
        lambda: SNAPSHOT.decide_urls(["https://pub.example/"], "train-ai", min_authority="verified"),
        lambda: SNAPSHOT.decide_sha256([DIGEST], "train-ai", min_authority="Mandated"),
        lambda: decide_batch(batch, SNAPSHOT, column="url", purpose="train-ai", min_authority="x"),
        lambda: batch_filter("unused.snapshot", column="url", purpose="train-ai", min_authority="x"),
    ):
        with pytest.raises(
            ValueError, match="self-asserted, agent-asserted, mandated, attested, domain-verified"
        ):
            call()


def test_batch_filter_honours_the_minimum(tmp_path: Path):
    path = tmp_path / "claims.snapshot"
    path.write_bytes(RAW)
    values = ["https://pub.example/a", "https://www.pub.example/books/1", "https://unrelated.example/", None]
    batches = [pa.RecordBatch.from_pydict({"url": values})]
    for minimum in MINIMUMS:
        keep = batch_filter(str(path), column="url", purpose="train-ai", min_authority=minimum)
        kept = [value for batch in keep(iter(batches)) for value in batch.column("url").to_pylist()]
        want = [
            v for v in values if v is not None and expected("url", v, minimum)[0] == DECISION_CODES["unknown"]
        ]
        assert kept == want, minimum


# ---------------------------------------------------------------- the manifest


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Path, Path]:
    snapshot = tmp_path / "claims.snapshot"
    snapshot.write_bytes(RAW)
    rows = [
        "https://pub.example/a.png",  # self-asserted only
        "https://www.pub.example/books/1.png",  # domain-verified (and self-asserted: pub.example/)
        "https://voices.example/ayaka/1.wav",  # mandated
        "https://voices.example/other/x",  # agent-asserted
        "https://unrelated.example/",
        "not a url",
    ]
    source = tmp_path / "crawl.parquet"
    pq.write_table(pa.table({"url": rows, "n": list(range(len(rows)))}), source)
    operator = tmp_path / "operator.key"
    keys.write_key_file(operator, keys.SigningKey.generate())
    return snapshot, source, operator


def filtered(
    tmp_path: Path, dataset: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[dict[str, Any], list[str]]:
    snapshot, source, operator = dataset
    output, manifest = tmp_path / "out.parquet", tmp_path / "manifest.json"
    output.unlink(missing_ok=True)
    manifest.unlink(missing_ok=True)
    argv = ["filter", "--snapshot", str(snapshot), "--purpose", "train-ai", "--column", "url"]
    argv += ["--manifest", str(manifest), "--key", str(operator), "--json", *extra, str(source), str(output)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["min_authority"] == (extra[1] if extra else None)
    return json.loads(manifest.read_text()), pq.read_table(output).column("url").to_pylist()


def test_the_manifest_records_the_minimum_and_each_claims_authority(
    tmp_path: Path, dataset: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
):
    everything, kept = filtered(tmp_path, dataset, capsys)
    assert everything["version"] == 2 and everything["min_authority"] is None
    assert kept == ["https://unrelated.example/"]
    reserved = {
        row["value"]: row["claims"] for row in everything["removed"]["rows"] if row["decision"] == "n"
    }
    assert sorted(c["authority"] for c in reserved["https://voices.example/ayaka/1.wav"]) == [
        ["agent-asserted"],  # the claim under the revoked mandate
        ["mandated"],
    ]
    assert [c["authority"] for c in reserved["https://voices.example/other/x"]] == [["agent-asserted"]]
    assert all("counted" not in c for claims in reserved.values() for c in claims)

    verified, kept = filtered(tmp_path, dataset, capsys, "--min-authority", "domain-verified")
    assert verified["min_authority"] == "domain-verified"
    assert kept == [
        "https://pub.example/a.png",
        "https://voices.example/ayaka/1.wav",
        "https://voices.example/other/x",
        "https://unrelated.example/",
    ]
    rows = {row["value"]: row for row in verified["removed"]["rows"]}
    assert set(rows) == {"https://www.pub.example/books/1.png", "not a url"}
    claims = rows["https://www.pub.example/books/1.png"]["claims"]
    assert {(tuple(c["authority"]), c["counted"]) for c in claims} == {
        (("self-asserted",), False),
        (("self-asserted", "domain-verified"), True),
    }
    manifest = tmp_path / "manifest.json"
    assert main(["verify", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert "counting claims of at least domain-verified authority" in out

    # the operator's signature covers the minimum and every claim's authority
    for edit in (
        lambda m: m.update(min_authority="self-asserted"),
        lambda m: m["removed"]["rows"][0]["claims"][0].update(authority=["domain-verified"]),
    ):
        tampered = json.loads(manifest.read_text())
        edit(tampered)
        (tmp_path / "tampered.json").write_text(json.dumps(tampered))
        assert main(["verify", str(tmp_path / "tampered.json")]) == 1
        assert capsys.readouterr().out.startswith("INVALID")


def test_filter_refuses_an_unknown_level_in_one_line(
    tmp_path: Path, dataset: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
):
    snapshot, source, _ = dataset
    argv = ["filter", "--snapshot", str(snapshot), "--purpose", "train-ai", "--column", "url"]
    assert main([*argv, "--min-authority", "verified", str(source), str(tmp_path / "o.parquet")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "self-asserted, agent-asserted, mandated, attested, domain-verified" in err[0]
    assert not (tmp_path / "o.parquet").exists()


def test_check_offline_shows_authority_and_honours_the_minimum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "claims.snapshot"
    path.write_bytes(RAW)
    argv = [
        "check",
        "--snapshot",
        str(path),
        "--purpose",
        "train-ai",
        "--url",
        "https://www.pub.example/books/1",
    ]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "[self-asserted, domain-verified]" in out and "pub.example/ [self-asserted]" in out
    assert main([*argv, "--min-authority", "domain-verified", "--json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["min_authority"] == "domain-verified"
    assert sorted(m["counted"] for m in answer["items"][0]["matches"]) == [False, True]
    assert main(["check", "--snapshot", str(path), "--purpose", "train-ai", "--url", "https://pub.example/x",
                 "--min-authority", "mandated"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("unknown") and "below mandated: not counted" in out
