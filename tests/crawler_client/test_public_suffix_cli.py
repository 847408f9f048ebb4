"""`kotowari claim new` and `notice new` refuse a URL over a public suffix offline, in one line with exit
status 2, before anything is signed; `check` still asks about any URL."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler_client.cli import main
from crawler_client.items import items_from_args

OPERATOR = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    assert main(["keys", "new", "--out", "me.key"]) == 0
    return tmp_path


def _claim_new(url: str) -> list[str]:
    return ["claim", "new", "--key", "me.key", "--kind", "work", "--url", url, "--deny", "train-ai"]


@pytest.mark.parametrize(
    ("url", "suffix"),
    [
        ("https://co.jp/", "co.jp is a public suffix"),
        ("https://github.io/", "github.io is a public suffix"),
        ("https://CO.JP.:8443/gallery/", "co.jp is a public suffix"),
        ("https://рф/", "xn--p1ai (рф) is a public suffix"),
        ("http://localhost/", "localhost has no registrable domain"),
    ],
)
def test_claim_new_over_a_public_suffix_exits_2_with_one_line(
    url: str, suffix: str, capsys: pytest.CaptureFixture[str], in_tmp: Path
):
    capsys.readouterr()
    assert main([*_claim_new(url), "--out", "claim.json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"kotowari: error: --url {url!r}: {suffix}")
    assert "a claim must name a registrable domain" in lines[0]
    assert not (in_tmp / "claim.json").exists()


def test_claim_new_over_a_registrable_domain_or_below_it_is_signed(capsys: pytest.CaptureFixture[str]):
    for url in ("https://example.co.jp/", "https://alice.github.io/", "http://192.0.2.1/"):
        capsys.readouterr()
        assert main(_claim_new(url)) == 0
        claim = json.loads(capsys.readouterr().out)
        assert claim["subject"]["identifiers"] == [{"scheme": "url", "value": url}]


def test_the_installed_command_refuses_it_too(in_tmp: Path):
    result = subprocess.run(
        [sys.executable, "-m", "crawler_client.cli", *_claim_new("https://co.jp/")],
        cwd=in_tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "co.jp is a public suffix" in result.stderr


def test_notice_new_refuses_a_public_suffix_identifier(capsys: pytest.CaptureFixture[str]):
    capsys.readouterr()
    argv = [
        "notice", "new", "--key", "me.key", "--operator", OPERATOR, "--kind", "work",
        "--url", "https://github.io/", "--model", "acme/painter-v2", "--action", "stop-generation",
        "--regime", "dsa",
    ]  # fmt: skip
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "github.io is a public suffix" in lines[0], lines


def test_check_items_may_name_any_url():
    flags = {flag: [] for flag in ("sha256", "iscc", "pdq", "isni", "wikidata", "name", "file", "embedding")}
    args = argparse.Namespace(url=["https://co.jp/", "https://github.io/"], text=[], **flags)
    assert [item["value"] for item in items_from_args(args, query=True)] == [
        "https://co.jp/",
        "https://github.io/",
    ]
    with pytest.raises(ValueError, match=r"co\.jp is a public suffix"):
        items_from_args(args, query=False)
