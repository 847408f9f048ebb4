"""Problem details in the reader's language: English by default, Japanese when Accept-Language asks.

RFC 9457 lets `title` and `detail` be localised by content negotiation; `type`, `status`, JSON
pointers and every machine field stay as they are, in English, for programs. The texts are the
English sentences the code raises (see `registry.problem_catalog`: its msgids are those sentences as
brace templates); `localise(text, "ja")` looks a sentence up exactly, and failing that matches it
against each template (placeholders match any text) and fills the Japanese with the same values.
A value that is itself a sentence of the catalog (an exception's message inside another,
`invalid URL: no host`) is translated too, so a line is not half English; a value without a space
(a URL, a DID, an id, a token) is kept as it is. Anything the catalog does not know stays English.

>>> localise("Not found", "ja")
'見つかりません'
>>> localise("Not found", "en")
'Not found'
>>> negotiate("en-GB,en;q=0.9,ja;q=0.5"), negotiate("ja,en;q=0.8"), negotiate(None)
('en', 'ja', 'en')

Pure (stdlib only) so the command line can say the registry's own pure modules' reasons (a URL, an
identifier, a snapshot that does not parse) in Japanese from the same catalog. The catalog is
registry/locale/ja/LC_MESSAGES/kotowari-registry.po, compiled to the .mo beside it, which is read
once, on first use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any, Final

from registry.po_files import read_mo

__all__ = ["DEFAULT", "LANGUAGES", "Catalog", "catalog", "localise", "localise_problem", "negotiate"]

DOMAIN: Final = "kotowari-registry"
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
DEFAULT: Final = "en"
LANGUAGES: Final = ("en", "ja")
_MAX_DEPTH: Final = 12
ENGLISH_GRAMMAR: Final = frozenset({"expected_plural"})
"""Placeholders whose value is English grammar (pydantic's plural "s"): a translation keeps the
placeholder (so the formats agree, as msgfmt checks) and it is filled with nothing."""
_QUALITY = re.compile(r"^\s*q\s*=\s*([0-9.]+)\s*$")
_QUOTED_LIST = re.compile(r"'[^']*'(?:, '[^']*')*,? or '[^']*'")
_LIST_SEPARATORS: Final = {"ja": "、"}
"""How a language lists alternatives, for pydantic's `'n' or 'y'` (the only English left in a value)."""


def negotiate(accept_language: str | None) -> str:
    """The language (`en` or `ja`) an Accept-Language header prefers: the highest quality among
    the two, the earlier one on a tie; `en` when it names neither, or is absent or unreadable."""
    best, best_q = DEFAULT, 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, *params = part.strip().split(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        quality = 1.0
        for param in params:
            if param.strip().lower().startswith("q"):
                found = _QUALITY.match(param.lower())
                try:
                    quality = float(found.group(1)) if found else 0.0
                except ValueError:
                    quality = 0.0  # an unreadable quality: the element is not counted
        if quality > best_q or (quality == best_q and position == 0):
            best, best_q = primary, quality
    return best if best_q > 0 else DEFAULT


@dataclass(frozen=True)
class _Template:
    source: str
    names: tuple[str, ...]
    translation: str
    adjacent: tuple[tuple[str, str], ...] = ()
    """Placeholders with no text between them (`{error}{tries}`): where one ends is a guess."""
    literals: tuple[str, ...] = ()
    """Its literal text, piece by piece: a sentence lacking one cannot match (tried before the regex)."""

    @property
    def key(self) -> str:
        """Its longest literal piece: the one cheap test a sentence must pass first."""
        return max(self.literals, key=len, default="")

    def match(self, text: str) -> re.Match[str] | None:
        if not all(literal in text for literal in self.literals):
            return None
        return _regex(self.source).fullmatch(text)


@functools.lru_cache(maxsize=4096)
def _regex(source: str) -> re.Pattern[str]:
    """Compiled on first use: a catalog has a thousand templates and a command meets a few."""
    return re.compile(source, re.DOTALL)


def _compile(msgid: str) -> _Template | None:
    """A template's matcher: literal text as is, each `{name}` any text (the same name, the same text;
    a `{…pointer}` only a JSON pointer, so `{reason} at {pointer}` does not take any sentence with "at")."""
    parts: list[str] = []
    names: list[str] = []
    literals: list[str] = []
    adjacent: list[tuple[str, str]] = []
    previous: str | None = None
    try:
        parsed = list(Formatter().parse(msgid))
    except ValueError:
        return None
    for literal, name, _spec, _conversion in parsed:
        parts.append(re.escape(literal))
        if literal:
            literals.append(literal)
            previous = None
        if name is None:
            continue
        if not name.isidentifier():
            return None
        if previous is not None and previous != name:
            adjacent.append((previous, name))
        previous = name
        if name in names:
            parts.append(f"(?P={name})")
        else:
            names.append(name)
            parts.append(f"(?P<{name}>/.*?)" if name.endswith("pointer") else f"(?P<{name}>.*?)")
    if not names:
        return None
    return _Template("".join(parts), tuple(names), "", tuple(adjacent), tuple(literals))


class Catalog:
    """One language's texts: exact sentences first, then templates, the most literal text first."""

    def __init__(self, messages: Mapping[str, str], list_separator: str = ", ") -> None:
        self.list_separator = list_separator
        self.exact: dict[str, str] = {}
        templates = []
        for msgid, text in messages.items():
            compiled = _compile(msgid)
            if compiled is None:  # a plain sentence (its braces, if any, written doubled)
                self.exact[_unescape(msgid)] = _unescape(text)
            else:
                literal = len(re.sub(r"\{\w+\}", "", msgid))
                wrapper = any(name.endswith("pointer") for name in compiled.names)
                templates.append((wrapper, literal, replace(compiled, translation=text)))
        # `{reason} at {pointer}` first: it wraps a whole reason, which is then matched on its own
        templates.sort(key=lambda item: (not item[0], -item[1]))
        self.templates = [(template.key, template) for _wrapper, _literal, template in templates]

    def text(self, english: str, depth: int = 0) -> str:
        """`english` in this catalog's language, or `english` itself when no entry fits."""
        exact = self.exact.get(english)
        if exact is not None:
            return exact
        if depth >= _MAX_DEPTH:
            return english
        for key, template in self.templates:
            if key not in english:
                continue
            found = template.match(english)
            if found is None:
                continue
            groups = {name: found.group(name) for name in template.names}
            for first, second in template.adjacent:
                groups[first], groups[second] = self._resplit(groups[first] + groups[second], depth)
            values = {
                name: "" if name in ENGLISH_GRAMMAR else self._value(groups[name], depth)
                for name in template.names
            }
            try:
                return template.translation.format(**values)
            except (KeyError, IndexError, ValueError):
                return english
        return self._parts(english, depth)

    def _parts(self, english: str, depth: int) -> str:
        """A sentence no entry fits, said part by part: its `; `-separated parts, else what is before and
        after its first `: ` (`robots.txt: <reason>`, `<section>: <exception>`)."""
        for separator in ("; ", ": "):
            if separator in english:
                parts = english.split(separator) if separator == "; " else english.split(separator, 1)
                said = [self.text(part, depth + 1) if " " in part else part for part in parts]
                if said != parts:
                    return separator.join(said)
        return english

    def _resplit(self, joined: str, depth: int) -> tuple[str, str]:
        """Where two adjacent placeholders' text divides: before the longest tail that is a text of
        this catalog on its own (` (4 attempts)`), else all to the first."""
        for cut in range(len(joined)):
            tail = joined[cut:]
            if tail[0] in " (:;," and self.text(tail, depth + 1) != tail:
                return joined[:cut], tail
        return joined, ""

    def _value(self, value: str, depth: int) -> str:
        if " " not in value.strip():
            return value  # a URL, DID, id or token: as it is
        if _QUOTED_LIST.fullmatch(value):
            return re.sub(r",? or |, ", self.list_separator, value)
        return self.text(value, depth + 1)


def _unescape(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


@cache
def catalog(language: str) -> Catalog | None:
    """The catalog of `language`, read once; None for English (the msgids) or a language without one."""
    if language == DEFAULT:
        return None
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        return Catalog(read_mo(path.read_bytes()), _LIST_SEPARATORS.get(language, ", "))
    except (OSError, ValueError):
        return None


def localise(text: str, language: str) -> str:
    """`text` (an English problem title, detail or field reason) in `language`."""
    found = catalog(language) if text else None
    return text if found is None else found.text(text)


def localise_problem(body: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A problem+json body with `title`, `detail` and each `errors[].detail` in `language`; every other
    member (type, status, instance, pointers, extensions) exactly as it was."""
    out = dict(body)
    if catalog(language) is None:
        return out
    for key in ("title", "detail"):
        if isinstance(out.get(key), str):
            out[key] = localise(out[key], language)
    if isinstance(out.get("errors"), list):
        out["errors"] = [
            {**error, "detail": localise(error["detail"], language)}
            if isinstance(error, dict) and isinstance(error.get("detail"), str)
            else error
            for error in out["errors"]
        ]
    return out
