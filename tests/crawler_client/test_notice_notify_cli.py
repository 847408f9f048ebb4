"""`kotowari notice new --notify-webhook/--notify-email` through the real command line against a
`kotowari serve` process: the addresses go in the personal part, never the signed notice; the
operator's step reaches the notifier's mailbox (a real SMTP server on 127.0.0.1); `notice show --key`
lists the notifications; bad addresses are refused in one line with exit status 2, locally or by the
registry."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import keys
from tests.conftest import ServerProcess, start_server, stop_server
from tests.crawler_client.cli_harness import run
from tests.notice_factories import CONTACT, FULL_STATEMENTS
from tests.smtp_server import Mailbox, smtp_server

EMAIL = "aoi.updates@example.jp"

DSA_NOTICE = (
    *("--kind", "work", "--url", "https://aoi.example.jp/works/", "--model", "acme/painter-v2"),
    *("--action", "remove", "--regime", "dsa", "--grounds", "Trained on my illustrations."),
    *("--contact-name", CONTACT["name"], "--contact-email", CONTACT["email"]),
    *("--good-faith", FULL_STATEMENTS["good-faith"], "--language", "en"),
)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOTOWARI_REGISTRY", raising=False)
    for name in ("notifier", "operator"):
        keys.write_key_file(tmp_path / f"{name}.key", keys.SigningKey.generate())
    return tmp_path


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox) -> Iterator[ServerProcess]:
    monkeypatch.setenv("KOTOWARI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("KOTOWARI_SMTP_PORT", str(mailbox.port))
    running = start_server(tmp_path / "registry")
    try:
        yield running
    finally:
        stop_server(running)


def _did(name: str) -> str:
    return keys.read_key_file(Path(f"{name}.key")).did


def _new(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    return run(
        capsys, "notice", "new", "--key", "notifier.key", "--operator", _did("operator"), *DSA_NOTICE, *extra
    )


def test_the_addresses_travel_in_the_personal_part_only(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, _ = _new(
        capsys, "--notify-webhook", "https://hooks.aoi.example/k", "--notify-email", EMAIL, "--out", "n.json"
    )
    assert status == 0
    written: dict[str, Any] = json.loads(Path("n.json").read_text(encoding="utf-8"))
    assert written["personal"]["data"]["notify"] == {"webhook": "https://hooks.aoi.example/k", "email": EMAIL}
    assert "notify" not in written["document"]
    assert EMAIL not in json.dumps(written["document"]) and "hooks.aoi" not in json.dumps(written["document"])


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--notify-email", "not-an-address", "email must look like"),
        ("--notify-webhook", "ftp://hooks.aoi.example/k", "http(s) URL"),
    ],
)
def test_bad_addresses_are_refused_before_signing(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, says: str
) -> None:
    status, out, err = _new(capsys, flag, value, "--out", "n.json")
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and says in lines[0], err
    assert not Path("n.json").exists()


def test_the_operators_step_reaches_the_notifiers_mailbox(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess, mailbox: Mailbox
) -> None:
    assert _new(capsys, "--notify-email", EMAIL, "--out", "n.json")[0] == 0
    status, printed, err = run(capsys, "notice", "file", "n.json", "--registry", registry.url, "--json")
    assert status == 0, err
    notice_id = json.loads(printed)["id"]
    step = ("notice", "respond", notice_id, "--key", "operator.key", "--action", "acknowledge")
    assert run(capsys, *step, "--registry", registry.url)[0] == 0
    for _ in range(100):
        if mailbox.received:
            break
        time.sleep(0.1)
    (got,) = mailbox.received
    assert got.recipients == [EMAIL]
    assert got.message["Subject"] == "[Kotowari] Your takedown notice is now: acknowledged"
    status, printed, _ = run(
        capsys, "notice", "show", notice_id, "--registry", registry.url, "--key", "notifier.key"
    )
    assert status == 0
    assert "told you of acknowledged by e-mail at" in printed and "(attempt 1): delivered" in printed


def test_a_private_webhook_is_refused_by_the_registry_in_one_line(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess
) -> None:
    assert _new(capsys, "--notify-webhook", "https://127.0.0.1/hook", "--out", "n.json")[0] == 0
    status, out, err = run(capsys, "notice", "file", "n.json", "--registry", registry.url)
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "loopback" in lines[0], err
