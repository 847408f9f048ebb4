"""Part 6, the portal's words: one glossary (api/glossary.py), applied to every Japanese string of the
catalog (api/copy): the glossary's word wherever the English names its concept, none of the banned
variants anywhere, 登録 only for operators registering, です・ます in every sentence; every regime's
requirements, every notice state, step and party said in both languages; no words outside the
catalog (templates and scripts carry none of their own)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import api as api_package
from api.copy import CATALOG, PARTS
from api.glossary import GLOSSARY, POLITE_ENDINGS
from api.i18n import client_strings
from registry.notices.documents import REQUESTED_ACTIONS, REQUIREMENTS, RESPONSE_ACTIONS, STATEMENT_KEYS
from registry.notices.lifecycle import STATES
from registry.notices.vocabulary import REGIMES
from registry.vocabulary import USES

API = Path(api_package.__file__).parent
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")


def test_every_entry_exists_in_both_languages_and_keys_are_unique() -> None:
    assert sum(len(part) for part in PARTS) == len(CATALOG)
    for key, (japanese, english) in CATALOG.items():
        assert japanese.strip() and english.strip(), key
        assert not CJK.search(english) or key.startswith("lang."), (key, english)


@pytest.mark.parametrize("entry", GLOSSARY, ids=[entry.concept for entry in GLOSSARY])
def test_the_glossary_word_is_used_wherever_the_english_names_the_concept(entry: object) -> None:
    from api.glossary import Term

    assert isinstance(entry, Term)
    if entry.en_pattern is None:
        return
    pattern = re.compile(entry.en_pattern)
    misses = [
        (key, japanese)
        for key, (japanese, english) in CATALOG.items()
        if pattern.search(english) and entry.ja not in japanese
    ]
    assert not misses, f"{entry.concept}: {entry.ja!r} missing in {misses}"


def test_no_banned_variant_appears_in_any_japanese_string() -> None:
    found = [
        (key, variant)
        for key, (japanese, _) in CATALOG.items()
        for entry in GLOSSARY
        for variant in entry.banned
        if variant in japanese
    ]
    assert not found


def test_kyohi_is_never_used_and_toroku_only_for_operators() -> None:
    """拒否 never (reserving is 留保; an operator not acting is 措置しない); 登録 only for operators
    registering to receive notices."""
    for key, (japanese, _) in CATALOG.items():
        assert "拒否" not in japanese, key
        if "登録" in japanese:
            about_operators = key.startswith(("operator.", "record.", "ranking.", "stats."))
            assert "事業者" in japanese or about_operators, (key, japanese)


def _sentences(text: str) -> list[str]:
    """The sentences of `text` that end in 。 (a 。 inside brackets ends none)."""
    while re.search(r"（[^（）]*）|\([^()]*\)", text):
        text = re.sub(r"（[^（）]*）|\([^()]*\)", "", text)
    return [part for part in text.split("。")[:-1] if part.strip()]


def test_every_japanese_sentence_is_in_desu_masu_form() -> None:
    impolite = []
    for key, (japanese, _) in CATALOG.items():
        for sentence in _sentences(japanese):
            bare = re.sub(r"[（(][^（）()]*[）)]$", "", sentence.strip()).rstrip("」』）)")
            if not bare.endswith(POLITE_ENDINGS):
                impolite.append((key, sentence))
    assert not impolite


def test_what_the_pages_name_is_said_in_both_languages() -> None:
    wanted = [f"req.{regime}.{pointer}" for regime in REGIMES for pointer, _, _ in REQUIREMENTS[regime]]
    wanted += [f"state.{state}" for state in STATES]
    wanted += [f"event.{action}" for action in RESPONSE_ACTIONS]
    wanted += [f"party.{party}" for party in ("notifier", "operator", "registry")]
    wanted += [f"regime.{regime}" for regime in REGIMES]
    wanted += [f"action.{action}" for action in REQUESTED_ACTIONS]
    wanted += [f"statement.{key}" for key in STATEMENT_KEYS]
    wanted += [f"use.{use}" for use in USES] + [f"usehelp.{use}" for use in USES]
    missing = [key for key in wanted if key not in CATALOG]
    assert not missing


def test_requirement_lists_are_japanese_in_japanese() -> None:
    """The DMCA and DSA lists were English-only in the Japanese pages."""
    for regime in ("dmca", "dsa", "no-fakes"):
        for pointer, reason, _ in REQUIREMENTS[regime]:
            japanese, english = CATALOG[f"req.{regime}.{pointer}"]
            assert CJK.search(japanese) and japanese != reason and english


def test_templates_and_scripts_carry_no_words_of_their_own() -> None:
    for template in sorted((API / "templates").glob("*.html")):
        text = re.sub(r"\{[{%#].*?[}%#]\}", "", template.read_text(encoding="utf-8"), flags=re.S)
        text = text.replace(">日本語<", "><")  # the language switch names the language in itself
        words = [match for match in CJK.findall(text) if match not in "、（）："]
        assert not words, (template.name, "".join(words))
    for script in sorted((API / "static" / "js").glob("*.js")):
        assert not re.search(r"[\u3040-\u30ff\u3400-\u9fff]", script.read_text(encoding="utf-8")), script.name


def test_what_scripts_say_is_sent_with_the_page() -> None:
    for lang in ("ja", "en"):
        strings = client_strings(lang)
        for key in (
            "err.key_needed",
            "err.type.network",
            "confirm.replace",
            "key.error.not_json",
            "state.filed",
        ):
            assert key in strings, key
        assert all(not key.startswith(("nav.", "home.")) for key in strings)
