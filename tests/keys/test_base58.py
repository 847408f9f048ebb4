"""base58btc: published examples, refusal of foreign characters, and exact round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys import InvalidKey, b58decode, b58encode
from keys.base58 import ALPHABET

# draft-msporny-base58 §5 examples, plus the empty and all-zero edge cases.
EXAMPLES = [
    (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (
        b"The quick brown fox jumps over the lazy dog.",
        "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
    ),
    (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    (b"", ""),
    (b"\x00", "1"),
    (b"\x00\x00\x00", "111"),
    (b"\x00\x01", "12"),
]


@pytest.mark.parametrize(("data", "text"), EXAMPLES)
def test_published_examples_encode_and_decode(data: bytes, text: str) -> None:
    assert b58encode(data) == text
    assert b58decode(text) == data


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "+", "/", " ", "=", "é", "2NEpo7TZRRrLZSi2U\n", "z6Mk-"])
def test_characters_outside_the_bitcoin_alphabet_are_refused(bad: str) -> None:
    with pytest.raises(InvalidKey, match="invalid base58btc character"):
        b58decode(bad)


@given(st.binary(max_size=80))
def test_encode_then_decode_gives_back_the_bytes(data: bytes) -> None:
    text = b58encode(data)
    assert set(text) <= set(ALPHABET)
    assert b58decode(text) == data


@given(st.integers(min_value=0, max_value=8), st.binary(max_size=40))
def test_each_leading_zero_byte_is_one_leading_1(zeros: int, rest: bytes) -> None:
    rest = rest.lstrip(b"\x00")
    text = b58encode(b"\x00" * zeros + rest)
    assert len(text) - len(text.lstrip("1")) == zeros


@given(st.text(alphabet=ALPHABET, max_size=60))
def test_every_alphabet_string_is_the_encoding_of_its_decoding(text: str) -> None:
    # base58btc is a bijection, so one byte string has exactly one spelling.
    assert b58encode(b58decode(text)) == text


def _digit_at_a_time(data: bytes) -> str:
    """The reference the two-digit encoder replaced: one division by 58 per digit."""
    number, digits = int.from_bytes(data, "big"), []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(ALPHABET[remainder])
    return "1" * (len(data) - len(data.lstrip(b"\x00"))) + "".join(reversed(digits))


@given(st.binary(max_size=200))
def test_the_four_digit_encoder_equals_the_digit_at_a_time_one(data: bytes) -> None:
    assert b58encode(data) == _digit_at_a_time(data)
