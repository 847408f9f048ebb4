"""The guard's name matcher: the boundary rule, romanisation variants and name order, and the one
automaton checked against a loop over every name (`naive_find`, the registry's own reference) and
against the registry's `NameIndex`."""

from __future__ import annotations

import doctest
from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler_client import guard_names
from crawler_client.guard_names import EXACT, ORDER, ROMANISED, NameMatcher, loose_keys, loose_source
from registry.names import NameIndex, fold
from tests.registry.test_names import naive_find


def found(matcher: NameMatcher, text: str) -> list[tuple[str, str | None, str]]:
    """(registered name, variant, text as written) of every hit."""
    return [(hit.name, hit.variant, text[hit.start : hit.end]) for hit in matcher.find(text)]


def test_doctests() -> None:
    assert doctest.testmod(guard_names, raise_on_error=False).failed == 0


@pytest.mark.parametrize(
    "written",
    ["Kōichi", "Koichi", "Kouichi", "Kôichi", "KOUICHI", "Kooichi", "Ko\u0304ichi", "ＫＯＵＩＣＨＩ"],
)
@pytest.mark.parametrize("registered", ["Kōichi", "Koichi", "Kouichi", "Kôichi"])
def test_long_vowels_with_and_without_macrons_are_one_spelling(registered: str, written: str) -> None:
    hits = found(NameMatcher([(0, registered)]), f"in the voice of {written}, please")
    assert len(hits) == 1 and hits[0][2] == written
    exact = fold(registered) == fold(written)
    assert hits[0][1] == (None if exact else "romanisation")


@pytest.mark.parametrize(
    ("registered", "text", "expected"),
    [
        ("Anna", "a walk in Annapolis", []),  # a Latin name ends at a word boundary
        ("Anna", "Hannah and Joanna", []),  # and starts at one
        ("Anna", "Anna's song, ANNA, Ａｎｎａ", ["Anna", "ANNA", "Ａｎｎａ"]),
        ("Ai", "maintain the AI model", ["AI"]),
        ("Ōno", "Ohno and Oono and Ono, not Onomatopoeia", ["Ohno", "Oono", "Ono"]),
        ("Dvořák", "DVORAK and Dvorák but not Dvoraks", ["DVORAK", "Dvorák"]),
        ("山寺宏一", "声優山寺宏一さん", ["山寺宏一"]),  # kanji anywhere
        ("やまでら こういち", "ﾔﾏﾃﾞﾗｺｳｲﾁの声", ["ﾔﾏﾃﾞﾗｺｳｲﾁ"]),  # kana in any width and form
        (
            "Koichi Yamadera",
            "声優Koichi Yamaderaさん",
            ["Koichi Yamadera"],
        ),  # kanji next to Latin: a boundary
        ("Koichi Yamadera", "koichi yamaderas", []),
        ("Yuuki Aoi", "Yūki Aoi and Yuki Aoi", ["Yūki Aoi", "Yuki Aoi"]),
    ],
)
def test_the_boundary_rule_and_variants(registered: str, text: str, expected: list[str]) -> None:
    assert [written for _, _, written in found(NameMatcher([(0, registered)]), text)] == expected


def test_words_that_are_not_romaji_keep_their_long_vowels() -> None:
    """Whatever the registry's folding makes of "Louis", the guard's variants add nothing to it."""
    for registered, text in (("Lois Lane", "Louis Lane"), ("Mor Ahn", "Moor Ahn")):
        assert found(NameMatcher([(0, registered)]), text) == found(
            NameMatcher([(0, registered)], variants=False), text
        )
    assert found(NameMatcher([(0, "Nimi Kana")]), "NIIMI KAANA") == [
        ("Nimi Kana", "romanisation", "NIIMI KAANA")
    ]


def test_two_word_latin_names_are_found_in_the_other_order_only_as_variants() -> None:
    matcher = NameMatcher([(0, "Kōichi Yamadera"), (1, "山寺 宏一"), (2, "김 민준")])
    assert found(matcher, "Yamadera Kouichi") == [("Kōichi Yamadera", "order", "Yamadera Kouichi")]
    assert found(matcher, "宏一 山寺 민준 김") == []  # names without spaces between words keep their order
    assert found(NameMatcher([(0, "Kōichi Yamadera")], variants=False), "Yamadera Kouichi") == []


def test_an_exact_match_hides_a_variant_of_the_same_name_at_the_same_place() -> None:
    matcher = NameMatcher([(0, "Jose"), (0, "José")])
    assert found(matcher, "José") == [("José", None, "José"), ("Jose", "romanisation", "José")]
    assert found(matcher, "Jose") == [("Jose", None, "Jose"), ("José", "romanisation", "Jose")]


def test_keys_say_how_they_were_made() -> None:
    made = loose_keys("Kōichi Yamadera")
    assert [key for key, how in made if how & EXACT] == [fold("Kōichi Yamadera")]  # the registry's own
    assert [key for key, how in made if how & ROMANISED] == ["koichiyamadera"]
    assert [key for key, how in made if how & ORDER] == ["yamaderakoichi"]
    assert dict(loose_keys("Anna")) == {"anna": EXACT | ROMANISED}
    assert dict(loose_keys("山寺宏一")) == {"山寺宏一": EXACT}
    assert loose_keys("・・") == []


def test_positions_of_a_loosened_text_map_back_to_the_text_as_written() -> None:
    text = "voice of Dvor\u030cák and NIIMI!"
    loose = loose_source(text)
    assert loose.changed and loose.text == "voice of dvorak and nimi!"
    assert text[slice(*loose.source(9, 15))] == "Dvor\u030cák"
    assert text[slice(*loose.source(20, 24))] == "NIIMI"
    assert not loose_source("plain English, 山寺").changed


def test_an_empty_matcher_finds_nothing() -> None:
    assert NameMatcher([]).find("Koichi") == []
    assert NameMatcher([(0, "・")]).find("・") == []


# ---------------------------------------------------------------- against the reference


def reference(
    pairs: list[tuple[int, str]], text: str, variants: bool
) -> list[tuple[int, int, int, str | None]]:
    """Every name one by one: its exact key by `naive_find` over the text, its variant keys over the
    loosened text; an exact hit hides a variant hit of the same name at the same place."""
    exact = naive_find([(name, position) for position, (_, name) in enumerate(pairs)], text)
    hits: list[tuple[int, int, int, str | None]] = [(ref, start, end, None) for ref, _, start, end in exact]
    if variants:
        loose = loose_source(text)
        keyed: list[tuple[str, Hashable]] = []
        for position, (_, name) in enumerate(pairs):
            for key, how in loose_keys(name):
                if how & (ROMANISED | ORDER):
                    keyed.append((key, (position, "romanisation" if how & ROMANISED else "order")))
        for (position, variant), _, start, end in naive_find(keyed, loose.text, keys=True):
            hits.append((position, *loose.source(start, end), variant))
    hits.sort(key=lambda hit: (hit[1], hit[1] - hit[2], hit[3] or "", hit[0]))
    unique, seen = [], set()
    for hit in hits:
        if hit[:3] not in seen:
            seen.add(hit[:3])
            unique.append(hit)
    return unique


_SYMBOLS = list("aiuokKōÔhy ・山寺やヤｶﾞー")  # few, so that names occur in texts often
_TEXT_SYMBOLS = [*_SYMBOLS, "A", "Ｏ", "n", "ou", "oo", "\u0304", ".", "é", "l", "2", "\n"]
_names = (
    st.lists(st.sampled_from(_SYMBOLS), min_size=1, max_size=6).map("".join).filter(lambda s: fold(s) != "")
)
_fillers = st.lists(st.sampled_from(_TEXT_SYMBOLS), max_size=12).map("".join)


def _as_written(name: str, how: int) -> str:
    """A registered name as a prompt might write it."""
    if how == 1:
        return name.upper()
    if how == 2:
        return name.replace("ō", "ou").replace("Ô", "OO")
    if how == 3 and " " in name.strip():
        first, _, rest = name.strip().partition(" ")
        return f"{rest} {first}"
    return name


@st.composite
def _prompts(draw: st.DrawFn, registered: list[str]) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 5))):
        pieces.append(draw(_fillers))
        if registered and draw(st.booleans()):
            pieces.append(_as_written(draw(st.sampled_from(registered)), draw(st.integers(0, 3))))
    return draw(st.sampled_from(["", " "])).join(pieces)


@settings(max_examples=300, deadline=None)
@given(st.lists(_names, min_size=1, max_size=25), st.data(), st.booleans())
def test_the_automaton_agrees_with_a_loop_over_every_name(
    registered: list[str], data: st.DataObject, variants: bool
) -> None:
    pairs = [(ordinal // 2, name) for ordinal, name in enumerate(registered)]  # two names per claim
    matcher = NameMatcher(pairs, variants=variants)
    for _ in range(3):
        text = data.draw(_prompts(registered))
        hits = matcher.find(text)
        assert [(hit.position, hit.start, hit.end, hit.variant) for hit in hits] == reference(
            pairs, text, variants
        )
        assert [(hit.ordinal, hit.name) for hit in hits] == [pairs[hit.position] for hit in hits]


@settings(max_examples=200, deadline=None)
@given(st.lists(_names, min_size=1, max_size=25, unique=True), st.data())
def test_exact_matches_are_the_registry_index_s(registered: list[str], data: st.DataObject) -> None:
    index: NameIndex[int] = NameIndex()
    for position, name in enumerate(registered):
        index.add(name, position)
    matcher = NameMatcher(list(enumerate(registered)))
    for _ in range(3):
        text = data.draw(_prompts(registered))
        exact = [(hit.position, hit.start, hit.end) for hit in matcher.find(text) if hit.variant is None]
        assert sorted(exact) == sorted((hit.ref, hit.start, hit.end) for hit in index.find(text))
