"""`kotowari` starts without importing what the command does not use (issue 14).

Each command runs in a fresh interpreter, which then lists the top-level packages it has imported:
none of the heavy ones (Arrow, NumPy, image hashing, ISCC, the server) may be among them for a
command that does not need them, nor httpx, pydantic or cryptography where the command has no use
for them. No timing here: bench/startup.py measures the time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler_client import claim_build
from crawler_client.cli import main
from crawler_client.cli_support import UsageError

ROOT = Path(__file__).resolve().parents[2]

HEAVY = frozenset(
    {
        "numpy",
        "pyarrow",
        "PIL",
        "pdqhash",
        "iscc_core",
        "ahocorasick",
        "starlette",
        "tortoise",
        "uvicorn",
        "jinja2",
    }
)
"""Not needed by any command below; each costs from a few to hundreds of milliseconds."""

NO_CLIENT = HEAVY | {"httpx"}  # commands that talk to no registry
OFFLINE_NO_SCHEMAS = NO_CLIENT | {"pydantic"}  # ... and validate no document against its model
PARSER_ONLY = OFFLINE_NO_SCHEMAS | {"cryptography", "rfc8785"}  # ... and sign or verify nothing

RUN = """
import json, sys
from crawler_client.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
loaded = sorted({name.split(".")[0] for name in sys.modules})
print("\\n" + json.dumps({"status": status, "loaded": loaded}))
"""


def loaded_by(argv: list[str], cwd: Path) -> tuple[object, set[str]]:
    """Run `kotowari ARGV` in a fresh interpreter: its exit status and the packages it imported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KOTOWARI_REGISTRY", None)
    done = subprocess.run(
        [sys.executable, "-c", RUN, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["status"], set(report["loaded"])


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A key file `k.key` and a claim signed with it, `claim.json`, in `tmp_path`."""
    monkeypatch.chdir(tmp_path)
    assert main(["keys", "new", "--out", "k.key"]) == 0
    assert main([*CLAIM_NEW, "--out", "claim.json"]) == 0
    rows = "kind,url,deny\nwork,https://example.com/a/,train-ai\n"
    (tmp_path / "rows.csv").write_text(rows, encoding="utf-8")
    capsys.readouterr()
    return tmp_path


WINDOW = [
    "--valid-from",
    "2027-01-01T00:00:00Z",
    "--valid-until",
    "2028-01-01T00:00:00Z",
    "--territory",
    "JP",
]
CLAIM_NEW = [
    *("claim", "new", "--key", "k.key", "--kind", "work"),
    *("--url", "https://example.com/art/", "--name", "山田花子", "--deny", "train-ai,generate"),
]


@pytest.mark.parametrize(
    ("argv", "refused"),
    [
        (["--help"], PARSER_ONLY),
        (["claim", "new", "--help"], PARSER_ONLY),
        (["check", "--help"], PARSER_ONLY),
        (["claim", "import", "--help"], PARSER_ONLY),
        (["claim", "list", "--help"], PARSER_ONLY),
        (["claim", "import", "rows.csv", "--key", "k.key", "--dry-run"], NO_CLIENT),
        (["filter", "--help"], PARSER_ONLY),
        (["url", "https://Example.com/a/../b"], PARSER_ONLY),
        (["keys", "new", "--out", "new.key"], OFFLINE_NO_SCHEMAS),
        (["verify", "claim.json"], OFFLINE_NO_SCHEMAS),
        ([*CLAIM_NEW, "--out", "again.json"], OFFLINE_NO_SCHEMAS),
        ([*CLAIM_NEW, *WINDOW, "--title", "題名", "--out", "windowed.json"], OFFLINE_NO_SCHEMAS),
        ([*CLAIM_NEW, "--on-behalf-of", "山田花子", "--authority", "agreement"], NO_CLIENT),
        ([*CLAIM_NEW[:6], "--url", "https://co.jp/", "--deny", "train-ai"], NO_CLIENT),
    ],
    ids=[
        "help",
        "claim-new-help",
        "check-help",
        "claim-import-help",
        "claim-list-help",
        "claim-import-dry-run",
        "filter-help",
        "url",
        "keys-new",
        "verify",
        "claim-new",
        "claim-new-windowed",
        "claim-new-on-behalf",
        "claim-new-refused",
    ],
)
def test_a_light_command_imports_nothing_it_does_not_use(
    signed: Path, argv: list[str], refused: frozenset[str]
) -> None:
    status, loaded = loaded_by(argv, signed)
    assert status == (2 if "https://co.jp/" in argv else 0)
    assert "crawler_client" in loaded and "argparse" in loaded  # the report is the command's own
    assert sorted(loaded & refused) == []


def test_the_cli_tells_a_snapshot_by_the_snapshot_formats_own_magic() -> None:
    from crawler_client import cli
    from registry.snapshot import DELTA_MAGIC, FULL_MAGIC

    assert cli.SNAPSHOT_MAGIC == (FULL_MAGIC, DELTA_MAGIC)


def test_the_packages_export_their_names_on_first_use() -> None:
    import crawler_client
    import crawler_client.audit

    for package in (crawler_client, crawler_client.audit):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
        with pytest.raises(AttributeError):
            package.no_such_name  # noqa: B018


# ---------------------------------------------------------------- claim new without the models
# `claim new` checks the common claims without pydantic (`crawler_client.claim_build`): each check
# may say "accepted" only where the registry's models accept, and otherwise hands the claim to the
# models, so the command accepts and refuses exactly what it did, with the same messages.

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
URLS = [
    "https://example.com/art/",
    "https://Example.com/a/../b",
    "http://www.example.co.jp/a?b=c#d",
    "https://co.jp/",
    "https://github.io/x",
    "https://alice.github.io/",
    "http://localhost/",
    "https://192.0.2.1/x",
    "https://[2001:db8::1]/",
    "https://例え.jp/パス",
    "https://xn--r8jz45g.jp/",
    "ftp://example.com/",
    "example.com",
    "https://",
    "https://a b.com/",
    "https://example.com:99999/",
    "https://user:pw@example.com/",
    "https://ex\udcffample.com/",
    "https://example.com/" + "a" * 8200,
    "",
]
VALUES = {
    "url": URLS,
    "sha256": ["a" * 64, "A" * 64, "g" * 64, "a" * 63, " " + "a" * 64],
    "name": ["山田花子", "Yamada Hanako", "やまだ はなこ", "", " ", "a" * 201, "\udcff", "x\u0000y", "ｶﾀｶﾅ"],
    "isni": ["0000 0001 2103 2683", "0000000121032683", "0000000121032684", "Q42"],
    "wikidata": ["Q42", "q42", "Q0", "Q", "42"],
    "iscc": ["GAAXL2XYM5BQIAZ3", "ISCC:GAAXL2XYM5BQIAZ3", "ISCC:GAAXL2XYM5BQI", "x"],
    "pdq": ["0" * 64, "f" * 64],
}
ODD: list[Any] = [None, 0, 1, 1.5, True, "", "x", [], {}, ["a"], {"a": 1}, "\udcff"]


def texts() -> st.SearchStrategy[str]:
    return st.text(st.characters(codec=None, exclude_categories=()), max_size=20)


def identifiers() -> st.SearchStrategy[Any]:
    scheme = st.sampled_from([*VALUES, "text", "embedding", "bogus"])
    value = st.one_of(
        st.sampled_from([v for vs in VALUES.values() for v in vs]), texts(), st.sampled_from(ODD)
    )
    item = st.builds(lambda s, v: {"scheme": s, "value": v}, scheme, value)
    by_scheme = st.sampled_from([{"scheme": s, "value": v} for s, vs in VALUES.items() for v in vs])
    extra = st.builds(
        lambda i, k, v: {**i, k: v},
        by_scheme,
        st.sampled_from(["quality", "x", "value"]),
        st.sampled_from(ODD),
    )
    return st.one_of(
        by_scheme, by_scheme, st.sampled_from(GOOD_IDENTIFIERS), item, extra, st.sampled_from(ODD)
    )


GOOD_IDENTIFIERS = [
    {"scheme": "url", "value": "https://example.com/art/"},
    {"scheme": "url", "value": "https://Example.com/a/../b"},
    {"scheme": "url", "value": "https://alice.github.io/"},
    {"scheme": "sha256", "value": "A" * 64},
    {"scheme": "name", "value": "山田花子"},
    {"scheme": "isni", "value": "0000 0001 2103 2683"},
    {"scheme": "wikidata", "value": "Q42"},
    {"scheme": "iscc", "value": "GAAXL2XYM5BQIAZ3"},
]


def valid_claims() -> st.SearchStrategy[dict[str, Any]]:
    """Claims as `build_claim` writes them, which the models accept."""
    return st.fixed_dictionaries(
        {
            "type": st.just("Claim"),
            "claimant": st.sampled_from([DID, "did:web:example.com"]),
            "subject": st.fixed_dictionaries(
                {
                    "kind": st.sampled_from(["work", "voice", "likeness"]),
                    "identifiers": st.lists(st.sampled_from(GOOD_IDENTIFIERS), min_size=1, max_size=3),
                },
                optional={"title": st.sampled_from(["t", "a" * 500, "題名"])},
            ),
            "uses": st.dictionaries(
                st.sampled_from(["train-ai", "train-genai", "ai-input", "search", "generate"]),
                st.sampled_from(["n", "y"]),
                min_size=1,
            ),
            "created": st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.5Z"]),
            "nonce": st.sampled_from(["0123456789abcdef", "x" * 128, "_-" * 8]),
        },
        optional={
            "valid_from": st.just("2026-02-01T00:00:00Z"),
            "valid_until": st.just("2026-03-01T00:00:00Z"),
            "territories": st.lists(st.sampled_from(["JP", "US"]), min_size=1, max_size=3),
        },
    )


FIELDS = ["type", "claimant", "subject", "uses", "created", "nonce", "valid_from", "valid_until"]
BAD = {
    "claimant": ["did:web:Example.com", "did:key:x", "did:web:" + "a" * 130 + ".com"],
    "kind": ["person", "Work"],
    "title": ["", "a" * 501, "\udcff"],
    "uses": [{}, {"train": "n"}, {"train-ai": "N"}, {1: "n"}, {"train-ai": None}],
    "created": ["2026-13-01T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00+00:00"],
    "nonce": ["0123456789abcde", "0123456789abcdef\n", "0123456789abcde+", "x" * 129, "\udcff" * 16],
    "valid_from": ["2026-04-01T00:00:00Z", "2026-02-30T00:00:00Z", None, ""],
    "valid_until": ["2026-01-15T00:00:00Z", ""],
    "territories": [[], ["jp"], ["JPN"], [1], "JP", ["JP"] * 301],
    "identifiers": [[], [{"scheme": "url", "value": "https://example.com/"}] * 1001],
}


def claims() -> st.SearchStrategy[Any]:
    """Claims the models accept, and claims near them: a field replaced (by a wrong value, an odd
    one or a value of another field), dropped or added; an identifier replaced by any other."""

    def changed(document: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
        document = {**document, "subject": dict(document["subject"])}
        for _ in range(draw(st.integers(0, 2))):
            where = draw(st.sampled_from(["field", "drop", "add", "subject", "identifier", "bad"]))
            if where == "field":
                document[draw(st.sampled_from(FIELDS))] = draw(st.sampled_from(ODD))
            elif where == "drop" and document:
                document.pop(draw(st.sampled_from(sorted(document))))
            elif where == "add":
                document[draw(st.sampled_from(["extra", "licence", "on_behalf_of", "proof"]))] = draw(
                    st.sampled_from([*ODD, {"contact": "me"}])
                )
            elif where == "subject" and isinstance(document.get("subject"), dict):
                field = draw(st.sampled_from(["kind", "identifiers", "title", "extra"]))
                document["subject"][field] = draw(st.sampled_from([*ODD, *BAD.get(field, [])]))
            elif where == "identifier" and isinstance(document.get("subject"), dict):
                items = list(document["subject"].get("identifiers") or [None])
                items[draw(st.integers(0, len(items) - 1))] = draw(identifiers())
                document["subject"]["identifiers"] = items
            elif where == "bad":
                field = draw(st.sampled_from(sorted(BAD)))
                target = document["subject"] if field in ("kind", "title", "identifiers") else document
                if isinstance(target, dict):
                    target[field] = draw(st.sampled_from(BAD[field]))
        return document

    return st.composite(lambda draw: changed(draw(valid_claims()), draw))()


def reference_validate(document: dict[str, Any]) -> None:
    """`validate_claim` as it was: the registry's models only."""
    from registry.documents import Claim, InvalidDocument, validate_document

    try:
        validate_document(Claim, claim_build.as_if_signed(document))
    except InvalidDocument as exc:
        raise UsageError(claim_build._("the claim would be refused: {detail}").format(detail=exc)) from None


def outcome(function: Any, *args: Any) -> str:
    try:
        function(*args)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "accepted"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=identifiers())
def test_an_identifier_is_accepted_without_the_models_only_where_they_accept_it(item: Any) -> None:
    from registry.schemes import identifier

    if claim_build.identifier_accepted(item):
        identifier(item, filing=True)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=claims())
def test_a_claim_is_accepted_and_refused_as_the_models_do_with_their_messages(document: Any) -> None:
    if claim_build.claim_accepted(document):
        reference_validate(document)  # accepted for sure
    assert outcome(claim_build.validate_claim, document) == outcome(reference_validate, document)


VALID_CLAIM: dict[str, Any] = {
    "type": "Claim",
    "claimant": DID,
    "subject": {"kind": "work", "identifiers": GOOD_IDENTIFIERS, "title": "t"},
    "uses": {"train-ai": "n", "search": "y"},
    "created": "2026-01-01T00:00:00Z",
    "nonce": "0123456789abcdef",
    "valid_from": "2026-02-01T00:00:00Z",
    "valid_until": "2026-03-01T00:00:00Z",
    "territories": ["JP"],
}


@pytest.mark.parametrize(
    ("field", "value"), [(field, value) for field, values in BAD.items() for value in [*values, *ODD]]
)
def test_each_wrong_field_is_refused_as_the_models_refuse_it(field: str, value: Any) -> None:
    document = {**VALID_CLAIM, "subject": dict(VALID_CLAIM["subject"])}
    (document["subject"] if field in ("kind", "title", "identifiers") else document)[field] = value
    assert outcome(claim_build.validate_claim, document) == outcome(reference_validate, document)
    assert outcome(reference_validate, VALID_CLAIM) == "accepted" and claim_build.claim_accepted(VALID_CLAIM)


@pytest.mark.parametrize("item", [{"scheme": s, "value": v} for s, vs in VALUES.items() for v in vs])
def test_each_listed_identifier_is_decided_as_the_models_decide(item: dict[str, Any]) -> None:
    from registry.schemes import identifier

    if claim_build.identifier_accepted(item):
        identifier(item, filing=True)
    document = {**VALID_CLAIM, "subject": {"kind": "work", "identifiers": [item]}}
    assert outcome(claim_build.validate_claim, document) == outcome(reference_validate, document)


def flags(**given_values: Any) -> argparse.Namespace:
    values: dict[str, Any] = {name: None for name in claim_build.CLAIM_VALUES}
    values.update(
        {
            name: []
            for name in (
                "url",
                "sha256",
                "iscc",
                "pdq",
                "isni",
                "wikidata",
                "name",
                "file",
                "embedding",
                "territory",
            )
        }
    )
    values.update(kind="work", deny="train-ai")
    values.update(given_values)
    return argparse.Namespace(**values)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.dictionaries(
        st.sampled_from(sorted(VALUES)),
        st.lists(st.one_of(st.sampled_from([v for vs in VALUES.values() for v in vs]), texts()), max_size=2),
        max_size=3,
    ),
    title=st.sampled_from([None, "t", "a" * 501]),
    territory=st.sampled_from([[], ["JP"], ["jp"]]),
    window=st.sampled_from(
        [
            (None, None),
            ("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
            ("2026-03-01T00:00:00Z", "2026-02-01T00:00:00Z"),
        ]
    ),
)
def test_claim_new_builds_and_refuses_what_the_models_alone_did(
    items: dict[str, list[str]],
    title: str | None,
    territory: list[str],
    window: tuple[str | None, str | None],
) -> None:
    values = flags(**items, title=title, territory=territory, valid_from=window[0], valid_until=window[1])
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def build() -> tuple[str, Any]:
        try:
            return "accepted", claim_build.build_claim(values, DID, now=now, nonce="0123456789abcdef")
        except UsageError as exc:
            return "refused", str(exc)

    fast = build()
    with (
        mock.patch.object(claim_build, "_accepted_items", lambda values: None),
        mock.patch.object(claim_build, "claim_accepted", lambda document: False),
    ):
        assert build() == fast


def test_the_common_claims_take_the_path_without_the_models() -> None:
    document = claim_build.build_claim(
        flags(
            url=["https://example.com/art/"],
            name=["山田花子"],
            sha256=["a" * 64],
            isni=["0000 0001 2103 2683"],
        ),
        DID,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert claim_build.claim_accepted(document)
    assert all(claim_build.identifier_accepted(item) for item in document["subject"]["identifiers"])
    assert not claim_build.identifier_accepted({"scheme": "url", "value": "https://co.jp/"})


ARGPARSE_MESSAGES = [
    "usage: ",
    "options",
    "positional arguments",
    "show this help message and exit",
    "the following arguments are required: %s",
    "invalid choice: %(value)r (choose from %(choices)s)",
    "unrecognized arguments: %s",
    "%(prog)s: error: %(message)s\n",
    "not a message of any catalog",
]


@pytest.mark.parametrize("language", ["", "C", "ja", "ja_JP.UTF-8", "fr"])
def test_argparse_says_its_messages_from_the_catalog_as_gettext_did(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse
    import gettext

    from crawler_client import i18n

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", language)
    i18n.install_argparse()
    assert vars(argparse)["_"] is i18n._
    for message in ARGPARSE_MESSAGES:
        assert vars(argparse)["_"](message) == gettext.gettext(message)
    for count in (0, 1, 2):
        expected = gettext.ngettext("expected %s argument", "expected %s arguments", count)
        assert vars(argparse)["ngettext"]("expected %s argument", "expected %s arguments", count) == expected
    if language.startswith("ja"):
        assert gettext.gettext("usage: ") != "usage: "  # the catalog has argparse's messages
