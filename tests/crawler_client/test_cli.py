"""The `kotowari` CLI without a server: keys, url, claim new, verify; every refusal is one line, exit 2."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

import keys
from crawler_client.cli import main

VECTORS = Path(__file__).resolve().parents[1] / "keys" / "vectors" / "vc-di-eddsa" / "eddsa-jcs-2022"
W3C_KEY = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("kotowari: error: ")
    assert not any("Traceback" in line for line in err)
    return err[-1]


def test_keys_new_writes_a_private_file_and_prints_the_did(capsys: pytest.CaptureFixture[str], in_tmp: Path):
    assert main(["keys", "new", "--out", "me.key"]) == 0
    did = capsys.readouterr().out.strip()
    assert keys.read_key_file(in_tmp / "me.key").did == did
    assert stat.S_IMODE((in_tmp / "me.key").stat().st_mode) == 0o600


def test_keys_new_refuses_to_overwrite(capsys: pytest.CaptureFixture[str], in_tmp: Path):
    (in_tmp / "me.key").write_text("precious")
    one_line_error(capsys, ["keys", "new", "--out", "me.key"])
    assert (in_tmp / "me.key").read_text() == "precious"


def test_url_prints_canonical_form_and_lookups(capsys: pytest.CaptureFixture[str]):
    assert main(["url", "--json", "https://WWW.Example.com:443/gallery/2024/a.png#x"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["expression"] == "www.example.com/gallery/2024/a.png"
    assert "example.com/gallery/" in report["lookups"]
    assert main(["url", "http://a.b.c/1/2.html?param=1"]) == 0
    assert "lookup:" in capsys.readouterr().out
    one_line_error(capsys, ["url", "ftp://example.com/"])


def test_claim_new_builds_a_signed_claim(capsys: pytest.CaptureFixture[str], in_tmp: Path):
    main(["keys", "new", "--out", "me.key"])
    (in_tmp / "song.flac").write_bytes(b"la la la")
    argv = [
        "claim", "new", "--key", "me.key", "--kind", "voice", "--url", "https://example.com/voice/",
        "--file", "song.flac", "--deny", "train-ai,generate", "--allow", "search", "--territory", "JP",
        "--on-behalf-of", "Voice Actor", "--authority", "Management contract of 2025",
        "--valid-until", "2030-01-01T00:00:00Z", "--out", "claim.json",
    ]  # fmt: skip
    capsys.readouterr()
    assert main(argv) == 0
    said = capsys.readouterr().err
    assert "public and permanent" in said  # said before anyone files it (in Japanese under ja: test_i18n)
    claim = json.loads((in_tmp / "claim.json").read_text())
    keys.verify_document(claim)
    assert claim["uses"] == {"train-ai": "n", "generate": "n", "search": "y"}
    digest = hashlib.sha256(b"la la la").hexdigest()
    assert claim["subject"]["identifiers"][1] == {"scheme": "sha256", "value": digest}
    assert claim["on_behalf_of"]["principal"] == "Voice Actor"
    assert claim["territories"] == ["JP"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--url", "https://example.com/", "--deny", "train-everything"], "unknown use"),
        (["--url", "https://example.com/"], "--deny"),
        (["--deny", "train-ai"], "at least one item"),
        (["--url", "https://example.com/", "--deny", "search", "--allow", "search"], "both"),
        (["--sha256", "12ab", "--deny", "train-ai"], "sha256"),
        (["--file", "missing.bin", "--deny", "train-ai"], "missing.bin"),
        (["--url", "ftp://example.com/", "--deny", "train-ai"], "invalid URL"),
        (["--url", "https://example.com/", "--deny", "train-ai", "--territory", "japan"], "territor"),
        (["--url", "https://example.com/", "--deny", "train-ai", "--valid-from", "tomorrow"], "--valid-from"),
        (["--url", "https://example.com/", "--deny", "train-ai", "--on-behalf-of", "X"], "--authority"),
    ],
)
def test_claim_new_refuses_bad_input_in_one_line(
    capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
):
    main(["keys", "new", "--out", "me.key"])
    capsys.readouterr()
    line = one_line_error(capsys, ["claim", "new", "--key", "me.key", "--kind", "work", *extra])
    assert needle in line


def test_claim_new_without_a_key_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    assert "nope.key" in one_line_error(
        capsys,
        [
            "claim",
            "new",
            "--key",
            "nope.key",
            "--kind",
            "work",
            "--url",
            "https://a.example/",
            "--deny",
            "search",
        ],
    )


def test_unknown_kind_and_purpose_are_usage_errors(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        main(["claim", "new", "--key", "k", "--kind", "song", "--deny", "search"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        main(
            ["check", "--registry", "http://127.0.0.1:9", "--purpose", "sell", "--url", "https://a.example/"]
        )
    assert exit_.value.code == 2


def test_verify_accepts_the_w3c_vector_and_rejects_every_one_character_change(
    capsys: pytest.CaptureFixture[str], in_tmp: Path
):
    original = (VECTORS / "signedJCS.json").read_text()
    (in_tmp / "signed.json").write_text(original)
    assert main(["verify", "signed.json", "--key", W3C_KEY]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["verify", "signed.json"]) == 1, "https: verification methods need an explicit --key"
    capsys.readouterr()
    # A sample of positions through the CLI (the keys tests try every position through the library).
    step = max(1, len(original) // 60)
    for position in range(0, len(original), step):
        char = original[position]
        if char.isspace():
            continue
        changed = original[:position] + ("A" if char != "A" else "B") + original[position + 1 :]
        (in_tmp / "changed.json").write_text(changed)
        status = main(["verify", "changed.json", "--key", W3C_KEY])
        assert status in (1, 2), (position, char)
        capsys.readouterr()


def test_verify_refuses_unreadable_input_in_one_line(capsys: pytest.CaptureFixture[str], in_tmp: Path):
    one_line_error(capsys, ["verify", "missing.json"])
    (in_tmp / "dup.json").write_text('{"a": 1, "a": 2}')
    one_line_error(capsys, ["verify", "dup.json"])
    (in_tmp / "list.json").write_text("[]")
    one_line_error(capsys, ["verify", "list.json"])
    (in_tmp / "signed.json").write_text((VECTORS / "signedJCS.json").read_text())
    one_line_error(capsys, ["verify", "signed.json", "--key", "zNotAKey"])
