"""The authority commands against a real `kotowari serve` process: `--help` everywhere, bad input as
one line and exit status 2 before anything is signed or sent, `--json` output, attestations, and
`--min-authority` on `check` online."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import keys
from tests.conftest import ServerProcess
from tests.crawler_client.cli_harness import run

LEVELS_LISTED = "self-asserted, agent-asserted, mandated, attested, domain-verified"
COMMANDS = [
    ["keys", "rotate"],
    ["keys", "recover"],
    ["keys", "recover", "designate"],
    ["keys", "recover", "request"],
    ["keys", "recover", "veto"],
    ["keys", "recover", "complete"],
    ["mandate", "new"],
    ["mandate", "revoke"],
    ["attest", "new"],
    ["attest", "revoke"],
    ["domain", "verify"],
    ["authority", "show"],
]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOTOWARI_REGISTRY", raising=False)
    return tmp_path


def one_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    status, _, err = run(capsys, *argv)
    assert status == 2, (argv, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kotowari: error: "), (argv, err)
    return lines[0]


def new_key(capsys: pytest.CaptureFixture[str], name: str) -> str:
    status, out, _ = run(capsys, "keys", "new", "--out", name)
    assert status == 0
    return out.strip()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: list[str]):
    status, out, _ = run(capsys, *command, "--help")
    assert status == 0 and out.startswith("usage: kotowari " + " ".join(command))


def test_min_authority_flags_are_documented(capsys: pytest.CaptureFixture[str]):
    for command in (["check"], ["filter"], ["policy"]):
        status, out, _ = run(capsys, *command, "--help")
        assert status == 0 and "--min-authority LEVEL" in out and "domain-verified" in out.replace("\n", " ")


def test_bad_input_is_one_line_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str], in_tmp: Path, registry: ServerProcess
):
    me = new_key(capsys, "me.key")
    url = ["--registry", registry.url]
    cases = [
        (["check", *url, "--purpose", "train-ai", "--url", "https://a.example/",
          "--min-authority", "verified"], LEVELS_LISTED),
        (["policy", "https://a.example/", "--purpose", "train-ai", "--user-agent", "Bot/1", "--min-authority",
          "Mandated", "--registry", registry.url], LEVELS_LISTED),
        (["policy", "https://a.example/", "--purpose", "train-ai", "--user-agent", "Bot/1", "--min-authority",
          "mandated"], "needs --registry or --snapshot"),
        (["mandate", "new", "--key", "me.key", "--agent", "did:key:nope", *url], "--agent 'did:key:nope'"),
        (["mandate", "new", "--key", "me.key", "--agent", me, *url], "the Mandate would be refused"),
        (["mandate", "new", "--key", "me.key", "--agent", new_key(capsys, "a.key"),
          "--uses", "train-everything", *url], "--uses"),
        (["mandate", "new", "--key", "me.key", "--agent", me.replace("z6Mk", "z6Mj"), "--valid-until",
          "tomorrow", *url], "--valid-until"),
        (["mandate", "revoke", "abc", "--key", "me.key", *url], "64 hexadecimal digits"),
        (["attest", "new", "--key", "me.key", "--subject", me, "--statement", "member", *url],
         "cannot attest itself"),
        (["attest", "new", "--key", "me.key", "--subject", "bob", "--statement", "member", *url],
         "--subject 'bob'"),
        (["keys", "recover", "designate", "--key", "me.key", "--recovery-key", me, *url], "own recovery key"),
        (["keys", "recover", "designate", "--key", "me.key", "--recovery-key", new_key(capsys, "b.key"),
          "--waiting-days", "400", *url], "waiting_period_days"),
        (["keys", "recover", "veto", "--key", "me.key", "--request", "x" * 64, *url],
         "64 hexadecimal digits"),
        (["keys", "recover", "request", "--key", "me.key", "--did", "lost", "--new-key", "never.key", *url],
         "--did 'lost'"),
        (["keys", "rotate", "--key", "missing.key", "--new-key", "never.key", *url], "--key missing.key"),
        (["keys", "rotate", "--key", "me.key", "--new-key", "me.key", *url], "another key file"),
        (["claim", "new", "--key", "me.key", "--kind", "voice", "--url", "https://v.example.com/", "--deny",
          "train-ai", "--mandate", "ab" * 32], "give --on-behalf-of too"),
        (["claim", "new", "--key", "me.key", "--kind", "voice", "--url", "https://v.example.com/", "--deny",
          "train-ai", "--on-behalf-of", "A", "--authority", "B", "--mandate", "ab" * 32], "--mandate needs"),
        (["claim", "new", "--key", "me.key", "--kind", "voice", "--url", "https://v.example.com/", "--deny",
          "train-ai", "--on-behalf-of", "A", "--authority", "B", "--principal-did", "nobody"],
         "the claim would be refused"),
        (["domain", "verify", "--did", "nobody", "--host", "publisher.example", *url], "--did 'nobody'"),
        (["authority", "show", "did:example:1", *url], "DID"),
    ]  # fmt: skip
    for argv, expected in cases:
        line = one_line(capsys, *argv)
        assert expected in line, (argv, line)
    assert not (in_tmp / "never.key").exists()  # nothing created for a request refused here
    status, _, err = run(capsys, "authority", "show", me, *url)
    assert status == 2 and "404" in err and err.count("\n") == 1  # nothing filed above reached the log


def test_domain_verification_failures_are_one_line(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess
):
    me = new_key(capsys, "me.key")
    line = one_line(capsys, "domain", "verify", "--did", me, "--host", "co.jp", "--registry", registry.url)
    assert "422" in line and "no registrable domain" in line
    line = one_line(
        capsys, "domain", "verify", "--did", me, "--host", "nowhere.invalid", "--registry", registry.url
    )
    assert "422" in line and "well-known" in line


def test_attestations_and_json_output(capsys: pytest.CaptureFixture[str], registry: ServerProcess):
    union = new_key(capsys, "union.key")
    actor = new_key(capsys, "actor.key")
    url = ["--registry", registry.url]
    status, out, err = run(
        capsys, "attest", "new", "--key", "union.key", "--subject", actor, "--statement", "identity",
        "--name", "山寺宏一", "--isni", "0000 0001 2103 2683", "--wikidata", "Q1234567", *url,
    )  # fmt: skip
    assert status == 0, err
    attestation = out.strip()
    assert len(attestation) == 64 and "domain verification" in err
    status, out, _ = run(capsys, "authority", "show", actor, *url)
    assert status == 0
    assert (
        f"attestation {attestation[:16]}… (identity) of {actor} as 山寺宏一 by {union}: does not count" in out
    )
    status, out, _ = run(capsys, "authority", "show", actor, *url, "--json")
    described = json.loads(out)
    (listed,) = described["attestations"]
    assert listed["id"] == attestation and listed["counts"] is False
    assert listed["name"] == "山寺宏一" and listed["statement"] == "identity"
    assert [(i["scheme"], i["value"].replace(" ", "")) for i in listed["identifiers"]] == [
        ("isni", "0000000121032683"),
        ("wikidata", "Q1234567"),
    ]

    status, out, _ = run(capsys, "attest", "revoke", attestation, "--key", "union.key", *url, "--json")
    assert status == 0
    receipt = json.loads(out)
    assert receipt["type"] == "AttestationRevocation" and receipt["document"]["attestation"] == attestation
    Path("receipt.json").write_text(json.dumps({"document": receipt["document"], "log": receipt["log"]}))
    status, out, _ = run(capsys, "verify", "receipt.json", "--registry", registry.url)
    assert status == 0 and "valid receipt" in out
    line = one_line(capsys, "attest", "revoke", attestation, "--key", "union.key", *url)
    assert "409" in line and "revoked" in line  # a second revocation is refused
    line = one_line(capsys, "attest", "revoke", attestation, "--key", "actor.key", *url)
    assert "409" in line


def test_rotation_into_an_existing_key_file_and_its_json(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess, in_tmp: Path
):
    old = new_key(capsys, "old.key")
    successor = new_key(capsys, "successor.key")
    before = (in_tmp / "successor.key").read_bytes()
    status, out, err = run(
        capsys, "keys", "rotate", "--key", "old.key", "--new-key", "successor.key", "--reason", "moved",
        "--registry", registry.url, "--json",
    )  # fmt: skip
    assert status == 0, err
    receipt = json.loads(out)
    assert receipt["successor"] == successor and receipt["document"]["did"] == old
    assert receipt["document"]["reason"] == "moved" and receipt["type"] == "KeyRotation"
    assert (in_tmp / "successor.key").read_bytes() == before  # used, not replaced
    keys.verify_document(receipt["document"])
    status, _, err = run(
        capsys, "keys", "rotate", "--key", "old.key", "--new-key", "third.key", "--registry", registry.url
    )
    assert status == 2 and "409" in err and "replaced" in err.splitlines()[-1]
    assert not (in_tmp / "third.key").exists()  # created for the successor, removed once refused
    line = one_line(
        capsys, "mandate", "new", "--key", "old.key", "--agent", successor, "--registry", registry.url
    )
    assert "409" in line and f"{old} was replaced by {successor}" in line


def test_check_online_with_a_minimum_and_json(capsys: pytest.CaptureFixture[str], registry: ServerProcess):
    new_key(capsys, "me.key")
    url = ["--registry", registry.url]
    assert run(capsys, "claim", "new", "--key", "me.key", "--kind", "work", "--url",
               "https://minimum.example.org/", "--deny", "train-ai", "--out", "c.json")[0] == 0  # fmt: skip
    status, out, _ = run(capsys, "claim", "file", "c.json", *url)
    claim_id = out.strip()
    query = ["check", *url, "--purpose", "train-ai", "--url", "https://minimum.example.org/a"]
    status, out, _ = run(capsys, *query)
    assert status == 1 and out.splitlines()[1].endswith("[self-asserted]")
    status, out, _ = run(capsys, *query, "--min-authority", "self-asserted")
    assert status == 1
    status, out, _ = run(capsys, *query, "--min-authority", "agent-asserted")
    assert (
        status == 0 and f"claim {claim_id[:16]}… is self-asserted, below agent-asserted: not counted" in out
    )
    status, out, _ = run(capsys, *query, "--min-authority", "attested", "--json")
    answer = json.loads(out)
    assert status == 0 and answer["min_authority"] == "attested"
    (match,) = answer["items"][0]["matches"]
    assert match == {**match, "claim": claim_id, "authority": ["self-asserted"], "counted": False}
