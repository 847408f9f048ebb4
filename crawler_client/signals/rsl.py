"""RSL 1.0, Really Simple Licensing (RSL Technical Steering Committee, 2025-11-06): licence documents.

An RSL document (`application/rsl+xml`, namespace `https://rslstandard.org/rsl`) lists `<content
url=…>` entries, each with one or more `<license>` offers: `<permits type="usage">` and
`<prohibits type="usage">` name uses (also `type="user"` and `type="geo"`), `<payment type=…>` the
price, and a `server` attribute on `<content>` a licence server from which a licence must be
obtained, even a free one (§3.3). Sites point to documents from robots.txt (`License: URL`), an
HTTP `Link: <URL>; rel="license"; type="application/rsl+xml"` header, or an HTML `<link
rel="license" type="application/rsl+xml" href=…>` (or inline `<script type="application/rsl+xml">`).

How this module reads a document, after the spec:

- §3.5: where a licence has a usage `<permits>`, only the listed uses are permitted under it; with
  none, every use is offered. A usage `<prohibits>` refuses the listed uses.
- §3.1.1: several `<license>` elements are alternative offers. For one use, the offers that name
  it decide (a prohibition over a permit, a free grant over a priced one), else all of them do.
- §3.7: a licence asks for a payment unless its `<payment>` is absent, `free`, `attribution`, or
  has no type and states nothing (no amount, standard or custom terms). `purchase`,
  `subscription`, `training`, `crawl`, `use`, `contribution` (and the drafts' `inference`,
  `royalty`), any other type, and user or geo restrictions this crawler cannot show it meets,
  make the use "reserved unless licensed": `n` here, with the terms in the reason.
- §4.9: the `<content>` whose `url` pattern (RFC 9309 syntax, or a full URL) matches most
  specifically governs a page; a page no entry matches is not covered (unknown).

Mapping of RSL usage tokens onto Kotowari's uses (what a token grants in `<permits>`, and what it
reserves in `<prohibits>`; the draft tokens of July/September 2025 are read as aliases):

| RSL token | grants | reserves |
|---|---|---|
| `all` | every use | every use |
| `ai-all` | train-ai, train-genai, ai-input, generate | the same |
| `ai-train` (draft `train-ai`) | train-ai, train-genai | the same |
| draft `train-genai` | train-genai | train-genai |
| `ai-input` (drafts `ai-use`, `ai-summarize`, `ai-include`) | ai-input | ai-input |
| `ai-index` | nothing (indexing for AI answers is narrower than ai-input) | ai-input |
| `search` | search | search |

Each use then gets a status: `permitted` (y), `licensable` ("reserved unless licensed", n),
`prohibited` (n), `not-permitted` (a `<permits>` list leaves it out, n) or `not-covered` (unknown).

Safety: XML is read with expat, refusing any DOCTYPE (so no DTD, no entity can be declared, none
expanded), at most `MAX_BYTES`, `MAX_DEPTH` levels and `MAX_ELEMENTS` elements. Nothing raises:
`parse` returns a `Document` or an `Invalid` saying why; a usage token outside the vocabulary
makes the document `Invalid`, since a term one cannot read cannot be honoured.

>>> document = parse(b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
...                  b'<prohibits type="usage">ai-train</prohibits></license></content></rsl>')
>>> statuses(document.content_for("https://example.com/a"))["train-ai"]
'prohibited'
"""

from __future__ import annotations

import re
import xml.parsers.expat as expat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from crawler_client.signals import USES, Decision, Stage, Use, Verdict, unknown
from crawler_client.signals.robots import PathRule, path_of
from crawler_client.signals.robots_match import normalise_pattern

__all__ = [
    "MAX_BYTES",
    "MEDIA_TYPE",
    "NAMESPACE",
    "Content",
    "Document",
    "Invalid",
    "Licence",
    "Payment",
    "parse",
    "statuses",
    "unreadable",
    "verdict",
]

NAMESPACE: Final = "https://rslstandard.org/rsl"
MEDIA_TYPE: Final = "application/rsl+xml"
MAX_BYTES: Final = 1024 * 1024
MAX_DEPTH: Final = 64
MAX_ELEMENTS: Final = 20_000

_AI: Final[tuple[Use, ...]] = ("train-ai", "train-genai", "ai-input", "generate")
_TRAIN: Final[tuple[Use, ...]] = ("train-ai", "train-genai")
#: token -> (uses a `<permits>` of it grants, uses a `<prohibits>` of it reserves)
TOKENS: Final[Mapping[str, tuple[tuple[Use, ...], tuple[Use, ...]]]] = {
    "all": (USES, USES),
    "ai-all": (_AI, _AI),
    "ai-train": (_TRAIN, _TRAIN),
    "ai-input": (("ai-input",), ("ai-input",)),
    "ai-index": ((), ("ai-input",)),
    "search": (("search",), ("search",)),
    # RSL 1.0 drafts (July and September 2025), which used the aipref labels
    "train-ai": (_TRAIN, _TRAIN),
    "train-genai": (("train-genai",), ("train-genai",)),
    "ai-use": (("ai-input",), ("ai-input",)),
    "ai-summarize": (("ai-input",), ("ai-input",)),
    "ai-include": (("ai-input",), ("ai-input",)),
}
FREE_PAYMENTS: Final = frozenset({"free", "attribution"})
PAID_PAYMENTS: Final = frozenset(
    {"purchase", "subscription", "training", "crawl", "use", "contribution", "inference", "royalty"}
)
TERM_TYPES: Final = ("usage", "user", "geo")

Status = Literal["permitted", "licensable", "prohibited", "not-permitted", "not-covered"]
_RANK: Final[tuple[Status, ...]] = ("prohibited", "permitted", "licensable", "not-permitted")
_VALUE: Final[Mapping[Status, Decision]] = {
    "permitted": "y",
    "licensable": "n",
    "prohibited": "n",
    "not-permitted": "n",
    "not-covered": "unknown",
}


# ------------------------------------------------------------------ the document


@dataclass(frozen=True)
class Invalid:
    """A document that was not read, and why (the error value `parse` returns)."""

    reason: str


@dataclass(frozen=True)
class Payment:
    """One `<payment>`: its type (None when absent), amounts (currency, value) and terms URLs."""

    type: str | None
    amounts: tuple[tuple[str, str], ...] = ()
    standard: tuple[str, ...] = ()
    custom: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        """Does it ask for something a licence must be obtained for (§3.7)?"""
        if self.type is None:
            return bool(self.amounts or self.standard or self.custom)
        return self.type not in FREE_PAYMENTS

    def describe(self) -> str:
        kind = self.type or "unstated"
        if self.type is not None and self.type not in FREE_PAYMENTS | PAID_PAYMENTS:
            kind += " (unrecognised)"
        details = [f"{value} {currency}".strip() for currency, value in self.amounts]
        details += [f"standard terms {url}" for url in self.standard]
        details += [f"custom terms {url}" for url in self.custom]
        return f"payment {kind}" + (" " + ", ".join(details) if details else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "amounts": [{"currency": c, "amount": v} for c, v in self.amounts],
            "standard": list(self.standard),
            "custom": list(self.custom),
        }


@dataclass(frozen=True)
class Licence:
    """One `<license>` offer. `permits`/`prohibits` map a term type (usage, user, geo) to tokens."""

    permits: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    prohibits: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    payments: tuple[Payment, ...] = ()
    legal: tuple[tuple[str, str], ...] = ()

    @property
    def restricted(self) -> str | None:
        """The user or geo terms a crawler would have to show it meets, described; None if none."""
        terms = [
            f"{verb} {kind} {', '.join(tokens) or '(none)'}"
            for verb, terms in (("permits", self.permits), ("prohibits", self.prohibits))
            for kind, tokens in terms.items()
            if kind != "usage"
        ]
        return "; ".join(terms) or None

    def names(self, use: Use) -> bool:
        """Does it speak of `use` by name (a permitted token granting it, a prohibited one reserving it)?"""
        return any(use in TOKENS[t][0] for t in self.permits.get("usage", ())) or any(
            use in TOKENS[t][1] for t in self.prohibits.get("usage", ())
        )

    def status(self, use: Use, server: str | None) -> Status:
        if any(use in TOKENS[t][1] for t in self.prohibits.get("usage", ())):
            return "prohibited"
        permitted = self.permits.get("usage")
        if permitted is not None and not any(use in TOKENS[t][0] for t in permitted):
            return "not-permitted"
        if server or self.restricted or any(p.required for p in self.payments):
            return "licensable"
        return "permitted"

    def to_json(self) -> dict[str, Any]:
        return {
            "permits": {k: list(v) for k, v in self.permits.items()},
            "prohibits": {k: list(v) for k, v in self.prohibits.items()},
            "payments": [payment.to_json() for payment in self.payments],
            "legal": [{"type": kind, "terms": text} for kind, text in self.legal],
        }


@dataclass(frozen=True)
class Content:
    """One `<content>` entry: its URL pattern, licence server, offers and the asset's terms."""

    url: str
    licences: tuple[Licence, ...] = ()
    server: str | None = None
    encrypted: bool = False
    terms: tuple[str, ...] = ()
    copyright: str | None = None

    def specificity(self, url: str) -> int | None:
        """How specifically this entry's `url` matches the page (longer is more), None if not at all.

        An empty `url` stands for the scope the document was found in (the site that named it).
        """
        pattern = self.url.strip()
        if not pattern:
            return 0
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", pattern):
            want, page = urlsplit(pattern), urlsplit(url)
            if (want.hostname or "").lower() != (page.hostname or "").lower() or _port(want) != _port(page):
                return None
            pattern = want.path or "/"
            if want.query:
                pattern += "?" + want.query
        rule = PathRule(normalise_pattern(pattern), "rsl", 0)
        return rule.length if rule.matches(path_of(url)) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "server": self.server,
            "encrypted": self.encrypted,
            "terms": list(self.terms),
            "copyright": self.copyright,
            "licences": [licence.to_json() for licence in self.licences],
        }


def _port(parts: Any) -> int | None:
    try:
        port: int | None = parts.port
    except ValueError:
        return -1
    return port if port is not None else {"http": 80, "https": 443}.get(parts.scheme.lower())


@dataclass(frozen=True)
class Document:
    """A parsed RSL document: its `<content>` entries in document order."""

    contents: tuple[Content, ...]

    def content_for(self, url: str) -> Content | None:
        """The entry governing `url` (§4.9: the most specific match; the first of equals)."""
        best: tuple[int, Content] | None = None
        for content in self.contents:
            length = content.specificity(url)
            if length is not None and (best is None or length > best[0]):
                best = (length, content)
        return best[1] if best else None


def statuses(content: Content | None) -> dict[Use, Status]:
    """Each use's status under one `<content>` entry (None: the page is not covered)."""
    result: dict[Use, Status] = dict.fromkeys(USES, "not-covered")
    if content is None:
        return result
    for use in USES:
        if not content.licences:
            result[use] = "licensable" if content.server else "not-covered"
            continue
        naming = [lic.status(use, content.server) for lic in content.licences if lic.names(use)]
        offered = naming or [lic.status(use, content.server) for lic in content.licences]
        result[use] = next(status for status in _RANK if status in offered)
    return result


# ------------------------------------------------------------------ parsing


class _Refused(Exception):
    """Raised inside expat handlers to stop at something this reader refuses."""


@dataclass
class _Node:
    namespace: str
    name: str
    attrs: dict[str, str]
    children: list[_Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def rsl(self, name: str) -> list[_Node]:
        return [c for c in self.children if c.namespace == NAMESPACE and c.name == name]

    def content(self) -> str:
        return "".join(self.text).strip()


def _tree(data: bytes) -> _Node:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Node] = []
    roots: list[_Node] = []
    count = 0

    def refuse(*_: object) -> None:
        raise _Refused("it has a DOCTYPE declaration (DTDs and entities are refused)")

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS or len(stack) >= MAX_DEPTH:
            raise _Refused(f"it has more than {MAX_ELEMENTS} elements or {MAX_DEPTH} levels")
        namespace, _, local = name.rpartition(" ")
        node = _Node(namespace.rstrip("/"), local, {k.rpartition(" ")[2]: v for k, v in attrs.items()})
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text.append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.buffer_text = True
    parser.Parse(data, True)
    return roots[0]


def _tokens(node: _Node) -> tuple[str, ...]:
    return tuple(token.lower() for token in node.content().replace(",", " ").split())


def _terms(nodes: Iterable[_Node], element: str) -> dict[str, tuple[str, ...]]:
    terms: dict[str, tuple[str, ...]] = {}
    for node in nodes:
        kind = node.attrs.get("type", "usage").strip().lower() or "usage"
        if kind not in TERM_TYPES:
            raise _Refused(f"<{element} type={kind!r}> is not one of {', '.join(TERM_TYPES)}")
        tokens = _tokens(node)
        if kind == "usage":
            strange = [token for token in tokens if token not in TOKENS]
            if strange:
                raise _Refused(
                    f"<{element}> names the usage token {strange[0]!r}, which RSL 1.0 does not define "
                    "(all, ai-all, ai-train, ai-input, ai-index, search)"
                )
        terms[kind] = terms.get(kind, ()) + tokens
    return terms


def _licence(node: _Node) -> Licence:
    payments = tuple(
        Payment(
            p.attrs.get("type", "").strip() or None,
            tuple((a.attrs.get("currency", "").strip(), a.content()) for a in p.rsl("amount")),
            tuple(s.content() for s in p.rsl("standard") if s.content()),
            tuple(c.content() for c in p.rsl("custom") if c.content()),
        )
        for p in node.rsl("payment")
    )
    legal = tuple((n.attrs.get("type", "").strip(), n.content()) for n in node.rsl("legal"))
    permits, prohibits = _terms(node.rsl("permits"), "permits"), _terms(node.rsl("prohibits"), "prohibits")
    return Licence(permits, prohibits, payments, legal)


def _content(node: _Node) -> Content:
    copyright = node.rsl("copyright")
    return Content(
        node.attrs.get("url", ""),
        tuple(_licence(licence) for licence in node.rsl("license")),
        node.attrs.get("server", "").strip() or None,
        node.attrs.get("encrypted", "").strip().lower() == "true",
        tuple(t.content() for t in node.rsl("terms") if t.content()),
        copyright[0].content() if copyright else None,
    )


def _all_contents(node: _Node) -> list[_Node]:
    """`<rsl:content>` entries anywhere (an RSS feed carries them inside its items), outermost only."""
    found: list[_Node] = []
    pending = [node]
    while pending:
        current = pending.pop()
        if current.namespace == NAMESPACE and current.name == "content":
            found.append(current)
        else:
            pending.extend(reversed(current.children))
    return found


def parse(data: bytes | str) -> Document | Invalid:
    """Read an RSL document (a licence file, or a feed using the RSL module); never raises."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        return Invalid(f"the document is larger than {MAX_BYTES} bytes")
    try:
        root = _tree(raw)
        if root.name == "rsl" and root.namespace != NAMESPACE:
            return Invalid(f"the <rsl> root is not in the RSL namespace ({NAMESPACE})")
        nodes = root.rsl("content") if root.namespace == NAMESPACE and root.name == "rsl" else []
        nodes = nodes or _all_contents(root)
        if not nodes:
            return Invalid("the document has no RSL <content> element")
        return Document(tuple(_content(node) for node in nodes))
    except _Refused as exc:
        return Invalid(f"refused: {exc}")
    except expat.ExpatError as exc:
        return Invalid(f"not well-formed XML: {expat.ErrorString(exc.code)} at line {exc.lineno}")
    except (ValueError, UnicodeError, IndexError, RecursionError, MemoryError) as exc:
        return Invalid(f"not readable as XML: {type(exc).__name__}")


# ------------------------------------------------------------------ verdicts


def verdict(
    document: Document | Invalid,
    url: str,
    *,
    location: str,
    stage: Stage,
    found_in: str,
) -> Verdict:
    """What the licence at `location` says about the uses of `url`."""
    if isinstance(document, Invalid):
        return unreadable(location, document.reason, stage=stage, found_in=found_in, status="invalid")
    content = document.content_for(url)
    each = statuses(content)
    uses = unknown()
    for use, status in each.items():
        uses[use] = _VALUE[status]
    terms: dict[str, Any] = {"licence": location, "found_in": found_in, "status": "read", "uses": dict(each)}
    if content is None:
        reason = f"RSL licence {location} ({found_in}): no <content> entry covers this URL"
        return Verdict("RSL", location, stage, uses, reason, terms={**terms, "content": None})
    terms["content"] = content.to_json()
    return Verdict("RSL", location, stage, uses, _reason(location, found_in, content, each), terms=terms)


def _reason(location: str, found_in: str, content: Content, each: Mapping[Use, Status]) -> str:
    words = {
        "licensable": "reserved unless licensed",
        "prohibited": "prohibited",
        "not-permitted": "not permitted",
        "permitted": "permitted",
        "not-covered": "not covered",
    }
    groups = [
        f"{words[status]}: {', '.join(use for use in USES if each[use] == status)}"
        for status in (*_RANK, "not-covered")
        if status in each.values()
    ]
    conditions: list[str] = []
    if content.server:
        conditions.append(f"a licence must be obtained from the licence server {content.server}")
    for licence in content.licences:
        conditions += [payment.describe() for payment in licence.payments]
        if licence.restricted:
            conditions.append(licence.restricted)
    conditions += [f"terms {url}" for url in content.terms]
    where = f"content {content.url!r}" if content.url else "content for this site"
    said = "; ".join(groups) + (f" ({'; '.join(dict.fromkeys(conditions))})" if conditions else "")
    return f"RSL licence {location} ({found_in}, {where}): {said}"


def unreadable(
    location: str, why: str, *, stage: Stage, found_in: str, status: str = "unreachable"
) -> Verdict:
    """A declared licence that could not be fetched or read: fail closed, every use reserved.

    RSL asks crawlers to read and comply with a declared licence before using the content; one
    that cannot be read is not a permission.
    """
    uses: dict[Use, Decision] = {use: "n" for use in USES}
    reason = (
        f"RSL licence {location} ({found_in}) could not be read: {why}; counted as reserved unless licensed"
    )
    terms = {"licence": location, "found_in": found_in, "status": status, "error": why}
    return Verdict("RSL", location, stage, uses, reason, terms=terms)
