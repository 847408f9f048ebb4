"""`<meta name=… content=…>` from an HTML document, read with the standard library's tokenizer.

Only the document head matters for the signals we read (robots, UA-named robots, tdm-reservation,
tdm-policy), so reading stops at `<body>` or after `MAX_BYTES`. Malformed markup never raises:
`html.parser` is forgiving by design, and anything it cannot make sense of is simply not a meta tag.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Final

__all__ = ["MAX_BYTES", "is_html", "meta_tags"]

MAX_BYTES: Final = 1024 * 1024


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, str]] = []
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "body":
            self.done = True
            return
        if tag != "meta":
            return
        values = {key.lower(): value or "" for key, value in attrs}
        if "name" in values:
            self.tags.append((values["name"].strip().lower(), values.get("content", "")))

    handle_startendtag = handle_starttag


def is_html(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def meta_tags(body: bytes, content_type: str = "text/html") -> list[tuple[str, str]]:
    """(lower-cased name, content) of every named meta tag before `<body>`, in document order."""
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        text = body[:MAX_BYTES].decode(charset, "replace")
    except LookupError:
        text = body[:MAX_BYTES].decode("utf-8", "replace")
    parser = _Meta()
    try:
        parser.feed(text)
        parser.close()
    except Exception:
        pass
    return parser.tags
