"""Page-level robots directives: the `X-Robots-Tag` header and `<meta name="robots">`.

Why every line: a response may carry several `X-Robots-Tag` field lines, and a directive
scoped to one crawler (`X-Robots-Tag: GPTBot: noai`) can sit on the second. Reading only the
first line — a bug we have seen in the wild — misses opt-outs. So:

- every field line is read; directive names are case-insensitive;
- a product token and a colon (`googlebot: noindex`) scopes the directives after it, up to the
  next token, to that crawler (matched case-insensitively against our product token); directives
  before any token apply to all. One field line may hold several scopes, which is also what
  several lines merged into one look like: `googlebot: noindex, ExampleBot: noai` gives
  ExampleBot its `noai` (Google's and MDN's grammar: `rule, bot: rule, …, bot: rule, …`). A merged
  line cannot say where a scope was meant to end (`googlebot: nofollow` merged with `noai` reads
  as both for googlebot); Google reads it the same way, and separate field lines keep it clear;
- `unavailable_after:` and `max-*:` are directives with values, not crawler names, and a date's
  own commas and colons never start a scope (a token needs a letter and a colon right after it);
- `<meta name="robots">` applies to all crawlers, `<meta name="GPTBot">` (any product token as
  the name) only to that one.

Directives and what they reserve:

- `noai`: `train-ai` (so `train-genai`) is `n`.
- `noimageai`: `train-ai` is `n` for image content; on an HTML page it concerns the page's
  images, so it is reported but decides nothing for the page itself.
- `noindex`, `none`: `search` is `n`, only when the policy is asked to honour it
  (`honour_noindex`): a search-engine directive that says nothing about AI uses.

>>> from_header(["googlebot: noindex", "GPTBot: noai"], "GPTBot", content_type="text/html").uses["train-ai"]
'n'
>>> directives_for(["googlebot: noindex, ExampleBot: noai, noimageai"], "ExampleBot/1.0")
['noai', 'noimageai']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from crawler_client.signals import Decision, Use, Verdict, stated, unknown
from crawler_client.signals.html import meta_tags
from crawler_client.signals.robots import product_token

__all__ = ["directives_for", "from_header", "from_html"]

_SCOPED = re.compile(r"^\s*((?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]+)\s*:(.*)$", re.DOTALL)
"""A product token (letters, digits, `_`, `-`; at least one letter: `360Spider`, `MJ12bot`) and a colon."""
_VALUED: Final = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})


def directives_for(lines: Iterable[str], user_agent: str) -> list[str]:
    """Lower-cased directives from field lines (or meta contents) that apply to this crawler.

    Each line is read on its own: a scope ends with its line, since separate lines are separate
    statements.
    """
    token = product_token(user_agent).lower()
    found: list[str] = []
    for line in lines:
        scope: str | None = None
        for piece in line.split(","):
            match = _SCOPED.match(piece)
            if match and match.group(1).lower() not in _VALUED:
                scope, piece = match.group(1).lower(), match.group(2)
            name = " ".join(piece.split()).lower()
            if name and (scope is None or scope == token):
                found.append(name)
    return found


def _verdict(
    directives: Sequence[str], *, source: str, location: str, image: bool, html: bool, honour_noindex: bool
) -> Verdict:
    values: dict[str, str] = {}
    notes: list[str] = []
    if "noai" in directives:
        values["train-ai"] = "n"
        notes.append("noai")
    if "noimageai" in directives:
        if image:
            values["train-ai"] = "n"
            notes.append("noimageai (image content)")
        else:
            notes.append("noimageai (concerns images, not this " + ("page)" if html else "content)"))
    if "noindex" in directives or "none" in directives:
        if honour_noindex:
            values["search"] = "n"
            notes.append("noindex (honoured for search)")
        else:
            notes.append("noindex (not asked to honour it)")
    uses: dict[Use, Decision] = stated(values) if values else unknown()
    return Verdict(source, location, "post-fetch", uses, ", ".join(notes) or "no AI directive")


def from_header(
    lines: Sequence[str], user_agent: str, *, content_type: str = "", honour_noindex: bool = False
) -> Verdict:
    kind = content_type.split(";", 1)[0].strip().lower()
    return _verdict(
        directives_for(lines, user_agent),
        source="X-Robots-Tag",
        location="X-Robots-Tag header",
        image=kind.startswith("image/"),
        html=False,
        honour_noindex=honour_noindex,
    )


def from_html(body: bytes, content_type: str, user_agent: str, *, honour_noindex: bool = False) -> Verdict:
    token = product_token(user_agent).lower()
    contents = [content for name, content in meta_tags(body, content_type) if name in ("robots", token)]
    return _verdict(
        directives_for(contents, ""),
        source="robots meta tag",
        location="<meta name=robots>",
        image=False,
        html=True,
        honour_noindex=honour_noindex,
    )
