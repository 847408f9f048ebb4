"""The command line's language: gettext catalogs, chosen by the locale, and times shown locally.

Every message the `kotowari` command prints for a person (errors, summaries, progress, help) is an
English msgid wrapped in `_()` (or `ngettext`), and crawler_client/locale/ja/LC_MESSAGES/kotowari.po is
its Japanese, compiled to the `.mo` beside it (`python -m crawler_client.i18n_build` rebuilds it;
tests/crawler_client/test_i18n.py checks the two agree, that every msgid in the code is translated,
and that the Japanese is written in the portal's glossary). The language follows gettext's own order
of the environment (LANGUAGE, LC_ALL, LC_MESSAGES, LANG: the first one set wins; C, POSIX or a
language without a catalog is English), read when a message is translated, so a test can switch it.

Messages with values are format strings with named placeholders, filled after translation:

    _("wrote {path}").format(path=out)
    ngettext("{count} claim", "{count} claims", n).format(count=n)

`N_()` marks a msgid kept in a constant, translated where it is printed (`_(PUBLIC_CLAIM)`).

The registry says its problems (RFC 9457 title, detail, field reasons) in the language a request's
Accept-Language prefers. The SDK sends none, so programs read the registry's stable English; the
command line asks for Japanese when its messages are Japanese (`answers_in(language())` around a
command: every `Client` made inside sends `Accept-Language: ja`), so a refusal reads as one language.

The SDK's own English (an exception's message, a signal's reason, `Decision.explain()`) and the
registry's pure modules' reasons (a URL, an identifier, a key, a snapshot) stay English where programs
read them; `said(text)` says such a text in the locale's language at print time. Their sentences are
templates in two catalogs: kotowari-sdk (extracted from crawler_client by
`crawler_client.i18n_build`) and the registry's kotowari-registry (`registry.problem_catalog`);
`registry.problem_text.Catalog` matches a sentence back against them and fills the Japanese with the
same values. In a line that mixes languages, each run of text without Japanese is matched alone.

Cheap to import (the command line's start-up is measured): gettext is already loaded by argparse,
and a catalog is read only when the locale asks for one.

Times reach people in their own time zone (TZ, else the system's), always with the offset; what is
written as JSON stays RFC 3339 UTC, as the registry sent it:

>>> from datetime import timedelta, timezone
>>> local_time("2026-04-01T00:00:00Z", zone=timezone(timedelta(hours=9)))
'2026-04-01 09:00:00 +09:00'
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, tzinfo
from typing import Any, Final

__all__ = [
    "DOMAIN",
    "LOCALE_DIR",
    "N_",
    "_",
    "answer_headers",
    "answers_in",
    "install_argparse",
    "language",
    "local_time",
    "ngettext",
    "said",
]

DOMAIN: Final = "kotowari"
LOCALE_DIR: Final = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
_ENVIRONMENT: Final = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_cached: tuple[tuple[str, ...], gettext.NullTranslations] | None = None


def _translation() -> gettext.NullTranslations:
    """The catalog the environment asks for now (English, `NullTranslations`, when none fits)."""
    global _cached
    wanted = tuple(os.environ.get(name, "") for name in _ENVIRONMENT)
    if _cached is None or _cached[0] != wanted:
        _cached = (wanted, gettext.translation(DOMAIN, LOCALE_DIR, fallback=True))
    return _cached[1]


def _(message: str) -> str:
    """`message` (an English msgid) in the locale's language."""
    return _translation().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a message for `count` things, in the locale's language."""
    return _translation().ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark `message` as a msgid without translating it yet (for constants)."""
    return message


def language() -> str:
    """`ja` when messages are in Japanese, else `en`."""
    info = _translation().info()
    return "ja" if info.get("language", "").startswith("ja") else "en"


SDK_DOMAIN: Final = "kotowari-sdk"
_LATIN_RUN: Final = re.compile(r"[^\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")
_said_catalogs: dict[str, Any] = {}


def said(text: object) -> str:
    """`text` (English from the SDK or the registry's pure modules) in the locale's language; English
    and whatever no catalog entry fits as it is."""
    shown = str(text)
    lang = language()
    if lang == "en" or not shown:
        return shown
    catalog = _said_catalog(lang)
    if catalog is None:
        return shown
    return _LATIN_RUN.sub(lambda run: _said_run(catalog, run.group()), shown)


def _said_run(catalog: Any, run: str) -> str:
    core = run.strip()
    if " " not in core:
        return run  # a value (a URL, an id, a flag), or nothing
    start = run.index(core)
    translated: str = catalog.text(core)
    return run[:start] + translated + run[start + len(core) :]


def _said_catalog(lang: str) -> Any:
    """The SDK's and the registry's texts in `lang`, as one `registry.problem_text.Catalog` (read once)."""
    if lang not in _said_catalogs:
        from registry.po_files import read_mo
        from registry.problem_text import DOMAIN, Catalog
        from registry.problem_text import LOCALE_DIR as REGISTRY_LOCALES

        messages: dict[str, str] = {}
        for path in (
            os.path.join(REGISTRY_LOCALES, lang, "LC_MESSAGES", f"{DOMAIN}.mo"),
            os.path.join(LOCALE_DIR, lang, "LC_MESSAGES", f"{SDK_DOMAIN}.mo"),
        ):
            try:
                with open(path, "rb") as mo:
                    messages.update(read_mo(mo.read()))
            except (OSError, ValueError):
                continue
        _said_catalogs[lang] = Catalog(messages, "、" if lang == "ja" else ", ") if messages else None
    return _said_catalogs[lang]


_ANSWERS_IN: ContextVar[str | None] = ContextVar("kotowari_answers_in", default=None)


@contextmanager
def answers_in(lang: str) -> Iterator[None]:
    """Within this block, registry clients ask for problems in `lang` (`en`: no header, as the SDK)."""
    token = _ANSWERS_IN.set(None if lang == "en" else lang)
    try:
        yield
    finally:
        _ANSWERS_IN.reset(token)


def answer_headers() -> dict[str, str]:
    """The headers a registry client adds so the registry answers problems in the asked language."""
    lang = _ANSWERS_IN.get()
    return {} if lang is None else {"Accept-Language": lang}


def install_argparse() -> None:
    """Let argparse's own messages (`usage:`, `the following arguments are required`, …) come from
    this catalog too: argparse looks them up in gettext's current domain, so the command line makes
    its domain that one. Only `crawler_client.cli.main` calls this: a library must not.

    argparse's `_` and `ngettext` (gettext's) then become this module's, which give the same text
    from the same catalog: gettext's search the locale directories on every call, three times
    for each of the ~70 parsers `build_parser` makes, a third of its time."""
    import argparse

    gettext.bindtextdomain(DOMAIN, LOCALE_DIR)
    gettext.textdomain(DOMAIN)
    argparse.__dict__.update(_=_, ngettext=ngettext)


def local_time(value: object, *, zone: tzinfo | None = None) -> str:
    """An RFC 3339 time from the registry, for a person: in `zone` (default: the local time zone,
    from TZ or the system), with its offset. What is not such a time is shown as it is."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    shown = local.strftime("%Y-%m-%d %H:%M:%S")
    if local.microsecond:
        shown += f".{local.microsecond:06d}".rstrip("0")
    return f"{shown} {offset[:3]}:{offset[3:]}"
