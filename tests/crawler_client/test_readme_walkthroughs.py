"""The README's shell walkthroughs for creators, agencies, AI developers, crawlers, auditors and
notifiers, run as written (`tests/crawler_client/readme.py`) against a real `kotowari serve` process.

Each test starts where a reader of the README would stand: the files earlier sections made (`me.key`
from "Five minutes as a creator", `agency.key`, `operator.key`) and the reader's own data (a picture,
a crawl) are made first, in the test's directory. Sites the README names are served on 127.0.0.1:
example.com by the policy tests' site (`tests/crawler_client/policy/conftest.py`), the operator's
webhook by `tests/local_servers.py`. The registry is shared by the module, so assertions pick out the
claims a test filed rather than counting everything an answer holds.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import keys
from crawler_client.client import Client
from tests.conftest import ServerProcess, start_server, stop_server
from tests.crawler_client.readme import Ran, Shell, blocks, logical_lines
from tests.factories import signed_claim
from tests.local_servers import Counting, counting_server


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`kotowari serve`, allowed to deliver webhooks to 127.0.0.1 (the README's acme.example)."""
    settings = {"KOTOWARI_WEBHOOK_ALLOW_PRIVATE": "true"}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        running = start_server(tmp_path_factory.mktemp("readme-walkthroughs") / "data")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def shell(registry: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shell:
    monkeypatch.chdir(tmp_path)
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C")  # the CLI speaks English: these tests read its output
    return Shell(registry.url)


def made_before(shell: Shell, command: str) -> str:
    """Run a command an earlier section of the README had the reader run; its standard output."""
    ran = shell._command(command)
    assert ran.status == 0, str(ran)
    return ran.out.strip()


def command(block: str, start: str) -> str:
    """The one command of `block` that starts with `start`, its continuation lines joined."""
    (found,) = [line for line in logical_lines(block) if line.startswith(start)]
    return found


def statuses(ran: list[Ran]) -> list[int]:
    return [r.status for r in ran]


def claim_lines(out: str, claim_id: str) -> list[str]:
    """The lines of a check's output that say what `claim_id` reserves (not its notes, its licence)."""
    return [line for line in out.splitlines() if line.startswith(f"         claim {claim_id[:16]}… by ")]


# ------------------------------------------------------------------ creators

GALLERY = "url example.com/gallery/"


def test_five_minutes_as_a_creator(shell: Shell, registry: ServerProcess, tmp_path: Path) -> None:
    making, asking, withdrawing = blocks("Five minutes as a creator")
    ran = shell.run(making)
    assert statuses(ran) == [0, 0, 0, 0], [str(r) for r in ran]
    did = ran[0].out.strip()
    assert did == keys.read_key_file(tmp_path / "me.key").did and did.startswith("did:key:z6Mk")
    assert (tmp_path / "me.key").stat().st_mode & 0o777 == 0o600
    claim = json.loads((tmp_path / "claim.json").read_text())
    assert claim["claimant"] == did and claim["uses"] == {"train-ai": "n", "generate": "n"}
    assert claim["subject"]["identifiers"] == [{"scheme": "url", "value": "https://example.com/gallery/"}]
    assert ran[2].out.startswith(f"valid: signed by {did}")
    claim_id = shell.variables["CLAIM"]
    assert claim_id == keys.document_id(claim) and f"id {claim_id}" in ran[2].out

    (checked,) = shell.run(asking)
    assert checked.status == 1, str(checked)
    assert checked.out.splitlines()[0] == "n        url https://WWW.Example.com:443/gallery/2024/a.png#x"
    (line,) = claim_lines(checked.out, claim_id)
    assert line == f"         claim {claim_id[:16]}… by {did} reserves train-ai for {GALLERY} [self-asserted]"
    # what the prose around it says: search is not reserved; `kotowari url` shows the expressions
    url = "'https://WWW.Example.com:443/gallery/2024/a.png#x'"
    search = shell._command(f"kotowari check --registry {registry.url} --purpose search --url {url}")
    assert search.status == 0 and search.out.startswith("unknown ")
    shown = shell._command(f"kotowari url {url}").out.splitlines()
    assert shown[0] == "https://www.example.com/gallery/2024/a.png"
    assert "  lookup:     example.com/gallery/" in shown

    (withdrew,) = shell.run(withdrawing)
    assert withdrew.status == 0 and withdrew.out.strip() == f"withdrew {claim_id}"
    assert httpx.get(f"{registry.url}/v1/claims/{claim_id}").json()["status"] == "withdrawn"


def _pictures(folder: Path) -> None:
    """The reader's illustration, and a resized, re-encoded copy of it found elsewhere."""
    from PIL import Image, ImageDraw

    shapes = random.Random(7)
    picture = Image.new("RGB", (512, 512), "white")
    draw = ImageDraw.Draw(picture)
    for _ in range(60):
        x, y = shapes.randrange(512), shapes.randrange(512)
        colour = tuple(shapes.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + shapes.randrange(20, 120), y + shapes.randrange(20, 120)), fill=colour)
    picture.save(folder / "illustration.png")
    picture.resize((300, 300)).save(folder / "resized-copy.jpg", quality=80)


def test_works_voices_and_likenesses(shell: Shell, tmp_path: Path) -> None:
    claiming, checking = blocks("Works, voices and likenesses")
    did = made_before(shell, "kotowari keys new --out me.key")
    _pictures(tmp_path)
    voiceprint = [random.Random(3).uniform(-1, 1) for _ in range(192)]  # the space's 192 dimensions
    (tmp_path / "voiceprint.json").write_text(json.dumps(voiceprint))

    ran = shell.run(claiming)
    assert statuses(ran) == [0, 0, 0, 0], [str(r) for r in ran]
    work = json.loads((tmp_path / "work.json").read_text())
    schemes = {identifier["scheme"]: identifier for identifier in work["subject"]["identifiers"]}
    assert set(schemes) == {"sha256", "iscc", "pdq"} and len(schemes["pdq"]["variants"]) == 7
    voice = json.loads((tmp_path / "voice.json").read_text())
    assert voice["claimant"] == did and voice["uses"] == {"generate": "n", "train-ai": "n"}
    assert [(i["scheme"], i.get("value")) for i in voice["subject"]["identifiers"]] == [
        ("isni", "0000 0001 2103 2683"),
        ("wikidata", "Q1234567"),
        ("name", "山寺宏一"),
        ("name", "やまでら こういち"),
        ("name", "Koichi Yamadera"),
        ("embedding", None),
    ]
    work_id, voice_id = ran[2].out.strip(), ran[3].out.strip()
    assert (work_id, voice_id) == (keys.document_id(work), keys.document_id(voice))

    by_name, by_picture = shell.run(checking)
    assert by_name.status == 1, str(by_name)
    assert by_name.out.startswith("n        text sing it in the voice of Koichi Yamadera\n")
    assert claim_lines(by_name.out, voice_id) == [
        f"         claim {voice_id[:16]}… by {did} reserves generate for name Koichi Yamadera [self-asserted]"
    ]
    assert by_picture.status == 1, str(by_picture)  # not the same file, but the same picture
    found = claim_lines(by_picture.out, work_id)
    assert len(found) == 2 and all(" at distance " in line for line in found), by_picture.out
    assert " for iscc-content-image ISCC:" in found[0] and " for pdq " in found[1]
    assert by_picture.out.startswith("unknown  sha256 "), "the copy's own digest matches nothing"


# ------------------------------------------------------------------ agencies


def test_as_an_agency(shell: Shell, tmp_path: Path) -> None:
    (block,) = blocks("As an agency", nested=False)  # "Many members at once": test_claim_import.py
    agency = made_before(shell, "kotowari keys new --out agency.key")
    (ran,) = shell.run(block)
    assert ran.status == 0, str(ran)
    claim = json.loads((tmp_path / "ayaka.json").read_text())
    assert claim["claimant"] == agency and claim["subject"]["kind"] == "voice"
    assert claim["on_behalf_of"] == {
        "principal": "Ayaka Sato (佐藤彩花)",
        "authority": "Exclusive management agreement, 2024-04-01",
    }
    assert claim["territories"] == ["JP"] and claim["licence"] == {
        "contact": "mailto:licensing@agency.example"
    }
    # filed, it counts for the agency as agent-asserted (no mandate names the agency)
    claim_id = made_before(shell, f"kotowari claim file ayaka.json --registry {shell.registry}")
    checked = shell._command(
        f"kotowari check --registry {shell.registry} --purpose generate "
        "--url https://example.com/voices/ayaka/demo.wav"
    )
    assert checked.status == 1
    (line,) = claim_lines(checked.out, claim_id)
    assert line.endswith("reserves generate for url example.com/voices/ayaka/ [agent-asserted]")
    assert f"         note on claim {claim_id[:16]}…: the claim names no principal DID" in checked.out
    assert f"claim {claim_id[:16]}… offers a licence: contact mailto:licensing@agency.example" in checked.out


# ------------------------------------------------------------------ AI developers


def test_offline_snapshots_filtering_and_the_manifest(
    shell: Shell, registry: ServerProcess, tmp_path: Path
) -> None:
    (block,) = blocks("Offline: snapshots, dataset filtering and the compliance manifest")
    operator = made_before(shell, "kotowari keys new --out operator.key")
    creator = keys.SigningKey.generate()
    with Client(registry.url) as client:
        claim_id = client.file_claim(
            signed_claim(creator, datetime.now(UTC), urls=("https://example.com/a.png",), deny=("train-ai",))
        )["id"]
    crawl = ["https://example.com/a.png", "https://EXAMPLE.com/a.png#top", "https://example.org/b.png", None]
    pq.write_table(pa.table({"url": crawl}), tmp_path / "crawl.parquet")

    pulled, checked, filtered, verified = shell.run(block)
    assert [pulled.status, checked.status, filtered.status, verified.status] == [0, 1, 0, 0]
    assert pulled.out.startswith("claims.snapshot: tree size ") and "(full download, " in pulled.out
    assert checked.out.startswith("n        url https://example.com/a.png\n")
    assert len(claim_lines(checked.out, claim_id)) == 1
    assert filtered.out.startswith(
        "4 rows: 1 kept, 3 removed (2 reserved for train-ai, 1 unparsable dropped); snapshot at tree size "
    )
    kept = pq.read_table(tmp_path / "crawl.filtered.parquet").column("url").to_pylist()
    assert kept == ["https://example.org/b.png"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["proof"]["verificationMethod"].startswith(operator)
    removed = manifest["removed"]["rows"]
    assert [(row["value"], row["decision"]) for row in removed] == [
        (crawl[0], "n"),
        (crawl[1], "n"),
        (None, "invalid"),
    ]
    assert all(claim_id in [c["claim"] for c in row["claims"]] for row in removed[:2])
    assert verified.out.startswith(f"operator {operator} signed at ")
    assert "  purpose train-ai: 4 rows, 1 kept, 3 removed (1 unparsable: drop)" in verified.out
    assert verified.out.count(" as signed (") == 2  # --data: both files' SHA-256

    # the prose: a row put back into the output is caught; a later pull fetches only the delta
    pq.write_table(pa.table({"url": [*kept, crawl[0]]}), tmp_path / "crawl.filtered.parquet")
    (again,) = shell.run(command(block, "kotowari verify manifest.json"))
    assert again.status == 1, str(again)
    with Client(registry.url) as client:
        client.file_claim(signed_claim(creator, datetime.now(UTC), urls=("https://example.net/",)))
    (delta,) = shell.run(command(block, "kotowari snapshot pull"))
    assert delta.status == 0 and "(delta from " in delta.out, str(delta)


# ------------------------------------------------------------------ crawlers


README_POLICY = (
    "kotowari policy https://example.com/art/a.jpg --purpose train-ai --user-agent ExampleBot/1.0 \\\n"
    "    --registry http://127.0.0.1:8000 --json"
)


def test_as_a_crawler(shell: Shell, registry: ServerProcess) -> None:
    """As written, with example.com the local test site (on 127.0.0.1): the address guard refuses
    loopback before anything is fetched; with --allow-private (for an intranet, as `policy --help`
    says) the registry's reservation refuses the picture, and an unreserved picture is fetched."""
    from tests.crawler_client.policy.conftest import _started

    (block,) = blocks("As a crawler")
    assert block == README_POLICY, "the README's policy command changed: update this test"
    site = _started()
    site.reset()
    try:
        site.route("/robots.txt", "User-agent: *\nAllow: /\n")
        for path in ("/art/a.jpg", "/open/a.jpg"):
            site.route(path, b"\xff\xd8\xff\xe0 not really a picture", headers={"Content-Type": "image/jpeg"})
        creator = keys.SigningKey.generate()
        with Client(registry.url) as client:
            client.file_claim(
                signed_claim(creator, datetime.now(UTC), urls=(site.url("/art/"),), deny=("train-ai",))
            )
        shell.rewrite["https://example.com"] = site.base

        (refused,) = shell.run(block)
        decision = json.loads(refused.out)
        assert refused.status == 1 and decision["allowed"] is False and decision["stage"] == "pre-fetch"
        assert [signal["source"] for signal in decision["signals"]] == ["address"]
        assert "127.0.0.1 is a loopback address" in decision["signals"][0]["reason"]
        assert site.paths() == []  # not even robots.txt

        private = block.replace(" --json", " --allow-private --json")
        (reserved,) = shell.run(private)
        decision = json.loads(reserved.out)
        assert reserved.status == 1 and decision["allowed"] is False and decision["decision"] == "n"
        verdicts = {signal["source"]: signal["verdict"] for signal in decision["signals"]}
        assert verdicts["registry"] == "n" and verdicts["robots.txt"] == "unknown"
        assert "/robots.txt" in site.paths() and "/art/a.jpg" not in site.paths()

        (allowed,) = shell.run(private.replace("/art/a.jpg", "/open/a.jpg"))
        decision = json.loads(allowed.out)
        assert allowed.status == 0 and decision["allowed"] is True and decision["stage"] == "post-fetch"
        assert "/open/a.jpg" in site.paths()
    finally:
        site.reset()


# ------------------------------------------------------------------ auditors


def test_as_an_auditor_the_transparency_log(shell: Shell, registry: ServerProcess, tmp_path: Path) -> None:
    (block,) = blocks("As an auditor: the transparency log", nested=False)
    made_before(shell, "kotowari keys new --out me.key")
    made_before(  # "Five minutes as a creator" made claim.json the same way
        shell,
        "kotowari claim new --key me.key --kind work --url https://example.com/ --deny train-ai "
        "--out claim.json",
    )
    identity = httpx.get(f"{registry.url}/v1/registry").json()
    origin = identity["log"]["origin"]

    ran = shell.run(block)
    assert statuses(ran) == [0, 0, 0, 1, 0, 0], [str(r) for r in ran]
    filed, offline, online, _, answer_verified, monitored = ran
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    claim_id = receipt["id"]
    assert receipt == json.loads(filed.out) and receipt["log"]["origin"] == origin
    assert offline.out.startswith(f"valid receipt: document {claim_id}")
    assert f"entry {receipt['log']['index']} of log {origin}" in offline.out
    assert online.out.startswith(f"valid receipt: document {claim_id}") and len(online.out) > len(offline.out)
    answer = json.loads((tmp_path / "answer.json").read_text())
    assert answer["type"] == "CheckAnswer" and answer["items"][0]["decision"] == "n"
    assert claim_id in [match["claim"] for match in answer["items"][0]["matches"]]
    assert answer_verified.out.startswith(f"valid check answer signed by registry {identity['did']}")
    size = json.loads((tmp_path / "monitor.json").read_text())["size"]
    assert monitored.out.startswith(f"ok: {origin} at size {size}, root ")

    # the monitor run again, after another filing: the new checkpoint extends the one it saw
    with Client(registry.url) as client:
        client.file_claim(signed_claim(keys.SigningKey.generate(), datetime.now(UTC)))
    (again,) = shell.run(command(block, "kotowari log verify"))
    assert again.status == 0 and f"; consistent with size {size} seen before" in again.out, str(again)


# ------------------------------------------------------------------ notifiers and operators


WEBHOOK = "https://acme.example/hooks/kotowari"
PULLS = "# an operator without a webhook pulls"


def _wait_for_state(registry: ServerProcess, notice_id: str, state: str) -> None:
    deadline = time.monotonic() + 20
    while httpx.get(f"{registry.url}/v1/notices/{notice_id}").json()["state"] != state:
        assert time.monotonic() < deadline, f"notice {notice_id} never became {state}"
        time.sleep(0.1)


def _takedown(shell: Shell, registry: ServerProcess, hook: Counting) -> tuple[list[Ran], list[Ran]]:
    """The README's notice walkthrough, with acme.example's webhook served here: up to the filing,
    then (once the webhook has answered and the notice is delivered) the operator's part."""
    block = blocks("Takedown notices", nested=False)[0]
    assert block.count(WEBHOOK) == 1 and block.count(PULLS) == 1
    hook.route("/hooks/kotowari", b"", 200)
    shell.rewrite[WEBHOOK] = hook.url("127.0.0.1", "/hooks/kotowari")
    filing, answering = block.split(PULLS)
    filed = shell.run(filing)
    _wait_for_state(registry, shell.variables["NOTICE"], "delivered")
    return filed, shell.run(PULLS + answering)


def test_takedown_notices(shell: Shell, registry: ServerProcess, tmp_path: Path) -> None:
    notifier = made_before(shell, "kotowari keys new --out me.key")
    with counting_server() as hook:
        filed, answered = _takedown(shell, registry, hook)
        assert statuses(filed) == [0, 0, 0, 0, 0], [str(r) for r in filed]
        assert statuses(answered) == [0, 0, 0, 0], [str(r) for r in answered]
        assert [path for _, path in hook.requests] == ["/hooks/kotowari"]
    acme, notice = shell.variables["ACME"], shell.variables["NOTICE"]
    _, registered, listed, _, filing = filed
    assert registered.out.strip() == f"registered {acme} as 'Acme AI'; no notice is waiting"
    assert f"{acme}  Acme AI  unverified (self-asserted)  webhook" in listed.out.splitlines()
    written = json.loads((tmp_path / "notice.json").read_text())
    assert (tmp_path / "notice.json").stat().st_mode & 0o777 == 0o600
    assert written["document"]["operator"] == acme and written["document"]["notifier"] == notifier
    assert "contact" not in written["document"] and "commitment" in written["document"]["personal"]
    assert written["personal"]["data"] == {"contact": {"name": "Aoi Tanaka", "email": "aoi@example.jp"}}
    assert notice == keys.document_id(written["document"])
    assert filing.err.strip().startswith("filed; queued for the operator's webhook")

    inbox, acknowledged, actioned, shown = answered
    assert inbox.out.splitlines()[:2] == [f"{acme} (Acme AI): 1 notice(s)", f"{notice}  delivered"]
    assert acknowledged.out.strip() == f"{notice} is now acknowledged"
    assert actioned.out.strip() == f"{notice} is now actioned"
    lines = shown.out.splitlines()
    assert lines[:2] == [f"{notice}  actioned", f"  to {acme}"]
    steps = [line.split("  ", 2)[-1] for line in lines if " by the " in line]
    assert steps == [
        "deliver by the registry  → delivered",
        "acknowledge by the operator  → acknowledged",
        "action by the operator  → actioned",
    ]


def test_claimants_disputing_a_claim(shell: Shell, registry: ServerProcess) -> None:
    disputing = blocks("Takedown notices", nested=False)[1]
    me = made_before(shell, "kotowari keys new --out me.key")
    ran = shell.run(disputing)
    assert statuses(ran) == [0, 0, 0, 0, 0, 0, 0], [str(r) for r in ran]
    mine, theirs = shell.variables["MINE"], shell.variables["THEIRS"]
    rival = keys.read_key_file(Path("rival.key")).did
    listed, disputed = ran[-2].out.splitlines(), ran[-1].out.splitlines()
    assert listed == [
        f"{mine}: 1 claim(s) by others on the same subject, 0 dispute(s)",
        f"  {theirs} by {rival}: url:me.example/art/",
    ]
    assert disputed[1].startswith(f"claim {mine} now disputes {theirs} (both assert url:me.example/art/)")
    with Client(registry.url) as client:
        answer = client.check(
            [{"scheme": "url", "value": "https://me.example/art/1.png"}], purpose="train-ai"
        )
    matches = {match["claim"]: match for match in answer.items[0]["matches"]}
    assert matches[mine]["claimant"] == me and matches[mine]["disputed"] is True
    assert matches[theirs]["disputed"] is True


def test_personal_data_who_sees_what_erasure_retention(shell: Shell, registry: ServerProcess) -> None:
    (block,) = blocks("Personal data: who sees what, erasure, retention")
    notifier = made_before(shell, "kotowari keys new --out me.key")
    with counting_server() as hook:
        filed, answered = _takedown(shell, registry, hook)  # the section above: $NOTICE and its steps
    assert statuses(filed + answered) == [0] * 9
    notice = shell.variables["NOTICE"]
    shell.rewrite["kotowari-data"] = str(registry.data_dir)  # the registry's own machine

    ran = shell.run(block)
    assert statuses(ran) == [0, 0, 0, 2], [str(r) for r in ran]
    read, erased, public, administrator = ran
    assert "  read as the notifier:" in read.out and '"email": "aoi@example.jp"' in read.out
    assert f"  read by {notifier} (notifier) at " in read.out
    assert erased.out.startswith("erased the personal data of 1 document(s); the erasure is log entry ")
    (part,) = [line for line in public.out.splitlines() if line.startswith("  personal data of ")]
    assert part.startswith(f"  personal data of {notice[:12]}…: erased ") and part.endswith("(request)")
    assert "aoi@example.jp" not in public.out
    assert administrator.err.strip() == (
        f"kotowari: error: notice {notice} holds no personal data that is not erased"
    )
    personal = httpx.get(f"{registry.url}/v1/notices/{notice}").json()["personal"]
    assert [part["state"] for part in personal] == ["erased"]
