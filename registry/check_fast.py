"""The batch check's fast path: bulk work per request, per-item work only where an item can match.

A crawl's check is 10,000 items that are nearly all plain URL items, `{"scheme": "url", "value":
"..."}`. Three steps of the reference path (`registry.checking`, `ClaimIndex.match`,
`AnswerItems.add`) cost per item what they need not:

- validation: a plain URL item is checked in one pass by the very rules pydantic applies to it
  (a string of 1 to `MAX_URL_LENGTH` characters that `urls.claim_expression` accepts); every
  other item, and the request's other members, go through `CheckRequest` itself. On any doubt
  the whole body is validated by `validate_check_request`, so every refusal (its message and its
  JSON pointers) is the reference's own;
- matching: `ClaimIndex.url_hits_many` gives each URL's (claim, expression) pairs without
  building `Hit`s; it settles a URL none of whose lookup hosts holds a URL claim from one regular
  expression (`urls.plain_parts`, exact for URLs that need no canonicalising step), finds those
  hosts once per host and request, and on them looks up only the paths some claim names;
- answering: the answer item of a distinct hit list is made once by the reference (`decide`,
  through `AnswerItems.template`) and kept, around the echo, across requests while nothing it
  depends on changed: the claims (the index replaces a claim's view when its authority changes),
  whether each is in force at the answer's moment and territory, whether each is disputed, the
  purpose and the minimum authority. A claim with authority grants (which lapse with time) is
  decided afresh every time. The echo of a plain URL item is written directly: its RFC 8785 form
  is `json.dumps`'s for a string (the same escapes; strict JSON holds no lone surrogate).

A body of plain ASCII URL items is not even parsed as a whole: `registry.check_urls` reads it by
regular expressions, and `answer_plain` matches and answers it straight from those bytes (on a host
with claims, a URL none of whose candidate paths is listed there is settled by a set lookup).

`tests/registry/test_check_fast.py` holds the properties: the same answer bytes and signature as
the reference path over mixed items, and the same refusals.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, Final

from pydantic import ValidationError

from registry.answers import AnswerItems
from registry.check_urls import PlainBody, path_candidates, valid_url
from registry.checking import CheckRequest, ClaimView, Hit, validate_check_request
from registry.index import ClaimIndex
from registry.schemes import UrlId

#: A valid plain URL item, standing in for the plain items when the rest of a body is validated.
_PROBE: Final = {"scheme": "url", "value": "http://a/"}
_PROBE_ITEM: Final = UrlId(scheme="url", value="http://a/")
_ECHO_HEAD: Final = b'"item":{"scheme":"url","value":'
_ECHO_TAIL: Final = b"}"


@dataclass(frozen=True)
class PlannedCheck:
    """A validated check: the request's members, and per item either a plain URL item's value
    (`str`) or the item's validated model."""

    request: CheckRequest
    items: list[Any]


def plan_check(body: object) -> PlannedCheck:
    """`validate_check_request(body)`, with plain URL items validated in one pass and kept as
    their value; raises `InvalidDocument` exactly as the reference does."""
    planned = _plan_plainly(body)
    if planned is not None:
        return planned
    request = validate_check_request(body)
    return PlannedCheck(request, list(request.items))


def _plan_plainly(body: object) -> PlannedCheck | None:
    """The plan when every item is valid, or None (the reference then judges the body)."""
    if type(body) is not dict:
        return None
    items = body.get("items")
    if type(items) is not list or not items:
        return None
    planned: list[Any] = []
    others: list[object] = []
    for item in items:
        if type(item) is dict and len(item) == 2 and item.get("scheme") == "url":
            value = item.get("value")
            if type(value) is str and type(item["scheme"]) is str:
                if not valid_url(value):
                    return None
                planned.append(value)
                continue
        planned.append(None)
        others.append(item)
    try:
        request = CheckRequest.model_validate({**body, "items": others or [_PROBE]})
    except ValidationError:
        return None
    if others:
        models = iter(request.items)
        planned = [next(models) if value is None else value for value in planned]
    return PlannedCheck(request, planned)


def url_echo(value: str) -> bytes:
    """The RFC 8785 form of a URL item's value: `json.dumps`'s, since both escape exactly `"`, `\\`
    and the controls (`\\b \\t \\n \\f \\r`, else `\\u00xx`) and write the rest as UTF-8; a
    lone surrogate (which no strict JSON body holds) fails to encode, as in `keys.canonicalize`."""
    return encode_basestring(value).encode("utf-8")


@dataclass(frozen=True)
class _Template:
    views: tuple[ClaimView, ...]
    flags: tuple[tuple[bool, bool], ...]
    head: bytes
    tail: bytes


class TemplateCache:
    """Answer items of URL hit lists kept across requests, up to `max_bytes` (then started afresh)."""

    def __init__(self, max_bytes: int = 32 << 20) -> None:
        self.max_bytes = max_bytes
        self._size = 0
        self._templates: dict[tuple[Any, ...], _Template] = {}

    def __len__(self) -> int:
        return len(self._templates)

    def get(self, key: tuple[Any, ...]) -> _Template | None:
        return self._templates.get(key)

    def put(self, key: tuple[Any, ...], template: _Template) -> None:
        size = len(template.head) + len(template.tail)
        if self._size + size > self.max_bytes:
            self._templates.clear()
            self._size = 0
        self._templates[key] = template
        self._size += size


def answer_all(
    index: ClaimIndex, items: Sequence[Any], answers: AnswerItems, cache: TemplateCache | None = None
) -> None:
    """Add every planned item's answer to `answers`, in order: plain URL items (`str`) by the fast
    path, every other item by `ClaimIndex.match` and `AnswerItems.add`."""
    hits = iter(index.url_hits_many([item for item in items if type(item) is str]))
    urls_answered = _UrlAnswers(index, answers, cache if cache is not None else TemplateCache())
    for item in items:
        if type(item) is str:
            urls_answered.add(item, next(hits))
        else:
            answers.add(item, index.match(item))


def answer_plain(
    index: ClaimIndex, plain: PlainBody, answers: AnswerItems, cache: TemplateCache | None = None
) -> None:
    """`answer_all` for a body of plain URL items read by `registry.check_urls`: the items' bytes
    joined from one (head, tail) per distinct hit list around each value as written (which is its
    echo: it holds nothing JSON escapes)."""
    known = index.KNOWS_URL_HOSTS
    hit_lists = _plain_hits(index, plain) if known else index.url_hits_many(plain.values())
    urls_answered = _UrlAnswers(index, answers, cache if cache is not None else TemplateCache())
    texts: dict[tuple[tuple[int, str], ...], tuple[bytes, bytes]] = {}
    pieces: list[bytes] = []
    add = pieces.append
    for echo, hits in zip(plain.echoes(), hit_lists, strict=True):
        around = texts.get(hits)
        if around is None:
            head, tail = urls_answered.around(hits)
            around = texts[hits] = (head + b'"', b'"' + tail + b",")
        add(around[0])
        add(echo)
        add(around[1])
    pieces[-1] = pieces[-1][:-1]  # no "," after the last item
    if answers.parts:
        answers.parts.append(b",")
    answers.parts.append(b"".join(pieces))


#: Hosts whose lookup hosts list at most this many paths are screened by a set of their paths.
_SCREENED_PATHS: Final = 1024
_HostGroup = tuple[list[tuple[str, Mapping[str, int]]], frozenset[bytes] | None]


def _plain_hits(index: ClaimIndex, plain: PlainBody) -> list[tuple[tuple[int, str], ...]]:
    """`index.url_hits_many` of the found values. A strict URL's lookup hosts are found once per
    host as written; on a host with claims, a URL none of whose candidate paths (with the query,
    itself, "/" and the 3 directory groups) its hosts list has no hit; the others' hits come from
    `path_candidates`. Any other value is matched by `url_hits_many` itself."""
    others = iter(index.url_hits_many(plain.others()))
    exact_refs = index.exact_refs
    claimed: dict[bytes, _HostGroup | None] = {}
    hit_lists: list[tuple[tuple[int, str], ...]] = []
    add = hit_lists.append
    for _, host, path, d3, d2, d1, query, _ in plain.rows():
        if host is None:
            add(next(others))
            continue
        try:
            group = claimed[host]
        except KeyError:
            group = claimed[host] = _host_group(index, host.decode("ascii").lower())
        if group is None:
            add(())
            continue
        on_host, screen = group
        path = path or b"/"
        if (
            screen is not None
            and path not in screen
            and d1 not in screen
            and d2 not in screen
            and d3 not in screen
            and not (query and path + query in screen)
        ):
            add(())
            continue
        candidates = path_candidates(path.decode("ascii"), query.decode("ascii") if query else "")
        add(
            tuple(
                [
                    (ref, name + candidate)
                    for name, listed in on_host
                    for candidate in candidates
                    if candidate in listed
                    for ref in exact_refs(f"url:{name}{candidate}")
                ]
            )
        )
    return hit_lists


def _host_group(index: ClaimIndex, host: str) -> _HostGroup | None:
    """A host's lookup hosts with URL keys (None if none), and the set of the paths they list
    when it is small, encoded (None when "/" is listed: every URL on the host then has a hit)."""
    on_host = index.url_hosts(host)
    if not on_host:
        return None
    listed = [path for _, paths in on_host for path in paths]
    if len(listed) > _SCREENED_PATHS or "/" in listed:
        return on_host, None
    return on_host, frozenset(path.encode("utf-8") for path in listed)


class _UrlAnswers:
    """The answer parts of one request's plain URL items, one template per distinct hit list."""

    def __init__(self, index: ClaimIndex, answers: AnswerItems, cache: TemplateCache) -> None:
        self.index = index
        self.answers = answers
        self.cache = cache
        options = answers.options
        self.at, self.territory = options["at"], options["territory"]
        self.context = (options["purpose"], options["min_authority"])
        self.decided: dict[tuple[tuple[int, str], ...], tuple[bytes, bytes]] = {}

    def add(self, value: str, hits: tuple[tuple[int, str], ...]) -> None:
        around = self.decided.get(hits)
        if around is None:
            around = self.decided[hits] = self.around(hits)
        parts = self.answers.parts
        if parts:
            parts.append(b",")
        parts += (around[0], url_echo(value), around[1])

    def around(self, hits: tuple[tuple[int, str], ...]) -> tuple[bytes, bytes]:
        """The answer item's bytes for `hits` before and after a URL item's echo (its value's JSON)."""
        view_of, at, territory, disputed = self.index.view, self.at, self.territory, self.answers.disputed
        views = tuple([view_of(ref) for ref, _ in hits])
        flags = tuple([(view.applies(at, territory), view.id in disputed) for view in views])
        key = (*self.context, hits)
        known = self.cache.get(key)
        if known is not None and known.flags == flags and all(map(operator.is_, known.views, views)):
            return known.head, known.tail
        found = [Hit(view, "url", expression) for view, (_, expression) in zip(views, hits, strict=True)]
        head, tail = self.answers.template(_PROBE_ITEM, found)
        around = head + _ECHO_HEAD, _ECHO_TAIL + tail
        if not any(view.authority.grants for view in views):  # grants lapse: no template outlives `at`
            self.cache.put(key, _Template(views, flags, *around))
        return around
