"""Batch decisions computed once per distinct set of matches, then shared by every row that has it.

A row's answer depends only on which claims it matched and, for each claim, the first key that
matched it (the key decides the claim's authority and is named in the reasons): `decide` keeps the
first hit per claim. So the batch paths reduce every row to that set of (claim ordinal, key) pairs
and ask `MatchSets` for the answer of the set; `decide` (the registry's own) runs once per set, not
per row, and the claim lists, match summaries and manifest text of a set are built once too. A
claim without grants whose shape (claimant, kind, uses, licence, authority, whether it applies) an
earlier claim had takes that claim's answer with the id swapped: a registry where one agency files
for ten thousand sites runs `decide` once for them all, not ten thousand times.

A batch's result is `codes` plus, per row, the index of its set in `sets` (`groups`, -1 for rows
that matched nothing); `RowMap` shows it as the `{row: claims}` and `{row: matches}` mappings the
batch API has always returned.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from registry.checking import ClaimView, Hit, decide
from registry.vocabulary import Use

__all__ = ["DECISION_CODES", "Decisions", "MatchSet", "MatchSets", "RowMap", "grouped", "match_summary"]

#: Batch decisions as small integers: what `UrlDecisions.codes` holds.
DECISION_CODES: Final = {"unknown": 0, "y": 1, "n": 2, "invalid": 3}

Pairs = tuple[tuple[int, str], ...]  # (claim ordinal, first key matched), by ordinal
_MAX_CACHED: Final = 1 << 17


def match_summary(match: Mapping[str, Any]) -> dict[str, Any]:
    """What a batch keeps of one match of a check answer: the claim, who made it, what it says of
    each use, its authority and whether it counted — enough for a manifest's reader to see why a
    row went without looking the claim up."""
    summary: dict[str, Any] = {
        "claim": match["claim"],
        "claimant": match["claimant"],
        "kind": match["kind"],
        "uses": dict(match["uses"]),
        "authority": list(match["authority"]),
    }
    if "counted" in match:
        summary["counted"] = match["counted"]
    return summary


class MatchSet:
    """The answer for every row that matched exactly these (claim, key) pairs."""

    __slots__ = ("_claims_json", "_reasons", "_rekeyed", "claims", "code", "matches")

    def __init__(self, code: int, matches: list[dict[str, Any]], reasons: list[str]) -> None:
        self.code = code
        self.matches = matches  # match summaries, in `decide`'s order
        self.claims = [match["claim"] for match in matches]
        self._reasons: list[str] | None = reasons
        self._rekeyed: tuple[MatchSet, str, str] | None = None
        self._claims_json: str | None = None

    @property
    def reasons(self) -> list[str]:
        """`decide`'s reasons for these rows."""
        if self._reasons is None:
            assert self._rekeyed is not None
            template, old, new = self._rekeyed
            self._reasons = [_rekey(reason, old, new) for reason in template.reasons]
        return self._reasons

    def for_key(self, old: str, new: str) -> MatchSet:
        """This answer of one claim hit on `old`, for the same claim hit on `new`.

        Right only when the claim's authority does not depend on the key (it has no grants): then
        the key appears in the reasons alone, as the last word of each.
        """
        other = MatchSet.__new__(MatchSet)
        other.code, other.matches, other.claims = self.code, self.matches, self.claims
        other._claims_json = self.claims_json()
        other._reasons, other._rekeyed = None, (self, old, new)
        return other

    def for_claim(self, old: str, new: str) -> MatchSet:
        """This answer of claim `old`, for claim `new` of the same shape (see `MatchSets._like`):
        the id replaced in the matches and in the reasons, which name a claim by its first 16
        characters, first."""
        if old == new:
            return self
        matches = [{**match, "claim": new} if match["claim"] == old else match for match in self.matches]
        before, after = f"claim {old[:16]}…", f"claim {new[:16]}…"
        reasons = [after + r[len(before) :] if r.startswith(before) else r for r in self.reasons]
        other = MatchSet(self.code, matches, reasons)
        text, start = self.claims_json(), _first_claim(old)
        if len(matches) == 1 and text.startswith(start):  # the id is the first member: swap it
            other._claims_json = _first_claim(new) + text[len(start) :]
        return other

    def claims_json(self) -> str:
        """The `,"claims":[…]` member of this set's manifest rows ("" without matches), made once."""
        if self._claims_json is None:
            text = json.dumps(self.matches, ensure_ascii=False, separators=(",", ":"), default=str)
            self._claims_json = f',"claims":{text}' if self.matches else ""
        return self._claims_json


def _first_claim(claim: str) -> str:
    """How `claims_json` begins for a set whose first match is of `claim`.

    A claim id is printable ASCII without quote or backslash, which `json.dumps` only quotes:
    done here without it (once per claim of a batch's sets; `json.dumps` costs more than the rest).
    """
    if claim.isascii() and claim.isprintable() and '"' not in claim and "\\" not in claim:
        return ',"claims":[{"claim":"' + claim + '"'
    return ',"claims":[{"claim":' + json.dumps(claim, ensure_ascii=False)


def _rekey(reason: str, old: str, new: str) -> str:
    return reason[: -len(old)] + new if reason.endswith(f" {old}") else reason


class _NoItem:
    """Stands for the row in `decide`, whose echo of the item a batch does not keep."""

    def model_dump(self, **_: Any) -> dict[str, Any]:
        return {}


class MatchSets:
    """`MatchSet`s of one snapshot for one question (use, moment, territory, minimum authority)."""

    def __init__(
        self,
        view: Any,
        *,
        purpose: Use,
        at: datetime,
        territory: str | None,
        min_authority: str | None,
    ) -> None:
        self._view = view  # ordinal -> ClaimView
        self._options: dict[str, Any] = {
            "at": at,
            "purpose": purpose,
            "territory": territory,
            "min_authority": min_authority,
        }
        self._known: dict[tuple[str, Pairs], MatchSet] = {}
        #: A faster index for callers that number single (claim, key) sets themselves.
        self.by_code: dict[int, MatchSet] = {}
        self._by_claim: dict[tuple[str, int], tuple[MatchSet, str]] = {}
        self._by_shape: dict[tuple[Any, ...], tuple[MatchSet, str, str]] = {}

    def get(self, scheme: str, pairs: Pairs) -> MatchSet:
        """The answer for rows whose first hit per claim is exactly `pairs`.

        `decide` runs once per set; a claim whose authority is the same for every key (it has no
        grants) runs it once for all its keys, which change nothing but the words of the reasons.
        """
        known = self._known.get((scheme, pairs))
        if known is not None:
            return known
        views: list[ClaimView] = [self._view(ordinal) for ordinal, _ in pairs]
        if len(pairs) == 1 and not views[0].authority.grants:
            key, claim = pairs[0][1], (scheme, pairs[0][0])
            template = self._by_claim.get(claim)
            if template is None:
                template = self._by_claim[claim] = self._like(scheme, views[0], pairs)
            found = template[0].for_key(template[1], key)
        else:
            found = self._decide(scheme, views, pairs)
        if len(self._known) >= _MAX_CACHED:  # bounded: a huge registry cannot grow it for ever
            self._known.clear()
            self.by_code.clear()
        self._known[(scheme, pairs)] = found
        return found

    def single(self, scheme: str, ordinal: int, key: str) -> MatchSet:
        """`get(scheme, ((ordinal, key),))`, for callers that keep their own index of the answer."""
        template = self._by_claim.get((scheme, ordinal))
        if template is not None:
            return template[0].for_key(template[1], key)
        return self.get(scheme, ((ordinal, key),))

    def _like(self, scheme: str, view: ClaimView, pairs: Pairs) -> tuple[MatchSet, str]:
        """The answer of one claim without grants, from that of an earlier claim of the same shape.

        Such a claim's answer depends only on its shape (claimant, kind, uses, licence, base
        authority and its notes, whether it applies now), each of which a match shows or decides;
        its id appears only in the matches and the reasons' first words.
        """
        options = self._options
        shape = (
            scheme,
            view.claimant,
            view.kind,
            tuple(view.uses.items()),
            tuple(view.licence.items()) if view.licence else None,
            view.authority.base,
            view.authority.notes,
            view.applies(options["at"], options["territory"]),
        )
        like = self._by_shape.get(shape)
        if like is None:
            if len(self._by_shape) >= _MAX_CACHED:
                self._by_shape.clear()
            like = self._by_shape[shape] = (self._decide(scheme, [view], pairs), pairs[0][1], view.id)
        template, key, claim = like
        return template.for_claim(claim, view.id), key

    def _decide(self, scheme: str, views: list[ClaimView], pairs: Pairs) -> MatchSet:
        hits = [Hit(view, scheme, key) for view, (_, key) in zip(views, pairs, strict=True)]
        answer = decide(_NoItem(), hits, **self._options)
        matches = [match_summary(match) for match in answer["matches"]]
        return MatchSet(DECISION_CODES[answer["decision"]], matches, answer["reasons"])


def first_hits(
    rows: npt.NDArray[np.int64], ordinals: npt.NDArray[np.int64], ranks: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """Positions of each row's first hit per claim (lowest rank), ordered by row then ordinal."""
    order = np.lexsort((ranks, ordinals, rows))
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = (rows[order][1:] != rows[order][:-1]) | (ordinals[order][1:] != ordinals[order][:-1])
    result: npt.NDArray[np.intp] = order[keep]
    return result


class RowMap(Mapping[int, list[Any]]):
    """`{row: claims}` or `{row: matches}` of a batch, read from its sets (rows with matches only)."""

    def __init__(self, groups: npt.NDArray[np.int32], sets: Sequence[MatchSet], attribute: str) -> None:
        self._groups = groups
        self._sets = sets
        self._attribute = attribute
        self._rows: list[int] | None = None

    def __getitem__(self, row: int) -> list[Any]:
        group = int(self._groups[row]) if 0 <= row < len(self._groups) else -1
        if group < 0 or not self._sets[group].matches:
            raise KeyError(row)
        found: list[Any] = getattr(self._sets[group], self._attribute)
        return found

    def _present(self) -> list[int]:
        if self._rows is None:
            matched = np.array([bool(s.matches) for s in self._sets] + [False], dtype=bool)
            self._rows = np.flatnonzero(matched[self._groups]).tolist()
        return self._rows

    def __iter__(self) -> Iterator[int]:
        return iter(self._present())

    def __len__(self) -> int:
        return len(self._present())


class Decisions:
    """Per row of a batch: a code from `DECISION_CODES` and the set of matches it has (if any).

    `claims` (`{row: [claim id, …]}`), `matches` (`{row: [{"claim", "authority", "counted"?}]}`,
    each claim with the authority levels it holds for the key matched, `"counted": false` below
    the `min_authority` asked) and `reasons` list only rows that matched a claim in force.
    """

    __slots__ = ("codes", "groups", "sets")

    def __init__(
        self, codes: npt.NDArray[np.int8], groups: npt.NDArray[np.int32], sets: Sequence[MatchSet]
    ) -> None:
        self.codes = codes
        self.groups = groups  # index into `sets`, -1 for a row that matched nothing
        self.sets = sets

    @classmethod
    def empty(cls, rows: int) -> Decisions:
        return cls(np.zeros(rows, dtype=np.int8), np.full(rows, -1, dtype=np.int32), [])

    @property
    def claims(self) -> RowMap:
        return RowMap(self.groups, self.sets, "claims")

    @property
    def matches(self) -> RowMap:
        return RowMap(self.groups, self.sets, "matches")

    @property
    def reasons(self) -> RowMap:
        return RowMap(self.groups, self.sets, "reasons")

    def place(self, rows: npt.NDArray[np.intp], part: Decisions) -> Decisions:
        """These decisions with `part`'s (decided for `rows`, in order) written into those rows."""
        self.codes[rows] = part.codes
        self.groups[rows] = np.where(part.groups >= 0, part.groups + len(self.sets), -1)
        self.sets = [*self.sets, *part.sets]
        return self


def grouped(
    codes: npt.NDArray[np.int8],
    rows: npt.NDArray[np.intp],
    found: Sequence[MatchSet],
) -> Decisions:
    """Decisions where row `rows[i]` has set `found[i]` (sets shared by rows are listed once)."""
    index: dict[int, int] = {}
    sets: list[MatchSet] = []
    positions = np.empty(len(found), dtype=np.int32)
    for number, match_set in enumerate(found):
        position = index.setdefault(id(match_set), len(sets))
        if position == len(sets):
            sets.append(match_set)
        positions[number] = position
    groups = np.full(len(codes), -1, dtype=np.int32)
    groups[rows] = positions
    if len(rows):
        codes[rows] = np.array([s.code for s in sets], dtype=np.int8)[positions]
    return Decisions(codes, groups, sets)
