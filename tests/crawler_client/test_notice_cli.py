"""`kotowari notice …`: offline building with one-line refusals, then a real registry process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import keys
from crawler_client.cli import main
from registry.privacy.personal import verify_part
from tests.conftest import ServerProcess, start_server, stop_server
from tests.notice_factories import CONTACT, FULL_STATEMENTS


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOTOWARI_REGISTRY", raising=False)
    return tmp_path


@pytest.fixture
def people(in_tmp: Path) -> dict[str, keys.SigningKey]:
    found = {}
    for name in ("notifier", "operator", "mallory"):
        key = keys.SigningKey.generate()
        keys.write_key_file(in_tmp / f"{name}.key", key)
        found[name] = key
    return found


def _new_args(operator: str, *extra: str) -> list[str]:
    return [
        "notice", "new", "--key", "notifier.key", "--operator", operator, "--kind", "work",
        "--url", "https://aoi.example.jp/works/", "--model", "acme/painter-v2",
        "--material-url", "https://models.example.com/acme/painter-v2",
        "--action", "stop-generation", "--action", "stop-training-use", *extra,
    ]  # fmt: skip


def _complete(operator: str) -> list[str]:
    return _new_args(
        operator,
        "--regime", "dmca", "--regime", "dsa", "--regime", "jp-platform",
        "--title", "Illustrations by Aoi Tanaka", "--grounds", "fine-tuned on my illustrations",
        "--contact-name", CONTACT["name"], "--contact-email", CONTACT["email"],
        "--contact-address", CONTACT["address"], "--signature", "/Aoi Tanaka/",
        "--good-faith", FULL_STATEMENTS["good-faith"], "--accuracy", FULL_STATEMENTS["accuracy"],
        "--perjury", FULL_STATEMENTS["authority-under-penalty-of-perjury"],
        "--jp-right", "著作権", "--jp-reason", "無断で学習に使われたため", "--language", "ja",
    )  # fmt: skip


def _error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kotowari: error: "), err
    return err[0]


def test_notice_new_signs_a_complete_notice(
    capsys: pytest.CaptureFixture[str], people: dict[str, keys.SigningKey]
) -> None:
    assert main([*_complete(people["operator"].did), "--out", "notice.json"]) == 0
    body = json.loads(Path("notice.json").read_text(encoding="utf-8"))
    assert Path("notice.json").stat().st_mode & 0o777 == 0o600  # it holds personal data
    document = body["document"]
    assert keys.verify_document(document).key == people["notifier"].public
    assert document["jp_platform"] == {"infringed_right": "著作権", "reason": "無断で学習に使われたため"}
    assert {loc["kind"] for loc in document["material"]["locations"]} == {"url", "model"}
    assert "contact" not in document and "signature" not in document
    verify_part(document["personal"]["commitment"], body["personal"])
    assert body["personal"]["data"]["contact"]["email"]


def test_notice_new_names_every_missing_element_one_per_line(
    capsys: pytest.CaptureFixture[str], people: dict[str, keys.SigningKey]
) -> None:
    assert main(_new_args(people["operator"].did, "--regime", "dsa", "--regime", "dmca")) == 2
    first, *elements = capsys.readouterr().err.strip().splitlines()
    assert first == f"kotowari: error: the notice lacks {len(elements)} required element(s):"
    assert any(line.startswith("  /contact/email: dsa: missing") for line in elements)
    assert any(": dmca: missing" in line for line in elements)
    assert not Path("notice.json").exists()
    for invalid in ("did:example:acme", "did:web:Acme..example", "did:key:z6Mk"):
        bad = _error_line(capsys, _new_args(invalid, "--regime", "dsa"))
        assert "/operator" in bad, invalid
    half_agency = _error_line(capsys, [*_complete(people["operator"].did), "--on-behalf-of", "Aoi"])
    assert "--agency-authority" in half_agency


def test_notice_new_accepts_a_did_web_operator(
    capsys: pytest.CaptureFixture[str], people: dict[str, keys.SigningKey]
) -> None:
    assert main([*_complete("did:web:acme.example"), "--out", "notice.json"]) == 0
    document = json.loads(Path("notice.json").read_text(encoding="utf-8"))["document"]
    assert document["operator"] == "did:web:acme.example"
    assert keys.verify_document(document).key == people["notifier"].public


def test_notice_commands_refuse_bad_input_in_one_line(
    capsys: pytest.CaptureFixture[str], people: dict[str, keys.SigningKey]
) -> None:
    assert "missing.json" in _error_line(
        capsys, ["notice", "file", "missing.json", "--registry", "http://127.0.0.1:9"]
    )
    Path("notice.json").write_text("[1]", encoding="utf-8")
    assert "JSON object" in _error_line(
        capsys, ["notice", "file", "notice.json", "--registry", "http://127.0.0.1:9"]
    )
    Path("notice.json").write_text("{}", encoding="utf-8")
    assert "cannot reach" in _error_line(
        capsys, ["notice", "file", "notice.json", "--registry", "http://127.0.0.1:9"]
    )
    with pytest.raises(SystemExit) as usage:
        main(["notice", "respond", "x", "--key", "notifier.key", "--action", "explode", "--registry", "u"])
    assert usage.value.code == 2


@pytest.fixture
def registry_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    with monkeypatch.context() as inside:
        inside.chdir(Path(__file__).resolve().parents[2])  # run this checkout, not an installed copy
        running = start_server(tmp_path / "server-data")
    try:
        yield running
    finally:
        stop_server(running)


def test_notice_round_trip_against_a_running_registry(
    capsys: pytest.CaptureFixture[str], people: dict[str, keys.SigningKey], registry_process: ServerProcess
) -> None:
    url = registry_process.url
    operator = people["operator"].did
    assert main(["notice", "register", "--key", "operator.key", "--name", "Acme AI",
                 "--contact", "legal@acme.example", "--registry", url]) == 0  # fmt: skip
    assert "registered" in capsys.readouterr().out
    assert main([*_complete(operator), "--out", "notice.json"]) == 0
    capsys.readouterr()
    assert main(["notice", "file", "notice.json", "--registry", url]) == 0
    notice_id = capsys.readouterr().out.strip()
    assert len(notice_id) == 64

    def respond(key: str, action: str, *extra: str) -> list[str]:
        return ["notice", "respond", notice_id, "--key", key, "--action", action, "--registry", url, *extra]

    assert "403" in _error_line(capsys, respond("mallory.key", "acknowledge"))
    assert "409" in _error_line(capsys, respond("operator.key", "action", "--taken", "stop-generation"))
    assert main(respond("operator.key", "acknowledge")) == 0
    assert capsys.readouterr().out.strip() == f"{notice_id} is now acknowledged"
    taken = ("--taken", "stop-generation", "--statement", "Filtered from generation.")
    assert main(respond("operator.key", "action", *taken)) == 0
    capsys.readouterr()
    assert main(["notice", "show", notice_id, "--registry", url]) == 0
    shown = capsys.readouterr().out
    assert "actioned" in shown and "acknowledge by the operator" in shown
    assert main(["notice", "show", notice_id, "--registry", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "actioned"
    public = capsys.readouterr().out
    email = json.loads(Path("notice.json").read_text(encoding="utf-8"))["personal"]["data"]["contact"][
        "email"
    ]
    assert email not in public  # the public notice holds only the commitment

    # The notifier and the operator read the personal data with their keys; a stranger may not.
    assert main(["notice", "show", notice_id, "--registry", url, "--key", "operator.key", "--json"]) == 0
    seen = json.loads(capsys.readouterr().out)["personal_data"]
    assert seen["role"] == "operator" and seen["parts"][0]["data"]["contact"]["email"] == email
    assert "403" in _error_line(
        capsys, ["notice", "show", notice_id, "--registry", url, "--key", "mallory.key"]
    )
    assert main(["notice", "show", notice_id, "--registry", url, "--key", "notifier.key"]) == 0
    mine = capsys.readouterr().out
    assert email in mine and f"read by {operator} (operator)" in mine

    # The notifier erases it; the log records the erasure, the data is gone, a second erasure is refused.
    assert "holds no personal data" in _error_line(
        capsys, ["notice", "erase", notice_id, "--key", "operator.key", "--registry", url]
    )
    assert main(["notice", "erase", notice_id, "--key", "notifier.key", "--registry", url]) == 0
    assert "erased the personal data of 1 document" in capsys.readouterr().out
    assert main(["notice", "show", notice_id, "--registry", url, "--key", "notifier.key", "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["personal"][0]["state"] == "erased" and "data" not in after["personal_data"]["parts"][0]
    assert email not in json.dumps(after)
    assert _error_line(capsys, ["notice", "erase", notice_id, "--key", "notifier.key", "--registry", url])

    # An administrator erases on a legal order, on the registry's own machine, while it runs.
    assert main([*_complete(operator), "--out", "second.json"]) == 0
    assert main(["notice", "file", "second.json", "--registry", url]) == 0
    second = capsys.readouterr().out.strip().splitlines()[-1]
    data_dir = str(registry_process.data_dir)
    assert "no personal data" in _error_line(
        capsys, ["admin", "erase", notice_id, "--reference", "order 1", "--data-dir", data_dir]
    )
    assert (
        main(
            ["admin", "erase", second, "--reference", "Tokyo District Court order 7", "--data-dir", data_dir]
        )
        == 0
    )
    assert "on a legal order" in capsys.readouterr().out
    assert main(["notice", "show", second, "--registry", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["personal"][0]["ground"] == "legal-order"
