"""robots.txt path patterns: one canonical encoding (RFC 9309 2.2.2), wildcard matching (2.2.3), and
an index that finds the longest matching rule among 100k without trying each one.

Why an index: protego and `urllib.robotparser` try the rules one by one, so a file of many thousand
rules costs as many string comparisons per URL. Here a group's rules are compiled once into

- a table of literal patterns by length: the longest literal rule matching a path is the first of
  its prefixes (longest first) found in the table, a few dictionary lookups whatever the rule count;
- a table of `$`-anchored literals, looked up with the whole path;
- for wildcard patterns, an Aho-Corasick automaton over one literal piece of each (its longest):
  a pattern can only match a path that contains that piece, so one pass over the path yields the
  few patterns worth trying, which are then tried longest first.

`tests/crawler_client/policy/test_robots_match.py` checks the index against a plain one-rule-at-a-time
reference on generated rule sets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import urlsplit

import ahocorasick

__all__ = ["PathRule", "RuleIndex", "normalise_path", "normalise_pattern", "path_of"]

_UNRESERVED: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")
# Bytes left as they are: unreserved, reserved (gen-delims and sub-delims, which include the pattern
# characters `*` and `$`). Everything else is percent-encoded, in rules and URLs alike.
_KEEP: Final = _UNRESERVED | frozenset(b":/?#[]@!$&'()*+,;=")
_CANONICAL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_AUTHORITY_END = re.compile(r"[/?#]")


def normalise_path(path: str) -> str:
    """Bring a path (or a rule's pattern) to the one form RFC 9309 2.2.2 compares.

    Escapes of unreserved characters are decoded (`%7E` → `~`), other escapes keep their octet with
    upper-case hex (`%3c` → `%3C`), and every other octet outside the kept set — non-ASCII, space,
    controls, and ASCII such as `| " < > { } ^ \\` ` — is percent-encoded as UTF-8. A `%` not
    followed by two hex digits becomes `%25`. So `/a<b`, `/a%3cb` and `/a%3Cb` are the same path.
    """
    if _CANONICAL.fullmatch(path):
        return path
    data = path.encode("utf-8", "surrogatepass")
    out = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0x25:  # %
            if i + 2 < len(data) and data[i + 1] in _HEX and data[i + 2] in _HEX:
                value = int(data[i + 1 : i + 3], 16)
                if value in _UNRESERVED:
                    out.append(value)
                else:
                    out += b"%" + data[i + 1 : i + 3].upper()
                i += 3
                continue
            out += b"%25"
        elif byte in _KEEP:
            out.append(byte)
        else:
            out += b"%%%02X" % byte
        i += 1
    return out.decode("ascii")


def normalise_pattern(value: str) -> str:
    """A rule's value as a pattern: normalised, a `$` that does not end it made literal (`%24`).

    RFC 9309 2.2.3 gives `$` its meaning only at the end of a pattern; elsewhere it is an ordinary
    character, which a URL carries as `%24` once `path_of` has encoded it. A value that does not
    start with `/` or `*` (`Disallow: private/`, `Disallow: http://host/`) is read as if it did.
    """
    pattern = normalise_path(value)
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    if "$" in body:
        body = body.replace("$", "%24")
    if body and body[0] not in "/*":
        body = "/" + body
    return body + "$" if anchored else body


def path_of(url: str) -> str:
    """The part of a URL that robots.txt rules match: path (at least `/`) plus `?query`, normalised.

    A literal `*` or `$` in the URL is encoded (`%2A`, `%24`): in a rule those characters are
    special, and RFC 9309 2.2.3 has rules match them literally only when written percent-encoded.
    """
    if url.startswith("/"):
        path = url.split("#", 1)[0]
    else:
        scheme = _SCHEME.match(url)
        if scheme and not any(c in url for c in " \t\r\n"):
            end = _AUTHORITY_END.search(url, scheme.end())
            path = url[end.start() :].split("#", 1)[0] if end else ""
        else:
            parts = urlsplit(url)
            path = parts.path + ("?" + parts.query if parts.query else "")
        if not path.startswith("/"):
            path = "/" + path
    path = normalise_path(path)
    if "*" in path or "$" in path:
        path = path.replace("*", "%2A").replace("$", "%24")
    return path


@dataclass(frozen=True, slots=True)
class PathRule:
    """One path pattern (normalised) and what it carries: allow/disallow, or a usage value."""

    pattern: str
    value: str
    line: int

    @property
    def length(self) -> int:
        """RFC 9309 2.2.2: specificity is the number of octets in the pattern."""
        return len(self.pattern)

    def matches(self, path: str) -> bool:
        return _compiled(self.pattern)(path)


def _wildcard(pattern: str) -> tuple[tuple[str, ...], bool]:
    """A pattern with `*` as its literal pieces and whether a final `$` anchors it."""
    anchored = pattern.endswith("$")
    return tuple((pattern[:-1] if anchored else pattern).split("*")), anchored


def _wildcard_matches(pieces: tuple[str, ...], anchored: bool, path: str) -> bool:
    """RFC 9309 2.2.3 matching without a regular expression, in linear time.

    With `*` the only wildcard, taking the leftmost occurrence of each middle piece is always right
    (a later one leaves less room for the rest), and an anchored last piece must end the path. So a
    hostile pattern like `/*a*a*a*a*a*b` cannot make matching exponential, and nothing is compiled.
    """
    first = pieces[0]
    if not path.startswith(first):
        return False
    at = len(first)
    last = len(pieces) - 1
    for i in range(1, last):
        piece = pieces[i]
        if piece:
            found = path.find(piece, at)
            if found < 0:
                return False
            at = found + len(piece)
    tail = pieces[last]
    if anchored:
        return len(path) - len(tail) >= at and path.endswith(tail)
    return not tail or path.find(tail, at) >= 0


_Test = Callable[[str], bool]


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> _Test:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    if "*" not in body:
        return body.__eq__ if anchored else _prefix(body)
    pieces, anchored = _wildcard(pattern)
    return lambda path: _wildcard_matches(pieces, anchored, path)


def _prefix(body: str) -> _Test:
    return lambda path: path.startswith(body)


def _rank(rule: PathRule) -> tuple[int, bool]:
    """Higher wins: the longer pattern, and at equal length `allow` (RFC 9309 2.2.2)."""
    return (len(rule.pattern), rule.value == "allow")


def _key_piece(pattern: str) -> str:
    body = pattern[:-1] if pattern.endswith("$") else pattern
    return max(body.split("*"), key=len)


class RuleIndex:
    """A group's allow/disallow rules compiled once: `winner(path)` is the rule RFC 9309 picks.

    Built lazily by `Group.winner` on first use, so a file's groups that no crawler asks about cost
    nothing beyond parsing.
    """

    __slots__ = ("_always", "_automaton", "_exact", "_lengths", "_pieces", "_prefix", "_scan", "_wild")

    _SCAN_BELOW: Final = 16  # fewer wildcard rules than this: try them all, skip the automaton

    def __init__(self, rules: Iterable[PathRule]) -> None:
        prefix: dict[str, PathRule] = {}
        exact: dict[str, PathRule] = {}
        wild: dict[str, PathRule] = {}
        for rule in rules:
            pattern = rule.pattern
            anchored = pattern.endswith("$")
            body = pattern[:-1] if anchored else pattern
            table = wild if "*" in body else exact if anchored else prefix
            key = pattern if table is wild else body
            held = table.get(key)
            if held is None or _rank(rule) > _rank(held):
                table[key] = rule
        self._prefix = prefix
        self._exact = exact
        self._lengths = sorted({len(p) for p in prefix}, reverse=True)
        self._wild = sorted(wild.values(), key=_rank, reverse=True)
        self._pieces = [_wildcard(rule.pattern) for rule in self._wild]
        self._scan = len(self._wild) < self._SCAN_BELOW
        self._automaton: ahocorasick.Automaton | None = None
        self._always: tuple[int, ...] = ()
        if not self._scan:
            self._automaton, self._always = _automaton(self._wild)

    def winner(self, path: str) -> PathRule | None:
        """The longest rule matching `path` (allow on a tie), or None when none matches."""
        best: PathRule | None = None
        size = len(path)
        prefix = self._prefix
        for n in self._lengths:
            if n <= size:
                best = prefix.get(path[:n])
                if best is not None:
                    break
        exact = self._exact.get(path)
        if exact is not None and (best is None or _rank(exact) > _rank(best)):
            best = exact
        if not self._wild:
            return best
        floor = _rank(best) if best is not None else (-1, False)
        wild = self._wild
        if self._scan:
            candidates: Iterable[int] = range(len(wild))
        elif self._automaton is None:
            candidates = self._always
        else:
            found = set(self._always)
            for _end, ids in self._automaton.iter(path):
                found.update(ids)
            candidates = sorted(found)
        for i in candidates:
            rule = wild[i]
            if _rank(rule) <= floor:
                break
            pieces, anchored = self._pieces[i]
            if _wildcard_matches(pieces, anchored, path):
                return rule
        return best


def _automaton(wild: list[PathRule]) -> tuple[ahocorasick.Automaton | None, tuple[int, ...]]:
    """An automaton from each wildcard rule's longest literal piece to the rules (by rank) that have it,
    and the rules with no literal piece at all (`*`), which every path must try."""
    pieces: dict[str, list[int]] = {}
    always: list[int] = []
    for i, rule in enumerate(wild):
        piece = _key_piece(rule.pattern)
        (pieces.setdefault(piece, []) if piece else always).append(i)
    if not pieces:
        return None, tuple(always)
    automaton = ahocorasick.Automaton()
    for piece, ids in pieces.items():
        automaton.add_word(piece, tuple(ids))
    automaton.make_automaton()
    return automaton, tuple(always)
