"""ISCC, PDQ, ISNI and Wikidata validation and canonical forms (registry.content_ids).

ISCC inputs are the ISO 24138:2024 conformance vectors shipped with iscc-core 1.5.0 (data.json); the
ISNIs are published ones: Douglas Adams's (the ISNI on Wikidata item Q42), the ISO 27729 example in
python-stdnum and Wikipedia, and the one in this project's design notes; ORCID's documented example
iD, which lies in the ISNI block ORCID was assigned and carries the same check character.
"""

from __future__ import annotations

import doctest
import io

import iscc_core
import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry import content_ids
from registry.content_ids import (
    ISCC_THRESHOLDS,
    PDQ_MIN_QUALITY,
    IsccUnit,
    check_pdq_quality,
    iscc_units,
    normalize_iscc,
    normalize_isni,
    normalize_pdq,
    normalize_wikidata,
)
from registry.identifiers import InvalidIdentifier


def test_doctests():
    assert doctest.testmod(content_ids, raise_on_error=False).failed == 0


# ---------------------------------------------------------------- ISCC: accepted codes

# (code, the kinds of its units, bit length of each unit's body as given)
CONFORMANCE = [
    ("ISCC:AAAZXZ6OU74YAZIM", ["meta"]),
    ("ISCC:AADZXZ6OU4E45RB57GAGKDGHZXV752RFK424V76TRVZ2TKS2K6X5VVA", ["meta"]),
    ("ISCC:EAASKDNZNYGUUF5A", ["content-text"]),
    ("ISCC:EABZHFKU6PNI7UVWYEEIQLOYHYLX6", ["content-text"]),
    ("ISCC:EED4GQZQTY6J5DTHNDQ7S7EGNENJNRTEGLGHFWXFGNDZHSMO4HEZGZI", ["content-image"]),
    ("ISCC:EIDWUJFCEZZOJYVDHJHIRB3KQSQCM2REUITDUTVAQNRGJIRENCCCULY", ["content-audio"]),
    ("ISCC:EMBZEMGSDFIB4AHUEZSLJPJANMAAY", ["content-video"]),
    ("ISCC:EQASNZJ36ZT33AL7", ["content-mixed"]),
    ("ISCC:GAAXL2XYM5BQIAZ3", ["data"]),
    ("ISCC:GAD2FL7K437RJZK2MMLL4C2672JVQTMGJYYZ3KAINZRWETNWFES3KYA", ["data"]),
    ("ISCC:IAA26E2JXH27TING", ["instance"]),
    ("ISCC:IABS2OW637YRWYPRJSEG4NNPUA3HG", ["instance"]),
    ("ISCC:IAD66JNRTSKU5FLU2L7POWZNQTYKDOYQRGQJLJ24E5DWM7MPWYAPH7Q", ["instance"]),
    (
        "ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY",
        ["meta", "content-text", "data", "instance"],
    ),
    ("ISCC:KAARMJLTQCUWAND2LKF2GYSSNQVTYZBL4D5GOQCDIM", ["content-text", "data", "instance"]),
    ("ISCC:KUAFVC5DMJJGYKZ4MQV6B6THIBBUG", ["data", "instance"]),
    # An ISCC-CODE with an image Content-Code, as published on the Wikimedia Phabricator ISCC task.
    (
        "ISCC:KECVKU5SRORBR3PNWQSMT4ODTYWMOAL6CK3WINVIYE62IKUXVH5ATJI",
        ["meta", "content-image", "data", "instance"],
    ),
]


@pytest.mark.parametrize(("code", "kinds"), CONFORMANCE)
def test_conformance_codes_are_canonical_and_decompose(code, kinds):
    assert normalize_iscc(code) == code
    assert normalize_iscc(code.lower()) == code
    assert normalize_iscc(code.removeprefix("ISCC:")) == code
    assert normalize_iscc("iscc:" + code[5:].lower()) == code
    units = iscc_units(code)
    assert [unit.kind for unit in units] == kinds
    assert normalize_iscc(iscc_core.iscc_normalize(code)) == code  # iscc-core agrees it is canonical


@pytest.mark.parametrize(("code", "kinds"), CONFORMANCE)
def test_unit_bodies_are_iscc_core_digests(code, kinds):
    decomposed = iscc_core.iscc_decompose(code)
    for unit, part in zip(iscc_units(code), decomposed, strict=True):
        digest = iscc_core.decode_header(iscc_core.decode_base32(part))[-1]
        if unit.kind == "instance":
            assert unit.body == digest  # the full digest available: 64, 128 or 256 bits
        else:
            assert unit.body == digest[:8]  # similarity units: the 64-bit prefix
            assert len(unit.body) == 8


def test_instance_body_keeps_the_whole_digest():
    [unit] = iscc_units("ISCC:IAD66JNRTSKU5FLU2L7POWZNQTYKDOYQRGQJLJ24E5DWM7MPWYAPH7Q")
    assert len(unit.body) == 32
    [short] = iscc_units("ISCC:IAA26E2JXH27TING")
    assert len(short.body) == 8


def test_longer_similarity_units_share_their_64_bit_prefix():
    # ISCC similarity units are prefix-compatible: a 256-bit unit's first 64 bits are the 64-bit unit
    # of the same input, so comparing 64-bit bodies compares codes of any length.
    meta_64 = iscc_core.gen_meta_code_v0("Kotowari", bits=64)["iscc"]
    meta_256 = iscc_core.gen_meta_code_v0("Kotowari", bits=256)["iscc"]
    assert iscc_units(meta_64) == iscc_units(meta_256)


def test_wide_iscc_code():
    data = iscc_core.gen_data_code_v0(io.BytesIO(b"kotowari" * 1000), bits=128)["iscc"]
    instance = iscc_core.gen_instance_code_v0(io.BytesIO(b"kotowari" * 1000), bits=128)["iscc"]
    wide = iscc_core.gen_iscc_code_v0([data, instance], wide=True)["iscc"]
    assert wide.startswith("ISCC:K4")
    assert normalize_iscc(wide) == wide
    units = iscc_units(wide)
    assert [unit.kind for unit in units] == ["data", "instance"]
    assert len(units[0].body) == 8 and len(units[1].body) == 16


def test_iscc_unit_is_frozen():
    unit = iscc_units("ISCC:GAAXL2XYM5BQIAZ3")[0]
    assert unit == IsccUnit("data", bytes.fromhex("75eaf8674304033b"))
    with pytest.raises(AttributeError):
        unit.kind = "meta"  # type: ignore[misc]


# ---------------------------------------------------------------- ISCC: refused codes


def _code(maintype, subtype, version, length_field, body: bytes) -> str:
    """Hand-assemble an ISCC string from raw header fields, to build codes iscc-core would not."""
    header = iscc_core.encode_header(maintype, subtype, version, length_field)
    return "ISCC:" + iscc_core.encode_base32(header + body)


BODY = bytes(range(1, 33))

REFUSED_ISCC = [
    ("", "base32"),
    ("ISCC:", "base32"),
    ("ISCC", "base32"),
    ("ISC:GAAXL2XYM5BQIAZ3", 'written "ISCC:"'),
    ("ISCC:ISCC:GAAXL2XYM5BQIAZ3", 'written "ISCC:"'),
    ("urn:GAAXL2XYM5BQIAZ3", 'written "ISCC:"'),
    ("ISCC:GAAXL2XYM5BQIAZ0", "base32"),  # 0 is not a base32 digit
    ("ISCC:GAAXL2XYM5BQIAZ3=", "base32"),
    (" ISCC:GAAXL2XYM5BQIAZ3", 'written "ISCC:"'),
    ("ISCC:GAAXL2XYM5BQIAZ3 ", "base32"),
    ("ISCC:GAAX-L2XY-M5BQ-IAZ3", "base32"),
    ("ISCC:GAAXL2XYM5BQI", "the body has 48"),  # truncated
    ("ISCC:GAAXL2XYM5BQIA", "impossible length"),
    ("ISCC:GAAXL2XYM5BQIAZ", "stray trailing bits"),
    ("ISCC:GAAXL2XYM5BQIAZ3GAAXL2XYM5BQIAZ3", "give one unit"),  # two units run together
    ("ISCC:KUAFVC5DMJJGYKZ4MQV6B6THIBBUGA", "impossible length"),
    ("fcc010001657fe7cafe9791bb", "base32"),  # multiformat hex: not the canonical form
    ("ISCC:" + "A" * 60, "base32"),
]


@pytest.mark.parametrize(("code", "reason"), REFUSED_ISCC)
def test_malformed_iscc_refused(code, reason):
    with pytest.raises(InvalidIdentifier, match=reason):
        normalize_iscc(code)
    with pytest.raises(InvalidIdentifier):
        iscc_units(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (_code(1, 0, 0, 1, BODY[:8]), "Semantic-Codes"),  # SEMANTIC unit
        (_code(6, 0, 0, 0, BODY[:8]), "ISCC-ID"),  # ISCC-ID v0
        (_code(6, 1, 1, 0, BODY[:8]), "ISCC-ID"),  # ISCC-ID v1
        (_code(7, 0, 0, 1, BODY[:8]), "ISCC-ID or other"),  # FLAKE
        (_code(3, 0, 1, 1, BODY[:8]), "version 1"),
        (_code(2, 5, 0, 1, BODY[:8]), "Content-Code subtype 5"),
        (_code(0, 1, 0, 1, BODY[:8]), "no subtypes"),
        (_code(4, 2, 0, 1, BODY[:8]), "no subtypes"),
        (_code(3, 0, 0, 0, BODY[:4]), "64 to 256 bits"),  # a 32-bit Data-Code
        (_code(3, 0, 0, 8, BODY[:8]), "64 to 256 bits"),  # says 288 bits
        (_code(3, 0, 0, 1, BODY[:12]), "give one unit"),
        (_code(5, 1, 0, 0, BODY[:16]), "subtype does not agree"),  # IMAGE subtype, no Content unit
        (_code(5, 5, 0, 1, BODY[:24]), "Content-Code subtype 5"),  # SUM subtype with a Content unit
        (_code(5, 6, 0, 0, BODY[:16]), "subtype does not agree"),  # NONE subtype without Meta
        (_code(5, 7, 0, 0, BODY[:16]), "the body has 128"),  # WIDE needs 256 bits
        (_code(5, 0, 0, 2, BODY[:24]), "Semantic-Code"),  # composite with a Semantic-Code
        (_code(5, 0, 0, 7, BODY[:8]), "Semantic-Code"),
        (_code(5, 5, 0, 0, BODY[:24]), "the body has 192"),
        (_code(5, 5, 1, 0, BODY[:16]), "version 1"),
    ],
)
def test_invalid_iscc_headers_refused(code, reason):
    with pytest.raises(InvalidIdentifier, match=reason):
        normalize_iscc(code)


def test_non_canonical_header_padding_refused():
    # SubType 8 takes two nibbles, so the header has five and one nibble of padding, which must be 0.
    header = iscc_core.encode_header(3, 8, 0, 1)
    assert len(header) == 3 and header[-1] & 0x0F == 0
    padded_wrong = header[:-1] + bytes([header[-1] | 0x0F])
    with pytest.raises(InvalidIdentifier, match="canonical form"):
        normalize_iscc("ISCC:" + iscc_core.encode_base32(padded_wrong + BODY[:8]))


def test_non_string_refused():
    for value in (None, 42, b"ISCC:GAAXL2XYM5BQIAZ3"):
        with pytest.raises(InvalidIdentifier):
            normalize_iscc(value)  # type: ignore[arg-type]


def test_thresholds():
    assert dict(ISCC_THRESHOLDS) == {"data": 8, "content": 10, "meta": 8}
    with pytest.raises(TypeError):
        ISCC_THRESHOLDS["data"] = 31  # type: ignore[index]
    families = {unit.kind.split("-")[0] for code, _ in CONFORMANCE for unit in iscc_units(code)}
    assert families - {"instance"} == set(ISCC_THRESHOLDS)


# ---------------------------------------------------------------- PDQ

PDQ_HEX = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def test_pdq_normalized_to_lower_case():
    assert normalize_pdq(PDQ_HEX) == PDQ_HEX
    assert normalize_pdq(PDQ_HEX.upper()) == PDQ_HEX


@pytest.mark.parametrize(
    "value",
    ["", PDQ_HEX[:-1], PDQ_HEX + "0", PDQ_HEX[:-1] + "g", " " + PDQ_HEX, "0x" + PDQ_HEX[2:], "A" * 128],
)
def test_pdq_wrong_length_or_digits_refused(value):
    with pytest.raises(InvalidIdentifier) as raised:
        normalize_pdq(value)
    assert str(raised.value) == "PDQ hashes are 256 bits: 64 hex digits"


def test_pdq_quality():
    assert PDQ_MIN_QUALITY == 50
    for quality in (50, 51, 100):
        check_pdq_quality(quality)
    with pytest.raises(InvalidIdentifier) as raised:
        check_pdq_quality(49)
    assert str(raised.value) == (
        "PDQ quality 49 is below 50: the image is too flat or small to fingerprint reliably"
    )
    with pytest.raises(InvalidIdentifier, match="PDQ quality 0 is below 50"):
        check_pdq_quality(0)
    for bad in (-1, 101, True, 75.0, "75", None):
        with pytest.raises(InvalidIdentifier, match="integer from 0 to 100"):
            check_pdq_quality(bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------- ISNI

PUBLISHED_ISNIS = [
    "0000000080456315",  # Douglas Adams: Wikidata Q42, property P213
    "000000012281955X",  # the ISO 27729 example in python-stdnum's isni module and Wikipedia
    "0000000121032683",  # the example in this project's design notes
    "0000000218250097",  # ORCID's documented example iD (Josiah Carberry), in ORCID's ISNI block
]


@pytest.mark.parametrize("isni", PUBLISHED_ISNIS)
def test_published_isnis_in_every_accepted_form(isni):
    grouped = " ".join(isni[i : i + 4] for i in range(0, 16, 4))
    forms = [
        isni,
        isni.lower(),
        grouped,
        f"ISNI {grouped}",
        f"isni:{isni}",
        f"ISNI: {grouped}",
        f"  {grouped}\n",
        "-".join(isni[i : i + 4] for i in range(0, 16, 4)),
        f"https://isni.org/isni/{isni}",
        f"http://www.isni.org/isni/{isni}",
    ]
    for form in forms:
        assert normalize_isni(form) == isni, form


@pytest.mark.parametrize("isni", PUBLISHED_ISNIS)
def test_every_one_character_corruption_of_a_published_isni_refused(isni):
    # ISO 7064 MOD 11-2 catches every single-character substitution.
    for position in range(16):
        alphabet = "0123456789X" if position == 15 else "0123456789"
        for character in alphabet:
            if character == isni[position]:
                continue
            corrupted = isni[:position] + character + isni[position + 1 :]
            with pytest.raises(InvalidIdentifier, match="check character"):
                normalize_isni(corrupted)


@pytest.mark.parametrize("isni", PUBLISHED_ISNIS)
def test_adjacent_transpositions_of_a_published_isni_refused(isni):
    for position in range(15):
        swapped = isni[:position] + isni[position + 1] + isni[position] + isni[position + 2 :]
        if swapped != isni:
            with pytest.raises(InvalidIdentifier):
                normalize_isni(swapped)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ISNI",
        "000000012103268",  # 15 characters
        "00000001210326833",  # 17 characters
        "0000 0001 2103 26833",
        "000000012103268Y",
        "X000000012103268",
        "0000 00012103 2683",  # irregular grouping
        "0000 0001-2103 2683",  # mixed separators
        "0000  0001 2103 2683",
        "０００００００１２１０３２６８３",  # full-width digits
        "https://example.org/isni/0000000121032683",
        "https://isni.org/isni/0000000121032683/extra",
        "ORCID 0000000121032683",
    ],
)
def test_malformed_isni_refused(value):
    with pytest.raises(InvalidIdentifier, match="16 characters"):
        normalize_isni(value)


def test_isni_non_string_refused():
    with pytest.raises(InvalidIdentifier):
        normalize_isni(121032683)  # type: ignore[arg-type]


@given(st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_isni_check_character_round_trip(digits):
    valid = [c for c in "0123456789X" if _accepts(digits + c)]
    assert len(valid) == 1  # exactly one check character fits any 15 digits


def _accepts(value: str) -> bool:
    try:
        normalize_isni(value)
    except InvalidIdentifier:
        return False
    return True


# ---------------------------------------------------------------- Wikidata


@pytest.mark.parametrize(
    "value",
    [
        "Q42",
        "q42",
        "wd:Q42",
        "WD:q42",
        " Q42\n",
        "https://www.wikidata.org/wiki/Q42",
        "http://www.wikidata.org/entity/Q42",
        "https://wikidata.org/wiki/Q42",
        "https://m.wikidata.org/wiki/Q42",
    ],
)
def test_wikidata_forms(value):
    assert normalize_wikidata(value) == "Q42"


def test_wikidata_large_ids():
    assert normalize_wikidata("Q1") == "Q1"
    assert normalize_wikidata("Q123456789012") == "Q123456789012"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Q",
        "Q0",
        "Q00",
        "Q042",
        "P31",
        "L7",
        "wd:P31",
        "42",
        "Q-42",
        "Q42a",
        "Q4 2",
        "Q４２",  # full-width digits
        "Q1234567890123",  # more digits than any item id will have
        "wd:",
        "wdt:Q42",
        "https://www.wikidata.org/wiki/Property:P31",
        "https://www.wikidata.org/wiki/Q42#P31",
        "https://example.org/wiki/Q42",
        "ftp://www.wikidata.org/wiki/Q42",
    ],
)
def test_wikidata_refused(value):
    with pytest.raises(InvalidIdentifier, match="Wikidata item id"):
        normalize_wikidata(value)


def test_wikidata_non_string_refused():
    with pytest.raises(InvalidIdentifier):
        normalize_wikidata(42)  # type: ignore[arg-type]
