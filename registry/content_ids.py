"""Content identifiers (ISCC, PDQ) and person/work identifiers (ISNI, Wikidata): validation and
canonical forms.

Client and server both validate identifiers with this module, so it uses only the standard library
and iscc-core, and every function is pure. A refused value raises `InvalidIdentifier` with a one-line
reason.

ISCC (ISO 24138:2024). An ISCC is a single unit (Meta, Content, Data or Instance) or a composite
ISCC-CODE of 64-bit units. `iscc_units` splits it into units, and matching works unit by unit:

* Instance: exact. The body is a prefix of the file's BLAKE3 digest; a composite carries 64 bits.
* Data, Content and Meta: Hamming distance between the units' first 64 bits, at most
  `ISCC_THRESHOLDS[family]` (data 8, content 10, meta 8). A Content unit matches only a Content
  unit of the same subtype (image with image, text with text). Longer units are compared on their
  64-bit prefix, because ISCC similarity units are prefix-compatible: the first 64 bits of a 256-bit
  unit are the 64-bit unit (iscc-search, "Similarity Search", NPHD).

Where the thresholds come from. ISO 24138 and iscc-core define the codes and compare them by
Hamming distance (`iscc_core.iscc_compare` returns raw per-unit distances); neither fixes a match
threshold. The two published defaults are for ranked, human-reviewed search: iscc-search keeps unit
matches scoring at least 0.75 (`ISCC_SEARCH_MATCH_THRESHOLD_UNITS`, at most 16 of 64 bits differ),
and the iscc-sum CLI groups files whose Data-Codes differ by at most 12 bits (`--threshold`, default
12). Here a match is acted on automatically across the whole registry, so the bounds are tighter:
two unrelated, uniformly random 64-bit units are within 16 bits with probability 3.9e-5 (about 390
false hits per query against ten million claims), within 10 bits with probability 1.0e-8 and within
8 bits with probability 2.8e-10. JPEG re-encoding, halving and a 20% brightness change move an image
Content-Code by 0-4 bits (see the tests), well inside 10.

PDQ hashes are 256-bit image hashes matched by Hamming distance at most 31 over the 8 dihedral
variants; a hash whose quality is below `PDQ_MIN_QUALITY` describes a flat or tiny image and is
refused (Meta, "The TMK+PDQF Video-Hashing Algorithm and the PDQ Image Similarity Algorithm").

>>> normalize_iscc("iscc:kacypxw445ftynj3cysxhafjma2huwulunrfe3blhrscxyh2m5aegqy")
'ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY'
>>> [unit.kind for unit in iscc_units("ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY")]
['meta', 'content-text', 'data', 'instance']
>>> normalize_isni("ISNI 0000 0001 2103 2683"), normalize_wikidata("wd:Q42")
('0000000121032683', 'Q42')
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from registry.identifiers import InvalidIdentifier

# iscc-core is imported by the functions that decode an ISCC: it brings loguru, pydantic.v1 and
# asyncio, which a claim or check naming no ISCC (and `kotowari --help`) should not load.

__all__ = [
    "ISCC_THRESHOLDS",
    "PDQ_MIN_QUALITY",
    "IsccUnit",
    "UnitKind",
    "check_pdq_quality",
    "iscc_units",
    "normalize_iscc",
    "normalize_isni",
    "normalize_pdq",
    "normalize_wikidata",
]

UnitKind = Literal[
    "meta",
    "content-text",
    "content-image",
    "content-audio",
    "content-video",
    "content-mixed",
    "data",
    "instance",
]

ISCC_THRESHOLDS: Final[Mapping[str, int]] = MappingProxyType({"data": 8, "content": 10, "meta": 8})
"""Largest Hamming distance, of 64 bits, at which two units of a family match (module docstring)."""

PDQ_MIN_QUALITY: Final = 50
"""PDQ hashes of lower quality come from flat or tiny images and match too much to be claimed."""

# ---------------------------------------------------------------- ISCC

_MT_META: Final = 0
_MT_SEMANTIC: Final = 1
_MT_CONTENT: Final = 2
_MT_DATA: Final = 3
_MT_INSTANCE: Final = 4
_MT_ISCC: Final = 5
_ST_ISCC_WIDE: Final = 7
_CONTENT_KINDS: Final[tuple[UnitKind, ...]] = (
    "content-text",
    "content-image",
    "content-audio",
    "content-video",
    "content-mixed",
)
_UNIT_NAMES: Final = {_MT_META: "Meta", _MT_CONTENT: "Content", _MT_DATA: "Data", _MT_INSTANCE: "Instance"}
# An ISCC-CODE's length field lists its optional units; 0 = none, 1 = Content, 4 = Meta, 5 = both.
# 2, 3, 6 and 7 include a Semantic-Code, which ISO 24138:2024 does not define.
_COMPOSITE_UNITS: Final = frozenset({0, 1, 4, 5})
_BASE32: Final = re.compile(r"[A-Z2-7]{10,56}")
_SIMILARITY_BYTES: Final = 8


@dataclass(frozen=True)
class IsccUnit:
    """One ISCC unit: its kind and body (the 64-bit prefix, or the whole digest for Instance)."""

    kind: UnitKind
    body: bytes


def _header(raw: bytes) -> tuple[int, int, int, int, bytes]:
    """Decode an ISCC header strictly: canonical varnibbles, zero padding, no stray bits."""
    import iscc_core  # type: ignore[import-untyped, unused-ignore]

    try:
        maintype, subtype, version, length, tail = iscc_core.decode_header(raw)
        header: bytes = iscc_core.encode_header(maintype, subtype, version, length)
    except ValueError:
        raise InvalidIdentifier("not an ISCC: the header cannot be decoded") from None
    if raw[: len(header)] != header or tail != raw[len(header) :]:
        raise InvalidIdentifier("not an ISCC: the header is not in canonical form")
    return int(maintype), int(subtype), int(version), int(length), bytes(tail)


def _check_unit(maintype: int, subtype: int, version: int, length: int, body: bytes) -> int:
    """Validate a single ISCC unit and return its bit length."""
    if maintype == _MT_SEMANTIC:
        raise InvalidIdentifier("Semantic-Codes are not part of ISO 24138:2024 and are not accepted")
    if maintype not in _UNIT_NAMES:
        raise InvalidIdentifier("an ISCC-ID or other non-content ISCC does not identify content")
    name = _UNIT_NAMES[maintype]
    if version != 0:
        raise InvalidIdentifier(f"unsupported {name}-Code version {version}: only version 0 exists")
    if maintype == _MT_CONTENT:
        if subtype >= len(_CONTENT_KINDS):
            raise InvalidIdentifier(f"unknown Content-Code subtype {subtype}")
    elif subtype != 0:
        raise InvalidIdentifier(f"a {name}-Code has no subtypes, got subtype {subtype}")
    if not 1 <= length <= 7:
        raise InvalidIdentifier(f"{name}-Codes are 64 to 256 bits, got {(length + 1) * 32}")
    bits = (length + 1) * 32
    if len(body) > bits // 8:
        raise InvalidIdentifier(f"data after the {bits}-bit {name}-Code: give one unit or one ISCC-CODE")
    if len(body) != bits // 8:
        raise InvalidIdentifier(f"the {name}-Code header says {bits} bits, the body has {len(body) * 8}")
    return bits


def _decode(code: str) -> tuple[str, int, int, int, int, bytes]:
    """Parse an ISCC string into (canonical base32 body, maintype, subtype, version, length, body)."""
    import iscc_core

    if not isinstance(code, str):
        raise InvalidIdentifier("an ISCC must be a string")
    prefix, colon, text = code.rpartition(":")
    if colon and prefix.upper() != "ISCC":
        raise InvalidIdentifier('an ISCC is written "ISCC:" followed by base32')
    text = text.upper()
    if not _BASE32.fullmatch(text):
        raise InvalidIdentifier("an ISCC body is 10 to 56 base32 characters (A-Z, 2-7)")
    try:
        raw = bytes(iscc_core.decode_base32(text))
    except (binascii.Error, ValueError):
        raise InvalidIdentifier("not an ISCC: the base32 body has an impossible length") from None
    if iscc_core.encode_base32(raw) != text:
        raise InvalidIdentifier("not an ISCC: the base32 body has stray trailing bits")
    maintype, subtype, version, length, body = _header(raw)
    return text, maintype, subtype, version, length, body


def _check_composite(text: str, subtype: int, version: int, length: int, body: bytes) -> list[str]:
    """Validate an ISCC-CODE and return its units as iscc-core decomposes them."""
    import iscc_core

    if version != 0:
        raise InvalidIdentifier(f"unsupported ISCC-CODE version {version}: only version 0 exists")
    if length not in _COMPOSITE_UNITS:
        raise InvalidIdentifier("ISCC-CODEs with a Semantic-Code are not part of ISO 24138:2024")
    expected = iscc_core.decode_length(_MT_ISCC, length, subtype) // 8
    if len(body) != expected:
        raise InvalidIdentifier(
            f"the ISCC-CODE header says {expected * 8} bits, the body has {len(body) * 8}"
        )
    units: list[str] = list(iscc_core.iscc_decompose(text))
    for unit in units:
        _, maintype, unit_subtype, unit_version, unit_length, unit_body = _decode(unit)
        _check_unit(maintype, unit_subtype, unit_version, unit_length, unit_body)
    # The subtype must agree with the units (a Content subtype iff a Content unit; SUM, NONE or WIDE
    # otherwise): recomposing with iscc-core must give back exactly this code.
    wide = subtype == _ST_ISCC_WIDE
    recomposed: str = iscc_core.gen_iscc_code_v0(units, wide=wide)["iscc"]
    if recomposed != f"ISCC:{text}":
        raise InvalidIdentifier("the ISCC-CODE's subtype does not agree with its units")
    return units


def normalize_iscc(code: str) -> str:
    """The canonical "ISCC:" + upper-case form of one ISCC unit or ISCC-CODE.

    Accepts "ISCC:…" (any case) or the bare base32 body; refuses anything iscc-core cannot decode
    exactly, ISCC-IDs, Semantic-Codes and units shorter than 64 bits.

    >>> normalize_iscc("GAAXL2XYM5BQIAZ3")
    'ISCC:GAAXL2XYM5BQIAZ3'
    >>> normalize_iscc("ISCC:GAAXL2XYM5BQI")
    Traceback (most recent call last):
    ...
    registry.identifiers.InvalidIdentifier: the Data-Code header says 64 bits, the body has 48
    """
    text, maintype, subtype, version, length, body = _decode(code)
    if maintype == _MT_ISCC:
        _check_composite(text, subtype, version, length, body)
    else:
        _check_unit(maintype, subtype, version, length, body)
    return f"ISCC:{text}"


def _unit(maintype: int, subtype: int, body: bytes) -> IsccUnit:
    if maintype == _MT_INSTANCE:
        return IsccUnit("instance", body)
    kind: UnitKind = (
        "meta" if maintype == _MT_META else "data" if maintype == _MT_DATA else _CONTENT_KINDS[subtype]
    )
    return IsccUnit(kind, body[:_SIMILARITY_BYTES])


def iscc_units(code: str) -> list[IsccUnit]:
    """The units of an ISCC, in ISCC order (Meta, Content, Data, Instance), after validation.

    >>> units = iscc_units("ISCC:KUAFVC5DMJJGYKZ4MQV6B6THIBBUG")
    >>> [(unit.kind, unit.body.hex()) for unit in units]
    [('data', '5a8ba362526c2b3c'), ('instance', '642be0fa67404343')]
    """
    text, maintype, subtype, version, length, body = _decode(code)
    if maintype != _MT_ISCC:
        _check_unit(maintype, subtype, version, length, body)
        return [_unit(maintype, subtype, body)]
    units: list[IsccUnit] = []
    for unit in _check_composite(text, subtype, version, length, body):
        _, unit_maintype, unit_subtype, _, _, unit_body = _decode(unit)
        units.append(_unit(unit_maintype, unit_subtype, unit_body))
    return units


# ---------------------------------------------------------------- PDQ

_PDQ: Final = re.compile(r"[0-9a-fA-F]{64}")


def normalize_pdq(hex_value: str) -> str:
    """A PDQ hash as 64 lower-case hex digits.

    >>> normalize_pdq("F" * 64) == "f" * 64
    True
    """
    if not isinstance(hex_value, str) or not _PDQ.fullmatch(hex_value):
        raise InvalidIdentifier("PDQ hashes are 256 bits: 64 hex digits")
    return hex_value.lower()


def check_pdq_quality(quality: int) -> None:
    """Refuse a PDQ quality outside 0-100 or below `PDQ_MIN_QUALITY`: such hashes match too much.

    >>> check_pdq_quality(50)
    >>> check_pdq_quality(12)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    registry.identifiers.InvalidIdentifier: PDQ quality 12 is below 50: the image is too flat or ...
    """
    if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
        raise InvalidIdentifier("PDQ quality is an integer from 0 to 100")
    if quality < PDQ_MIN_QUALITY:
        raise InvalidIdentifier(
            f"PDQ quality {quality} is below {PDQ_MIN_QUALITY}: "
            "the image is too flat or small to fingerprint reliably"
        )


# ---------------------------------------------------------------- ISNI

_ISNI_URL: Final = re.compile(r"https?://(?:www\.)?isni\.org/isni/(.*)", re.IGNORECASE | re.ASCII)
_ISNI_LABEL: Final = re.compile(r"ISNI:?\s*(.*)", re.IGNORECASE | re.ASCII)
_ISNI_GROUPED: Final = re.compile(r"[0-9]{4}([ -]?)[0-9]{4}\1[0-9]{4}\1[0-9]{3}[0-9Xx]")


def _isni_check_character(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character of 15 digits, as ISO 27729 specifies."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def normalize_isni(value: str) -> str:
    """An ISNI (ISO 27729) as its 16 compact characters, check character verified.

    Accepts "0000 0001 2103 2683", "0000000121032683", "ISNI 0000 0001 2103 2683" and
    "https://isni.org/isni/0000000121032683" (groups may also be joined by hyphens).

    >>> normalize_isni("https://isni.org/isni/000000012281955x")
    '000000012281955X'
    >>> normalize_isni("0000 0001 2103 2684")
    Traceback (most recent call last):
    ...
    registry.identifiers.InvalidIdentifier: ISNI check character is wrong: 0000 0001 2103 268 ends in 3, not 4
    """
    if not isinstance(value, str):
        raise InvalidIdentifier("an ISNI must be a string")
    text = value.strip()
    url = _ISNI_URL.fullmatch(text)
    label = None if url else _ISNI_LABEL.fullmatch(text)
    text = url.group(1) if url else label.group(1) if label else text
    if not _ISNI_GROUPED.fullmatch(text):
        raise InvalidIdentifier("an ISNI is 16 characters: 15 digits and a check character (0-9 or X)")
    compact = text.replace(" ", "").replace("-", "").upper()
    expected = _isni_check_character(compact[:15])
    if compact[15] != expected:
        grouped = f"{compact[:4]} {compact[4:8]} {compact[8:12]} {compact[12:15]}"
        raise InvalidIdentifier(
            f"ISNI check character is wrong: {grouped} ends in {expected}, not {compact[15]}"
        )
    return compact


# ---------------------------------------------------------------- Wikidata

_WIKIDATA: Final = re.compile(
    r"(?:wd:|https?://(?:www\.|m\.)?wikidata\.org/(?:wiki|entity)/)?([Qq][1-9][0-9]{0,11})",
    re.IGNORECASE | re.ASCII,
)


def normalize_wikidata(value: str) -> str:
    """A Wikidata item id ("Q42") from a Q-id, "wd:" prefixed id or wikidata.org item/entity URL.

    Properties (P…), lexemes (L…), Q0 and zero-padded ids are refused.

    >>> normalize_wikidata("http://www.wikidata.org/entity/Q42")
    'Q42'
    """
    if not isinstance(value, str):
        raise InvalidIdentifier("a Wikidata id must be a string")
    match = _WIKIDATA.fullmatch(value.strip())
    if not match:
        raise InvalidIdentifier('a Wikidata item id is "Q" and a number without leading zeros, like Q42')
    return "Q" + match.group(1)[1:]
