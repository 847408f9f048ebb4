"""C2PA / CAWG training-mining assertions and IPTC PLUS DataMining in fetched media."""

from __future__ import annotations

import contextlib
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler_client.signals import embedded

from . import media

NOT_ALLOWED_TRAINING = {
    "entries": {
        "c2pa.ai_training": {"use": "notAllowed"},
        "c2pa.ai_generative_training": {"use": "notAllowed"},
        "c2pa.ai_inference": {"use": "allowed"},
        "c2pa.data_mining": {"use": "allowed"},
    }
}


def test_c2pa_assertion_in_jpeg_app11() -> None:
    image = media.jpeg_with(
        media.manifest_store(media.assertion("c2pa.training-mining", NOT_ALLOWED_TRAINING))
    )
    verdict = embedded.c2pa_verdict(image)
    assert verdict.uses["train-ai"] == "n"
    assert verdict.uses["train-genai"] == "n"
    assert verdict.uses["ai-input"] == "y"
    assert "signature not validated" in verdict.reason


def test_jumbf_split_over_several_app11_segments_is_reassembled() -> None:
    padding = media.assertion("c2pa.thumbnail.claim.jpeg", {"data": b"\x00" * 5000})
    store = media.manifest_store(padding, media.assertion("cawg.training-mining", NOT_ALLOWED_TRAINING))
    image = media.jpeg_with(store, segment_size=700)
    assert embedded.jumbf_from_jpeg(image) == [store]
    assert embedded.c2pa_verdict(image).uses["train-ai"] == "n"


def test_constrained_counts_as_not_allowed() -> None:
    content = {
        "entries": {"cawg.ai_generative_training": {"use": "constrained", "constraint_info": "ask us"}}
    }
    image = media.png_with(
        media.png_chunk(b"caBX", media.manifest_store(media.assertion("cawg.training-mining__1", content)))
    )
    verdict = embedded.c2pa_verdict(image)
    assert verdict.uses["train-genai"] == "n"
    assert verdict.uses["train-ai"] == "unknown"


def test_entries_at_top_level_and_json_assertions_are_read() -> None:
    content = {"c2pa.data_mining": {"use": "notAllowed"}}
    store = media.manifest_store(media.assertion("c2pa.training-mining", content, as_json=True))
    verdict = embedded.c2pa_verdict(media.jpeg_with(store))
    assert (verdict.uses["train-ai"], verdict.uses["ai-input"], verdict.uses["search"]) == (
        "n",
        "n",
        "unknown",
    )


def test_any_manifest_restriction_wins_over_a_later_permission() -> None:
    allowed = {"entries": {"c2pa.ai_training": {"use": "allowed"}}}
    store = media.manifest_store(
        media.assertion("c2pa.training-mining", allowed),
        media.assertion("c2pa.training-mining__1", NOT_ALLOWED_TRAINING),
    )
    assert embedded.c2pa_verdict(media.jpeg_with(store)).uses["train-ai"] == "n"


def test_media_without_manifest_or_with_other_assertions() -> None:
    assert embedded.c2pa_verdict(b"plain text").reason == "no C2PA manifest"
    store = media.manifest_store(media.assertion("c2pa.actions", {"actions": []}))
    verdict = embedded.c2pa_verdict(media.jpeg_with(store))
    assert set(verdict.uses.values()) == {"unknown"}


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated mid-box
        lambda b: b.replace(b"cbor", b"cbox"),  # unknown content box
        lambda b: b.replace(b"\xa1", b"\xbf"),  # indefinite map never closed
        lambda b: b[:20] + b"\xff" * 40 + b[60:],  # overwritten box headers
    ],
)
def test_malformed_manifests_never_raise(damage) -> None:  # type: ignore[no-untyped-def]
    store = media.manifest_store(media.assertion("c2pa.training-mining", NOT_ALLOWED_TRAINING))
    verdict = embedded.c2pa_verdict(media.jpeg_with(damage(store)))
    assert verdict.source == "C2PA/CAWG training-mining"


def test_bad_cbor_is_reported() -> None:
    label = "c2pa.training-mining"
    bad = media.superbox(label, media.CBOR_UUID, media.box(b"cbor", b"\xa1\x61"))
    verdict = embedded.c2pa_verdict(media.jpeg_with(media.manifest_store(bad)))
    assert "undecodable" in verdict.reason
    assert set(verdict.uses.values()) == {"unknown"}


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_in_app11_never_raise(junk: bytes) -> None:
    embedded.c2pa_verdict(media.jpeg_with(b"\x00\x00\x00\x40jumb" + junk))
    embedded.c2pa_verdict(media.png_with(media.png_chunk(b"caBX", junk)))
    with contextlib.suppress(ValueError):
        embedded.cbor_loads(junk)


def test_cbor_decoder_reads_what_the_builder_writes() -> None:
    value = {"a": [1, -5, 2**40, "ü", b"\x01", True, None, 1.5], "b": {"c": False}}
    assert embedded.cbor_loads(media.cbor(value)) == value


# ------------------------------------------------------------------ IPTC PLUS


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("DMI-PROHIBITED-AIMLTRAINING", {"train-ai": "n", "train-genai": "n", "search": "unknown"}),
        ("DMI-PROHIBITED-GENAIMLTRAINING", {"train-ai": "unknown", "train-genai": "n"}),
        (
            "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
            {"train-ai": "n", "ai-input": "n", "search": "unknown"},
        ),
        ("DMI-PROHIBITED", {"train-ai": "n", "search": "n"}),
        ("DMI-PROHIBITED-SEECONSTRAINT", {"train-ai": "n"}),
        ("DMI-ALLOWED", {"train-ai": "y", "search": "y"}),
        ("DMI-UNSPECIFIED", {"train-ai": "unknown"}),
    ],
)
def test_plus_data_mining_values(code: str, expected: dict[str, str]) -> None:
    verdict = embedded.xmp_verdict(media.jpeg_with_xmp(media.xmp(code)))
    for use, value in expected.items():
        assert verdict.uses[use] == value, use  # type: ignore[index]


def test_plus_as_element_in_png_compressed_itxt() -> None:
    packet = media.xmp("DMI-PROHIBITED-AIMLTRAINING", as_element=True)
    itxt = b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(packet)
    assert embedded.xmp_verdict(media.png_with(media.png_chunk(b"iTXt", itxt))).uses["train-ai"] == "n"


def test_xmp_with_entities_or_unknown_values_is_refused_not_fatal() -> None:
    evil = media.xmp("DMI-PROHIBITED").replace(b"<rdf:RDF", b"<!DOCTYPE x [<!ENTITY a 'b'>]><rdf:RDF")
    assert "refused" in embedded.xmp_verdict(evil).reason
    odd = embedded.xmp_verdict(media.xmp("DMI-SOMETHING-NEW"))
    assert "unknown DataMining value" in odd.reason
    broken = embedded.xmp_verdict(media.xmp("DMI-PROHIBITED")[:-60])
    assert set(broken.uses.values()) == {"unknown"}
