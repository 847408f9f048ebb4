"""`kotowari notice new` as a new user meets it (issue 16), `kotowari dispute`, and the DMCA
restoration floor, through the real command line against a `kotowari serve` process: `--claim`
fills the subject from verified claims, `--name` names an individual, missing elements one per
line, a URL that is not a URL and a repeated single-value flag refused before anything is signed."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import keys
from crawler_client.cli_support import UsageError
from crawler_client.client import Client
from registry.documents import new_withdrawal
from tests.conftest import ServerProcess
from tests.crawler_client.cli_harness import run
from tests.notice_factories import CONTACT, FULL_STATEMENTS


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOTOWARI_REGISTRY", raising=False)
    return tmp_path


@pytest.fixture
def people(in_tmp: Path) -> dict[str, keys.SigningKey]:
    found = {}
    for name in ("notifier", "operator", "rival"):
        found[name] = keys.SigningKey.generate()
        keys.write_key_file(in_tmp / f"{name}.key", found[name])
    return found


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Exit status 2, nothing written, one line on standard error (returned)."""
    status, out, err = run(capsys, *argv)
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "error: " in lines[0], (status, out, err)
    assert not Path("notice.json").exists()
    return lines[0]


_numbers = itertools.count()


def claim(capsys: pytest.CaptureFixture[str], url: str, key: str, kind: str, *items: str) -> str:
    """File a claim with `claim new` and `claim file`; its id."""
    out = f"claim-{next(_numbers)}.json"
    assert (
        run(
            capsys,
            "claim",
            "new",
            "--key",
            key,
            "--kind",
            kind,
            *items,
            "--deny",
            "train-ai,generate",
            "--out",
            out,
        )[0]
        == 0
    )
    status, printed, _ = run(capsys, "claim", "file", out, "--registry", url)
    assert status == 0
    return printed.strip()


VOICE_NOTICE = (
    *("--model", "acme/voice-clone-v1", "--action", "remove", "--regime", "no-fakes"),
    *("--signature", "/Koichi Yamadera/", "--contact-name", CONTACT["name"]),
    *("--contact-email", CONTACT["email"], "--good-faith", FULL_STATEMENTS["good-faith"]),
    *("--authority", FULL_STATEMENTS["authority"]),
)


def new(operator: str, *extra: str) -> tuple[str, ...]:
    return ("notice", "new", "--key", "notifier.key", "--operator", operator, *extra)


def written() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path("notice.json").read_text(encoding="utf-8"))["document"]
    return document


# ------------------------------------------------------------------ --claim fills the subject


def test_claim_fills_the_subject_from_the_verified_claim(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess, people: dict[str, keys.SigningKey]
) -> None:
    url = registry.url
    names = (
        "--name",
        "Koichi Yamadera",
        "--name",
        "山寺宏一",
        "--url",
        "https://voices.example.jp/yamadera/",
    )
    claim_id = claim(capsys, url, "notifier.key", "voice", *names)
    operator = people["operator"].did
    status, _, err = run(
        capsys, *new(operator, "--claim", claim_id, *VOICE_NOTICE, "--registry", url, "--out", "notice.json")
    )
    assert status == 0, err
    assert "subject from 1 verified claim(s): a voice, 3 identifier(s)" in err
    subject = written()["subject"]
    assert subject["kind"] == "voice" and subject["claims"] == [claim_id]
    assert subject["identifiers"] == [  # in the claim's order
        {"scheme": "url", "value": "https://voices.example.jp/yamadera/"},
        {"scheme": "name", "value": "Koichi Yamadera"},
        {"scheme": "name", "value": "山寺宏一"},
    ]
    assert "title" not in subject  # --name named the individual; no --title was needed
    assert run(capsys, "notice", "file", "notice.json", "--registry", url)[0] == 0

    # Flags given beside --claim are kept first, and a repeated identifier is not doubled.
    Path("notice.json").unlink()
    extra = ("--name", "山寺宏一", "--name", "Yamadera Kōichi", "--title", "Koichi Yamadera (voice actor)")
    assert (
        run(
            capsys,
            *new(
                operator,
                "--claim",
                claim_id,
                *extra,
                *VOICE_NOTICE,
                "--registry",
                url,
                "--out",
                "notice.json",
            ),
        )[0]
        == 0
    )
    subject = written()["subject"]
    assert [i["value"] for i in subject["identifiers"]] == [
        "山寺宏一",
        "Yamadera Kōichi",
        "https://voices.example.jp/yamadera/",
        "Koichi Yamadera",
    ]
    assert subject["title"] == "Koichi Yamadera (voice actor)"


def test_claim_refusals_are_one_line_and_sign_nothing(
    capsys: pytest.CaptureFixture[str],
    registry: ServerProcess,
    people: dict[str, keys.SigningKey],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = registry.url
    operator = people["operator"].did
    voice = claim(capsys, url, "notifier.key", "voice", "--name", "Aoi Tanaka")
    work = claim(capsys, url, "notifier.key", "work", "--url", "https://aoi.example.jp/works/")
    out = ("--out", "notice.json")

    assert "--kind work: the claims are for a voice" in refused(
        capsys, *new(operator, "--claim", voice, "--kind", "work", *VOICE_NOTICE, "--registry", url, *out)
    )
    assert "one notice has one subject" in refused(
        capsys, *new(operator, "--claim", voice, "--claim", work, *VOICE_NOTICE, "--registry", url, *out)
    )
    assert "the same claim is given twice" in refused(
        capsys, *new(operator, "--claim", voice, "--claim", voice, *VOICE_NOTICE, "--registry", url, *out)
    )
    assert "--claim needs --registry" in refused(
        capsys, *new(operator, "--claim", voice, *VOICE_NOTICE, *out)
    )
    assert "not a claim id" in refused(
        capsys, *new(operator, "--claim", "../stats/operators", *VOICE_NOTICE, "--registry", url, *out)
    )
    missing = refused(capsys, *new(operator, "--claim", "0" * 64, *VOICE_NOTICE, "--registry", url, *out))
    assert "--claim 0000" in missing and "404" in missing
    assert "cannot reach" in refused(
        capsys, *new(operator, "--claim", voice, *VOICE_NOTICE, "--registry", "http://127.0.0.1:9", *out)
    )
    assert "--kind is required" in refused(
        capsys, *new(operator, "--name", "Aoi Tanaka", *VOICE_NOTICE, *out)
    )

    # A withdrawn claim is no ground for a notice.
    created = datetime.now(UTC)
    withdrawal = keys.sign_document(
        new_withdrawal(people["notifier"].did, voice, created=created), people["notifier"], created=created
    )
    with Client(url) as client:
        client.withdraw_claim(voice, withdrawal)
    assert "withdrawn" in refused(
        capsys, *new(operator, "--claim", voice, *VOICE_NOTICE, "--registry", url, *out)
    )

    # $KOTOWARI_REGISTRY is where --claim looks when --registry is not given.
    monkeypatch.setenv("KOTOWARI_REGISTRY", url)
    assert (
        run(
            capsys,
            *new(
                operator,
                "--claim",
                work,
                "--model",
                "acme/painter",
                "--action",
                "remove",
                "--regime",
                "dsa",
                "--grounds",
                "copied",
                "--contact-name",
                "Aoi",
                "--contact-email",
                "aoi@example.jp",
                "--good-faith",
                "yes",
                *out,
            ),
        )[0]
        == 0
    )
    assert written()["subject"]["identifiers"] == [
        {"scheme": "url", "value": "https://aoi.example.jp/works/"}
    ]


class _Registry:
    """A registry that answers what a test tells it to: for the checks no honest server fails."""

    def __init__(self, envelope: dict[str, Any], leaf_index: int | None = None, root: bytes | None = None):
        self.envelope, self.leaf_index, self.root = envelope, leaf_index, root

    def get_claim(self, claim_id: str) -> dict[str, Any]:
        return self.envelope

    def witnessed_checkpoint(self) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(size=1, checkpoint=SimpleNamespace(root_hash=self.root))

    def inclusion_proof(self, leaf: bytes, size: int) -> tuple[int, list[bytes]]:
        return (self.leaf_index if self.leaf_index is not None else 0), []


def test_a_claim_the_registry_altered_or_cannot_prove_is_refused() -> None:
    from crawler_client.notice_subject import verified_claim
    from keys import merkle
    from registry.documents import new_claim

    key = keys.SigningKey.generate()
    now = datetime.now(UTC)
    document = keys.sign_document(
        new_claim(key.did, "voice", [("name", "Aoi Tanaka")], {"train-ai": "n"}, created=now),
        key,
        created=now,
    )
    claim_id = keys.document_id(document)
    leaf = merkle.leaf_hash(keys.canonicalize(document))
    good = {"document": document, "status": "active", "log_index": 0}
    assert verified_claim(_Registry(good, 0, leaf), claim_id) == document  # type: ignore[arg-type]

    tampered = {**good, "document": {**document, "uses": {"train-ai": "y"}}}
    other = {**good, "document": {**document, "proof": {**document["proof"], "proofValue": "z" + "1" * 86}}}
    cases = [
        (tampered, leaf, 0, "signature does not verify"),
        (other, leaf, 0, "signature does not verify"),
        ({**good, "document": None}, leaf, 0, "without the signed claim"),
        (good, b"\0" * 32, 0, "inclusion proof does not verify"),
        ({**good, "log_index": 5}, leaf, 0, "the log holds it at 0, not at 5"),
    ]
    for envelope, root, index, reason in cases:
        with pytest.raises(UsageError, match=reason):
            verified_claim(_Registry(envelope, index, root), claim_id)  # type: ignore[arg-type]
    second = keys.sign_document(
        new_claim(key.did, "voice", [("name", "Aoi Tanaka")], {"train-ai": "n"}, created=now),
        key,
        created=now,
    )  # signed by the same claimant, but not the document the id names
    with pytest.raises(UsageError, match="another document"):
        verified_claim(_Registry({**good, "document": second}, 0, leaf), claim_id)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="withdrawn"):
        verified_claim(_Registry({**good, "status": "withdrawn"}, 0, leaf), claim_id)  # type: ignore[arg-type]


# ------------------------------------------------------------------ what notice new refuses offline


def test_missing_elements_print_one_per_line(
    capsys: pytest.CaptureFixture[str], people: dict[str, keys.SigningKey]
) -> None:
    argv = new(
        people["operator"].did,
        "--kind",
        "work",
        "--url",
        "https://aoi.example.jp/works/",
        "--model",
        "acme/painter",
        "--action",
        "remove",
        "--regime",
        "dsa",
        "--regime",
        "dmca",
    )
    status, out, err = run(capsys, *argv, "--out", "notice.json")
    assert status == 2 and out == "" and not Path("notice.json").exists()
    first, *elements = err.strip().splitlines()
    assert first == f"kotowari: error: the notice lacks {len(elements)} required element(s):"
    assert len(elements) == 11  # dsa: 4, dmca: 7
    assert all(
        line.startswith("  /") and (": dsa: missing " in line or ": dmca: missing " in line)
        for line in elements
    )
    assert "  /contact/email: dsa: missing the notifier's email address (DSA Art. 16(2)(c))" in elements
    assert not any(";" in line.split(": missing ")[0] for line in elements)


def test_a_name_identifies_the_individual_without_a_title(
    capsys: pytest.CaptureFixture[str], people: dict[str, keys.SigningKey]
) -> None:
    operator = people["operator"].did
    voice = new(operator, "--kind", "voice", *VOICE_NOTICE, "--out", "notice.json")
    status, _, err = run(capsys, *voice, "--name", "Koichi Yamadera")
    assert status == 0, err
    assert written()["subject"]["identifiers"] == [{"scheme": "name", "value": "Koichi Yamadera"}]
    Path("notice.json").unlink()
    # Without any name the individual is still missing, and the line says how to give one.
    status, _, err = run(capsys, *voice, "--url", "https://voices.example.jp/k/")
    assert (
        status == 2
        and "/subject/title: no-fakes: missing the individual" in err
        and "a title or a name" in err
    )
    # A Wikidata item identifies a work for the DMCA as a title does.
    dmca = new(
        operator,
        "--kind",
        "work",
        "--wikidata",
        "Q42",
        "--model",
        "acme/painter",
        "--action",
        "remove",
        "--regime",
        "dmca",
        "--signature",
        "/A/",
        "--contact-name",
        "A",
        "--contact-email",
        "a@example.jp",
        "--good-faith",
        "g",
        "--accuracy",
        "a",
        "--perjury",
        "p",
        "--out",
        "notice.json",
    )
    assert run(capsys, *dmca)[0] == 0


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--url", "notaurl"), "--url 'notaurl'"),
        (("--url", "https://"), "--url 'https://'"),
        (("--url", "mailto:aoi@example.jp"), "not an http(s) URL"),
        (
            ("--url", "https://aoi.example.jp/", "--material-url", "notaurl"),
            "a url location must be an http(s) URL",
        ),
        (("--url", "https://aoi.example.jp/", "--material-url", "ftp://files.example.com/x"), "http(s) URL"),
    ],
)
def test_a_url_that_is_not_a_url_is_refused_before_signing(
    capsys: pytest.CaptureFixture[str],
    people: dict[str, keys.SigningKey],
    flags: tuple[str, ...],
    expected: str,
) -> None:
    argv = new(
        people["operator"].did,
        "--kind",
        "work",
        *flags,
        "--model",
        "acme/painter",
        "--action",
        "remove",
        "--regime",
        "dsa",
        "--grounds",
        "g",
        "--contact-name",
        "A",
        "--contact-email",
        "a@example.jp",
        "--good-faith",
        "g",
        "--out",
        "notice.json",
    )
    assert expected in refused(capsys, *argv)


@pytest.mark.parametrize(
    "repeated",
    [
        ("--title", "One", "--title", "Two"),
        ("--operator", "did:web:other.example"),  # the command already has one
        ("--key", "rival.key"),
        ("--out", "other.json"),
        ("--kind", "voice"),
        ("--grounds", "a", "--grounds", "b"),
        ("--contact-email", "a@example.jp", "--contact-email", "b@example.jp"),
        ("--registry", "http://127.0.0.1:9", "--registry", "http://127.0.0.1:9"),
    ],
)
def test_a_single_value_flag_given_twice_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], people: dict[str, keys.SigningKey], repeated: tuple[str, ...]
) -> None:
    argv = new(
        people["operator"].did,
        "--kind",
        "work",
        "--url",
        "https://aoi.example.jp/",
        "--model",
        "m",
        "--action",
        "remove",
        "--regime",
        "dsa",
        "--out",
        "notice.json",
        *repeated,
    )
    line = refused(capsys, *argv)
    assert line == f"kotowari notice new: error: {repeated[0]} given more than once; give it once"


def test_repeatable_flags_still_repeat_and_other_notice_commands_refuse_repeats(
    capsys: pytest.CaptureFixture[str], people: dict[str, keys.SigningKey]
) -> None:
    argv = new(
        people["operator"].did,
        "--kind",
        "work",
        "--url",
        "https://aoi.example.jp/",
        "--url",
        "https://aoi.example.jp/b/",
        "--model",
        "m",
        "--model",
        "n",
        "--action",
        "remove",
        "--action",
        "stop-generation",
        "--regime",
        "dsa",
        "--grounds",
        "g",
        "--contact-name",
        "A",
        "--contact-email",
        "a@example.jp",
        "--good-faith",
        "g",
        "--out",
        "notice.json",
    )
    assert run(capsys, *argv)[0] == 0
    assert len(written()["subject"]["identifiers"]) == 2
    respond = ("notice", "respond", "0" * 64, "--key", "operator.key", "--registry", "http://127.0.0.1:9")
    Path("notice.json").unlink()
    assert "--action given more than once" in refused(
        capsys, *respond, "--action", "acknowledge", "--action", "reject"
    )
    assert "--statement given more than once" in refused(
        capsys, *respond, "--action", "reject", "--statement", "a", "--statement", "b"
    )
    assert "--name given more than once" in refused(
        capsys,
        "notice",
        "register",
        "--key",
        "operator.key",
        "--name",
        "A",
        "--name",
        "B",
        "--contact",
        "c",
        "--registry",
        "http://127.0.0.1:9",
    )
    assert "--key given more than once" in refused(
        capsys,
        "dispute",
        "0" * 64,
        "1" * 64,
        "--key",
        "a",
        "--key",
        "b",
        "--statement",
        "s",
        "--registry",
        "u",
    )


# ------------------------------------------------------------------ the DMCA restoration floor


def test_restoring_right_after_a_counter_notice_is_refused_naming_the_date(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess, people: dict[str, keys.SigningKey]
) -> None:
    url = registry.url
    assert (
        run(
            capsys,
            "notice",
            "register",
            "--key",
            "operator.key",
            "--name",
            "Restore AI",
            "--contact",
            "legal@restore.example",
            "--registry",
            url,
        )[0]
        == 0
    )
    argv = new(
        people["operator"].did,
        "--kind",
        "work",
        "--url",
        "https://aoi.example.jp/works/",
        "--title",
        "Illustrations",
        "--model",
        "acme/painter",
        "--action",
        "remove",
        "--regime",
        "dmca",
        "--signature",
        "/Aoi/",
        "--contact-name",
        "Aoi",
        "--contact-email",
        "aoi@example.jp",
        "--good-faith",
        "g",
        "--accuracy",
        "a",
        "--perjury",
        "p",
        "--out",
        "notice.json",
    )
    assert run(capsys, *argv)[0] == 0
    status, out, _ = run(capsys, "notice", "file", "notice.json", "--registry", url)
    notice_id = out.strip()

    def respond(*extra: str) -> tuple[int, str, str]:
        return run(capsys, "notice", "respond", notice_id, "--key", "operator.key", "--registry", url, *extra)

    assert respond("--action", "acknowledge")[0] == 0
    assert (
        respond("--action", "counter-notice", "--statement", "the material is mine")[1]
        .strip()
        .endswith("is now counter-noticed")
    )
    status, out, _ = run(capsys, "notice", "show", notice_id, "--registry", url, "--json")
    floor = json.loads(out)["deadlines"]["restore_not_before"]
    assert floor
    status, out, err = respond("--action", "restore")
    assert status == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert "409" in line and f"restore not before {floor}" in line and "512(g)(2)(C)" in line
    status, out, _ = run(capsys, "notice", "show", notice_id, "--registry", url, "--json")
    assert json.loads(out)["state"] == "counter-noticed"  # nothing changed
    # The notifier reporting legal action is not held to the floor.
    status, out, _ = run(
        capsys,
        "notice",
        "respond",
        notice_id,
        "--key",
        "notifier.key",
        "--action",
        "uphold",
        "--statement",
        "suit filed",
        "--legal-action",
        "--registry",
        url,
    )
    assert status == 0 and out.strip().endswith("is now upheld")


# ------------------------------------------------------------------ kotowari dispute


def test_dispute_lists_links_then_disputes_a_rivals_claim(
    capsys: pytest.CaptureFixture[str], registry: ServerProcess, people: dict[str, keys.SigningKey]
) -> None:
    url = registry.url
    shared = ("--url", "https://shared.example.jp/art/")
    mine = claim(capsys, url, "notifier.key", "work", *shared)
    theirs = claim(capsys, url, "rival.key", "work", *shared)
    elsewhere = claim(capsys, url, "rival.key", "work", "--url", "https://elsewhere.example.jp/")

    status, out, _ = run(capsys, "dispute", mine, "--registry", url)
    assert status == 0
    assert out.splitlines()[0] == f"{mine}: 1 claim(s) by others on the same subject, 0 dispute(s)"
    assert f"  {theirs} by {people['rival'].did}: url:shared.example.jp/art/" in out

    statement = ("--statement", "I drew these in 2019; the rival copied them.")
    status, out, _ = run(
        capsys, "dispute", mine, theirs, "--key", "notifier.key", *statement, "--registry", url
    )
    assert status == 0
    dispute_id, said = out.strip().splitlines()
    assert len(dispute_id) == 64 and f"claim {mine} now disputes {theirs}" in said
    status, out, _ = run(capsys, "dispute", mine, "--registry", url, "--json")
    assert json.loads(out)["disputes"] == [
        {"id": dispute_id, "claimant": people["notifier"].did, "claim": mine, "disputed": theirs}
    ]
    status, out, _ = run(
        capsys,
        "check",
        "--registry",
        url,
        "--purpose",
        "train-ai",
        "--url",
        "https://shared.example.jp/art/a.png",
        "--json",
    )
    assert {m.get("disputed") for m in json.loads(out)["items"][0]["matches"]} == {True}

    assert "409" in refused(
        capsys, "dispute", mine, theirs, "--key", "notifier.key", *statement, "--registry", url
    )
    assert "403" in refused(
        capsys, "dispute", theirs, mine, "--key", "notifier.key", *statement, "--registry", url
    )
    unlinked = refused(
        capsys, "dispute", mine, elsewhere, "--key", "notifier.key", *statement, "--registry", url
    )
    assert "422" in unlinked and "no shared identifier" in unlinked
    both_mine = refused(
        capsys, "dispute", theirs, elsewhere, "--key", "rival.key", *statement, "--registry", url
    )
    assert "422" in both_mine and "both claims are yours" in both_mine
    assert "404" in refused(
        capsys, "dispute", mine, "f" * 64, "--key", "notifier.key", *statement, "--registry", url
    )
    assert "404" in refused(capsys, "dispute", "e" * 64, "--registry", url)
    assert "itself" in refused(
        capsys, "dispute", mine, mine, "--key", "notifier.key", *statement, "--registry", url
    )
    assert "needs --key" in refused(capsys, "dispute", mine, theirs, *statement, "--registry", url)
    assert "needs --key" in refused(
        capsys, "dispute", mine, theirs, "--key", "notifier.key", "--statement", " ", "--registry", url
    )
    assert "go with OTHER" in refused(capsys, "dispute", mine, "--key", "notifier.key", "--registry", url)
    assert "not a claim id" in refused(capsys, "dispute", "../../v1/registry", "--registry", url)
    assert "missing.key" in refused(
        capsys, "dispute", mine, theirs, "--key", "missing.key", *statement, "--registry", url
    )
