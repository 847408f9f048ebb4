"""The README's walkthrough, end to end: the real `kotowari` CLI against a real server process."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import httpx

from tests.conftest import ServerProcess, kotowari_command

QUERY = "https://WWW.Example.com:443/gallery/2024/a.png#x"


def kotowari(*argv: str, cwd: Path, check_status: int | None = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*kotowari_command(), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    if check_status is not None:
        assert result.returncode == check_status, (argv, result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_creator_walkthrough(server: ServerProcess, tmp_path: Path):
    assert "did:key:z6Mk" in server.banner and server.url in server.banner
    registry_key = server.data_dir / "registry.key"
    assert stat.S_IMODE(registry_key.stat().st_mode) == 0o600

    did = kotowari("keys", "new", "--out", "me.key", cwd=tmp_path).stdout.strip()
    assert did.startswith("did:key:z6Mk")
    assert stat.S_IMODE((tmp_path / "me.key").stat().st_mode) == 0o600
    assert kotowari("keys", "new", "--out", "me.key", cwd=tmp_path, check_status=2).stderr.count("\n") == 1

    kotowari(
        "claim", "new", "--key", "me.key", "--kind", "work", "--url", "https://example.com/gallery/",
        "--deny", "train-ai,generate", "--out", "claim.json", cwd=tmp_path,
    )  # fmt: skip
    claim = json.loads((tmp_path / "claim.json").read_text())
    assert claim["claimant"] == did
    assert "valid: signed by" in kotowari("verify", "claim.json", cwd=tmp_path).stdout

    claim_id = kotowari("claim", "file", "claim.json", "--registry", server.url, cwd=tmp_path).stdout.strip()
    assert len(claim_id) == 64

    reserved = kotowari(
        "check",
        "--registry",
        server.url,
        "--purpose",
        "train-ai",
        "--url",
        QUERY,
        cwd=tmp_path,
        check_status=1,
    )
    assert reserved.stdout.startswith("n ") and claim_id[:16] in reserved.stdout
    as_json = kotowari(
        "check", "--registry", server.url, "--purpose", "train-ai", "--url", QUERY, "--json",
        cwd=tmp_path, check_status=1,
    )  # fmt: skip
    item = json.loads(as_json.stdout)["items"][0]
    assert item["decisions"]["train-ai"] == "n" and item["matches"][0]["claim"] == claim_id
    search = kotowari("check", "--registry", server.url, "--purpose", "search", "--url", QUERY, cwd=tmp_path)
    assert search.stdout.startswith("unknown")
    unrelated = kotowari(
        "check", "--registry", server.url, "--purpose", "train-ai", "--url", "https://example.org/gallery/",
        cwd=tmp_path,
    )  # fmt: skip
    assert unrelated.stdout.startswith("unknown")

    kotowari("claim", "withdraw", claim_id, "--key", "me.key", "--registry", server.url, cwd=tmp_path)
    after = kotowari("check", "--registry", server.url, "--purpose", "train-ai", "--url", QUERY, cwd=tmp_path)
    assert after.stdout.startswith("unknown")
    assert httpx.get(f"{server.url}/v1/claims/{claim_id}").json()["status"] == "withdrawn"


def test_cli_reports_refusals_in_one_line(server: ServerProcess, tmp_path: Path):
    kotowari("keys", "new", "--out", "me.key", cwd=tmp_path)
    kotowari("keys", "new", "--out", "other.key", cwd=tmp_path)
    kotowari(
        "claim", "new", "--key", "me.key", "--kind", "voice", "--url", "https://example.com/voice/",
        "--deny", "generate", "--out", "claim.json", cwd=tmp_path,
    )  # fmt: skip
    claim_id = kotowari("claim", "file", "claim.json", "--registry", server.url, cwd=tmp_path).stdout.strip()

    replay = kotowari("claim", "file", "claim.json", "--registry", server.url, cwd=tmp_path, check_status=2)
    assert "409" in replay.stderr and replay.stderr.count("\n") == 1
    stranger = kotowari(
        "claim",
        "withdraw",
        claim_id,
        "--key",
        "other.key",
        "--registry",
        server.url,
        cwd=tmp_path,
        check_status=2,
    )
    assert "403" in stranger.stderr and stranger.stderr.count("\n") == 1

    tampered = json.loads((tmp_path / "claim.json").read_text())
    tampered["uses"]["generate"] = "y"
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    assert kotowari("verify", "tampered.json", cwd=tmp_path, check_status=1).stdout.startswith("INVALID")
    refused = kotowari(
        "claim", "file", "tampered.json", "--registry", server.url, cwd=tmp_path, check_status=2
    )
    assert "422" in refused.stderr and "does not verify" in refused.stderr and refused.stderr.count("\n") == 1

    down = kotowari("check", "--registry", "http://127.0.0.1:9", "--purpose", "train-ai", "--url", "https://a.example/",
                    cwd=tmp_path, check_status=2)  # fmt: skip
    assert "cannot reach" in down.stderr
