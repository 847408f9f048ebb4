"""`kotowari operator list|show`, `notice inbox` and what `notice register|file` say, through the
real command line against a `kotowari serve` process."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import keys
from tests.conftest import ServerProcess, start_server, stop_server
from tests.crawler_client.cli_harness import run
from tests.notice_factories import CONTACT, FULL_STATEMENTS


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with pytest.MonkeyPatch.context() as env:  # a webhook receiver on 127.0.0.1 over plain http
        env.setenv("KOTOWARI_WEBHOOK_ALLOW_PRIVATE", "true")
        env.setenv("KOTOWARI_WEBHOOK_BACKOFF", "0.05")
        env.setenv("KOTOWARI_WEBHOOK_TIMEOUT", "2")
        running = start_server(tmp_path_factory.mktemp("registry"))
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOTOWARI_REGISTRY", raising=False)
    return tmp_path


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Exit status 2 and one error line on standard error (after argparse's usage, for its own
    refusals), which is returned."""
    status, _, err = run(capsys, *argv)
    lines = err.strip().splitlines()
    usage = lines[:-1]
    assert usage == [] or (usage[0].startswith("usage: ") and all(line[0] == " " for line in usage[1:])), err
    assert status == 2 and "error:" in lines[-1], (status, err)
    return lines[-1]


_numbers = itertools.count()


def new_key(name: str) -> keys.SigningKey:
    key = keys.SigningKey.generate()
    keys.write_key_file(Path(f"{name}.key"), key)
    return key


def file_notice(capsys: pytest.CaptureFixture[str], url: str, operator: str) -> tuple[str, str]:
    """A complete DSA notice from a fresh notifier to `operator`: (its id, what `notice file` said)."""
    notifier = f"notifier-{next(_numbers)}.key"
    keys.write_key_file(Path(notifier), keys.SigningKey.generate())
    status, _, _ = run(
        capsys,
        *("notice", "new", "--key", notifier, "--operator", operator, "--kind", "work"),
        *("--url", "https://aoi.example.jp/works/", "--model", "acme/painter-v2", "--action", "remove"),
        *("--regime", "dsa", "--grounds", "fine-tuned on my works", "--contact-name", CONTACT["name"]),
        *("--contact-email", CONTACT["email"], "--good-faith", FULL_STATEMENTS["good-faith"]),
        *("--out", "notice.json"),
    )
    assert status == 0
    status, out, err = run(capsys, "notice", "file", "notice.json", "--registry", url)
    assert status == 0
    Path("notice.json").unlink()
    return out.strip(), err.strip()


def test_register_says_held_notices_wait_in_the_inbox_and_stay_filed(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess
) -> None:
    url = registry.url
    operator = new_key("operator")
    notice_id, said = file_notice(capsys, url, operator.did)
    assert "held" in said and "has not registered" in said

    register = (
        "notice",
        "register",
        "--key",
        "operator.key",
        "--name",
        "Pull AI",
        "--contact",
        "l@pull.example",
    )
    status, out, _ = run(capsys, *register, "--registry", url)
    assert status == 0
    assert f"registered {operator.did} as 'Pull AI'" in out
    assert "1 filed notice(s) wait in the inbox" in out and "delivered" not in out
    status, out, _ = run(capsys, "notice", "show", notice_id, "--registry", url, "--json")
    assert json.loads(out)["state"] == "filed"  # what the message said: nothing was delivered

    status, out, _ = run(capsys, *register, "--registry", url)
    assert out.startswith(f"updated the registration of {operator.did}")

    _, said = file_notice(capsys, url, operator.did)
    assert "no webhook" in said and "stays filed until acknowledged" in said


class Hook:
    """A webhook on 127.0.0.1 that answers every POST with `status`."""

    def __init__(self, status: int) -> None:
        outer = self
        self.posts = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.posts += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _state(capsys: pytest.CaptureFixture[str], url: str, notice_id: str) -> str:
    status, out, _ = run(capsys, "notice", "show", notice_id, "--registry", url, "--json")
    assert status == 0
    return str(json.loads(out)["state"])


@pytest.mark.parametrize(("answer", "final"), [(204, "delivered"), (500, "filed")])
def test_register_with_a_webhook_says_deliveries_are_queued_and_the_state_follows_the_webhook(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess, answer: int, final: str
) -> None:
    url = registry.url
    operator = new_key("hooked")
    notice_id, _ = file_notice(capsys, url, operator.did)
    hook = Hook(answer)
    try:
        status, out, _ = run(
            capsys,
            *("notice", "register", "--key", "hooked.key", "--name", f"Hooked {answer}"),
            *("--contact", "l@h.example", "--webhook", hook.url, "--registry", url),
        )
        assert status == 0
        assert "1 filed notice(s) queued for delivery to the webhook" in out
        assert "becomes delivered when the webhook answers 2xx" in out
        deadline = time.monotonic() + 20
        while hook.posts == 0 or (final == "delivered" and _state(capsys, url, notice_id) != final):
            assert time.monotonic() < deadline, "the webhook was never called"
            time.sleep(0.1)
        assert _state(capsys, url, notice_id) == final  # a failing webhook delivers nothing
        _, said = file_notice(capsys, url, operator.did)
        assert said.startswith("filed; queued for the operator's webhook")
    finally:
        hook.close()


def test_inbox_lists_the_notices_addressed_to_the_keys_did(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess
) -> None:
    url = registry.url
    operator = new_key("inbox-operator")
    first, _ = file_notice(capsys, url, operator.did)
    second, _ = file_notice(capsys, url, operator.did)
    status, out, _ = run(capsys, "notice", "inbox", "--key", "inbox-operator.key", "--registry", url)
    assert status == 0
    assert out.splitlines()[0] == f"{operator.did}: 2 notice(s)"
    assert "not registered: these notices are held" in out
    assert out.index(first) < out.index(second)  # oldest first
    assert f"{first}  filed" in out and "acknowledge by" in out and "dsa" in out

    assert run(capsys, "notice", "respond", first, "--key", "inbox-operator.key", "--action", "acknowledge",
               "--registry", url)[0] == 0  # fmt: skip
    status, out, _ = run(
        capsys,
        "notice",
        "inbox",
        "--key",
        "inbox-operator.key",
        "--state",
        "filed",
        "--registry",
        url,
        "--json",
    )
    inbox = json.loads(out)
    assert [n["id"] for n in inbox["notices"]] == [second] and inbox["operator"] == operator.did
    assert CONTACT["email"] not in out  # the inbox is the public notice: personal data stays apart

    new_key("empty")
    status, out, _ = run(capsys, "notice", "inbox", "--key", "empty.key", "--registry", url)
    assert status == 0 and ": 0 notice(s)" in out


def test_inbox_refusals_are_one_line(capsys: pytest.CaptureFixture[str], registry: ServerProcess) -> None:
    new_key("someone")
    assert "missing.key" in refused(
        capsys, "notice", "inbox", "--key", "missing.key", "--registry", registry.url
    )
    assert "--state" in refused(
        capsys, "notice", "inbox", "--key", "someone.key", "--state", "lost", "--registry", registry.url
    )
    assert "given more than once" in refused(
        capsys, "notice", "inbox", "--key", "someone.key", "--key", "someone.key", "--registry", registry.url
    )
    assert "cannot reach" in refused(
        capsys, "notice", "inbox", "--key", "someone.key", "--registry", "http://127.0.0.1:9"
    )


def test_operator_list_finds_a_did_by_name(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess
) -> None:
    url = registry.url
    for name in ("Kotoba Labs", "Koe Studio"):
        new_key(name.split()[0].lower())
        command = ("notice", "register", "--key", f"{name.split()[0].lower()}.key", "--name", name)
        assert run(capsys, *command, "--contact", "legal@example.jp", "--registry", url)[0] == 0
    status, out, _ = run(capsys, "operator", "list", "--name", "ＫＯＴＯＢＡ", "--registry", url)
    assert status == 0
    (line,) = out.splitlines()
    did = line.split()[0]
    assert line.startswith("did:key:") and "Kotoba Labs" in line and "(self-asserted)" in line
    assert "pulls its inbox" in line

    status, out, _ = run(capsys, "operator", "list", "--name", "ko", "--registry", url, "--json")
    names = {entry["name"] for entry in json.loads(out)["operators"]}
    assert {"Kotoba Labs", "Koe Studio"} <= names
    for entry in json.loads(out)["operators"]:
        assert set(entry) >= {"did", "name", "domain", "authority", "webhook", "links"}
        assert "contact" not in entry and "legal@example.jp" not in out

    status, out, _ = run(capsys, "operator", "list", "--registry", url, "--limit", "1")
    assert status == 0 and len(out.splitlines()) == 1
    status, out, _ = run(capsys, "operator", "list", "--registry", url)
    assert len(out.splitlines()) >= 2  # every page followed

    status, out, _ = run(capsys, "operator", "show", did, "--registry", url)
    assert status == 0 and "Kotoba Labs" in out and f"{url}/v1/stats/operators?operator=" in out
    status, out, _ = run(capsys, "operator", "show", did, "--registry", url, "--json")
    assert json.loads(out)["links"]["notices"] == f"/v1/operators/{did}/notices"


def test_operator_list_negative_and_refusals(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess
) -> None:
    url = registry.url
    status, out, err = run(
        capsys, "operator", "list", "--name", "no such operator anywhere", "--registry", url
    )
    assert (status, out, err.strip()) == (1, "", "no registered operator matches")
    assert "/domain" in refused(capsys, "operator", "list", "--domain", "a b", "--registry", url)
    assert "public suffix" in refused(capsys, "operator", "list", "--domain", "co.jp", "--registry", url)
    assert "/name" in refused(capsys, "operator", "list", "--name", " ", "--registry", url)
    assert "--limit" in refused(capsys, "operator", "list", "--limit", "0", "--registry", url)
    assert "--limit" in refused(capsys, "operator", "list", "--limit", "many", "--registry", url)
    assert "given more than once" in refused(
        capsys, "operator", "list", "--name", "a", "--name", "b", "--registry", url
    )
    assert "404" in refused(capsys, "operator", "show", keys.SigningKey.generate().did, "--registry", url)
    assert "400" in refused(capsys, "operator", "show", "did:example:acme", "--registry", url)
