"""`kotowari disclosure`, `manifest submit`, `info-request`, `operator record|ranking` and `admin
authority`: what each refuses before signing (exit 2, one line), what the registry refuses (exit 2,
its problem), and that the CSV the CLI writes is the registry's own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import keys
from crawler_client.cli import main
from tests.accountability_helpers import Registry, registration, registry
from tests.notice_factories import complete_notice


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with registry(tmp_path_factory.mktemp("cli") / "data", None) as running:
        yield running


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> keys.SigningKey:
    monkeypatch.chdir(tmp_path)
    key = keys.SigningKey.generate()
    keys.write_key_file("acme.key", key)
    return key


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


NEW = [
    "disclosure",
    "new",
    "--key",
    "acme.key",
    "--model",
    "acme/p",
    "--contact-url",
    "https://acme.example/ai",
]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ([], "not answered: 1-models, 1-training-data"),
        (["--comply", "1-models,1-records"], "not answered: 1-training-data"),
        (["--comply", "all", "--honours", "robots.txt,noai"], "--honours: unknown signal 'noai'"),
        (["--comply", "all", "--safeguard", "inference=name"], "--safeguard 'inference': a stage"),
        (["--comply", "all", "--safeguard", "prompt=face"], "--safeguard: unknown scheme 'face'"),
        (["--comply", "all", "--dataset", "stolen=x"], "--dataset 'stolen': one of web-crawl"),
        (
            ["--comply", "all", "--explain", "1-bribes=none"],
            "--explain '1-bribes': not a Principle Code item",
        ),
        (["--comply", "all", "--explain", "1-records"], "--explain '1-records': write it as NAME=VALUE"),
        (["--comply", "all", "--manifest", "missing.json"], "missing.json"),
    ],
)
def test_disclosure_new_refuses_before_signing(
    acme: keys.SigningKey, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    status, out, err = run(capsys, *NEW, *flags, "--out", "d.json")
    assert status == 2 and message in err and out == ""
    assert not Path("d.json").exists()


def test_disclosure_new_checks_a_manifest_as_the_registry_would(
    acme: keys.SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("manifest.json").write_text(json.dumps({"type": "ComplianceManifest", "operator": acme.did}))
    status, _, err = run(capsys, *NEW, "--comply", "all", "--manifest", "manifest.json")
    assert status == 2 and "--manifest manifest.json: operator signature" in err


def test_a_disclosure_and_a_request_the_registry_refuses_are_exit_2_with_its_problem(
    reg: Registry, acme: keys.SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(capsys, *NEW, "--comply", "all", "--explain", "1-records=kept a year", "--out", "d.json")[0] == 0
    )
    document = json.loads(Path("d.json").read_text())
    assert document["principle_code"]["1-records"] == {"answer": "explain", "explanation": "kept a year"}
    status, _, err = run(capsys, "disclosure", "file", "d.json", "--registry", reg.url)
    assert status == 2 and "403" in err and "has not registered as an operator" in err

    operator = keys.SigningKey.generate().did
    status, _, err = run(
        capsys,
        "info-request",
        "new",
        "--key",
        "acme.key",
        "--operator",
        operator,
        "--topic",
        "safeguards",
        "--question",
        "which?",
        "--out",
        "r.json",
    )
    assert status == 2 and "give the deadline" in err
    status, _, err = run(
        capsys,
        "info-request",
        "new",
        "--key",
        "acme.key",
        "--operator",
        operator,
        "--topic",
        "safeguards",
        "--question",
        "which?",
        "--deadline",
        "2020-01-01T00:00:00Z",
    )
    assert status == 2 and "the deadline must be later" in err
    assert (
        run(
            capsys,
            "info-request",
            "new",
            "--key",
            "acme.key",
            "--operator",
            operator,
            "--topic",
            "safeguards",
            "--question",
            "which?",
            "--days",
            "3",
            "--out",
            "r.json",
        )[0]
        == 0
    )
    size = int(httpx.get(f"{reg.url}/log/checkpoint").text.splitlines()[1])
    status, _, err = run(capsys, "info-request", "file", "r.json", "--registry", reg.url)
    assert status == 2 and "403" in err and "not an authority" in err
    assert int(httpx.get(f"{reg.url}/log/checkpoint").text.splitlines()[1]) == size


def test_admin_authority_refuses_an_unverified_organisation_and_a_nameless_one(
    reg: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = keys.SigningKey.generate().did
    size = int(httpx.get(f"{reg.url}/log/checkpoint").text.splitlines()[1])
    assert reg.admin("authority", stranger, "--name", "Not Verified") == 2
    assert "holds no domain verification" in capsys.readouterr().err
    assert reg.admin("authority", stranger) == 2
    assert "--name" in capsys.readouterr().err
    assert reg.admin("authority", stranger, "--revoke") == 2
    assert "is not a designated authority" in capsys.readouterr().err
    assert int(httpx.get(f"{reg.url}/log/checkpoint").text.splitlines()[1]) == size


def test_records_and_rankings_in_text_json_and_the_registrys_own_csv(
    reg: Registry, acme: keys.SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    assert reg.post("/v1/operators", registration(acme, "Acme CLI")).status_code == 201
    notifier = keys.SigningKey.generate()
    from tests.accountability_helpers import now

    assert reg.post("/v1/notices", complete_notice(notifier, acme.did, now())).status_code == 201
    later = "2099-01-01T00:00:00Z"
    status, out, _ = run(capsys, "operator", "record", acme.did, "--at", later, "--registry", reg.url)
    assert status == 0 and f"{acme.did}  Acme CLI  self-asserted" in out
    assert "notices: 1 received, 0 acknowledged, 0 on time, 0 late, 1 overdue" in out
    status, out, _ = run(capsys, "operator", "record", acme.did, "--json", "--registry", reg.url)
    assert json.loads(out)["notices"]["received"] == 1
    assert (
        run(
            capsys,
            "operator",
            "record",
            acme.did,
            "--csv",
            "--at",
            later,
            "--out",
            "n.csv",
            "--registry",
            reg.url,
        )[0]
        == 0
    )
    served = httpx.get(
        f"{reg.url}/v1/accountability/operators/{acme.did}", params={"at": later, "format": "csv"}
    )
    assert Path("n.csv").read_bytes() == served.content
    assert (
        run(capsys, "operator", "ranking", "--csv", "--at", later, "--out", "r.csv", "--registry", reg.url)[0]
        == 0
    )
    served = httpx.get(f"{reg.url}/v1/accountability/operators", params={"at": later, "format": "csv"})
    assert Path("r.csv").read_bytes() == served.content
    status, out, _ = run(capsys, "operator", "ranking", "--at", later, "--registry", reg.url)
    assert status == 0 and "1 overdue" in out
    status, _, err = run(capsys, "operator", "record", keys.SigningKey.generate().did, "--registry", reg.url)
    assert status == 2 and "404" in err


def test_manifest_submit_of_a_tampered_manifest_is_refused(
    reg: Registry, acme: keys.SigningKey, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.accountability_helpers import filtered_manifest

    manifest = filtered_manifest(reg, tmp_path / "acme.key", tmp_path / "crawl", ["https://example.org/a"])
    capsys.readouterr()
    manifest["purpose"] = "search"
    Path("tampered.json").write_text(json.dumps(manifest))
    status, out, err = run(capsys, "manifest", "submit", "tampered.json", "--registry", reg.url)
    assert status == 2 and out == "" and "422" in err and "operator signature" in err


def test_a_disclosure_against_the_live_registry_files_and_the_next_one_supersedes_it(
    reg: Registry, acme: keys.SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    assert reg.post("/v1/operators", registration(acme, "Acme Live")).status_code == 201
    size = reg.size()
    flags = ["--comply", "all", "--safeguard", "prompt=name,text", "--against-registry", reg.url]
    assert run(capsys, *NEW, *flags, "--out", "one.json")[0] == 0
    (safeguard,) = json.loads(Path("one.json").read_text())["safeguards"]
    against = safeguard["against"]
    assert (against["registry"], against["mode"], against["checkpoint"]["tree_size"]) == (
        httpx.get(f"{reg.url}/v1/registry").json()["did"],
        "live",
        size,
    )
    status, first, _ = run(capsys, "disclosure", "file", "one.json", "--registry", reg.url)
    assert status == 0
    assert run(capsys, *NEW, "--comply", "all", "--out", "two.json")[0] == 0
    status, _, err = run(capsys, "disclosure", "file", "two.json", "--registry", reg.url)
    assert status == 0 and f"it supersedes {first.strip()} (which stays in the log)" in err
    record = httpx.get(f"{reg.url}/v1/accountability/operators/{acme.did}").json()
    assert [d["current"] for d in record["disclosures"]] == [False, True]
    assert record["disclosures"][0]["safeguards"][0]["checkpoint_in_log"] is True
