"""`_long_vowels_folded` looks only at words that hold a long vowel; this checks it against the
plain pass over every character it replaced (kept here as the reference), positions included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from registry import names
from registry.names import ROMAJI_WORD, fold_with_positions


def reference(folded: names.FoldedText) -> tuple[str, list[int], list[int]]:
    """Every character visited: words are runs of ASCII letters adjacent in the source; a romaji
    word's o+o/u/h (h only where it closes the syllable) and u+u merge into the first letter."""
    text, starts = folded.text, folded.starts
    romaji = [False] * len(text)
    first = 0
    for index in range(1, len(text) + 1):
        if (
            index == len(text)
            or starts[index] != folded.end(index - 1)
            or names._ascii_letter(text[index]) != names._ascii_letter(text[index - 1])
        ):
            word = text[first:index]
            if all(map(names._ascii_letter, word)) and ROMAJI_WORD.fullmatch(word):
                romaji[first:index] = [True] * (index - first)
            first = index
    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    for index, char in enumerate(text):
        start, end = starts[index], folded.end(index)
        if out and romaji[index] and start == out_ends[-1] and romaji[index - 1]:
            last = out[-1]
            if char in names._EXTENDS.get(last, "") or (
                last == "o" and char == "h" and names._closes(folded, index)
            ):
                out_ends[-1] = max(out_ends[-1], end)
                continue
        out.append(char)
        out_starts.append(start)
        out_ends.append(end)
    return "".join(out), out_starts, out_ends


def unfolded(text: str) -> names.FoldedText:
    """`text` folded as `_fold_positions` does, up to (not including) the long vowels."""
    saved = names._LONG_VOWEL
    names._LONG_VOWEL = __import__("re").compile("(?!)")  # never matches: no long-vowel pass
    try:
        return fold_with_positions(text)
    finally:
        names._LONG_VOWEL = saved


# Romaji-ish letters, vowels doubled often, with the separators and scripts prompts mix in.
PIECES = st.sampled_from(
    [
        "o",
        "u",
        "h",
        "ou",
        "oo",
        "uu",
        "oh",
        "k",
        "ky",
        "sh",
        "n",
        "a",
        "i",
        "e",
        "y",
        "w",
        "x",
        "l",
        " ",
        "  ",
        "-",
        "・",
        "Ō",
        "ô",
        "Ū",
        "Ｏ",
        "ｕ",
        "山",
        "コ",
        "2",
        "\u0304",
        "ﬁ",
        "O",
        "U",
        "H",
    ]
)
TEXTS = st.lists(PIECES, max_size=30).map("".join)


@settings(max_examples=3000)
@given(TEXTS)
def test_fast_pass_equals_reference(text: str) -> None:
    folded = unfolded(text)
    fast = names._long_vowels_folded(folded)
    ends = [fast.end(i) for i in range(len(fast.text))]
    assert (fast.text, fast.starts, ends) == reference(folded)
    assert fast.source == text


@given(st.text(max_size=60))
def test_fast_pass_equals_reference_on_any_text(text: str) -> None:
    folded = unfolded(text)
    fast = names._long_vowels_folded(folded)
    assert (fast.text, fast.starts, [fast.end(i) for i in range(len(fast.text))]) == reference(folded)


def test_words_that_abut_are_each_looked_at() -> None:
    # "ko" and "ouichi" are two words as written (the hyphen folds away, leaving them adjacent in the
    # folded text): the second is still looked at and shortened, and the two o's never merge.
    assert names.fold("ko-ouichi") == names.fold("ko ouichi") == "kooichi"
    # A romaji word beside kanji or kana is a word on either side.
    assert names.fold("Kouichi山寺") == "koichi山寺"
    assert names.fold("山寺Kouichi") == "山寺koichi"
    assert names.fold("you would") == "yowould"  # "you" reads as romaji; "would" does not
