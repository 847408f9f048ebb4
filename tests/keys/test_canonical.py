"""RFC 8785 against its published test data, and strict JSON parsing with exact error paths."""

from __future__ import annotations

import enum
import json
import math
import struct
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from keys import InvalidJSON, canonicalize, parse_strict_json
from keys.canonical import MAX_DEPTH, MAX_SAFE_INTEGER, _canonical_without_floats

JCS = Path(__file__).parent / "vectors" / "jcs"
JCS_CASES = sorted(path.name for path in (JCS / "input").iterdir())

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


# ---------------------------------------------------------------- RFC 8785 canonical form


@pytest.mark.parametrize("name", JCS_CASES)
def test_cyberphone_testdata_canonicalizes_to_the_published_bytes(name: str) -> None:
    value = json.loads((JCS / "input" / name).read_text(encoding="utf-8"))
    assert canonicalize(value) == (JCS / "output" / name).read_bytes()


def test_cyberphone_simple_string_matches_its_hex_dump() -> None:
    outhex = "22 74 68 69 73 20 69 73 20 61 20 74 65 73 74 20 73 74 72 69 6E 67 20 31 32 33 35 22"
    assert canonicalize(json.loads((JCS / "input" / "simpleString.json").read_text())) == bytes.fromhex(
        outhex
    )


@pytest.mark.parametrize("name", [name for name in JCS_CASES if name != "weird.json"])
def test_strict_parse_of_testdata_gives_the_same_canonical_bytes(name: str) -> None:
    parsed = parse_strict_json((JCS / "input" / name).read_bytes())
    assert canonicalize(parsed) == (JCS / "output" / name).read_bytes()


def test_strict_parse_refuses_the_testdata_key_that_is_not_nfc() -> None:
    # U+FB33 is a composition exclusion: its NFC form is U+05D3 U+05BC.
    with pytest.raises(InvalidJSON, match="NFC") as caught:
        parse_strict_json((JCS / "input" / "weird.json").read_bytes())
    assert caught.value.path == "/\ufb33"


@pytest.mark.parametrize(("bits", "text"), APPENDIX_B)
def test_rfc8785_appendix_b_numbers(bits: str, text: str) -> None:
    assert canonicalize(double(bits)) == text.encode()
    assert canonicalize({"n": [double(bits)]}) == b'{"n":[' + text.encode() + b"]}"


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_rfc8785_appendix_b_non_finite_numbers_are_refused(bits: str) -> None:
    with pytest.raises(InvalidJSON, match="not a JSON number") as caught:
        canonicalize({"a": [1, double(bits)]})
    assert caught.value.path == "/a/1"


def test_object_keys_are_sorted_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB33 although its code point is larger.
    expected = '{"a":3,"\U0001f600":2,"\ufb33":1}'.encode()
    assert canonicalize({"\ufb33": 1, "\U0001f600": 2, "a": 3}) == expected


@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        ({1: "x"}, "", "not a string"),
        ({"a": {"b": [0, 2**53]}}, "/a/b/1", "2\\*\\*53"),
        ({"a": [-(2**53)]}, "/a/0", "2\\*\\*53"),
        ({"a/b": {"c~d": b"raw"}}, "/a~1b/c~0d", "bytes is not a JSON type"),
        ({"a": {1, 2}}, "/a", "set is not a JSON type"),
        ({"s": ["ok", "\ud800"]}, "/s/1", "lone surrogate"),
        ({"k\udc00": 1}, "/k\\udc00", "lone surrogate"),
        (float("inf"), "", "not a JSON number"),
    ],
)
def test_values_without_a_canonical_form_are_refused_with_their_path(
    value: Any, path: str, reason: str
) -> None:
    with pytest.raises(InvalidJSON, match=reason) as caught:
        canonicalize(value)
    assert caught.value.path == path


def test_absurdly_nested_value_is_refused_without_a_recursion_error() -> None:
    value: Any = "leaf"
    for _ in range(5000):
        value = [value]
    with pytest.raises(InvalidJSON, match="nesting"):
        canonicalize(value)


def test_invalid_json_error_survives_pickling() -> None:
    import pickle

    error = InvalidJSON('duplicate key "a"', "/x/a")
    again = pickle.loads(pickle.dumps(error))
    assert (again.reason, again.path, str(again)) == (error.reason, error.path, str(error))


def test_safe_integer_bounds_canonicalize() -> None:
    assert canonicalize([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == b"[9007199254740991,-9007199254740991]"


def test_tuples_canonicalize_as_arrays() -> None:
    assert canonicalize({"a": (1, "b")}) == b'{"a":[1,"b"]}'


# ---------------------------------------------------------------- strict parsing


def test_integers_stay_int_and_fractions_stay_float() -> None:
    parsed = parse_strict_json(b'{"i": 1, "f": 1.0, "e": 1e2, "z": -0, "n": -0.0}')
    assert [type(parsed[name]) for name in "ifezn"] == [int, float, float, int, float]
    assert parsed == {"i": 1, "f": 1.0, "e": 100.0, "z": 0, "n": -0.0}


def test_text_and_bytes_inputs_are_accepted() -> None:
    assert parse_strict_json('{"a": ["é"]}') == parse_strict_json('{"a": ["é"]}'.encode()) == {"a": ["é"]}
    assert parse_strict_json(bytearray(b"[true, null]")) == [True, None]


def test_other_input_types_are_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_strict_json({"a": 1})  # type: ignore[arg-type]


def test_duplicate_key_is_refused_naming_the_key_and_its_path() -> None:
    text = b'{"subject": {"identifiers": [{"scheme": "url", "value": "a", "value": "b"}]}}'
    with pytest.raises(InvalidJSON) as caught:
        parse_strict_json(text)
    assert caught.value.path == "/subject/identifiers/0/value"
    assert str(caught.value) == 'duplicate key "value" at /subject/identifiers/0/value'


def test_duplicate_key_spelled_with_an_escape_is_still_a_duplicate() -> None:
    with pytest.raises(InvalidJSON, match='duplicate key "a"'):
        parse_strict_json(b'{"a": 1, "\\u0061": 2}')


def test_duplicate_key_path_escapes_slash_and_tilde() -> None:
    with pytest.raises(InvalidJSON) as caught:
        parse_strict_json(b'{"x": {"a/b~c": 1, "a/b~c": 2}}')
    assert caught.value.path == "/x/a~1b~0c"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (b"NaN", ""),
        (b'{"a": [1, NaN]}', "/a/1"),
        (b'{"a": {"b": Infinity}}', "/a/b"),
        (b"[-Infinity]", "/0"),
        (b'{"big": 1e400}', "/big"),
        (b'{"big": [-1e400]}', "/big/0"),
    ],
)
def test_non_finite_numbers_are_refused(text: bytes, path: str) -> None:
    with pytest.raises(InvalidJSON) as caught:
        parse_strict_json(text)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (b'{"n": 9007199254740992}', "/n"),
        (b'{"n": [-9007199254740992]}', "/n/0"),
        (b'{"n": ' + b"9" * 5000 + b"}", "/n"),
    ],
)
def test_integers_beyond_the_safe_range_are_refused(text: bytes, path: str) -> None:
    with pytest.raises(InvalidJSON, match="2\\*\\*53") as caught:
        parse_strict_json(text)
    assert caught.value.path == path


@pytest.mark.parametrize("text", [b"9007199254740992.0", b"1e20", b"-1.5e17", b"[1e16]"])
def test_floats_whose_canonical_form_is_an_unsafe_integer_are_refused(text: bytes) -> None:
    with pytest.raises(InvalidJSON, match="unsafe integer"):
        parse_strict_json(text)


def test_floats_beyond_1e21_have_exponent_canonical_forms_and_are_accepted() -> None:
    assert canonicalize(parse_strict_json(b"[1e21, -2.5e300]")) == b"[1e+21,-2.5e+300]"


def test_safe_integer_bounds_are_accepted() -> None:
    assert parse_strict_json(b"[9007199254740991, -9007199254740991]") == [
        MAX_SAFE_INTEGER,
        -MAX_SAFE_INTEGER,
    ]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (b'"\\ud800"', ""),
        (b'{"a": ["ok", "x\\udfffy"]}', "/a/1"),
        (b'{"a": "\\ude02\\ud83d"}', "/a"),
        (b'{"\\udc00": 1}', "/\\udc00"),
    ],
)
def test_lone_surrogates_are_refused(text: bytes, path: str) -> None:
    with pytest.raises(InvalidJSON, match="lone surrogate") as caught:
        parse_strict_json(text)
    assert caught.value.path == path


def test_lone_surrogate_in_a_python_string_is_refused() -> None:
    with pytest.raises(InvalidJSON, match="lone surrogate"):
        parse_strict_json('["\ud800"]')


def test_surrogate_pair_escape_is_one_character() -> None:
    assert parse_strict_json(b'"\\ud83d\\ude02"') == "\U0001f602"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (b'{"name": "e\\u0301"}', "/name"),
        ('{"name": ["ok", "Cafe\u0301"]}'.encode(), "/name/1"),
        (b'{"e\\u0301": 1}', "/e\u0301"),
        ('{"x": {"\u212b": 1}}'.encode(), "/x/\u212b"),  # ANGSTROM SIGN, NFC is U+00C5
    ],
)
def test_strings_and_keys_not_in_nfc_are_refused(text: bytes, path: str) -> None:
    with pytest.raises(InvalidJSON, match="not in Unicode NFC") as caught:
        parse_strict_json(text)
    assert caught.value.path == path


def test_nfc_text_is_accepted_unchanged() -> None:
    assert parse_strict_json('{"名前": "Café ことわり"}'.encode()) == {"名前": "Café ことわり"}


@pytest.mark.parametrize(
    ("text", "path", "offset"),
    [
        (b"\xff", "", 0),
        (b'{"a": "\xff"}', "/a", 7),
        (b'{"a": ["x", "\xc0\xaf"]}', "/a/1", 13),  # overlong "/"
        (b'{"a": "\xed\xa0\x80"}', "/a", 7),  # a UTF-8-encoded surrogate
        (b'{"a": "\xe6\x97"}', "/a", 7),  # truncated sequence
        (b'{"x": {"a\xfe": 1}}', "/x", 9),  # inside a key: the object is named
    ],
)
def test_invalid_utf8_is_refused_with_its_path(text: bytes, path: str, offset: int) -> None:
    with pytest.raises(InvalidJSON, match=f"invalid UTF-8.*offset {offset}") as caught:
        parse_strict_json(text)
    assert caught.value.path == path


def test_byte_order_mark_is_refused() -> None:
    with pytest.raises(InvalidJSON):
        parse_strict_json(b"\xef\xbb\xbf{}")


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (b"", ""),
        (b"{", ""),
        (b'{"a": [1, 2, }', "/a/2"),
        (b'{"a": {"b": tru}}', "/a/b"),
        (b'{"a": 1,}', ""),
        (b'{"a": "x" "b": 1}', "/a"),
        (b"[1, 2] 3", ""),
        (b'{"a": "tab\there"}', "/a"),
        (b"{'a': 1}", ""),
        (b'{"a": 01}', "/a"),
    ],
)
def test_syntax_errors_are_refused_with_their_path(text: bytes, path: str) -> None:
    with pytest.raises(InvalidJSON, match="not valid JSON") as caught:
        parse_strict_json(text)
    assert caught.value.path == path


def nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_nesting_up_to_the_limit_is_accepted() -> None:
    value = parse_strict_json(nested_arrays(MAX_DEPTH))
    for _ in range(MAX_DEPTH - 1):
        value = value[0]
    assert value == []


def test_nesting_beyond_the_limit_is_refused_at_the_first_too_deep_container() -> None:
    with pytest.raises(InvalidJSON, match="nesting deeper than 64") as caught:
        parse_strict_json(nested_arrays(MAX_DEPTH + 1))
    assert caught.value.path == "/0" * MAX_DEPTH


def test_deep_objects_are_refused_with_their_path() -> None:
    text = '{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)
    with pytest.raises(InvalidJSON, match="nesting") as caught:
        parse_strict_json(text)
    assert caught.value.path == "/a" * MAX_DEPTH


def test_absurd_nesting_is_refused_without_a_recursion_error() -> None:
    with pytest.raises(InvalidJSON, match="nesting deeper than 64") as caught:
        parse_strict_json(b'{"x": ' + nested_arrays(200_000) + b"}")
    assert caught.value.path == "/x" + "/0" * (MAX_DEPTH - 1)


def test_error_message_is_one_line_and_names_the_root() -> None:
    with pytest.raises(InvalidJSON) as caught:
        parse_strict_json(b"NaN")
    assert str(caught.value) == "NaN is not a JSON number at the document root"
    assert "\n" not in str(caught.value)
    assert caught.value.reason == "NaN is not a JSON number"


# ---------------------------------------------------------------- properties

safe_integers = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
nfc_text = st.text(max_size=12).map(lambda text: unicodedata.normalize("NFC", text))
strict_floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda number: not MAX_SAFE_INTEGER < abs(number) < 1e21
)
scalars = st.none() | st.booleans() | safe_integers | strict_floats | nfc_text
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nfc_text, children, max_size=4),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equality that also tells 1, 1.0 and True apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@given(json_values, st.booleans())
def test_strict_json_parses_back_exactly_what_was_serialized(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert same(parse_strict_json(text.encode()), value)


@given(json_values)
def test_canonical_bytes_are_strict_json_and_canonicalizing_again_changes_nothing(value: Any) -> None:
    canonical = canonicalize(value)
    assert canonicalize(parse_strict_json(canonical)) == canonical


@given(st.dictionaries(nfc_text, json_values, max_size=5), st.randoms(use_true_random=False))
def test_canonical_bytes_ignore_member_order(value: dict[str, Any], random: Any) -> None:
    items = list(value.items())
    random.shuffle(items)
    assert canonicalize(dict(items)) == canonicalize(value)


@st.composite
def placed(draw: st.DrawFn, bad: str) -> tuple[str, str]:
    """JSON text with `bad` at a random depth and position, and the pointer to where it is."""
    text, path = bad, ""
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        before = draw(st.lists(json_values, max_size=2))
        after = draw(st.lists(json_values, max_size=2))
        if draw(st.booleans()):
            items = [json.dumps(item) for item in before] + [text] + [json.dumps(item) for item in after]
            text, path = "[" + ", ".join(items) + "]", f"/{len(before)}{path}"
        else:
            key = draw(nfc_text)
            others = draw(st.dictionaries(nfc_text, json_values, max_size=3))
            others.pop(key, None)
            members = [f"{json.dumps(name)}: {json.dumps(item)}" for name, item in others.items()]
            members.insert(
                draw(st.integers(min_value=0, max_value=len(members))), f"{json.dumps(key)}: {text}"
            )
            escaped = key.replace("~", "~0").replace("/", "~1")
            text, path = "{" + ", ".join(members) + "}", f"/{escaped}{path}"
    return text, path


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("NaN", "not a JSON number"),
        ("-Infinity", "not a JSON number"),
        ("1e999", "too large"),
        ("9007199254740993", "2\\*\\*53"),
        ('"\\udfff"', "lone surrogate"),
        ('"A\\u030a"', "NFC"),
    ],
)
@given(data=st.data())
def test_a_bad_value_anywhere_is_reported_at_its_path(bad: str, reason: str, data: st.DataObject) -> None:
    text, path = data.draw(placed(bad))
    with pytest.raises(InvalidJSON, match=reason) as caught:
        parse_strict_json(text.encode())
    assert caught.value.path == path


@given(st.data())
def test_a_duplicate_key_anywhere_is_reported_at_its_path(data: st.DataObject) -> None:
    key = data.draw(nfc_text)
    first, second = data.draw(json_values), data.draw(json_values)
    duplicate = "{" + f"{json.dumps(key)}: {json.dumps(first)}, {json.dumps(key)}: {json.dumps(second)}" + "}"
    text, path = data.draw(placed(duplicate))
    with pytest.raises(InvalidJSON, match="duplicate key") as caught:
        parse_strict_json(text.encode())
    assert caught.value.path == path + "/" + key.replace("~", "~0").replace("/", "~1")


@given(st.text(min_size=1, max_size=12).map(lambda text: unicodedata.normalize("NFD", text)))
def test_any_string_not_in_nfc_is_refused(text: str) -> None:
    if unicodedata.is_normalized("NFC", text):
        return
    with pytest.raises(InvalidJSON, match="NFC"):
        parse_strict_json(json.dumps({"v": [text]}))
    with pytest.raises(InvalidJSON, match="NFC"):
        parse_strict_json(json.dumps({text: 1}, ensure_ascii=False).encode())


@given(st.binary(max_size=40))
def test_arbitrary_bytes_either_parse_or_raise_invalid_json(data: bytes) -> None:
    try:
        parse_strict_json(data)
    except InvalidJSON as error:
        assert isinstance(error.path, str)
        assert "\n" not in str(error)


class _Text(str):
    """A str subclass (as enums of text are): written as its text by both paths."""


class _Members(dict[str, Any]):
    """A dict subclass: walked like a dict."""


class _Level(enum.IntEnum):
    """An int subclass: the fast path leaves it to the reference path."""

    LOW = 1


_finite = st.floats(allow_nan=False, allow_infinity=False)
_float_free = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text()
    | st.text().map(_Text)
    | st.just(_Level.LOW)
    | _finite,
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(children, max_size=5).map(tuple)
        | st.dictionaries(st.text(), children, max_size=5)
        | st.dictionaries(st.text(), children, max_size=5).map(_Members)
    ),
    max_leaves=30,
)


@given(_float_free)
def test_the_fast_path_writes_exactly_what_rfc8785_writes(value: object) -> None:
    """The C-encoder fast path must be byte-identical to the reference implementation."""
    try:
        expected = rfc8785.dumps(value)  # type: ignore[arg-type]
    except Exception:
        return  # lone surrogates and the like: refused either way, tested elsewhere
    assert canonicalize(value) == expected


_EDGES = [1e-4, 1e16, 1e-4 * (1 + 2**-52), 1e16 * (1 - 2**-53), 0.1, 0.30000000000000004, 5e-324, 1e21, 123.0]


@given(st.lists(_finite | st.sampled_from(_EDGES) | st.sampled_from(_EDGES).map(lambda f: -f), max_size=20))
def test_floats_taken_by_the_fast_path_are_written_as_rfc8785_writes_them(values: list[float]) -> None:
    """Non-integral floats in [1e-4, 1e16) go through `repr`; the rest fall back: same bytes."""
    assert canonicalize(values) == rfc8785.dumps(values)
    fast = _canonical_without_floats([0.125, -1234.5678, 123456789012345.67, 0.0001])
    assert fast == rfc8785.dumps([0.125, -1234.5678, 123456789012345.67, 0.0001]), "taken, not skipped"
    assert _canonical_without_floats([1.0]) is None and _canonical_without_floats([1e-5]) is None


# ------------------------------------------------------------------ the fast parse against the full one

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="ascii"), max_size=8),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(st.tuples(st.sampled_from(["a", "b", "c", "~/"]), inner), max_size=4),
    ),
    max_leaves=30,
)


def _dump(value: Any) -> str:
    """JSON text of `value`, with lists of pairs written as objects (duplicate keys included)."""
    if isinstance(value, list) and value and all(isinstance(item, tuple) for item in value):
        return "{" + ",".join(f"{json.dumps(key)}:{_dump(item)}" for key, item in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(item) for item in value) + "]"
    return json.dumps(value)


def _outcome(parse: Any, text: str) -> Any:
    try:
        value = parse(text)
    except InvalidJSON as exc:
        return ("refused", str(exc), exc.path)
    return ("parsed", json.dumps(value, sort_keys=True), repr(value))


@given(_VALUES, st.sampled_from(["", " ", "\n", "NaN", "1e999", "\\u00e9", "[[[", "]"]))
def test_the_fast_parse_agrees_with_the_full_parse(value: Any, noise: str) -> None:
    """Whatever the fast path accepts, the full path accepts as the very same value; the rest
    falls through to the full path, so refusals keep their pointers."""
    from keys.canonical import _NOT_PLAIN, _parse_full, _parse_plain

    for text in (_dump(value), _dump(value) + noise, _dump(value).replace("1", noise, 1)):
        fast = _parse_plain(text)
        if fast is not _NOT_PLAIN:
            assert _outcome(_parse_full, text) == _outcome(lambda _, value=fast: value, text)
        assert _outcome(parse_strict_json, text) == _outcome(_parse_full, text)


@given(
    st.integers(min_value=MAX_DEPTH - 2, max_value=MAX_DEPTH + 2),
    st.integers(min_value=0, max_value=120),
    st.sampled_from(["[{}]", '{"a": [1, "]"]}', '"[[[["', "[[]]"]),
    st.sampled_from(["[]", '{"k": []}']),
    st.booleans(),
)
def test_a_wide_body_parses_fast_and_a_deep_one_is_refused_as_before(
    depth: int, width: int, filler: str, deep: str, in_object: bool
) -> None:
    """Past MAX_DEPTH brackets in all (a 10,000-item check body has 20,000), the fast parse
    measures the depth: wide but shallow text is accepted as the full parse accepts it, and a
    container nested one level too deep still goes to the full path, which refuses it there."""
    from keys.canonical import _NOT_PLAIN, _parse_full, _parse_plain

    if deep == "[]":  # the outer array, then depth - 1 arrays
        inner = "[" * (depth - 1) + "]" * (depth - 1)
    else:  # the outer array, an object, then depth - 2 arrays
        inner = '{"k": ' + "[" * (depth - 2) + "]" * (depth - 2) + "}"
    text = "[" + ", ".join([filler] * width + [inner]) + "]"
    if in_object:  # as a check body holds its items: one level more
        text, depth = '{"items": ' + text + "}", depth + 1
    fast = _parse_plain(text)
    if depth <= MAX_DEPTH:
        assert fast is not _NOT_PLAIN
        assert fast == _parse_full(text) == json.loads(text)
    else:
        assert fast is _NOT_PLAIN
        with pytest.raises(InvalidJSON, match="nesting deeper than 64"):
            parse_strict_json(text)


@given(st.floats(min_value=MAX_SAFE_INTEGER + 1, max_value=1e21, exclude_max=True), st.booleans())
def test_a_float_that_could_not_be_parsed_back_cannot_be_signed(number: float, negative: bool) -> None:
    import keys

    # RFC 8785 writes it as an integer literal beyond 2**53, which every verifier refuses.
    with pytest.raises(InvalidJSON, match="beyond"):
        keys.sign_document({"value": -number if negative else number}, keys.SigningKey.generate())
