"""Registered names in a prompt, fast: one Aho–Corasick automaton over every name of a snapshot.

The registry matches names as `registry.names.fold` folds them (NFKC, case, width, katakana as
hiragana, no spaces or punctuation), with its boundary rule: a name that begins (ends) with a
letter or digit of a script written with spaces must begin (end) at a word boundary of the prompt,
so "Anna" is not found in "Annapolis" nor "Ai" in "maintain"; a name in kana, kanji or another
script written without spaces is found anywhere. Those are the exact matches, the ones `POST
/v1/check` finds for a `text` item (`NameMatcher.find` is property-tested against a loop over every
name, and against the registry's `NameIndex`).

A generation guard also wants the spellings a claimant may not have listed, so with `variants` it
finds, as variant matches, each registered name loosened beyond what the registry's folding does:

* Latin diacritics removed (Dvořák, Dvorak; José, Jose) and, in words that are Hepburn romaji,
  long vowels written short (Kōichi, Kôichi, Kouichi, Kooichi, Koichi; Ōno, Ohno, Oono, Ono;
  Niimi, Nimi): `loose_source`. A word that is not romaji ("Louis", "Moore") keeps its vowels;
* in the other order, for a Latin name of two words ("Yamadera Koichi" for "Koichi Yamadera").

Names and prompt are loosened the same way, so a variant match means their loosened forms meet
under the same boundary rule. Where the registry's folding already makes two spellings one, the
match is exact.

>>> matcher = NameMatcher([(0, "Kōichi Yamadera"), (1, "Anna"), (2, "山寺宏一")])
>>> [(f.name, f.variant) for f in matcher.find("yamadera kouichi and 山寺 宏一, not in Annapolis")]
[('Kōichi Yamadera', 'order'), ('山寺宏一', None)]
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from registry import names

__all__ = ["LooseText", "NameFound", "NameMatcher", "loose_keys", "loose_source"]

EXACT: Final = 1
ROMANISED: Final = 2
ORDER: Final = 4

# Latin letters (ASCII, Latin-1, Extended-A/B, Extended Additional, full-width) and combining marks.
_LATIN_RUN: Final = re.compile(
    "[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff\u0300-\u036f\uff21-\uff3a\uff41-\uff5a]+"
)
_ROMAJI: Final = names.ROMAJI_WORD  # a word of Hepburn romaji, diacritics removed
_OTHER_LETTER: Final = re.compile(
    "[^\\W\\d_A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff\uff21-\uff3a\uff41-\uff5a]"
)
_CACHE_LIMIT: Final = 100_000


def _strip(char: str) -> str:
    """A Latin letter without its diacritics, case-folded (ō → o, Ｋ → k); marks vanish."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", char))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class _Stripped(dict[str, str]):
    """`_strip` memoised per character (only Latin letters and marks reach it: a bounded set)."""

    def __missing__(self, char: str) -> str:
        self[char] = value = _strip(char)
        return value


_STRIPPED: Final = _Stripped()


def _collapse(word: str) -> list[int]:
    """Positions of `word` (lower-case ASCII romaji) kept once long vowels are written short:
    ou, oo, oh, uu, aa, ii, ee → the vowel alone."""
    kept = [0]
    for at in range(1, len(word)):
        before, char = word[at - 1], word[at]
        if (char in "aiueo" and char == before) or (before == "o" and char in "uh"):
            continue
        kept.append(at)
    return kept


def _loosen_run(run: str) -> tuple[str, tuple[int, ...]] | None:
    """The loosened form of one run of Latin letters and where each of its characters starts in
    `run`, or None when it folds as the registry folds it anyway."""
    if run.isascii():  # most words: nothing to strip, and the registry's fold is lower()
        text = run.lower()
        if not _ROMAJI.fullmatch(text):
            return None
        kept = _collapse(text)
        loosened = "".join(text[k] for k in kept)
        return None if loosened == names.fold(run) else (loosened, tuple(kept))
    pieces = [(piece, at) for at, char in enumerate(run) for piece in _STRIPPED[char]]
    text = "".join(piece for piece, _ in pieces)
    origins = [at for _, at in pieces]
    if text.isascii() and _ROMAJI.fullmatch(text):
        kept = _collapse(text)
        text, origins = "".join(text[k] for k in kept), [origins[k] for k in kept]
    if text == names.fold(run):
        return None
    return text, tuple(origins)


Runs = dict[str, tuple[str, tuple[int, ...]] | None]
_RUNS: Final[Runs] = {}  # words of prompts, loosened: a service sees the same words again and again


@dataclass(frozen=True, slots=True)
class LooseText:
    """A text with its Latin words loosened; `starts[i]`/`ends[i]`: the span of the text as
    written that character i of `text` stands for. `changed` is False when it folds as the text."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]
    changed: bool

    def source(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def loose_source(text: str, cache: Runs | None = None) -> LooseText:
    """`text` with diacritics removed from Latin words and romaji long vowels written short
    (`cache`: of words loosened before, cleared when it is full; the prompts' own by default).

    >>> loose_source("Dvořák, NIIMI, Louis").text
    'dvorak, nimi, Louis'
    """
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    done = 0
    runs = _RUNS if cache is None else cache
    for found in _LATIN_RUN.finditer(text):
        run = found.group()
        if run in runs:
            loosened = runs[run]
        else:
            loosened = _loosen_run(run)
            if len(runs) >= _CACHE_LIMIT:
                runs.clear()
            runs[run] = loosened
        if loosened is None:
            continue
        first = found.start()
        pieces.append(text[done:first])
        starts += range(done, first)
        ends += range(done + 1, first + 1)
        word, origins = loosened
        pieces.append(word)
        starts += (first + at for at in origins)
        ends += (first + at for at in origins[1:])
        ends.append(found.end())
        done = found.end()
    if not pieces:
        return LooseText(text, range(len(text)), range(1, len(text) + 1), False)
    pieces.append(text[done:])
    starts += range(done, len(text))
    ends += range(done + 1, len(text) + 1)
    return LooseText("".join(pieces), starts, ends, True)


def _other_order(name: str) -> str | None:
    """A two-word Latin name the other way round ("Yamadera Koichi" for "Koichi Yamadera")."""
    if _OTHER_LETTER.search(name):
        return None  # kana, kanji, hangul, …: their order is not swapped
    words = unicodedata.normalize("NFKC", name).split()
    if len(words) == 2 and all(_LATIN_RUN.search(word) for word in words):
        return f"{words[1]} {words[0]}"
    return None


def loose_keys(name: str, cache: Runs | None = None) -> list[tuple[str, int]]:
    """The keys `name` is found by, each with how (EXACT, ROMANISED, ORDER bits); empty for a name
    that folds to nothing. `cache` as for `loose_source`."""
    found: dict[str, int] = {}
    exact = names.fold(name)
    if exact:
        found[exact] = EXACT
    if _LATIN_RUN.search(name):
        loose = names.fold(loose_source(name, cache).text)
        if loose:
            found[loose] = found.get(loose, 0) | ROMANISED
        other = _other_order(name)
        if other is not None and (key := names.fold(loose_source(other, cache).text)):
            found[key] = found.get(key, 0) | ORDER
    return list(found.items())


@dataclass(frozen=True, slots=True)
class NameFound:
    """A registered name in a text: `position` in the list the matcher was built from, its claim
    `ordinal`, the name as registered, where the text writes it, and the variant (None if exact)."""

    position: int
    ordinal: int
    name: str
    start: int
    end: int
    variant: str | None


class NameMatcher:
    """Every name of a snapshot (`(claim ordinal, name)` pairs), found in a text in one pass
    (two when the text has words to loosen). Build once per snapshot; `find` is thread-safe."""

    def __init__(self, pairs: Iterable[tuple[int, str]], *, variants: bool = True) -> None:
        import ahocorasick  # type: ignore[import-not-found, unused-ignore]  # heavy for CLI start-up

        self.variants = variants
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        self._names: list[str] = []
        self._ordinals = array("I")
        self._lengths = array("I")  # per key: its length in folded characters
        self._bounds = array("B")  # per key: 1 needs a boundary at its start, 2 at its end
        self._first = array("i")  # per key: its latest entry
        self._next = array("i")  # per entry: the entry of its key before it, or -1
        self._entry_position = array("I")
        self._entry_how = array("B")
        automaton = self._automaton
        words: Runs = {}  # the names' own words: not the prompts'
        for ordinal, name in pairs:
            position = len(self._names)
            self._names.append(name)
            self._ordinals.append(ordinal)
            for key, how in loose_keys(name, words) if variants else [(names.fold(name), EXACT)]:
                if not key:
                    continue
                key_id = automaton.get(key, -1)
                if key_id < 0:
                    key_id = len(self._lengths)
                    automaton.add_word(key, key_id)
                    self._lengths.append(len(key))
                    self._bounds.append(names.is_word_char(key[0]) | names.is_word_char(key[-1]) << 1)
                    self._first.append(-1)
                self._next.append(self._first[key_id])
                self._first[key_id] = len(self._entry_position)
                self._entry_position.append(position)
                self._entry_how.append(how)
        if len(self._lengths):
            automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._names)

    @property
    def keys(self) -> int:
        return len(self._lengths)

    def find(self, text: str) -> list[NameFound]:
        """Every registered name in `text`, by start then longest first; an exact match hides a
        variant match of the same name at the same place."""
        if not len(self._lengths):
            return []
        loose = loose_source(text) if self.variants else None
        both = loose is not None and not loose.changed  # one pass finds exact and variant keys
        wanted = EXACT | ROMANISED | ORDER if both else EXACT
        found = self._pass(names.fold_with_positions(text), wanted, None)
        if loose is not None and loose.changed:
            found += self._pass(names.fold_with_positions(loose.text), ROMANISED | ORDER, loose)
        found.sort(key=lambda hit: (hit.start, hit.start - hit.end, hit.variant or "", hit.position))
        seen: set[tuple[int, int, int]] = set()
        unique = []
        for hit in found:
            if (hit.position, hit.start, hit.end) not in seen:
                seen.add((hit.position, hit.start, hit.end))
                unique.append(hit)
        return unique

    def _pass(self, folded: names.FoldedText, wanted: int, loose: LooseText | None) -> list[NameFound]:
        found: list[NameFound] = []
        lengths, bounds, first, following = self._lengths, self._bounds, self._first, self._next
        for last, key_id in self._automaton.iter(folded.text):
            stop = last + 1
            bound = bounds[key_id]
            span = names.source_span(
                folded, stop - lengths[key_id], stop, start_boundary=bool(bound & 1), end_boundary=bound > 1
            )
            if span is None:
                continue
            start, end = span if loose is None else loose.source(*span)
            entry = first[key_id]
            while entry >= 0:
                how = self._entry_how[entry]
                if how & wanted:
                    position = self._entry_position[entry]
                    variant = None if how & EXACT and wanted & EXACT else _variant(how)
                    found.append(
                        NameFound(
                            position, self._ordinals[position], self._names[position], start, end, variant
                        )
                    )
                entry = following[entry]
        return found


def _variant(how: int) -> str:
    return "romanisation" if how & ROMANISED else "order"
