"""Person names and readings (the `name` scheme): folding, validation and an Aho–Corasick index.

A claim over a person lists the names and readings the claimant gives — kanji, kana, romaji,
old-style variants, stage names — and only those are keys: nothing is transliterated, because a
reading derived from kanji would be a guess about someone else's name. A check may be a bare name
or free text (a generation prompt), and every registered name inside it must be found, so names
sit in an Aho–Corasick automaton that reads the text once, however many names are registered.

Text and names are compared after `fold()` (NFKC, case folding, katakana to hiragana, no spaces,
punctuation or symbols), so the way a name is spaced, cased or written in width does not matter.
A name that begins (or ends) with a Latin or other alphanumeric character must begin (or end) at a
word boundary of the original text, so "Ai" is not found inside "maintain"; names in scripts
written without spaces (kanji, kana, Thai, …) need no boundary.

>>> index = NameIndex[str]()
>>> index.add("山寺宏一", "claim-1")
>>> index.add("Koichi Yamadera", "claim-1")
>>> prompt = "in the voice of KOICHI yamadera (山寺 宏一)"
>>> [(hit.name, prompt[hit.start : hit.end]) for hit in index.find(prompt)]
[('Koichi Yamadera', 'KOICHI yamadera'), ('山寺宏一', '山寺 宏一')]
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
import unicodedata
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Generic, TypeVar

# pyahocorasick is imported where a `NameIndex` uses it: `fold` and `validate_name` are all that
# the command line's flags and authority levels need of this module.
if TYPE_CHECKING:
    import ahocorasick  # type: ignore[import-not-found, unused-ignore]  # no stubs; pyproject ignores it

__all__ = [
    "MAX_NAME_CHARS",
    "FoldedText",
    "InvalidName",
    "NameHit",
    "NameIndex",
    "fold",
    "fold_with_positions",
    "is_word_char",
    "source_span",
    "validate_name",
]

MAX_NAME_CHARS: Final = 200
"""Longest name accepted, in characters as given (before folding)."""

R = TypeVar("R", bound=Hashable)
_V = TypeVar("_V")


class InvalidName(ValueError):
    """A name that cannot be a key: empty once folded, too long, or carrying control characters."""


# ---------------------------------------------------------------- folding

_KATAKANA_FIRST: Final = 0x30A1  # ァ
_KATAKANA_LAST: Final = 0x30F6  # ヶ; ー (U+30FC) and ヷ–ヺ have no hiragana and stay as they are
_KANA_SHIFT: Final = 0x60
_DROPPED_CATEGORIES: Final = frozenset(
    {"Zs", "Zl", "Zp", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Cc", "Cf", "Cs"}
)
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cs"})
# Characters that NFKC may compose with the character before them: they are folded together with
# it, so folding text piece by piece (to keep positions) gives what folding it whole would give.
_JOINING_RANGES: Final = ((0x1160, 0x11FF), (0xD7B0, 0xD7FF), (0xFF9E, 0xFF9F))  # Hangul V/T, ﾞ ﾟ
# Scripts written without spaces between words: a name in them needs no word boundary, and a
# character of them next to a Latin name is a boundary ("声優Koichi Yamaderaさん").
_UNSPACED_RANGES: Final = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x303B, 0x303C),  # 〻 〼
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x3190, 0x31BF),  # kanbun, bopomofo extended
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width katakana
    (0x1AFF0, 0x1B16F),  # kana extended and supplement
    (0x20000, 0x3FFFF),  # CJK extensions B and later, compatibility supplement
)
_UNSPACED_FIRSTS: Final = tuple(first for first, _ in _UNSPACED_RANGES)
_CACHE_LIMIT: Final = 100_000  # per-character tables stop growing here (text can hold any character)


_KANA_MARKS: Final = frozenset("\u3099\u309a")  # voiced and semi-voiced marks (ﾞ ﾟ), kept alone
_LONG_MARKS: Final = frozenset("\u0302\u0304")  # combining circumflex and macron: ô ō, â ā, …


def _plain_latin(char: str) -> str:
    """A Latin letter without a macron or circumflex (ō ô → o, ū û → u), other marks kept."""
    decomposed = unicodedata.normalize("NFD", char)
    if len(decomposed) < 2 or not ("a" <= decomposed[0] <= "z") or not _LONG_MARKS & set(decomposed):
        return char
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _LONG_MARKS))


def _fold_piece(piece: str) -> str:
    """Fold one character with the characters joined to it (see `fold`)."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", unicodedata.normalize("NFKC", piece).casefold()):
        code = ord(char)
        if _KATAKANA_FIRST <= code <= _KATAKANA_LAST:
            out.append(chr(code - _KANA_SHIFT))
            continue
        category = unicodedata.category(char)
        if category in _DROPPED_CATEGORIES or (not out and category[0] == "M" and char not in _KANA_MARKS):
            # A mark on a dropped character goes with it (´ is a space and an acute under NFKC):
            # kept, it would land on the letter before it when the folded text is folded again.
            continue
        out.append(_plain_latin(char))
    return "".join(out)


def _joins_previous(char: str) -> bool:
    code = ord(char)
    return unicodedata.category(char)[0] == "M" or any(lo <= code <= hi for lo, hi in _JOINING_RANGES)


def _is_word_char(char: str) -> bool:
    """A letter or digit of a script that separates words (so it cannot sit next to a name)."""
    if not char.isalnum():
        return False
    code = ord(char)
    slot = bisect.bisect_right(_UNSPACED_FIRSTS, code) - 1
    return slot < 0 or code > _UNSPACED_RANGES[slot][1]


class _CharTable(dict[str, _V]):
    """A memo of a per-character function, so a whole text is looked up by C-level `map`."""

    __slots__ = ("_function",)

    def __init__(self, function: Callable[[str], _V]) -> None:
        super().__init__()
        self._function = function

    def __missing__(self, char: str) -> _V:
        value = self._function(char)
        if len(self) < _CACHE_LIMIT:
            self[char] = value
        return value


_FOLDED: Final = _CharTable(_fold_piece)
_JOINS: Final = _CharTable(_joins_previous)
_WORD: Final = _CharTable(_is_word_char)


@dataclass(frozen=True, slots=True)
class _Folded:
    """Folded text and, per folded character, the span of original text it came from."""

    text: str
    source: str
    starts: list[int]  # where the original character (with its joined characters) starts
    ends: list[int] | None  # where it ends; None when nothing joined, so it is one character long

    def end(self, index: int) -> int:
        return self.starts[index] + 1 if self.ends is None else self.ends[index]


def _fold_positions(text: str) -> _Folded:
    """Fold `text` keeping a map from folded positions back to original positions."""
    pieces = list(map(_FOLDED.__getitem__, text))
    folded = "".join(pieces)
    if not any(map(_JOINS.__getitem__, text)):
        starts = list(itertools.compress(range(len(text)), pieces))
        if len(starts) != len(folded):  # some characters expand (ﬁ → fi, ㍻ → 平成)
            starts = list(
                itertools.chain.from_iterable(map(itertools.repeat, range(len(text)), map(len, pieces)))
            )
        plain = _Folded(folded, text, starts, None)
        return plain if _LONG_VOWEL.search(folded) is None else _long_vowels_folded(plain)
    # Rare: combining marks and the like, folded together with the character they follow.
    out: list[str] = []
    starts, ends = [], []
    first, size = 0, len(text)
    while first < size:
        last = first + 1
        while last < size and _JOINS[text[last]]:
            last += 1
        piece = pieces[first] if last == first + 1 else _fold_piece(text[first:last])
        out.append(piece)
        starts += [first] * len(piece)
        ends += [last] * len(piece)
        first = last
    joined = _Folded("".join(out), text, starts, ends)
    return joined if _LONG_VOWEL.search(joined.text) is None else _long_vowels_folded(joined)


def fold(text: str) -> str:
    """The form names and texts are compared in: NFKC, case-folded, katakana as hiragana, and
    without whitespace, punctuation, symbols or control and format characters; words of romaji
    without the ways long vowels are written (see `_long_vowels_folded`).

    Folding makes the spacing, case and width a name happens to be written in irrelevant; ー and
    characters no script has a case or kana pair for are kept.

    >>> fold("山寺 宏一") == fold("山寺宏一"), fold("ヤマデラ・コウイチ"), fold("ＫＯＩＣＨＩ  Yamadera")
    (True, 'やまでらこういち', 'koichiyamadera')
    >>> {fold(name) for name in ("Kōichi", "Kôichi", "Kouichi", "Kooichi", "Koichi")}
    {'koichi'}
    >>> fold("Ōno") == fold("Ohno") == fold("Oono") == fold("Ono"), fold("Satoh") == fold("Satō")
    (True, True)
    >>> fold("Yūko") == fold("Yuuko") == fold("Yûko") == fold("Yuko")
    True
    """
    if not any(map(_JOINS.__getitem__, text)):  # what `_fold_positions` gives, without the positions
        folded = "".join(map(_FOLDED.__getitem__, text))
        if _LONG_VOWEL.search(folded) is None:
            return folded
    return _fold_positions(text).text


_LONG_VOWEL: Final = re.compile("uu|o[ouh]")
_EXTENDS: Final = {"o": "ou", "u": "u"}  # the letters that lengthen a vowel
_VOWELS: Final = frozenset("aeiou")
ROMAJI_WORD: Final = re.compile(
    r"(?:(?:[kgsztdnhbpmr]y?|sh|ch|ts|j|f|w|y|v)?[aiueo]|n|([kgsztdhbpmfjc])(?=\1)|t(?=ch)"
    r"|m(?=[bpm])|(?<=o)h(?![aiueoy]))+"
)
"""A word of Hepburn (or wāpuro) romaji, lower case, diacritics removed: syllables, syllabic n,
doubled consonants (sokuon), m before b/p/m, and the passport "oh" for a long o."""


def _long_vowels_folded(folded: _Folded) -> _Folded:
    """Romaji long vowels written as one letter: ō (ô), oo, ou and oh (before a consonant or at the
    end of a word: Ohno, Satoh) become o, and ū (û), uu become u (the marks are gone by now). So
    `Kōichi`, `Kôichi`, `Kouichi`, `Kooichi` and `Koichi` are one name, as their owners write it
    each way.

    Only inside one word as written (letters next to each other in the source) and only in a word
    that is Hepburn romaji (`ROMAJI_WORD`): "audio Oliver" keeps both o's and "Louis" is not "Lois",
    so folding a prompt never joins words; an English word that happens to read as romaji ("Moore",
    "too") is shortened like one.
    The price: folded text, which has lost its spaces, may fold further (fold is idempotent on
    names and on text whose words are already apart only in the ways above).

    Only the words that hold a long vowel (`_LONG_VOWEL`) are looked at, one at a time, and the text
    between them is copied as slices: most prompts are English, where "you" and "would" hold one, and
    a pass over every character would cost more than the rest of the fold.
    """
    text, starts = folded.text, folded.starts
    words: list[tuple[int, int]] = []
    looked_at = 0  # words may abut ("ko" "ou…" as two words): so search on after the word, not the match
    while (match := _LONG_VOWEL.search(text, looked_at)) is not None:
        first, looked_at = _word_around(folded, match.start())
        if ROMAJI_WORD.fullmatch(text[first:looked_at]):  # a slice: the pattern looks behind
            words.append((first, looked_at))
    if not words:
        return folded
    ends = folded.ends if folded.ends is not None else list(map((1).__add__, starts))
    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    copied = 0
    for first, stop in words:
        out.append(text[copied:first])
        out_starts += starts[copied:first]
        out_ends += ends[copied:first]
        _fold_word(folded, first, stop, out, out_starts, out_ends)
        copied = stop
    out.append(text[copied:])
    out_starts += starts[copied:]
    out_ends += ends[copied:]
    return _Folded("".join(out), folded.source, out_starts, out_ends)


def _word_around(folded: _Folded, index: int) -> tuple[int, int]:
    """The word as written around `index`: ASCII letters next to each other in the source."""
    text, starts = folded.text, folded.starts
    first = index
    while first > 0 and _ascii_letter(text[first - 1]) and starts[first] == folded.end(first - 1):
        first -= 1
    stop = index + 1
    while stop < len(text) and _ascii_letter(text[stop]) and starts[stop] == folded.end(stop - 1):
        stop += 1
    return first, stop


def _fold_word(
    folded: _Folded, first: int, stop: int, out: list[str], out_starts: list[int], out_ends: list[int]
) -> None:
    """Append the romaji word `folded.text[first:stop]` with its long vowels written as one letter."""
    text = folded.text
    for index in range(first, stop):
        char, end = text[index], folded.end(index)
        if index > first:
            last = out[-1]
            if char in _EXTENDS.get(last, "") or (last == "o" and char == "h" and _closes(folded, index)):
                out_ends[-1] = max(out_ends[-1], end)
                continue
        out.append(char)
        out_starts.append(folded.starts[index])
        out_ends.append(end)


def _ascii_letter(char: str) -> bool:
    return "a" <= char <= "z"


def _closes(folded: _Folded, index: int) -> bool:
    """Whether the h at `index` ends a syllable (so it lengthens the o before it): a consonant follows,
    or no letter, or the word ends there ("Satoh Aiko")."""
    text, after = folded.text, index + 1
    if after >= len(text) or folded.starts[after] > folded.end(index):
        return True
    return not ("a" <= text[after] <= "z") or text[after] not in _VOWELS


FoldedText = _Folded
"""Folded text with the map back to the text as written (`fold_with_positions`)."""


def fold_with_positions(text: str) -> FoldedText:
    """`fold(text)` and, per folded character, where it came from: for matchers other than
    `NameIndex` (an SDK's guard) that must find names exactly where the index finds them.

    >>> folded = fold_with_positions("ＫＯ ichi")
    >>> folded.text, source_span(folded, 0, 6, start_boundary=True, end_boundary=True)
    ('koichi', (0, 7))
    """
    return _fold_positions(text)


def is_word_char(char: str) -> bool:
    """Whether `char` is a letter or digit of a script that separates words with spaces: a name
    beginning (ending) with one needs a word boundary there, and text beside it is no boundary."""
    return _WORD[char]


def validate_name(name: str) -> str:
    """Return the key `name` is matched by, or raise `InvalidName`.

    >>> validate_name("Koichi Yamadera")
    'koichiyamadera'
    >>> validate_name("・・・")
    Traceback (most recent call last):
    ...
    registry.names.InvalidName: a name needs a letter or digit, not only punctuation or symbols: '・・・'
    """
    if len(name) > MAX_NAME_CHARS:
        raise InvalidName(f"a name is at most {MAX_NAME_CHARS} characters, not {len(name)}")
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in name):
        raise InvalidName(f"a name may not contain control characters: {name!r}")
    key = fold(name)
    if not key:
        raise InvalidName(f"a name needs a letter or digit, not only punctuation or symbols: {name!r}")
    return key


# ---------------------------------------------------------------- the index


@dataclass(frozen=True, slots=True)
class NameHit(Generic[R]):
    """A registered name found in a text; `text[start:end]` is the name as the text writes it."""

    ref: R
    name: str
    start: int
    end: int


@dataclass(slots=True)
class _Key(Generic[R]):
    """One folded key: whether it needs word boundaries, and the (order, name, ref) holding it."""

    start_boundary: bool
    end_boundary: bool
    entries: list[tuple[int, str, R]]


class NameIndex(Generic[R]):
    """Registered names, searchable in any text at once; `ref` says whose name it is (a claim id).

    Building an automaton costs time in the number of names, so names added since the last build
    go to a small recent automaton, rebuilt when a search needs it and merged into the large base
    automaton once it passes `recent_limit` names or `recent_ratio` of the base, whichever comes
    first. Removing a ref drops its entries at once; its keys stay in the automata, ignored, until
    the next base build. Every add is visible to the next `find`. Calls may come from any thread.

    >>> index = NameIndex[int]()
    >>> index.add("Ai", 7)
    >>> [hit.start for hit in index.find("Ai is here to maintain the AI")]
    [0, 27]
    >>> index.remove(7)
    >>> index.find("Ai"), len(index)
    ([], 0)
    """

    _RECENT_FLOOR: Final = 64  # a small base is merged into at this size, not at 5% of it

    def __init__(self, *, recent_limit: int = 1000, recent_ratio: float = 0.05) -> None:
        import ahocorasick  # type: ignore[import-not-found, unused-ignore]

        self._recent_limit = recent_limit
        self._recent_ratio = recent_ratio
        self._lock = threading.Lock()
        self._keys: dict[str, _Key[R]] = {}
        self._names_of: dict[R, list[tuple[str, str]]] = {}  # ref → [(name, key)]
        self._pairs = 0
        self._order = itertools.count()
        self._base: ahocorasick.Automaton | None = None
        self._base_keys = 0
        self._recent = ahocorasick.Automaton()
        self._recent_keys = 0  # keys added since the base was built (in `_recent` or waiting for the base)
        self._recent_stale = False  # `_recent` has keys its automaton does not have yet
        self._dead = 0  # keys in the automata that no name holds any more

    def __len__(self) -> int:
        return self._pairs

    def _recent_capacity(self) -> int:
        return min(self._recent_limit, max(self._RECENT_FLOOR, int(self._base_keys * self._recent_ratio)))

    def add(self, name: str, ref: R) -> None:
        """Register `name` for `ref` (raises `InvalidName`); adding a pair twice changes nothing."""
        key = validate_name(name)
        with self._lock:
            names = self._names_of.setdefault(ref, [])
            if any(given == name for given, _ in names):
                return
            names.append((name, key))
            self._pairs += 1
            held = self._keys.get(key)
            if held is None:
                held = self._keys[key] = _Key(_WORD[key[0]], _WORD[key[-1]], [])
                in_base = self._base is not None and self._base.exists(key)
                if not in_base and not self._recent.exists(key):
                    self._recent_keys += 1
                    if self._recent_keys <= self._recent_capacity():
                        self._recent.add_word(key, key)
                        self._recent_stale = True
            held.entries.append((next(self._order), name, ref))

    def remove(self, ref: R) -> None:
        """Forget every name of `ref`; unknown refs are ignored."""
        with self._lock:
            names = self._names_of.pop(ref, None)
            if names is None:
                return
            self._pairs -= len(names)
            for _, key in names:
                held = self._keys.get(key)
                if held is None:
                    continue  # another name of this ref with the same key took it already
                held.entries = [entry for entry in held.entries if entry[2] != ref]
                if not held.entries:
                    del self._keys[key]
                    self._dead += 1

    def _refresh(self) -> None:
        """Make the automata cover every key added so far (called with the lock held)."""
        import ahocorasick  # type: ignore[import-not-found, unused-ignore]

        if self._recent_keys + self._dead > self._recent_capacity():
            base = ahocorasick.Automaton()
            for key in self._keys:
                base.add_word(key, key)
            if self._keys:
                base.make_automaton()
            self._base, self._base_keys = base, len(self._keys)
            self._recent, self._recent_keys, self._recent_stale = ahocorasick.Automaton(), 0, False
            self._dead = 0
        elif self._recent_stale:
            self._recent.make_automaton()
            self._recent_stale = False

    def find(self, text: str) -> list[NameHit[R]]:
        """Every occurrence of every registered name in `text`, by start and then longest first.

        >>> index = NameIndex[str]()
        >>> index.add("やまでら こういち", "c1")
        >>> index.add("Yamada", "c2")
        >>> [(hit.ref, hit.start, hit.end) for hit in index.find("ﾔﾏﾃﾞﾗ ｺｳｲﾁ, not Yamadera")]
        [('c1', 0, 10)]
        """
        import ahocorasick  # type: ignore[import-not-found, unused-ignore]

        folded = _fold_positions(text)
        found: list[tuple[int, int, int, NameHit[R]]] = []
        with self._lock:
            self._refresh()
            for automaton in (self._base, self._recent):
                if automaton is None or automaton.kind != ahocorasick.AHOCORASICK:
                    continue  # empty
                for last, key in automaton.iter(folded.text):
                    held = self._keys.get(key)
                    if held is None:
                        continue
                    span = _span(folded, last + 1 - len(key), last + 1, held)
                    if span is None:
                        continue
                    start, end = span
                    for order, name, ref in held.entries:
                        found.append((start, start - end, order, NameHit(ref, name, start, end)))
        found.sort(key=lambda item: item[:3])
        seen: set[tuple[R, int, int]] = set()
        hits = []
        for *_, hit in found:
            if (hit.ref, hit.start, hit.end) not in seen:
                seen.add((hit.ref, hit.start, hit.end))
                hits.append(hit)
        return hits


def _span(folded: _Folded, first: int, stop: int, held: _Key[R]) -> tuple[int, int] | None:
    return source_span(
        folded, first, stop, start_boundary=held.start_boundary, end_boundary=held.end_boundary
    )


def source_span(
    folded: FoldedText, first: int, stop: int, *, start_boundary: bool, end_boundary: bool
) -> tuple[int, int] | None:
    """The span of the text as written that folded `[first, stop)` came from, or None when a word
    boundary the name needs (`is_word_char` of its first or last folded character) is missing."""
    starts, source = folded.starts, folded.source
    start, end = starts[first], folded.end(stop - 1)
    if start_boundary:
        if first > 0 and starts[first - 1] == start:
            return None  # begins inside what one character folded to ("i" of "ﬁ")
        before = start - 1
        while before > 0 and _JOINS[source[before]]:
            before -= 1
        if before >= 0 and _WORD[source[before]]:
            return None
    if end_boundary:
        if stop < len(starts) and starts[stop] == starts[stop - 1]:
            return None
        if end < len(source) and _WORD[source[end]]:
            return None
    return start, end
