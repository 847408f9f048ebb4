"""`kotowari verify`, `log verify` and `snapshot pull` with `--witness`, against a real `kotowari
serve` process witnessed by two real `kotowari witness serve` processes (KOTOWARI_WITNESSES), and
the README's "Witnessed checkpoints" walkthrough run as written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

import keys
from crawler_client.client import Client
from registry.identity import load_or_create_registry_key, note_signer
from registry.log import TransparencyLog
from tests.conftest import ServerProcess, start_server, stop_server
from tests.crawler_client.readme import Ran, Shell, blocks
from tests.factories import signed_claim
from tests.witness_helpers import WitnessProcess, start_witness, stop_witness

ORIGIN = "kotowari.test/witnessed-cli"


@dataclass
class Witnessed:
    server: ServerProcess
    witnesses: list[WitnessProcess]

    @property
    def keys(self) -> list[str]:
        return [witness.verifier_key for witness in self.witnesses]

    def flags(self, *extra: str) -> list[str]:
        return [word for key in self.keys for word in ("--witness", key)] + list(extra)


def log_key(data_dir: Path) -> str:
    """The note verifier key of the registry whose data directory is `data_dir` (made if need be)."""
    key, _ = load_or_create_registry_key(data_dir)
    return TransparencyLog(ORIGIN, note_signer(key, ORIGIN)).verifier_key


def start_witnessed_server(
    data_dir: Path, witnesses: list[WitnessProcess], monkeypatch: pytest.MonkeyPatch, **env: str
) -> ServerProcess:
    monkeypatch.setenv("KOTOWARI_LOG_ORIGIN", ORIGIN)
    monkeypatch.setenv("KOTOWARI_WITNESSES", ",".join(f"{w.url}={w.verifier_key}" for w in witnesses))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return start_server(data_dir)


@pytest.fixture
def witnessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Witnessed]:
    data_dir = tmp_path / "server-data"
    key = log_key(data_dir)
    running: list[WitnessProcess] = []
    server = None
    try:
        for name in ("a", "b"):
            running.append(
                start_witness(tmp_path / f"witness-{name}", {ORIGIN: key}, "--name", f"w-{name}.test")
            )
        server = start_witnessed_server(data_dir, running, monkeypatch)
        yield Witnessed(server, running)
    finally:
        if server is not None:
            stop_server(server)
        for witness in running:
            if witness.process.poll() is None:
                stop_witness(witness)


def file_receipt(url: str, path: Path, n: int) -> dict:
    author = keys.SigningKey.generate()
    claim = signed_claim(
        author, datetime.now(UTC).replace(microsecond=0), urls=(f"https://example.com/{n}/",)
    )
    with Client(url) as registry:
        receipt = registry.file_claim(claim)
    path.write_text(json.dumps({**receipt, "document": claim}))
    return receipt


def run(shell: Shell, *argv: str) -> Ran:
    (ran,) = shell.run(" ".join(["kotowari", *(f"'{word}'" for word in argv)]))
    return ran


def test_verify_and_log_verify_require_the_cosignatures(
    witnessed: Witnessed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shell = Shell(witnessed.server.url)
    url = witnessed.server.url
    first = file_receipt(url, tmp_path / "first.json", 1)
    file_receipt(url, tmp_path / "second.json", 2)
    with Client(url) as registry:
        answer = registry.check([{"scheme": "url", "value": "https://example.com/1/a"}], purpose="train-ai")
    (tmp_path / "answer.json").write_text(json.dumps(answer.to_json()))

    ok = run(shell, "verify", "first.json", "--registry", url, *witnessed.flags())
    assert ok.status == 0, ok
    assert "cosigned by w-a.test, w-b.test (2 of 2 required) at size 2" in ok.out
    assert "still includes it at size 2" in ok.out
    ok = run(shell, "verify", "answer.json", "--registry", url, *witnessed.flags("--json"))
    assert ok.status == 0, ok
    assert any("2 of 2 required" in line for line in json.loads(ok.out)["details"])
    ok = run(shell, "log", "verify", "--registry", url, "--state", "monitor.json", *witnessed.flags())
    assert ok.status == 0 and "; cosigned by w-a.test, w-b.test (2 of 2 required)" in ok.out, ok
    assert json.loads((tmp_path / "monitor.json").read_text())["size"] == 2

    # a snapshot, and a compliance manifest naming it, verify under the cosigned checkpoint too
    pulled = run(shell, "snapshot", "pull", "--registry", url, "--out", "claims.snapshot", *witnessed.flags())
    assert pulled.status == 0 and "tree size 2" in pulled.out, pulled
    (tmp_path / "crawl.csv").write_text("url\nhttps://example.com/1/a.png\nhttps://example.org/\n")
    assert run(shell, "keys", "new", "--out", "operator.key").status == 0
    filtered = run(
        shell, "filter", "--snapshot", "claims.snapshot", "--purpose", "train-ai", "--column", "url",
        "--manifest", "manifest.json", "--key", "operator.key", "crawl.csv", "kept.csv",
    )  # fmt: skip
    assert filtered.status == 0, filtered
    for name in ("claims.snapshot", "manifest.json"):
        ok = run(shell, "verify", name, "--registry", url, *witnessed.flags())
        assert ok.status == 0, ok
        assert "extends the snapshot's checkpoint" in ok.out and "(2 of 2 required) at size 2" in ok.out
    (tmp_path / "claim.json").write_text(
        json.dumps(json.loads((tmp_path / "first.json").read_text())["document"])
    )
    refused = run(shell, "verify", "claim.json", "--registry", url, *witnessed.flags())
    assert refused.status == 2 and "names no checkpoint" in refused.err, refused

    # usage errors: one line on stderr, exit status 2
    registry_key = log_key(witnessed.server.data_dir)
    for argv, said in (
        (["--witness", "nonsense"], "--witness 'nonsense': malformed cosignature verifier key"),
        (["--witness", registry_key], "not a cosignature/v1 key"),
        (witnessed.flags("--min-cosignatures", "3"), "must be 1 to 2"),
        (["--min-cosignatures", "1"], "--min-cosignatures needs the --witness keys"),
    ):
        for command in (["verify", "first.json", "--registry", url], ["log", "verify", "--registry", url]):
            refused = run(shell, *command, *argv)
            assert refused.status == 2 and refused.err.count("\n") == 1 and said in refused.err, refused
    refused = run(shell, "verify", "first.json", *witnessed.flags())
    assert refused.status == 2 and "--witness needs --registry" in refused.err, refused
    assert run(shell, "verify", "first.json").status == 0  # offline, without witnesses, as before

    # one witness down: the next checkpoint has one cosignature of the two required
    stop_witness(witnessed.witnesses[1])
    third = file_receipt(url, tmp_path / "third.json", 3)
    assert third["log"]["tree_size"] == 3
    short = run(shell, "verify", "third.json", "--registry", url, *witnessed.flags())
    assert short.status == 1, short
    assert short.out.startswith(
        "NOT WITNESSED: checkpoint of size 3 has 1 of 2 required cosignatures (w-a.test); "
        "the newest cosigned is size 3"
    ), short
    lenient = run(
        shell, "verify", "third.json", "--registry", url, *witnessed.flags("--min-cosignatures", "1")
    )
    assert lenient.status == 0 and "cosigned by w-a.test (1 of 1 required) at size 3" in lenient.out, lenient
    monitor = run(shell, "log", "verify", "--registry", url, "--state", "monitor.json", *witnessed.flags())
    assert monitor.status == 1, monitor
    assert monitor.out.startswith(
        "NOT WITNESSED: checkpoint of size 3 has 1 of 2 required cosignatures (w-a.test)"
    )
    assert json.loads((tmp_path / "monitor.json").read_text())["size"] == 2  # not advanced
    assert first["log"]["tree_size"] == 1

    # a split view: another instance with the registry's key and origin, another tree
    fork_dir = tmp_path / "fork-data"
    fork_dir.mkdir()
    for name in witnessed.server.data_dir.iterdir():
        if name.name.startswith("registry.key"):
            shutil.copy2(name, fork_dir / name.name)
    monkeypatch.delenv("KOTOWARI_WITNESSES")
    fork = start_server(fork_dir)
    try:
        forked = file_receipt(fork.url, tmp_path / "forked.json", 9)
        assert forked["log"]["registry"] == first["log"]["registry"] and forked["log"]["tree_size"] == 1
    finally:
        stop_server(fork)
    split = run(
        shell, "verify", "forked.json", "--registry", url, *witnessed.flags("--min-cosignatures", "1")
    )
    assert split.status == 1 and split.out.startswith("INVALID: ") and "split view" in split.out, split


def test_the_readme_witness_walkthrough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    making, using = blocks("Witnessed checkpoints")
    monkeypatch.chdir(tmp_path)
    shell = Shell("http://unused.test")
    assert [ran.status for ran in shell.run(making)] == [0, 0]
    made = {name: shell.variables[name] for name in ("WITNESS_A", "WITNESS_B")}
    assert made["WITNESS_A"].startswith("witness-a.example/w+")

    data_dir = tmp_path / "server-data"
    key = log_key(data_dir)
    running: list[WitnessProcess] = []
    server = None
    try:
        for name in ("a", "b"):  # as the README says, in prose: `kotowari witness serve --data-dir …`
            running.append(start_witness(tmp_path / f"witness-{name}", {ORIGIN: key}))
        assert [witness.verifier_key for witness in running] == list(made.values())
        server = start_witnessed_server(data_dir, running, monkeypatch, KOTOWARI_WITNESS_QUORUM="2")
        shell.registry = server.url
        for n in range(3):
            file_receipt(server.url, tmp_path / f"receipt{n}.json", n)
        ran = shell.run(using)
        assert [r.status for r in ran] == [0, 0, 0], [str(r) for r in ran]
        assert "tree size 3" in ran[0].out
        assert "cosigned by witness-a.example/w, witness-b.example/w (2 of 2 required)" in ran[1].out
        assert ran[2].out.startswith(f"ok: {ORIGIN} at size 3") and "(2 of 2 required)" in ran[2].out
    finally:
        if server is not None:
            stop_server(server)
        for witness in running:
            stop_witness(witness)
