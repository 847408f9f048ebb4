"""Signed check answers built from canonical fragments, one decision per distinct set of hits.

An item's answer depends on the item only through its echo: the decision, matches and reasons
follow from the hits it met (and the request's moment, purpose, territory and minimum). So each
distinct hit list is decided once (`registry.checking.decide`, the reference) and kept as its
RFC 8785 bytes split around the item's echo; the answer's canonical bytes are then joined from
these fragments, and signed as bytes (`keys.sign_canonical`), without building or walking a
10,000-item dict three times. `tests/registry/test_answers.py` holds the property: the bytes are
exactly `keys.canonicalize` of the answer the reference path builds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import keys
from registry.checking import Hit, decide, describe
from registry.schemes import UrlId

_ITEM = b'"item":null'
_ITEMS = b'"items":[]'

HitsKey = tuple[tuple[str, str, str, int | None, float | None], ...]


def _key(hits: Sequence[Hit]) -> HitsKey:
    return tuple((h.claim.id, h.match, h.key, h.distance, h.similarity) for h in hits)


def _echo(item: Any) -> bytes:
    """`keys.canonicalize(describe(item))`, written directly for URLs (the bulk of every crawl)."""
    if type(item) is UrlId:  # two members, both strings, keys in order: JCS is json.dumps here
        return b'{"scheme":"url","value":' + json.dumps(item.value, ensure_ascii=False).encode() + b"}"
    return keys.canonicalize(describe(item))


class AnswerItems:
    """Canonical bytes of answer items for one request (one moment, purpose, territory, minimum)."""

    def __init__(
        self,
        *,
        at: datetime,
        purpose: str | None,
        territory: str | None,
        min_authority: str | None,
        disputed: set[str],
    ) -> None:
        self.options: dict[str, Any] = {
            "at": at,
            "purpose": purpose,
            "territory": territory,
            "min_authority": min_authority,
        }
        self.disputed = disputed
        self._decided: dict[HitsKey, tuple[bytes, bytes]] = {}
        #: The items' canonical bytes in pieces, items separated by `b","` (joined once, at the end).
        self.parts: list[bytes] = []

    @property
    def distinct(self) -> int:
        """How many distinct hit lists were decided (the rest reused a decision)."""
        return len(self._decided)

    def add(self, item: Any, hits: Sequence[Hit]) -> None:
        key = _key(hits)
        around = self._decided.get(key)
        if around is None:
            around = self._decided[key] = self.template(item, hits)
        if self.parts:
            self.parts.append(b",")
        self.parts += (around[0], b'"item":', _echo(item), around[1])

    def template(self, item: Any, hits: Sequence[Hit]) -> tuple[bytes, bytes]:
        """The canonical bytes of the answer item for `hits`, split where `"item":` and the echo go
        (`decide`, the reference, makes the answer; `item` is echoed nowhere)."""
        answer = decide(item, hits, **self.options)
        for match in answer["matches"]:
            if match["claim"] in self.disputed:
                match["disputed"] = True  # as logged up to the answer's tree size
        # The members before "item" are "decision" and "decisions" (strings), so the first
        # `"item":null` in the canonical bytes is the item's own.
        head, tail = keys.canonicalize({**answer, "item": None}).split(_ITEM, 1)
        return head, tail


def signed_answer(
    envelope: dict[str, Any], items: AnswerItems, signer: keys.SigningKey, now: datetime
) -> bytes:
    """The signed answer's JSON bytes: `envelope` (everything but "items") with the items joined in.

    The envelope's members before "items" ("at", "checked_at", "checkpoint", "@context") hold no
    member named "items", so the first `"items":[]` is the answer's own.
    """
    head, tail = keys.canonicalize({**envelope, "items": []}).split(_ITEMS, 1)
    canonical = b"".join([head, b'"items":[', *items.parts, b"]", tail])
    return keys.sign_canonical(canonical, signer, created=now, context=envelope.get("@context"))
