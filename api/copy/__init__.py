"""The portal's words in Japanese and English, one module per area, merged into one catalog.

Every Japanese string is written in the glossary's words (`api.glossary`), in です・ます form, and
tests/api/test_portal_copy.py holds them to it. Keys are unique across the modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from api.copy.accountability import ACCOUNTABILITY
from api.copy.authority import AUTHORITY
from api.copy.claims import CLAIMS
from api.copy.keys import KEYS
from api.copy.notices import NOTICES
from api.copy.problems import PROBLEMS
from api.copy.site import SITE

PARTS: Final[tuple[Mapping[str, tuple[str, str]], ...]] = (
    SITE,
    KEYS,
    CLAIMS,
    NOTICES,
    AUTHORITY,
    PROBLEMS,
    ACCOUNTABILITY,
)


def _merge() -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for part in PARTS:
        for key, pair in part.items():
            if key in merged:
                raise ValueError(f"catalog key {key!r} is defined twice")
            merged[key] = pair
    return merged


CATALOG: Final[Mapping[str, tuple[str, str]]] = _merge()

CLIENT_PREFIXES: Final[tuple[str, ...]] = (
    "err.",
    "key.",
    "keys.",
    "confirm.",
    "passkey.",
    "recovery.",
    "rotate.",
    "req.",
    "regime.",
    "state.",
    "mine.",
    "busy.",
    "reserve.already",
    "takedown.already",
    "takedown.operator_",
    "operator.disputed",
    "lookup.hashing",
    "duration.",
    "use.",
    "decision.",
)
"""The entries the pages' scripts say themselves (sent with every page as a JSON data block)."""
