"""Base58btc, the bitcoin alphabet: the text form of did:key identifiers and proof values.

Multibase prefix "z" means base58btc, so `"z" + b58encode(...)` is a multibase string.
Each leading zero byte is written as a leading "1"; all other bytes form one big-endian number.

>>> b58encode(b"\\x00\\x00\\x28\\x7f\\xb4\\xcd")
'11233QC4'
>>> b58decode("11233QC4").hex()
'0000287fb4cd'

Decoding is quadratic in the input length; callers bound the length of untrusted input first.
"""

from __future__ import annotations

from keys.errors import InvalidKey

__all__ = ["ALPHABET", "b58decode", "b58encode"]

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(ALPHABET)}


def b58encode(data: bytes) -> str:
    """Encode bytes as base58btc text."""
    zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Decode base58btc text; any character outside the alphabet raises `InvalidKey`."""
    number = 0
    for position, char in enumerate(text):
        value = _INDEX.get(char)
        if value is None:
            raise InvalidKey(f"invalid base58btc character {char!r} at position {position}")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * zeros + body
