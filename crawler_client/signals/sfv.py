"""The Structured Field Values Dictionary parser (RFC 9651, which obsoletes RFC 8941, section 4.2.2).

Why our own: aipref needs exactly one thing from Structured Fields — parse a Dictionary or fail
as a whole — and the algorithm is short and exact; a dependency for it would be larger than the
code. Only parsing is implemented; values come back as Python objects:

| SF type | Python |
|---|---|
| Integer / Decimal | `int` / `float` |
| String | `str` |
| Token | `Token` (a `str` subclass, so `Token("y") == "y"` but `isinstance` tells them apart) |
| Byte Sequence | `bytes` |
| Boolean | `bool` |
| Date (9651) | `Date` (an `int` subclass) |
| Display String (9651) | `DisplayString` (a `str` subclass) |
| Inner List | `list` of `(value, params)` |

>>> parse_dictionary("train-ai=n, search=y;x=1")["search"]
(Token('y'), {'x': 1})
"""

from __future__ import annotations

import base64
import binascii
import string
from typing import Any

__all__ = ["Date", "DisplayString", "ParseError", "Token", "parse_dictionary"]


class ParseError(ValueError):
    """The input is not a valid Structured Field: the whole field must be ignored."""


class Token(str):
    def __repr__(self) -> str:
        return f"Token({str.__repr__(self)})"


class Date(int):
    pass


class DisplayString(str):
    pass


Params = dict[str, Any]
Member = tuple[Any, Params]

_LCALPHA = frozenset(string.ascii_lowercase)
_KEY_CHARS = _LCALPHA | frozenset(string.digits) | frozenset("_-.*")
_TCHAR = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:/")
_B64 = frozenset(string.ascii_letters + string.digits + "+/=")


class _Reader:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise ParseError("unexpected end of field")
        self.pos += 1
        return char

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1


def parse_dictionary(value: str | bytes) -> dict[str, Member]:
    """Parse a Dictionary field value (several field lines joined with `,` first); raises `ParseError`."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise ParseError("not ASCII") from None
    if not value.isascii():
        raise ParseError("not ASCII")
    reader = _Reader(value.strip(" "))
    result: dict[str, Member] = {}
    while reader.peek():
        key = _key(reader)
        if reader.peek() == "=":
            reader.pos += 1
            member = _item_or_inner_list(reader)
        else:
            member = (True, _parameters(reader))
        result.pop(key, None)
        result[key] = member
        reader.skip_ows()
        if not reader.peek():
            return result
        if reader.take() != ",":
            raise ParseError(f"expected ',' at {reader.pos - 1}")
        reader.skip_ows()
        if not reader.peek():
            raise ParseError("trailing comma")
    return result


def _key(reader: _Reader) -> str:
    first = reader.peek()
    if (first not in _LCALPHA and first != "*") or not first:
        raise ParseError(f"a key must start with a lowercase letter or '*' at {reader.pos}")
    start = reader.pos
    while reader.peek() and reader.peek() in _KEY_CHARS:
        reader.pos += 1
    return reader.text[start : reader.pos]


def _item_or_inner_list(reader: _Reader) -> Member:
    if reader.peek() == "(":
        return _inner_list(reader)
    return _bare_item(reader), _parameters(reader)


def _inner_list(reader: _Reader) -> Member:
    reader.take()  # (
    items: list[Member] = []
    while True:
        reader.skip_sp()
        if reader.peek() == ")":
            reader.pos += 1
            return items, _parameters(reader)
        items.append((_bare_item(reader), _parameters(reader)))
        if reader.peek() not in (" ", ")"):
            raise ParseError(f"expected ' ' or ')' in inner list at {reader.pos}")


def _parameters(reader: _Reader) -> Params:
    params: Params = {}
    while reader.peek() == ";":
        reader.pos += 1
        reader.skip_sp()
        key = _key(reader)
        value: Any = True
        if reader.peek() == "=":
            reader.pos += 1
            value = _bare_item(reader)
        params.pop(key, None)
        params[key] = value
    return params


def _bare_item(reader: _Reader) -> Any:
    char = reader.peek()
    if char == "-" or (char.isdigit() and char):
        return _number(reader)
    if char == '"':
        return _string(reader)
    if char == "*" or (char and char in string.ascii_letters):
        return _token(reader)
    if char == ":":
        return _bytes(reader)
    if char == "?":
        return _boolean(reader)
    if char == "@":
        reader.pos += 1
        number = _number(reader)
        if not isinstance(number, int):
            raise ParseError("a date is an integer")
        return Date(number)
    if char == "%":
        return _display_string(reader)
    raise ParseError(f"unexpected {char!r} at {reader.pos}" if char else "missing value")


def _number(reader: _Reader) -> int | float:
    start = reader.pos
    sign = 1
    if reader.peek() == "-":
        sign = -1
        reader.pos += 1
    if not reader.peek().isdigit() or not reader.peek():
        raise ParseError("a number needs a digit")
    digits = ""
    decimal = False
    while reader.peek() and (reader.peek().isdigit() or reader.peek() == "."):
        char = reader.take()
        if char == ".":
            if decimal or len(digits) > 12:
                raise ParseError("malformed decimal")
            decimal = True
        digits += char
        if (not decimal and len(digits) > 15) or (decimal and len(digits) > 16):
            raise ParseError(f"number too long at {start}")
    if not decimal:
        return sign * int(digits)
    if digits.endswith(".") or len(digits.split(".")[1]) > 3:
        raise ParseError("a decimal has one to three fractional digits")
    return sign * float(digits)


def _string(reader: _Reader) -> str:
    reader.take()
    out: list[str] = []
    while True:
        char = reader.take()
        if char == "\\":
            escaped = reader.take()
            if escaped not in ('"', "\\"):
                raise ParseError("bad escape in string")
            out.append(escaped)
        elif char == '"':
            return "".join(out)
        elif not (" " <= char <= "~"):
            raise ParseError("control character in string")
        else:
            out.append(char)


def _token(reader: _Reader) -> Token:
    start = reader.pos
    reader.pos += 1
    while reader.peek() and reader.peek() in _TCHAR:
        reader.pos += 1
    return Token(reader.text[start : reader.pos])


def _bytes(reader: _Reader) -> bytes:
    reader.take()
    start = reader.pos
    while reader.peek() != ":":
        if reader.take() not in _B64:
            raise ParseError("bad character in byte sequence")
    data = reader.text[start : reader.pos]
    reader.pos += 1
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    except binascii.Error:
        raise ParseError("bad base64 in byte sequence") from None


def _boolean(reader: _Reader) -> bool:
    reader.take()
    char = reader.take()
    if char not in "01":
        raise ParseError("a boolean is ?0 or ?1")
    return char == "1"


def _display_string(reader: _Reader) -> DisplayString:
    reader.take()
    if reader.take() != '"':
        raise ParseError('a display string starts with %"')
    out = bytearray()
    while True:
        char = reader.take()
        if char == "%":
            hexa = reader.take() + reader.take()
            if any(c not in "0123456789abcdef" for c in hexa):
                raise ParseError("display string escapes use lowercase hex")
            out.append(int(hexa, 16))
        elif char == '"':
            try:
                return DisplayString(out.decode("utf-8"))
            except UnicodeDecodeError:
                raise ParseError("display string is not UTF-8") from None
        elif not (" " <= char <= "~"):
            raise ParseError("control character in display string")
        else:
            out += char.encode("ascii")
