"""The command line's Japanese catalog is the one source of its Japanese: every msgid the code uses is
in it and translated, placeholders agree, the committed .mo is the .po compiled, and the Japanese is
written in the portal's glossary (api/glossary.py), in です・ます. The language follows the locale
as gettext orders it; times are shown in the local time zone with their offset."""

from __future__ import annotations

import re
import shutil
import string
import subprocess
import time
from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest

from crawler_client import i18n
from crawler_client.i18n_build import Entry, compile_mo, extract, parse_po

PO = Path(i18n.LOCALE_DIR) / "ja" / "LC_MESSAGES" / "kotowari.po"
MO = PO.with_suffix(".mo")
ENTRIES = [entry for entry in parse_po(PO.read_text(encoding="utf-8")) if entry.msgid]
BY_ID = {entry.msgid: entry for entry in ENTRIES}
MESSAGES, DYNAMIC = extract()

ARGPARSE_INTERNAL = {
    ".__call__() not defined",
    "cannot merge actions - two groups are named %r",
    "'required' is an invalid argument for positionals",
    "dest= is required for options like %r",
    "invalid conflict_resolution value: %r",
    "mutually exclusive arguments must be optional",
    "cannot have multiple subparser arguments",
    "%r is not callable",
}
"""argparse's messages to programmers (a parser built wrongly), never shown to a person using it."""


# ---------------------------------------------------------------- the catalog and the code


def test_every_msgid_the_code_uses_is_in_the_catalog_and_translated() -> None:
    missing = [message.msgid for message in MESSAGES if message.msgid not in BY_ID]
    untranslated = [entry.msgid for entry in ENTRIES if not entry.translated]
    assert missing == [], "run python -m crawler_client.i18n_build --update, then translate"
    assert untranslated == []


def test_the_catalog_holds_no_msgid_the_code_no_longer_uses() -> None:
    used = {message.msgid for message in MESSAGES}
    assert sorted(set(BY_ID) - used) == []


def test_argparse_s_own_messages_are_translated() -> None:
    shown = [message for message in MESSAGES if message.places[0].startswith("argparse:")]
    assert {
        "usage: ",
        "the following arguments are required: %s",
        "invalid choice: %(value)r (choose from %(choices)s)",
    } <= {message.msgid for message in shown}
    for message in shown:
        if message.msgid not in ARGPARSE_INTERNAL:
            assert BY_ID[message.msgid].translated, message.msgid


def test_the_committed_mo_is_the_po_compiled() -> None:
    assert MO.read_bytes() == compile_mo(parse_po(PO.read_text(encoding="utf-8"))), (
        "python -m crawler_client.i18n_build"
    )


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_gnu_msgfmt_accepts_the_po_and_its_format_strings(tmp_path: Path) -> None:
    done = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "out.mo"), str(PO)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def _brace_fields(text: str) -> list[tuple[str, str, str]]:
    return sorted(
        (name, spec or "", conversion or "")
        for _, name, spec, conversion in string.Formatter().parse(text)
        if name is not None
    )


_PERCENT = re.compile(r"%(?:\([a-z_]+\))?[-#0 +]*\d*(?:\.\d+)?[sdrif%]")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.msgid[:40])
def test_placeholders_match_between_msgid_and_msgstr(entry: Entry) -> None:
    for form in entry.msgstr:
        assert _brace_fields(form) == _brace_fields(entry.msgid)
        assert sorted(_PERCENT.findall(form)) == sorted(_PERCENT.findall(entry.msgid))
        assert form.endswith("\n") == entry.msgid.endswith("\n")


def test_translations_outside_the_code_are_only_marked_constants() -> None:
    """`_(variable)` translates a value marked with `N_()` elsewhere; these are the places that do."""
    modules = sorted({place.split(":")[0] for place in DYNAMIC})
    assert set(modules) <= {
        "crawler_client/authority_cli.py",
        "crawler_client/audit_cli.py",
        "crawler_client/claim_import.py",
        "crawler_client/cli.py",
        "crawler_client/cli_messages.py",
        "crawler_client/items.py",
        "crawler_client/policy_cli.py",
    }, modules


def test_no_function_that_translates_rebinds_the_underscore() -> None:
    """`checkpoint, _, leaf = …` in a module that imports `_` makes every `_()` in that function an
    UnboundLocalError: name the value instead."""
    import ast

    package = Path(i18n.__file__).parent
    rebinding = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(
            isinstance(n, ast.ImportFrom) and n.module == "crawler_client.i18n" for n in ast.walk(tree)
        ):
            continue
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                targets: list[ast.expr] = []
                if isinstance(node, ast.Assign):
                    targets = node.targets
                elif isinstance(node, ast.For | ast.AsyncFor):
                    targets = [node.target]
                elif isinstance(node, ast.With):
                    targets = [item.optional_vars for item in node.items if item.optional_vars]
                names = [n for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and n.id == "_"]
                rebinding += [f"{path.name}:{node.lineno}" for _name in names]
    assert rebinding == []


# ---------------------------------------------------------------- the glossary

_NOT_WORDS = [
    re.compile(r"\{[^}]*\}"),  # placeholders
    re.compile(r"%(?:\([a-z_]+\))?[sr]"),
    re.compile(r"`[^`]*`"),  # code
    re.compile(r"kotowari(?: [a-z][a-z-]*)+"),  # a command line
    re.compile(r"--[a-z][a-z0-9-]*"),  # flags
    re.compile(r"\$[A-Z_]+"),  # environment variables
    re.compile(r"JSON keys?"),  # a JSON object's keys, not signing keys
    re.compile(r"\b[A-Z][A-Z_]+\b"),  # metavars: FILE, CLAIM, OTHER
]


def _words(msgid: str) -> str:
    for pattern in _NOT_WORDS:
        msgid = pattern.sub(" ", msgid)
    return msgid


def test_the_japanese_uses_the_glossary_s_words_and_none_of_its_banned_ones() -> None:
    from api.glossary import GLOSSARY

    wrong = []
    for entry in ENTRIES:
        english = _words(entry.msgid)
        for form in entry.msgstr:
            for term in GLOSSARY:
                wrong += [(entry.msgid, term.concept, banned) for banned in term.banned if banned in form]
                if term.en_pattern and re.search(term.en_pattern, english) and term.ja not in form:
                    wrong.append((entry.msgid, term.concept, f"lacks {term.ja}"))
    assert wrong == []


def test_sentences_are_in_desu_masu() -> None:
    from api.glossary import POLITE_ENDINGS

    plain = []
    for entry in ENTRIES:
        for form in entry.msgstr:
            for sentence in form.split("。")[:-1]:
                core = re.sub(r"(（[^（）]*）|\([^()]*\)|[」』\"'])+$", "", sentence.strip())
                if core and not core.endswith(POLITE_ENDINGS):  # empty: a part that ends a sentence
                    plain.append((entry.msgid, sentence))
    assert plain == []


def test_the_catalog_keeps_the_names_the_uses_have_on_the_portal() -> None:
    """`kotowari --deny` names uses as the portal does (api/copy): the Japanese names the command
    line accepts begin with the portal's own."""
    from api.copy import CATALOG
    from registry.vocabulary import JAPANESE_NAMES

    for use, names in JAPANESE_NAMES.items():
        assert names[0] == CATALOG[f"use.{use}"][0]


# ---------------------------------------------------------------- choosing the language


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "ja"}, "ja"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),  # no French catalog: English
        ({}, "en"),
        ({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}, "en"),  # LC_ALL comes first
        ({"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "C"}, "ja"),  # then LC_MESSAGES
        ({"LC_ALL": "ja_JP.UTF-8", "LC_MESSAGES": "C"}, "ja"),
        ({"LANGUAGE": "ja:en", "LANG": "en_US.UTF-8"}, "ja"),  # gettext reads LANGUAGE before them all
    ],
)
def test_the_language_follows_the_locale_as_gettext_orders_it(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], language: str
) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert i18n.language() == language
    said = i18n._("withdrew {id}").format(id="x")
    assert said == ("x を取り下げました" if language == "ja" else "withdrew x")


# ---------------------------------------------------------------- times


def test_times_are_shown_in_the_local_zone_with_the_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        i18n.local_time("2026-04-01T00:00:00Z", zone=timezone(timedelta(hours=9)))
        == "2026-04-01 09:00:00 +09:00"
    )
    assert i18n.local_time("2026-04-01T00:00:00.5Z", zone=UTC) == "2026-04-01 00:00:00.5 +00:00"
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert i18n.local_time("2026-07-01T12:00:00Z") == "2026-07-01 08:00:00 -04:00"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    for odd in (None, "", "soon", "2026-04-01T00:00:00"):  # not an RFC 3339 time with a zone: as it is
        assert i18n.local_time(odd) == ("" if odd is None else odd)
