"""Receipts, signed answers and the log monitor through the real CLI against a real server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.conftest import ServerProcess
from tests.crawler_client.test_walkthrough import kotowari


def file_claim(server: ServerProcess, tmp_path: Path, name: str, url: str) -> dict:
    kotowari(
        "claim", "new", "--key", "me.key", "--kind", "work", "--url", url, "--deny", "train-ai",
        "--out", f"{name}.json", cwd=tmp_path,
    )  # fmt: skip
    out = kotowari("claim", "file", f"{name}.json", "--registry", server.url, "--json", cwd=tmp_path).stdout
    (tmp_path / f"{name}.receipt.json").write_text(out)
    return json.loads(out)


def test_receipts_verify_offline_and_against_the_registry(server: ServerProcess, tmp_path: Path):
    kotowari("keys", "new", "--out", "me.key", cwd=tmp_path)
    first = file_claim(server, tmp_path, "first", "https://example.com/a/")
    file_claim(server, tmp_path, "second", "https://example.com/b/")

    offline = kotowari("verify", "first.receipt.json", cwd=tmp_path).stdout
    assert "valid receipt" in offline and f"entry {first['log']['index']}" in offline
    online = kotowari("verify", "first.receipt.json", "--registry", server.url, cwd=tmp_path).stdout
    assert "still includes it at size 2" in online

    tampered = [
        ("index", lambda r: r["log"].update(index=1)),
        ("tree_size", lambda r: r["log"].update(tree_size=2)),
        ("leaf", lambda r: r["log"].update(leaf_hash=base64.b64encode(bytes(32)).decode())),
        ("proof", lambda r: r["log"].update(inclusion_proof=[base64.b64encode(bytes(32)).decode()])),
        (
            "checkpoint",
            lambda r: r["log"].update(checkpoint=r["log"]["checkpoint"].replace("\n1\n", "\n2\n", 1)),
        ),
        ("registry", lambda r: r["log"].update(registry=r["document"]["claimant"])),
        ("document", lambda r: r["document"]["uses"].update({"search": "y"})),
    ]
    for name, change in tampered:
        receipt = json.loads((tmp_path / "first.receipt.json").read_text())
        change(receipt)
        (tmp_path / "bad.json").write_text(json.dumps(receipt))
        result = kotowari("verify", "bad.json", cwd=tmp_path, check_status=1)
        assert result.stdout.startswith("INVALID"), name


def test_check_answers_verify_offline_and_online(server: ServerProcess, tmp_path: Path):
    kotowari("keys", "new", "--out", "me.key", cwd=tmp_path)
    file_claim(server, tmp_path, "claim", "https://example.com/gallery/")
    answer = kotowari(
        "check", "--registry", server.url, "--purpose", "train-ai", "--url", "https://example.com/gallery/1.png",
        "--json", cwd=tmp_path, check_status=1,
    ).stdout  # fmt: skip
    (tmp_path / "answer.json").write_text(answer)
    assert "valid check answer" in kotowari("verify", "answer.json", cwd=tmp_path).stdout
    assert (
        "extends that checkpoint"
        in kotowari("verify", "answer.json", "--registry", server.url, cwd=tmp_path).stdout
    )

    forged = json.loads(answer)
    forged["items"][0]["decision"] = "unknown"
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert kotowari("verify", "forged.json", cwd=tmp_path, check_status=1).stdout.startswith("INVALID")


def test_log_monitor_detects_rollback_forks_and_identity_changes(server: ServerProcess, tmp_path: Path):
    kotowari("keys", "new", "--out", "me.key", cwd=tmp_path)
    state = tmp_path / "state.json"
    assert (
        "at size 0"
        in kotowari("log", "verify", "--registry", server.url, "--state", "state.json", cwd=tmp_path).stdout
    )
    file_claim(server, tmp_path, "one", "https://example.com/1/")
    file_claim(server, tmp_path, "two", "https://example.com/2/")
    out = kotowari("log", "verify", "--registry", server.url, "--state", "state.json", cwd=tmp_path).stdout
    assert "at size 2" in out and "consistent with size 0" in out
    file_claim(server, tmp_path, "three", "https://example.com/3/")
    out = kotowari("log", "verify", "--registry", server.url, "--state", "state.json", cwd=tmp_path).stdout
    assert "consistent with size 2" in out

    good = json.loads(state.read_text())
    fork = dict(good, size=2, root_hash=base64.b64encode(bytes(32)).decode())
    state.write_text(json.dumps(fork))
    result = kotowari(
        "log", "verify", "--registry", server.url, "--state", "state.json", cwd=tmp_path, check_status=1
    )
    assert result.stdout.startswith("INCONSISTENT")
    assert json.loads(state.read_text()) == fork, "a failed verification keeps the last good state"

    state.write_text(json.dumps(dict(good, size=10)))
    shrank = kotowari(
        "log", "verify", "--registry", server.url, "--state", "state.json", cwd=tmp_path, check_status=1
    )
    assert "shrank" in shrank.stdout

    state.write_text(
        json.dumps(dict(good, registry="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"))
    )
    changed = kotowari(
        "log", "verify", "--registry", server.url, "--state", "state.json", cwd=tmp_path, check_status=1
    )
    assert "identity changed" in changed.stdout

    state.write_text("{}")
    kotowari("log", "verify", "--registry", server.url, "--state", "state.json", cwd=tmp_path, check_status=2)
