"""The registry's problem catalog (registry/locale/ja/LC_MESSAGES/kotowari-registry.po) is complete and
agrees with the code, and `registry.problem_text` says a finished English sentence in Japanese: exactly,
through its template, with nested sentences translated and values (URLs, DIDs, ids) kept."""

from __future__ import annotations

import re
import shutil
import string
import subprocess
from pathlib import Path

import pytest

from registry import problem_text
from registry.po_files import compile_mo, parse_po, read_mo
from registry.problem_catalog import LOCALES, extract, template_of
from registry.problem_text import Catalog, localise, localise_problem, negotiate

PO = LOCALES / "ja" / "LC_MESSAGES" / "kotowari-registry.po"
ENTRIES = [entry for entry in parse_po(PO.read_text(encoding="utf-8")) if entry.msgid]
BY_ID = {entry.msgid: entry for entry in ENTRIES}
MESSAGES, DYNAMIC = extract()


def placeholders(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conversion in string.Formatter().parse(text) if name}


# ---------------------------------------------------------------- the catalog and the code


def test_every_problem_text_of_the_code_is_in_the_catalog_and_translated() -> None:
    missing = [message.msgid for message in MESSAGES if message.msgid not in BY_ID]
    assert missing == [], "python -m registry.problem_catalog --update, then translate"
    assert [entry.msgid for entry in ENTRIES if not entry.translated] == []
    assert len(ENTRIES) > 700  # every refusal of registry/, api/ and keys/, pydantic's, Python's


def test_the_catalog_holds_nothing_the_code_no_longer_says() -> None:
    assert sorted(set(BY_ID) - {message.msgid for message in MESSAGES}) == []


def test_placeholders_are_the_same_in_both_languages() -> None:
    wrong = []
    for entry in ENTRIES:
        if placeholders(entry.msgid) != placeholders(entry.msgstr[0]):
            wrong.append((entry.msgid, entry.msgstr[0]))
    assert wrong == []


def test_the_committed_mo_is_the_po_compiled() -> None:
    mo = PO.with_suffix(".mo").read_bytes()
    assert mo == compile_mo(parse_po(PO.read_text(encoding="utf-8"))), "python -m registry.problem_catalog"
    assert read_mo(mo)["Not found"] == "見つかりません"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_gnu_msgfmt_accepts_the_po(tmp_path: Path) -> None:
    done = subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "o.mo"), str(PO)], capture_output=True)
    assert done.returncode == 0, done.stderr


def test_the_japanese_avoids_the_glossary_s_banned_words_and_is_polite() -> None:
    from api.glossary import GLOSSARY, POLITE_ENDINGS

    wrong = []
    for entry in ENTRIES:
        text = entry.msgstr[0]
        wrong += [(entry.msgid, banned) for term in GLOSSARY for banned in term.banned if banned in text]
        for sentence in text.split("。")[:-1]:
            core = re.sub(r"(（[^（）]*）|\([^()]*\)|[」』\"'])+$", "", sentence.strip())
            if core and not core.endswith(POLITE_ENDINGS):
                wrong.append((entry.msgid, sentence))
    assert wrong == []


def test_extraction_reads_f_strings_as_templates() -> None:
    import ast

    node = ast.parse('f"invalid URL: {exc}, not {x.y!r} {{literal}}"').body[0]
    assert isinstance(node, ast.Expr)
    assert template_of(node.value) == "invalid URL: {exc}, not {x_y} {{literal}}"
    assert "invalid URL: {exc}" in BY_ID and "unknown use {name}: expected one of {join_USES}" in BY_ID


# ---------------------------------------------------------------- saying a sentence


def test_english_is_the_default_and_japanese_must_be_preferred() -> None:
    assert negotiate(None) == negotiate("") == negotiate("*") == "en"
    assert negotiate("ja") == negotiate("ja-JP") == negotiate("en;q=0.5, ja") == "ja"
    assert negotiate("en, ja") == negotiate("ja;q=0") == negotiate("de, fr") == "en"
    assert negotiate("ja;q=0.8, en;q=0.8") == "ja"  # a tie: the first named
    assert negotiate(";;, q=, ja;q=abc") == "en"  # unreadable qualities count as 0
    assert localise("Not found", "en") == "Not found" and localise("Not found", "fr") == "Not found"


def test_a_sentence_is_matched_through_its_template_and_keeps_its_values() -> None:
    assert localise("unknown kind sculpture: expected one of work, voice, likeness", "ja") == (
        "不明な種類 sculpture です: work, voice, likeness のいずれかにしてください"
    )
    assert localise("invalid URL: no host: expected '//' after 'ftp:'", "ja") == (
        "URL が不正です: ホストがありません: 'ftp:' の後に '//' が必要です"
    )


def test_a_reason_at_a_pointer_wraps_the_reason_and_lists_are_japanese() -> None:
    assert localise("Input should be 'work', 'voice' or 'likeness' at /subject/kind (and 2 more)", "ja") == (
        "'work'、'voice'、'likeness' のいずれかにしてください（/subject/kind の箇所、ほか 2 件）"
    )
    assert localise("Field required", "ja") == "必須のフィールドです"
    assert localise("String should have at least 1 character", "ja") == "少なくとも 1 文字にしてください"
    assert localise("String should have at most 9 characters", "ja") == "最大 9 文字にしてください"  # no "s"


def test_adjacent_placeholders_divide_where_a_known_text_begins() -> None:
    catalog = Catalog({"cannot reach {host}: {error}{tries}": "{host} に接続できません: {error}{tries}",
                       " ({n} attempts)": "（{n} 回試行）"})  # fmt: skip
    assert catalog.text("cannot reach x: refused (4 attempts)") == "x に接続できません: refused（4 回試行）"
    assert catalog.text("cannot reach x: refused") == "x に接続できません: refused"


def test_what_no_entry_fits_stays_english_and_parts_are_said_alone() -> None:
    assert localise("a sentence nobody wrote", "ja") == "a sentence nobody wrote"
    assert localise("some part: invalid URL: no host; Field required", "ja") == (
        "some part: URL が不正です: ホストがありません; 必須のフィールドです"
    )


def test_a_problem_body_changes_only_its_texts() -> None:
    body = {
        "type": "https://kotowari.dev/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no claim with id abc",
        "instance": "/v1/claims/abc",
        "errors": [{"pointer": "/id", "detail": "Field required"}, "not an object"],
    }
    said = localise_problem(body, "ja")
    assert said == {
        **body,
        "title": "見つかりません",
        "detail": "ID abc の留保はありません",
        "errors": [{"pointer": "/id", "detail": "必須のフィールドです"}, "not an object"],
    }
    assert localise_problem(body, "en") == body


def test_a_missing_catalog_means_english(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    problem_text.catalog.cache_clear()
    monkeypatch.setattr(problem_text, "LOCALE_DIR", tmp_path)
    try:
        assert localise("Not found", "ja") == "Not found"
    finally:
        problem_text.catalog.cache_clear()
