"""A crawl manifest made from a real GuardedTransport audit log (a site on 127.0.0.1) names every
signal consulted and every refusal, verifies, and is refused once the log or the manifest changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import keys
from crawler_client.crawl_manifest import (
    CrawlManifestInvalid,
    crawl_manifest,
    summarise,
    verify_crawl_manifest,
)
from crawler_client.errors import UseReserved
from crawler_client.policy import Policy
from tests.crawler_client.policy.conftest import Site
from tests.crawler_client.policy.test_fetcher import client


@pytest.fixture
def audit(site: Site, policy: Policy, tmp_path: Path) -> Path:
    """A crawl of three pages: one allowed, one reserved by robots.txt, one by its TDMRep header."""
    site.route("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    site.route("/a", "x")
    site.route("/b", "x", headers={"tdm-reservation": "1"})
    site.route("/private/c", "x")
    log = tmp_path / "crawl.jsonl"
    with client(policy, audit=log) as http:
        http.get(site.url("/a"))
        for path in ("/b", "/private/c"):
            with pytest.raises(UseReserved):
                http.get(site.url(path))
    return log


def test_the_manifest_names_the_signals_and_the_refusals(audit: Path, site: Site) -> None:
    operator = keys.SigningKey.generate()
    manifest = crawl_manifest(audit, operator)
    assert manifest["operator"] == operator.did and manifest["purpose"] == ["train-ai"]
    assert {"robots.txt", "TDMRep", "X-Robots-Tag"} <= set(manifest["signals"])
    assert manifest["decisions"] == {
        "post-fetch": {"allowed": 1, "refused": 1},
        "pre-fetch": {"allowed": 2, "refused": 1},
    }
    refused = {entry["url"]: entry for entry in manifest["refused"]["listed"]}
    assert set(refused) == {site.url("/b"), site.url("/private/c")} and manifest["refused"]["count"] == 2
    assert [by["source"] for by in refused[site.url("/private/c")]["by"]] == ["robots.txt"]
    assert "TDMRep" in [by["source"] for by in refused[site.url("/b")]["by"]]
    lines = verify_crawl_manifest(manifest, audit)
    assert any("signals consulted: " in line and "robots.txt" in line for line in lines)
    renamed = audit.with_name("renamed.jsonl")
    renamed.write_bytes(audit.read_bytes())
    verify_crawl_manifest(manifest, renamed)  # the same log under another name


def test_a_changed_log_or_manifest_is_refused(audit: Path) -> None:
    manifest = crawl_manifest(audit, keys.SigningKey.generate())
    lines = audit.read_text().splitlines()
    audit.write_text("\n".join(lines[1:]) + "\n")  # a decision dropped from the log
    with pytest.raises(CrawlManifestInvalid, match="not the audit log this manifest signs"):
        verify_crawl_manifest(manifest, audit)
    forged = {**manifest, "refused": {"count": 0, "listed": []}}
    with pytest.raises(CrawlManifestInvalid, match="operator signature"):
        verify_crawl_manifest(forged)
    with pytest.raises(CrawlManifestInvalid, match="not a CrawlManifest"):
        verify_crawl_manifest({**manifest, "type": "ComplianceManifest"})


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no audit records"),
        ("not json\n", "line 1: not JSON"),
        ('{"event": "pre-fetch"}\n', "line 1: not an audit record"),
        ("[1, 2]\n", "line 1: not an audit record"),
    ],
)
def test_a_file_that_is_no_audit_log_is_refused(tmp_path: Path, text: str, error: str) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(text)
    with pytest.raises(CrawlManifestInvalid, match=error):
        summarise(log)
    with pytest.raises(CrawlManifestInvalid, match="No such file"):
        summarise(tmp_path / "missing.jsonl")


def test_the_manifest_is_canonical_json(audit: Path) -> None:
    manifest = crawl_manifest(audit, keys.SigningKey.generate())
    assert json.loads(keys.canonicalize(manifest)) == manifest


def test_the_cli_signs_and_verifies_a_crawl_manifest(
    audit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crawler_client.cli import main

    keys.write_key_file(tmp_path / "operator.key", keys.SigningKey.generate())
    out = tmp_path / "crawl-manifest.json"
    assert (
        main(["manifest", "crawl", str(audit), "--key", str(tmp_path / "operator.key"), "--out", str(out)])
        == 0
    )
    assert "2 URLs refused; signals consulted: " in capsys.readouterr().err
    assert main(["verify", str(out), "--log", str(audit)]) == 0
    assert "counts recomputed" in capsys.readouterr().out
    audit.write_text(audit.read_text() + audit.read_text().splitlines()[0] + "\n")  # one decision more
    assert main(["verify", str(out), "--log", str(audit)]) == 1
    assert "INVALID: " in capsys.readouterr().out
    assert (
        main(["manifest", "crawl", str(tmp_path / "none.jsonl"), "--key", str(tmp_path / "operator.key")])
        == 2
    )
    assert "none.jsonl" in capsys.readouterr().err
