"""`kotowari claim import` through the real CLI against a real `kotowari serve` process: CSV and JSON
lines with Japanese text and a BOM, failing rows among good ones, re-runs that file nothing, edited
rows filed again, an interrupted batch recovered, and every usage error as one line with exit 2."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import keys
from crawler_client import Client
from crawler_client.claim_import import ProgressBar
from crawler_client.cli import main
from tests.conftest import ServerProcess, start_server, stop_server

HEADER = "kind,url,name,deny,on-behalf-of,authority,title,territory,ref\n"
MEMBERS = [
    'voice,https://voices.example.com/ayaka/,佐藤彩花|さとう あやか|Ayaka Sato,"train-ai,generate",'
    "佐藤彩花,専属マネジメント契約 2024,彩花の声,JP,M-001\n",
    "voice,https://voices.example.com/ren/,山田蓮|Ren Yamada,train-ai,山田蓮,"
    "専属マネジメント契約 2024,,JP|US,M-002\n",
    "likeness,https://voices.example.com/sora/,空,generate,,,,,M-003\n",
]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = start_server(tmp_path_factory.mktemp("import-registry"))
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOTOWARI_REGISTRY", raising=False)
    return tmp_path


@pytest.fixture
def agency(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> keys.SigningKey:
    assert main(["keys", "new", "--out", "agency.key"]) == 0
    capsys.readouterr()
    return keys.read_key_file(in_tmp / "agency.key")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def imported(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess, file: str, *extra: str
) -> tuple[int, str, str]:
    return run(capsys, "claim", "import", file, "--key", "agency.key", "--registry", registry.url, *extra)


def receipts(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def mine(registry: ServerProcess, did: str) -> list[dict[str, Any]]:
    with Client(registry.url) as client:
        return list(client.list_claims(claimant=did))


def test_a_csv_with_a_bom_and_japanese_text_files_one_claim_per_row_and_a_rerun_files_nothing(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    (in_tmp / "members.csv").write_bytes(("\ufeff" + HEADER + "".join(MEMBERS)).encode("utf-8"))
    status, out, err = imported(capsys, registry, "members.csv")
    assert status == 0, err
    assert out.strip() == "filed 3, already filed 0, failed 0; receipts in members.csv.receipts.jsonl"
    assert (
        "public and permanent" in err and "\r" not in err
    )  # the public-record notice; no progress bar off a terminal
    lines = receipts(in_tmp / "members.csv.receipts.jsonl")
    assert [(line["line"], line["ref"]) for line in lines] == [(2, "M-001"), (3, "M-002"), (4, "M-003")]
    ayaka = lines[0]["document"]
    keys.verify_document(ayaka)
    assert keys.document_id(ayaka) == lines[0]["id"] and lines[0]["log"]["index"] >= 0
    assert ayaka["subject"]["identifiers"][1:] == [
        {"scheme": "name", "value": "佐藤彩花"},
        {"scheme": "name", "value": "さとう あやか"},
        {"scheme": "name", "value": "Ayaka Sato"},
    ]
    assert ayaka["on_behalf_of"] == {"principal": "佐藤彩花", "authority": "専属マネジメント契約 2024"}
    assert ayaka["uses"] == {"train-ai": "n", "generate": "n"} and ayaka["subject"]["title"] == "彩花の声"
    assert lines[1]["document"]["territories"] == ["JP", "US"] and "ref" not in json.dumps(ayaka)
    assert {claim["id"] for claim in mine(registry, agency.did)} == {line["id"] for line in lines}

    status, out, _ = imported(capsys, registry, "members.csv")
    assert status == 0 and out.startswith("filed 0, already filed 3, failed 0")
    assert len(receipts(in_tmp / "members.csv.receipts.jsonl")) == 3
    assert len(mine(registry, agency.did)) == 3


def test_json_lines_take_lists_and_the_same_columns(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    rows = [
        {"kind": "voice", "url": ["https://jsonl.example.com/a/", "https://jsonl.example.com/b/"],
         "names": ["鈴木一郎", "Ichiro Suzuki"], "deny": ["train-ai", "generate"],
         "Licence-Contact": "mailto:x@jsonl.example.com"},
        {"kind": "work", "url": "https://jsonl.example.com/c/", "deny": "train-ai", "allow": "search",
         "valid_until": "2031-01-01T00:00:00Z", "ref": "W-9"},
    ]  # fmt: skip
    text = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n\n"
    (in_tmp / "members.jsonl").write_text(text, encoding="utf-8")
    status, out, err = imported(capsys, registry, "members.jsonl", "--json")
    assert status == 0, err
    summary = json.loads(out)
    assert (
        summary["filed"] == 2
        and summary["failed"] == []
        and summary["receipts"] == "members.jsonl.receipts.jsonl"
    )
    first, second = (line["document"] for line in receipts(in_tmp / "members.jsonl.receipts.jsonl"))
    assert [i["value"] for i in first["subject"]["identifiers"]][-2:] == ["鈴木一郎", "Ichiro Suzuki"]
    assert first["licence"] == {"contact": "mailto:x@jsonl.example.com"}
    assert (
        second["uses"] == {"train-ai": "n", "search": "y"} and second["valid_until"] == "2031-01-01T00:00:00Z"
    )


def test_text_is_put_in_nfc_so_names_typed_on_any_system_go_in(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    decomposed = "がくと"  # as macOS writes file names
    (in_tmp / "nfd.csv").write_text(f"kind,name,deny\nvoice,{decomposed},train-ai\n", encoding="utf-8")
    status, _, err = imported(capsys, registry, "nfd.csv")
    assert status == 0, err
    (line,) = receipts(in_tmp / "nfd.csv.receipts.jsonl")
    assert line["document"]["subject"]["identifiers"] == [{"scheme": "name", "value": "がくと"}]


def test_failing_rows_are_reported_by_line_and_the_rest_still_go_in(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    (in_tmp / "vector.json").write_text(json.dumps([0.1] * 8), encoding="utf-8")
    rows = [
        "kind,url,name,deny,allow,on_behalf_of,authority,valid_from,embedding\n",
        "voice,https://fail.example.com/good-1/,,train-ai,,,,,\n",  # 2
        "song,https://fail.example.com/x/,,train-ai,,,,,\n",  # 3 unknown kind
        "work,notaurl,,train-ai,,,,,\n",  # 4 not a URL a claim can name
        "work,https://fail.example.com/y/,,train-everything,,,,,\n",  # 5 unknown use
        "work,,,train-ai,,,,,\n",  # 6 no item
        "work,https://fail.example.com/z/,,search,search,,,,\n",  # 7 denied and allowed
        "voice,https://fail.example.com/w/,,train-ai,,Aoi,,,\n",  # 8 on_behalf_of without authority
        "work,https://fail.example.com/v/,,train-ai,,,,tomorrow,\n",  # 9 not a time
        "work,https://fail.example.com/u/,,train-ai,,,,,,extra\n",  # 10 more cells than columns
        "voice,,,train-ai,,,,,speaker/unknown-space:vector.json\n",  # 11 refused by the registry
        ",,,,,,,,\n",  # blank: skipped
        "voice,https://fail.example.com/good-2/,,train-ai,,,,,\n",  # 13
    ]
    (in_tmp / "mixed.csv").write_text("".join(rows), encoding="utf-8")
    status, out, err = imported(capsys, registry, "mixed.csv")
    assert status == 1
    assert out.startswith("filed 2, already filed 0, failed 9")
    reported = {
        int(line.split()[2].rstrip(":")): line
        for line in err.splitlines()
        if line.startswith("kotowari: line")
    }
    assert sorted(reported) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    for line, needle in [
        (3, "kind 'song'"), (4, "url 'notaurl'"), (5, "unknown use"), (6, "at least one item (url, file"),
        (7, "both denied and allowed"), (8, "on_behalf_of and authority go together"), (9, "valid_from:"),
        (10, "10 cells, but the header has 9 columns"), (11, "registry refused (422 invalid-document)"),
    ]:  # fmt: skip
        assert needle in reported[line], reported[line]
    assert [line["line"] for line in receipts(in_tmp / "mixed.csv.receipts.jsonl")] == [2, 13]

    (in_tmp / "mixed.csv").write_text(rows[0] + rows[1] + rows[-1], encoding="utf-8")  # the bad rows removed
    assert imported(capsys, registry, "mixed.csv")[0] == 0


def test_an_edited_row_is_filed_on_the_next_run_and_the_claim_it_replaces_is_named(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    (in_tmp / "members.csv").write_text(HEADER + "".join(MEMBERS), encoding="utf-8")
    assert imported(capsys, registry, "members.csv")[0] == 0
    before = receipts(in_tmp / "members.csv.receipts.jsonl")
    edited = MEMBERS[1].replace("train-ai,山田蓮", '"train-ai,generate",山田蓮')
    (in_tmp / "members.csv").write_text(HEADER + MEMBERS[0] + edited + MEMBERS[2], encoding="utf-8")
    status, out, err = imported(capsys, registry, "members.csv")
    assert status == 0 and out.startswith("filed 1, already filed 2, failed 0")
    assert f"was line 3: {before[1]['id']}" in err and "stay in force until withdrawn" in err
    after = receipts(in_tmp / "members.csv.receipts.jsonl")
    assert len(after) == 4 and after[-1]["line"] == 3
    assert after[-1]["document"]["uses"] == {"train-ai": "n", "generate": "n"}
    assert imported(capsys, registry, "members.csv")[1].startswith("filed 0, already filed 3")


def test_identical_rows_are_filed_once(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    (in_tmp / "twice.csv").write_text(HEADER + MEMBERS[2] + MEMBERS[2], encoding="utf-8")
    status, out, err = imported(capsys, registry, "twice.csv")
    assert status == 0 and out.startswith("filed 1,")
    assert "line 3: the same claim as line 2; filed once" in err


def test_defaults_fill_the_columns_a_file_leaves_out(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    (in_tmp / "urls.csv").write_text("url\nhttps://defaults.example.com/1/\n", encoding="utf-8")
    status, _, err = imported(
        capsys, registry, "urls.csv", "--kind", "work", "--deny", "train-ai,ai-input",
        "--default", "licence_contact=mailto:rights@defaults.example.com",
    )  # fmt: skip
    assert status == 0, err
    (line,) = receipts(in_tmp / "urls.csv.receipts.jsonl")
    assert line["document"]["uses"] == {"train-ai": "n", "ai-input": "n"}
    assert line["document"]["licence"] == {"contact": "mailto:rights@defaults.example.com"}


def test_many_rows_go_in_several_requests(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    rows = "".join(f"work,https://batch.example.com/{n}/,train-ai\n" for n in range(7))
    (in_tmp / "batch.csv").write_text("kind,url,deny\n" + rows, encoding="utf-8")
    status, out, _ = imported(capsys, registry, "batch.csv", "--batch", "3")
    assert status == 0 and out.startswith("filed 7,")
    assert [line["line"] for line in receipts(in_tmp / "batch.csv.receipts.jsonl")] == list(range(2, 9))


def test_a_batch_in_flight_when_a_run_died_is_recovered_not_filed_twice(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    from crawler_client.claim_import import prepare, row_digest
    from crawler_client.cli import build_parser
    from crawler_client.receipts_file import ReceiptsFile

    (in_tmp / "crash.csv").write_text(HEADER + "".join(MEMBERS), encoding="utf-8")
    args = build_parser().parse_args(["claim", "import", "crash.csv", "--key", "agency.key"])
    prepared, failed, _ = prepare(args, agency.did, datetime.now(UTC))
    assert not failed and all(row_digest(row.claim) == row.digest for row in prepared)
    signed = [keys.sign_document(row.claim, agency) for row in prepared[:2]]
    with ReceiptsFile.open(in_tmp / "crash.csv.receipts.jsonl") as journal:
        journal.hold(
            0, [(row.line, row.ref, row.digest, doc) for row, doc in zip(prepared, signed, strict=False)]
        )
    with Client(registry.url) as client:  # the first of the two went in before the run died
        assert client.file_claims(signed[:1])[0]["status"] == 201
    status, out, err = imported(capsys, registry, "crash.csv")
    assert status == 0, err
    assert out.startswith("filed 2, recovered 1 from an interrupted run, already filed 1, failed 0")
    lines = receipts(in_tmp / "crash.csv.receipts.jsonl")
    assert lines[0]["recovered"] is True and lines[0]["id"] == keys.document_id(signed[0])
    assert sorted(line["line"] for line in lines) == [2, 3, 4]
    assert not (in_tmp / "crash.csv.receipts.jsonl.pending").exists()
    claimed = [
        c
        for c in mine(registry, agency.did)
        if c["document"]["subject"]["identifiers"][0]["value"].endswith("ayaka/")
    ]
    assert len(claimed) == 1  # not twice


def test_a_half_written_last_receipt_is_dropped(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    (in_tmp / "members.csv").write_text(HEADER + MEMBERS[0], encoding="utf-8")
    (in_tmp / "members.csv.receipts.jsonl").write_text('{"line": 2, "row": "ab', encoding="utf-8")
    status, out, _ = imported(capsys, registry, "members.csv")
    assert status == 0 and out.startswith("filed 1,")
    assert len(receipts(in_tmp / "members.csv.receipts.jsonl")) == 1


@pytest.mark.parametrize(
    ("content", "extra", "needle"),
    [
        (HEADER.replace("deny", "deny_uses") + MEMBERS[0], [], "unknown column 'deny_uses'"),
        ("kind,title,title\nwork,a,b\n", [], "column title appears twice"),
        ("", [], "needs a header row"),
        ("\n\n", [], "needs a header row"),
        ('kind,url\nwork,"unclosed\n', [], "not CSV"),
        (HEADER + MEMBERS[0], ["--batch", "0"], "--batch"),
        (HEADER + MEMBERS[0], ["--default", "url=https://x.example/"], "--default"),
        (HEADER + MEMBERS[0], ["--default", "nocolumn"], "--default"),
        (HEADER + MEMBERS[0], ["--kind", "work", "--default", "kind=voice"], "say the same thing"),
        (HEADER + MEMBERS[0], ["--encoding", "klingon"], "--encoding"),
    ],
    ids=[
        "unknown-column",
        "repeated-column",
        "empty",
        "blank",
        "bad-csv",
        "batch",
        "default-item",
        "default-syntax",
        "default-twice",
        "encoding",
    ],
)
def test_a_file_that_cannot_be_imported_is_one_line_and_exit_2(
    registry: ServerProcess,
    agency: keys.SigningKey,
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    extra: list[str],
    needle: str,
):
    (in_tmp / "bad.csv").write_text(content, encoding="utf-8")
    status, out, err = imported(capsys, registry, "bad.csv", *extra)
    assert status == 2 and out == ""
    assert err.strip().splitlines()[-1].startswith("kotowari: error: ") and needle in err, err
    assert not (in_tmp / "bad.csv.receipts.jsonl").exists()  # refused before anything was signed


def test_usage_errors_around_the_file_exit_2(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    assert "missing.csv" in imported(capsys, registry, "missing.csv")[2]
    (in_tmp / "sjis.csv").write_bytes((HEADER + MEMBERS[0]).encode("cp932"))
    status, _, err = imported(capsys, registry, "sjis.csv")
    assert status == 2 and "line 2: not utf-8 text" in err and "--encoding cp932" in err
    status, out, _ = imported(capsys, registry, "sjis.csv", "--encoding", "cp932")
    assert status == 0 and out.startswith("filed 1,")
    status, _, err = run(capsys, "claim", "import", "sjis.csv", "--key", "agency.key")
    assert status == 2 and "--registry" in err
    status, _, err = run(
        capsys, "claim", "import", "sjis.csv", "--key", "nope.key", "--registry", registry.url
    )
    assert status == 2 and "nope.key" in err
    (in_tmp / "other.jsonl").write_text("", encoding="utf-8")
    status, _, err = imported(capsys, registry, "other.jsonl")
    assert status == 2 and "no rows" in err
    with pytest.raises(SystemExit) as exit_:
        main(["claim", "import", "sjis.csv", "--key", "agency.key", "--kind", "song"])
    assert exit_.value.code == 2


def test_receipts_from_another_registry_or_not_receipts_at_all_are_refused(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    (in_tmp / "members.csv").write_text(HEADER + MEMBERS[0], encoding="utf-8")
    elsewhere = {"line": 2, "row": "0" * 64, "registry": "did:key:z6MkElsewhere", "id": "1" * 64}
    (in_tmp / "elsewhere.jsonl").write_text(json.dumps(elsewhere) + "\n", encoding="utf-8")
    status, _, err = imported(capsys, registry, "members.csv", "--receipts", "elsewhere.jsonl")
    assert status == 2 and "from registry did:key:z6MkElsewhere" in err
    (in_tmp / "notes.txt").write_text("my notes\nmore\n", encoding="utf-8")
    status, _, err = imported(capsys, registry, "members.csv", "--receipts", "notes.txt")
    assert status == 2 and "notes.txt line 1: not a receipt" in err
    assert (in_tmp / "notes.txt").read_text(encoding="utf-8") == "my notes\nmore\n"


def test_json_lines_rows_that_are_not_objects_fail_by_line(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    good = {"kind": "work", "url": "https://jsonl-bad.example.com/", "deny": "train-ai"}
    lines = [
        json.dumps(good), "[1, 2]", "{not json", '{"kind": "work", "kind": "voice"}',
        json.dumps({**good, "colour": "red"}), json.dumps({**good, "title": ["a", "b"]}),
        json.dumps({**good, "url": 7}), json.dumps({**good, "title": "\ud800"}),
    ]  # fmt: skip
    (in_tmp / "rows.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out, err = imported(capsys, registry, "rows.jsonl")
    assert status == 1 and out.startswith("filed 1, already filed 0, failed 7")
    for number, needle in [
        (2, "not a JSON object"), (3, "not a JSON object"), (4, "appears twice"),
        (5, "unknown column 'colour'"),
        (6, "title must be a string"), (7, "url must be a string or a list"), (8, "lone surrogate"),
    ]:  # fmt: skip
        assert f"line {number}: " in err and needle in err, (number, err)


def test_a_dry_run_checks_every_row_and_files_nothing(
    agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    (in_tmp / "members.csv").write_text(HEADER + MEMBERS[0] + "song,https://x.example.com/,,train-ai,,,,,\n")
    status, out, err = run(capsys, "claim", "import", "members.csv", "--key", "agency.key", "--dry-run")
    assert status == 1 and "line 3: kind 'song'" in err
    assert out.strip() == "checked 1 claim(s): 1 row(s) would fail; nothing was signed or filed"
    assert not (in_tmp / "members.csv.receipts.jsonl").exists()


def test_the_progress_bar_rewrites_one_line_and_clears_it():
    ticks = iter([0.0, 0.5, 0.55, 1.0, 2.0])
    stream = io.StringIO()
    bar = ProgressBar(100, stream, clock=lambda: next(ticks))
    bar(10)
    bar(11)  # within a tenth of a second: not shown
    bar(50)
    bar(100)
    shown = stream.getvalue().split("\r")[1:]
    assert len(shown) == 3 and shown[0].startswith("[##----------------------] 10/100 claims, 20/s")
    assert shown[-1].startswith("[########################] 100/100 claims")
    bar.close()
    assert stream.getvalue().endswith("\r")


def test_the_readme_agency_walkthrough_runs_as_written(
    registry: ServerProcess, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
):
    from tests.crawler_client.readme import Shell, blocks

    (csv_text,) = blocks("Many members at once", language="csv")
    (in_tmp / "members.csv").write_text(csv_text + "\n", encoding="utf-8")
    (walkthrough,) = blocks("Many members at once")
    ran = Shell(registry.url).run(walkthrough)
    assert [r.status for r in ran] == [0] * len(ran), "\n".join(map(str, ran))
    _, first, again, mine, by_name, withdrew = ran
    assert first.out.strip() == "filed 3, already filed 0, failed 0; receipts in members.csv.receipts.jsonl"
    assert again.out.startswith("filed 0, already filed 3, failed 0")
    assert len(mine.out.splitlines()) == 3 and all(
        "[agent-asserted]" in line for line in mine.out.splitlines()
    )
    (ayaka,) = json.loads(by_name.out)
    assert ayaka["document"]["subject"]["identifiers"][0]["value"] == "https://voices.example.com/ayaka/"
    assert ayaka["matches"] == [{"match": "name", "key": "Ayaka Sato", "authority": ["agent-asserted"]}]
    assert withdrew.out.strip() == "withdrew 1, already withdrawn 0, failed 0"


def test_japanese_headers_and_kinds_are_read(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    rows = "種類,URL,氏名,拒否,本人,権限,管理番号\n"
    rows += "声,https://ja.example.com/hanako/,山田花子|やまだ はなこ,train-ai,山田花子,専属契約,A-1\n"
    (in_tmp / "会員.csv").write_text(rows, encoding="utf-8")
    status, _, err = imported(capsys, registry, "会員.csv")
    assert status == 0, err
    (line,) = receipts(in_tmp / "会員.csv.receipts.jsonl")
    assert line["ref"] == "A-1" and line["document"]["subject"]["kind"] == "voice"
    assert line["document"]["on_behalf_of"] == {"principal": "山田花子", "authority": "専属契約"}


def test_two_imports_cannot_write_one_receipts_file_at_once(
    registry: ServerProcess, agency: keys.SigningKey, in_tmp: Path, capsys: pytest.CaptureFixture[str]
):
    from crawler_client.receipts_file import ReceiptsFile

    (in_tmp / "members.csv").write_text(HEADER + MEMBERS[0], encoding="utf-8")
    with ReceiptsFile.open(in_tmp / "members.csv.receipts.jsonl"):
        status, _, err = imported(capsys, registry, "members.csv")
    assert status == 2 and "another import is using it" in err
    assert imported(capsys, registry, "members.csv")[0] == 0
