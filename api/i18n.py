"""Japanese and English for the portal: one catalog, and the choice of language per request.

Why a dict and not gettext: the portal has two languages and a few hundred strings, every one of
which must exist in both; a test walks the catalog (`api.copy`, written in the words of
`api.glossary`) and fails on a missing translation, which .po files would only report at run
time. Japanese is the default because most creators the portal is for read it first; an explicit
choice (the `lang` cookie, set by the switch) beats the browser's Accept-Language, which beats the
default.

>>> negotiate(None, "en-GB,en;q=0.9,ja;q=0.5")
'en'
>>> negotiate("ja", "en")
'ja'
>>> translate("en", "nav.reserve")
'Reserve'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal

from api.copy import CATALOG, CLIENT_PREFIXES

Lang = Literal["ja", "en"]
LANGS: Final[tuple[Lang, ...]] = ("ja", "en")
DEFAULT_LANG: Final[Lang] = "ja"
COOKIE: Final = "lang"


def translate(lang: str, key: str, **values: Any) -> str:
    """The catalog entry in `lang`, with `{name}` placeholders filled from `values`; an unknown key
    shows itself, so a gap is visible, not a crash.

    >>> translate("ja", "duration.hours", n=3)
    '3 時間'
    """
    entry = CATALOG.get(key)
    if entry is None:
        return key
    text = entry[1] if lang == "en" else entry[0]
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def translator(lang: str) -> Callable[..., str]:
    """`t("nav.home")` (or `t("duration.hours", n=3)`) for templates."""
    return lambda key, **values: translate(lang, key, **values)


def client_strings(lang: str) -> dict[str, str]:
    """The entries the pages' scripts need, in `lang` (api/static/js/strings.js reads them)."""
    return {key: translate(lang, key) for key in CATALOG if key.startswith(CLIENT_PREFIXES)}


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """(primary language subtag, q) pairs, best first; malformed parts are skipped, never raised."""
    ranked: list[tuple[str, float, int]] = []
    for position, part in enumerate(header.split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if not 0.0 < quality <= 1.0:
            continue
        ranked.append((tag.split("-")[0], quality, position))
    ranked.sort(key=lambda item: (-item[1], item[2]))
    return [(tag, quality) for tag, quality, _ in ranked]


def negotiate(cookie: str | None, accept_language: str | None) -> Lang:
    """The cookie if it names a language we have; else the best of ours the browser ranks; else ja."""
    for lang in LANGS:
        if cookie == lang:
            return lang
    for tag, _ in parse_accept_language(accept_language or ""):
        for lang in LANGS:
            if tag == lang:
                return lang
    return DEFAULT_LANG
