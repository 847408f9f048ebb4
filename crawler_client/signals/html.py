"""`<meta name=… content=…>`, licence links and inline RSL from an HTML head, read with the
standard library's tokenizer.

Only the document head matters for the signals we read (robots, UA-named robots, tdm-reservation,
tdm-policy; RSL 1.0 `<link rel="license" type="application/rsl+xml" href=…>` and `<script
type="application/rsl+xml">`), so reading stops at `<body>` or after `MAX_BYTES`. Malformed markup
never raises: `html.parser` is forgiving by design, and anything it cannot make sense of is simply
not a tag we read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Final

__all__ = ["MAX_BYTES", "Head", "head", "is_html", "licence_links", "meta_tags"]

MAX_BYTES: Final = 1024 * 1024
RSL_TYPE: Final = "application/rsl+xml"


@dataclass
class Head:
    """What a document head holds for us: named meta tags, RSL licence links, inline RSL documents."""

    meta: list[tuple[str, str]] = field(default_factory=list)
    licences: list[str] = field(default_factory=list)
    inline_rsl: list[str] = field(default_factory=list)


def _is_rsl(value: str) -> bool:
    return value.split(";", 1)[0].strip().lower() == RSL_TYPE


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = Head()
        self.done = False
        self.script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "body":
            self.done = True
            return
        values = {key.lower(): value or "" for key, value in attrs}
        if tag == "meta" and "name" in values:
            self.found.meta.append((values["name"].strip().lower(), values.get("content", "")))
        elif tag == "link" and _is_rsl(values.get("type", "")):
            if "license" in values.get("rel", "").lower().split() and values.get("href", "").strip():
                self.found.licences.append(values["href"].strip())
        elif tag == "script" and _is_rsl(values.get("type", "")):
            self.script = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.script = None if tag == "script" else self.script

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.script is not None:
            self.found.inline_rsl.append("".join(self.script))
            self.script = None


def is_html(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def head(body: bytes, content_type: str = "text/html") -> Head:
    """Everything `Head` holds, from the part of the document before `<body>`."""
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        text = body[:MAX_BYTES].decode(charset, "replace")
    except LookupError:
        text = body[:MAX_BYTES].decode("utf-8", "replace")
    parser = _Head()
    try:
        parser.feed(text)
        parser.close()
    except Exception:
        pass
    return parser.found


def meta_tags(body: bytes, content_type: str = "text/html") -> list[tuple[str, str]]:
    """(lower-cased name, content) of every named meta tag before `<body>`, in document order."""
    return head(body, content_type).meta


def licence_links(body: bytes, content_type: str = "text/html") -> list[str]:
    """The `href` of every `<link rel="license" type="application/rsl+xml">` before `<body>`, as written."""
    return head(body, content_type).licences
