"""Names and readings: folding, validation, word boundaries, and the Aho–Corasick index checked
against a naive loop over every name."""

from __future__ import annotations

import doctest
import threading
from collections.abc import Hashable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from registry import names
from registry.names import MAX_NAME_CHARS, InvalidName, NameHit, NameIndex, fold, validate_name

# The issue's own claim: one person, three ways of writing their name.
YAMADERA = ("山寺宏一", "やまでら こういち", "Koichi Yamadera")


def index_of(*claims: tuple[str, tuple[str, ...]], **options: int) -> NameIndex[str]:
    index: NameIndex[str] = NameIndex(**options)
    for ref, claim_names in claims:
        for name in claim_names:
            index.add(name, ref)
    return index


def spans(index: NameIndex[str], text: str) -> list[tuple[str, str, str]]:
    """(ref, registered name, text as written) of every hit."""
    return [(hit.ref, hit.name, text[hit.start : hit.end]) for hit in index.find(text)]


def test_doctests() -> None:
    assert doctest.testmod(names, raise_on_error=False).failed == 0


# ---------------------------------------------------------------- folding


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("山寺 宏一", "山寺宏一"),
        ("ヤマデラ コウイチ", "やまでら こういち"),
        ("koichi  YAMADERA", "Koichi Yamadera"),
        ("ＫＯＩＣＨＩ", "koichi"),  # full width, by NFKC
        ("ｺｳｲﾁ", "こういち"),  # half-width katakana, by NFKC, then to hiragana
        ("ﾔﾏﾃﾞﾗ", "やまでら"),  # the half-width voiced mark composes with the kana before it
        ("ヤマテ\u3099ラ", "やまでら"),  # so does the combining one
        ("ヤマデラ・コウイチ", "やまでらこういち"),  # the middle dot is punctuation
        ("ヤマデラ･コウイチ", "やまでらこういち"),  # and so is its half-width form
        ("José", "Jose\u0301"),  # composed or not
        ("Straße", "STRASSE"),  # full case folding
        ("ﬁona", "Fiona"),
        ("Koichi\u200bYamadera\t\n", "koichi yamadera"),  # format and control characters go
        ("山寺　宏一", "山寺宏一"),  # ideographic space
        ("「山寺宏一」!", "山寺宏一"),
    ],
)
def test_fold_equal(a: str, b: str) -> None:
    assert fold(a) == fold(b)


def test_fold_values() -> None:
    assert fold("ヤマデラ コウイチ") == "やまでらこういち"
    assert fold("ラーメン") == "らーめん"  # ー (U+30FC) is kept as it is
    assert fold("ｰ") == "ー"
    assert fold("ヴァ") == "ゔぁ"
    assert fold("ヷ") == "ヷ"  # no hiragana for it
    assert fold("㍻") == "平成"
    assert fold(" ・.,!?'\"-_/\\@#$%^&*()[]{}<>~`|+=;:") == ""
    assert fold("R2-D2") == "r2d2"


def test_fold_positions_map_back() -> None:
    for text in [
        "ＫＯＩＣＨＩ　ｙａｍａｄｅｒａ",
        "ﾔﾏﾃﾞﾗ ｺｳｲﾁ",
        "ﬁ ß ㍻ x",
        "Jose\u0301 e\u0301\u0302 ok",
        "",
    ]:
        folded = names._fold_positions(text)
        assert folded.text == fold(text)
        assert len(folded.starts) == len(folded.text)
        for index in range(len(folded.text)):
            start, end = folded.starts[index], folded.end(index)
            assert 0 <= start < end <= len(text)
            assert folded.text[index] in fold(text[start:end])


# ---------------------------------------------------------------- validation


def test_validate_returns_the_key() -> None:
    assert validate_name("やまでら こういち") == "やまでらこういち"
    assert validate_name("Koichi Yamadera") == "koichiyamadera"
    assert validate_name("x" * MAX_NAME_CHARS) == "x" * MAX_NAME_CHARS


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "\u3000",
        "・",
        "!!!",
        "♪☆",
        "x" * (MAX_NAME_CHARS + 1),
        "山寺\x00宏一",
        "Koichi\nYamadera",
        "Koichi\tYamadera",
        "\x1b[31mKoichi",
        "Koichi\x7f",
        "Koichi\ud800",
    ],
)
def test_invalid_names_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        validate_name(name)
    index: NameIndex[int] = NameIndex()
    with pytest.raises(InvalidName):
        index.add(name, 1)
    assert len(index) == 0
    assert index.find(name) == []


def test_invalid_name_is_a_value_error() -> None:
    assert issubclass(InvalidName, ValueError)


# ---------------------------------------------------------------- the issue's examples


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("山寺 宏一", [("c1", "山寺宏一", "山寺 宏一")]),
        ("ヤマデラ コウイチ", [("c1", "やまでら こういち", "ヤマデラ コウイチ")]),
        ("koichi  YAMADERA", [("c1", "Koichi Yamadera", "koichi  YAMADERA")]),
        ("koichiyamadera", [("c1", "Koichi Yamadera", "koichiyamadera")]),
        ("ＫＯＩＣＨＩ　ＹＡＭＡＤＥＲＡ", [("c1", "Koichi Yamadera", "ＫＯＩＣＨＩ　ＹＡＭＡＤＥＲＡ")]),
        ("ﾔﾏﾃﾞﾗ ｺｳｲﾁ", [("c1", "やまでら こういち", "ﾔﾏﾃﾞﾗ ｺｳｲﾁ")]),
        (
            "A cheerful narration in the voice of Koichi Yamadera, please.",
            [("c1", "Koichi Yamadera", "Koichi Yamadera")],
        ),
        ("山寺宏一さんの声で", [("c1", "山寺宏一", "山寺宏一")]),
        ("声優の山寺宏一", [("c1", "山寺宏一", "山寺宏一")]),
        ("Koichi Yamaderaさんの声で", [("c1", "Koichi Yamadera", "Koichi Yamadera")]),
        ("声優Koichi Yamadera", [("c1", "Koichi Yamadera", "Koichi Yamadera")]),
        ("Yamada", []),
        ("Yamadera", []),
        ("Koichi", []),
        ("mrkoichi yamadera", []),
        ("koichi yamaderas", []),
        ("koichi yamadera2", []),
    ],
)
def test_issue_examples(query: str, expected: list[tuple[str, str, str]]) -> None:
    index = index_of(("c1", YAMADERA))
    assert spans(index, query) == expected


def test_yamada_is_not_found_in_yamadera() -> None:
    index = index_of(("c1", YAMADERA), ("c2", ("Yamada", "山田")))
    assert spans(index, "by Yamadera Koichi") == []
    assert spans(index, "Oyamada and Yamadas") == []
    assert spans(index, "Koichi Yamadera, not Yamada.") == [
        ("c1", "Koichi Yamadera", "Koichi Yamadera"),
        ("c2", "Yamada", "Yamada"),
    ]
    # Japanese has no spaces: a kanji name is found wherever it is written.
    assert spans(index, "小山田さん") == [("c2", "山田", "山田")]


# ---------------------------------------------------------------- word boundaries


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("maintain", []),
        ("said", []),
        ("AIR", []),
        ("Ai2", []),
        ("ﬁ", []),
        ("Ai is here", ["Ai"]),
        ("here is Ai", ["Ai"]),
        ("(Ai)", ["Ai"]),
        ("«Ai»", ["Ai"]),
        ("ＡＩ", ["ＡＩ"]),
        ("AIで歌って", ["AI"]),
        ("歌手Ai", ["Ai"]),
        ("A.I.", ["A.I"]),
        ("Ai_chan", ["Ai"]),  # "_" is punctuation, not a letter
        ("Ai\u0301", []),  # í is not i
        ("e\u0301Ai", []),  # é (e and a combining accent) is a letter before it
        ("\u0301Ai", ["Ai"]),
        ("AiAi", []),
        ("Ai Ai", ["Ai", "Ai"]),
    ],
)
def test_latin_names_need_word_boundaries(text: str, expected: list[str]) -> None:
    index = index_of(("ai", ("Ai",)))
    assert [written for _, _, written in spans(index, text)] == expected


def test_no_boundary_inside_what_one_character_folds_to() -> None:
    index = index_of(("f", ("f",)), ("i", ("i",)), ("fi", ("fi",)), ("heisei", ("平",)))
    assert spans(index, "ﬁ ㍻") == [("fi", "fi", "ﬁ"), ("heisei", "平", "㍻")]
    assert spans(index, "f i") == [("fi", "fi", "f i"), ("f", "f", "f"), ("i", "i", "i")]


def test_boundary_only_where_the_name_is_latin() -> None:
    index = index_of(("c", ("Mikuさん", "ミクchan")))
    assert spans(index, "初音Mikuさんだ") == [("c", "Mikuさん", "Mikuさん")]
    assert spans(index, "xMikuさん") == []
    assert spans(index, "初音ミクchan!") == [("c", "ミクchan", "ミクchan")]
    assert spans(index, "初音ミクchance") == []


def test_letters_in_other_spaced_scripts_are_words() -> None:
    index = index_of(("c", ("Ivan",)), ("k", ("김",)))
    assert spans(index, "Иван Ivan") == [("c", "Ivan", "Ivan")]
    assert spans(index, "ИванIvan") == []
    assert spans(index, "김민수") == []
    assert spans(index, "김 민수") == [("k", "김", "김")]


# ---------------------------------------------------------------- several, overlapping, spans


def test_several_and_overlapping_names() -> None:
    index = index_of(
        ("full", ("山寺宏一", "Koichi Yamadera")),
        ("family", ("山寺", "Yamadera")),
        ("given", ("宏一", "Koichi")),
    )
    text = "山寺宏一と山寺, or Koichi Yamadera and Koichi"
    hits = index.find(text)
    assert [(hit.ref, text[hit.start : hit.end]) for hit in hits] == [
        ("full", "山寺宏一"),
        ("family", "山寺"),
        ("given", "宏一"),
        ("family", "山寺"),
        ("full", "Koichi Yamadera"),
        ("given", "Koichi"),
        ("family", "Yamadera"),
        ("given", "Koichi"),
    ]
    assert hits == sorted(hits, key=lambda hit: (hit.start, hit.start - hit.end))
    assert hits[0] == NameHit("full", "山寺宏一", 0, 4)


def test_spans_are_the_text_as_written() -> None:
    index = index_of(("c1", YAMADERA), ("c2", ("José Carreras",)))
    filler = " lorem ipsum dolor sit amet," * 12 + " "
    pieces = [
        "ヤマデラ　コウイチ",
        "ＫＯＩＣＨＩ　yamadera",
        "山寺・宏一",
        "Jose\u0301 CARRERAS",
        "ﾔﾏﾃﾞﾗ ｺｳｲﾁ",
    ]
    text = filler.join(["", *pieces, ""])
    assert len(text) > 1000
    assert [text[hit.start : hit.end] for hit in index.find(text)] == pieces


def test_ten_kilobyte_prompt() -> None:
    index = index_of(("c1", YAMADERA))
    text = "山寺宏一" + "a quiet voice, " * 700 + "Koichi Yamadera"
    assert len(text) > 10_000
    assert [(hit.start, hit.end) for hit in index.find(text)] == [(0, 4), (len(text) - 15, len(text))]


def test_same_key_twice_for_one_ref_is_one_hit() -> None:
    index = index_of(("c1", ("山寺宏一", "山寺 宏一")), ("c2", ("山寺宏一",)))
    assert len(index) == 3
    assert spans(index, "山寺宏一") == [("c1", "山寺宏一", "山寺宏一"), ("c2", "山寺宏一", "山寺宏一")]


def test_adding_a_pair_twice_changes_nothing() -> None:
    index = index_of(("c1", YAMADERA))
    index.add("山寺宏一", "c1")
    assert len(index) == 3


def test_nothing_to_find() -> None:
    empty: NameIndex[int] = NameIndex()
    assert empty.find("山寺宏一") == []
    index = index_of(("c1", YAMADERA))
    assert index.find("") == []
    assert index.find("・、。!? ") == []


# ---------------------------------------------------------------- updates


def test_remove() -> None:
    index = index_of(("c1", YAMADERA), ("c2", ("山寺",)))
    assert len(index) == 4
    index.remove("c1")
    assert len(index) == 3 - 2
    assert spans(index, "山寺宏一") == [("c2", "山寺", "山寺")]
    index.remove("c1")  # twice, and unknown refs, are ignored
    index.remove("nobody")
    index.add("Koichi Yamadera", "c1")
    assert spans(index, "Koichi Yamadera") == [("c1", "Koichi Yamadera", "Koichi Yamadera")]


def test_remove_across_base_and_recent() -> None:
    index: NameIndex[int] = NameIndex(recent_limit=2)
    for ref in range(10):
        index.add(f"Name {ref}", ref)
    index.add("Koichi Yamadera", 99)
    assert len(index.find("Name 3")) == 1  # builds a base of eleven
    index.add("山寺宏一", 99)  # in the recent automaton
    index.add("Name 3", 99)  # a key the base has already
    assert {hit.ref for hit in index.find("山寺宏一 Koichi Yamadera Name 3")} == {99, 3}
    index.remove(99)
    assert [hit.ref for hit in index.find("山寺宏一 Koichi Yamadera Name 3")] == [3]
    for ref in range(20, 30):  # past the recent limit: the base is rebuilt without 99's keys
        index.add(f"Name {ref}", ref)
    assert [hit.ref for hit in index.find("山寺宏一 Koichi Yamadera Name 3 Name 25")] == [3, 25]
    index.add("山寺宏一", 99)  # back again
    assert [hit.ref for hit in index.find("山寺宏一 Name 3")] == [99, 3]
    assert len(index) == 10 + 10 + 1


def test_every_add_is_seen_by_the_next_find() -> None:
    index: NameIndex[int] = NameIndex()
    for ref in range(300):
        index.add(f"Person{ref} Example", ref)
        assert [hit.ref for hit in index.find(f"voice of person{ref} example!")] == [ref]


def test_adds_from_another_thread() -> None:
    index: NameIndex[int] = NameIndex(recent_limit=16)
    done = threading.Event()

    def filings() -> None:
        for ref in range(2000):
            index.add(f"Filer{ref}", ref)
        done.set()

    thread = threading.Thread(target=filings)
    thread.start()
    while not done.is_set():
        index.find("Filer1 Filer10 Filer100 Filer1000")
    thread.join()
    assert [hit.ref for hit in index.find("Filer1 Filer10 Filer100 Filer1000")] == [1, 10, 100, 1000]


# ---------------------------------------------------------------- against a naive loop over every name


def naive_find(
    registered: list[tuple[str, Hashable]], text: str, *, keys: bool = False
) -> list[tuple[Hashable, str, int, int]]:
    """Every name, one by one, with `str.find` over the folded text and the same boundary rules;
    with `keys`, the names are keys already folded (folding is not idempotent: "u u" folds to "uu",
    and "uu" to "u")."""
    folded = names._fold_positions(text)
    starts, word = folded.starts, names._WORD.__getitem__
    found = []
    for order, (name, ref) in enumerate(registered):
        key = name if keys else fold(name)
        at = folded.text.find(key)
        while at != -1:
            stop = at + len(key)
            start, end = starts[at], folded.end(stop - 1)
            ok = True
            if word(key[0]):
                before = start - 1
                while before > 0 and names._JOINS[text[before]]:
                    before -= 1
                inside = at > 0 and starts[at - 1] == start
                ok = not inside and not (before >= 0 and word(text[before]))
            if ok and word(key[-1]):
                inside = stop < len(starts) and starts[stop] == starts[stop - 1]
                ok = not inside and not (end < len(text) and word(text[end]))
            if ok:
                found.append((start, start - end, order, (ref, name, start, end)))
            at = folded.text.find(key, at + 1)
    found.sort(key=lambda item: item[:3])
    result, seen = [], set()
    for *_, hit in found:
        if (hit[0], hit[2], hit[3]) not in seen:
            seen.add((hit[0], hit[2], hit[3]))
            result.append(hit)
    return result


# Few symbols, so names occur in texts often: Latin (some full width), kana in both forms and half
# width with its voiced mark, kanji, spaces, punctuation, a combining accent, ligatures, digits.
_SYMBOLS = ["a", "i", "A", "Ｉ", "k", "o", "2", " ", "・", "山", "寺", "や", "ヤ", "ｶ", "ﾞ", "か", "が", "ー"]
_TEXT_SYMBOLS = [*_SYMBOLS, "m", "n", ".", "\u0301", "ﬁ", "㍻", "平", "\n", "é", "Ai"]
_names = (
    st.lists(st.sampled_from(_SYMBOLS), min_size=1, max_size=4).map("".join).filter(lambda s: fold(s) != "")
)
_texts = st.lists(st.sampled_from(_TEXT_SYMBOLS), max_size=40).map("".join)
_refs = st.integers(0, 5)
_operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), _names, _refs),
        st.tuples(st.just("remove"), st.just(""), _refs),
        st.tuples(st.just("find"), _texts, st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(_operations, st.sampled_from([1, 2, 3, 1000]))
def test_index_agrees_with_naive_loop(operations: list[tuple[str, str, int]], recent_limit: int) -> None:
    index: NameIndex[int] = NameIndex(recent_limit=recent_limit)
    registered: list[tuple[str, Hashable]] = []
    for operation, value, ref in operations:
        if operation == "add":
            index.add(value, ref)
            if (value, ref) not in registered:
                registered.append((value, ref))
        elif operation == "remove":
            index.remove(ref)
            registered = [(name, held) for name, held in registered if held != ref]
        else:
            hits = index.find(value)
            assert [(hit.ref, hit.name, hit.start, hit.end) for hit in hits] == naive_find(registered, value)
            for hit in hits:
                assert fold(hit.name) in fold(value[hit.start : hit.end])
        assert len(index) == len(registered)


@settings(max_examples=200, deadline=None)
@given(st.lists(_names, min_size=1, max_size=30, unique=True), _texts, st.data())
def test_inserted_names_are_found_where_they_were_put(
    registered: list[str], filler: str, data: st.DataObject
) -> None:
    index: NameIndex[int] = NameIndex(recent_limit=4)
    for ref, name in enumerate(registered):
        index.add(name, ref)
    ref = data.draw(st.integers(0, len(registered) - 1))
    text = f"{filler} {registered[ref]} {filler}"
    # Romaji long vowels fold across a space too (oo, ou, uu: `_long_vowels_folded`), so a name
    # whose first letter lengthens the filler's last (or the filler's first, the name's last) merges.
    assume(fold(text) == fold(filler) + fold(registered[ref]) + fold(filler))
    start = len(filler) + 1
    expected = naive_find(list(zip(registered, range(len(registered)), strict=True)), text)
    assert [(hit.ref, hit.name, hit.start, hit.end) for hit in index.find(text)] == expected
    # Spaces around it are boundaries, so the name itself is found where it was put, as written.
    name = registered[ref]
    lead = len(name) - len(name.lstrip(" ・"))
    trail = len(name) - len(name.rstrip(" ・"))
    if not names._JOINS[name[lead]]:  # else it joins with the character before it, as in fold()
        assert (ref, name, start + lead, start + len(name) - trail) in expected
