"""Local fingerprints (crawler_client.fingerprint) on images and bytes the tests generate.

Each scene is a smooth gradient with a few filled shapes, drawn from a fixed seed at 512x384, so the
expected robustness (PDQ within 31 of 256 bits, image Content-Code within the content threshold)
is measured on the same pixels every run.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import time

import iscc_core
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from crawler_client import fingerprint
from crawler_client.fingerprint import (
    MAX_FILE_BYTES,
    FingerprintError,
    PdqHash,
    fingerprint_file,
    image_signature,
    pdq_of_image,
)
from registry.content_ids import ISCC_THRESHOLDS, PDQ_MIN_QUALITY, iscc_units, normalize_iscc, normalize_pdq

PDQ_MATCH = 31  # DESIGN.md: Hamming distance <= 31 of 256 over the 8 dihedral variants


# ---------------------------------------------------------------- generated images and helpers


def scene(seed: int, width: int = 512, height: int = 384) -> Image.Image:
    """A smooth colour gradient with six filled rectangles, ellipses and triangles."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    angle = rng.uniform(0, 2 * np.pi)
    wave = 0.5 + 0.35 * np.sin((x * np.cos(angle) + y * np.sin(angle)) / width * np.pi * rng.uniform(1, 2))
    tint = rng.uniform(120, 230, 3)
    image = Image.fromarray((wave[..., None] * tint).clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = (int(v) for v in rng.integers(0, (width - 120, height - 120)))
        x1, y1 = x0 + int(rng.integers(40, 160)), y0 + int(rng.integers(40, 160))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif shape == 1:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.polygon([(x0, y1), (x1, y1), ((x0 + x1) // 2, y0)], fill=colour)
    return image


def save(image: Image.Image, path, **options) -> str:
    image.save(path, **options)
    return str(path)


def by_scheme(identifiers: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    schemes = [str(item["scheme"]) for item in identifiers]
    assert len(schemes) == len(set(schemes)), schemes
    return {str(item["scheme"]): item for item in identifiers}


def units(identifiers: list[dict[str, object]]) -> dict[str, bytes]:
    return {unit.kind: unit.body for unit in iscc_units(str(by_scheme(identifiers)["iscc"]["value"]))}


def hamming(a: bytes | str, b: bytes | str) -> int:
    a = bytes.fromhex(a) if isinstance(a, str) else a
    b = bytes.fromhex(b) if isinstance(b, str) else b
    assert len(a) == len(b)
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def all_pdq(item: dict[str, object]) -> list[str]:
    variants = item["variants"]
    assert isinstance(variants, list)
    return [str(item["value"]), *(str(v) for v in variants)]


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """The original scene as PNG, with its fingerprint."""
    path = save(scene(7), tmp_path_factory.mktemp("images") / "original.png")
    return path, fingerprint_file(path)


# ---------------------------------------------------------------- wire format and exactness


def test_image_wire_format(original):
    path, found = original
    items = by_scheme(found)
    assert list(items) == ["sha256", "iscc", "pdq"]
    with open(path, "rb") as handle:
        assert items["sha256"] == {"scheme": "sha256", "value": hashlib.sha256(handle.read()).hexdigest()}
    iscc = str(items["iscc"]["value"])
    assert normalize_iscc(iscc) == iscc and iscc.startswith("ISCC:KE")  # an ISCC-CODE, image subtype
    assert [unit.kind for unit in iscc_units(iscc)] == ["content-image", "data", "instance"]
    pdq = items["pdq"]
    assert set(pdq) == {"scheme", "value", "quality", "variants"}
    assert isinstance(pdq["quality"], int) and PDQ_MIN_QUALITY <= pdq["quality"] <= 100
    hashes = all_pdq(pdq)
    assert len(hashes) == 8 and len(set(hashes)) == 8
    assert all(normalize_pdq(h) == h for h in hashes)


def test_identifiers_pass_the_registry_schemas(original):
    schemes = pytest.importorskip("registry.schemes")
    for item in original[1]:
        schemes.identifier(item)


def test_fingerprint_is_stable_and_matches_iscc_core(original):
    path, found = original
    assert fingerprint_file(path) == found
    with open(path, "rb") as handle:
        instance = iscc_core.gen_instance_code_v0(handle)["iscc"]
    assert units(found)["instance"] == iscc_units(instance)[0].body


def test_streaming_codes_equal_iscc_core_one_shot(tmp_path):
    # Several read chunks, with content-defined chunk boundaries across them.
    data = np.random.default_rng(3).integers(0, 256, 3 * 1024 * 1024 + 12345, dtype=np.uint8).tobytes()
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    found = by_scheme(fingerprint_file(path))
    assert found["sha256"]["value"] == hashlib.sha256(data).hexdigest()
    expected = iscc_core.gen_iscc_code_v0(
        [
            iscc_core.gen_data_code_v0(io.BytesIO(data))["iscc"],
            iscc_core.gen_instance_code_v0(io.BytesIO(data))["iscc"],
        ]
    )["iscc"]
    assert found["iscc"]["value"] == expected


def test_data_code_of_a_lightly_edited_file_is_within_the_data_threshold(tmp_path):
    data = bytearray(np.random.default_rng(4).integers(0, 256, 256 * 1024, dtype=np.uint8).tobytes())
    first = save_bytes(tmp_path / "a.bin", bytes(data))
    for offset in (1000, 100_000, 200_000):
        data[offset] ^= 0xFF
    second = save_bytes(tmp_path / "b.bin", bytes(data))
    a, b = fingerprint_file(first), fingerprint_file(second)
    assert hamming(units(a)["data"], units(b)["data"]) <= ISCC_THRESHOLDS["data"]
    assert units(a)["instance"] != units(b)["instance"]
    assert by_scheme(a)["sha256"] != by_scheme(b)["sha256"]


def test_unrelated_files_are_far_apart_in_data_code(tmp_path):
    rng = np.random.default_rng(5)
    first = save_bytes(tmp_path / "a.bin", rng.integers(0, 256, 64 * 1024, dtype=np.uint8).tobytes())
    second = save_bytes(tmp_path / "b.bin", rng.integers(0, 256, 64 * 1024, dtype=np.uint8).tobytes())
    assert hamming(units(fingerprint_file(first))["data"], units(fingerprint_file(second))["data"]) > 16


def save_bytes(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


# ---------------------------------------------------------------- perceptual robustness


def reencoded(image: Image.Image, path) -> str:
    return save(image, path, format="JPEG", quality=70)


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda im, p: reencoded(im, p / "q70.jpg"), id="jpeg-quality-70"),
        pytest.param(
            lambda im, p: save(im.resize((256, 192), Image.Resampling.LANCZOS), p / "half.png"),
            id="resize-50%",
        ),
        pytest.param(
            lambda im, p: save(ImageEnhance.Brightness(im).enhance(1.2), p / "bright.png"),
            id="brightness+20%",
        ),
    ],
)
def test_near_copies_match_by_pdq_and_content_code(original, tmp_path, transform):
    _, found = original
    copy = fingerprint_file(transform(scene(7), tmp_path))
    assert hamming(by_scheme(copy)["pdq"]["value"], by_scheme(found)["pdq"]["value"]) <= PDQ_MATCH
    distance = hamming(units(copy)["content-image"], units(found)["content-image"])
    assert distance <= ISCC_THRESHOLDS["content"]


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(ImageOps.mirror, id="mirror"),
        pytest.param(ImageOps.flip, id="flip"),
        pytest.param(lambda im: im.rotate(90, expand=True), id="rotate-90"),
        pytest.param(lambda im: im.rotate(180), id="rotate-180"),
        pytest.param(lambda im: im.transpose(Image.Transpose.TRANSPOSE), id="transpose"),
    ],
)
def test_mirrored_and_rotated_copies_match_a_dihedral_variant(original, tmp_path, transform):
    _, found = original
    copy = by_scheme(fingerprint_file(save(transform(scene(7)), tmp_path / "turned.png")))["pdq"]
    original_hashes = all_pdq(by_scheme(found)["pdq"])
    assert hamming(str(copy["value"]), original_hashes[0]) > PDQ_MATCH  # not by the plain hash
    assert min(hamming(str(copy["value"]), h) for h in original_hashes) <= PDQ_MATCH


@pytest.mark.parametrize("seed", [8, 9, 10])
def test_unrelated_scene_is_far_from_every_variant(original, tmp_path, seed):
    _, found = original
    other = fingerprint_file(save(scene(seed), tmp_path / "other.png"))
    other_hashes = all_pdq(by_scheme(other)["pdq"])
    for mine in all_pdq(by_scheme(found)["pdq"]):
        assert min(hamming(mine, h) for h in other_hashes) > PDQ_MATCH
    assert hamming(units(other)["content-image"], units(found)["content-image"]) > ISCC_THRESHOLDS["content"]


def test_exif_orientation_is_applied_for_the_content_code(original, tmp_path):
    # Stored rotated a quarter turn counter-clockwise, tagged "rotate 90 clockwise to display".
    _, found = original
    exif = Image.Exif()
    exif[0x0112] = 6
    path = save(scene(7).rotate(90, expand=True), tmp_path / "tagged.png", exif=exif)
    assert units(fingerprint_file(path))["content-image"] == units(found)["content-image"]


def test_transparency_is_composited_on_white_for_the_content_code(tmp_path):
    opaque = scene(11)
    alpha = Image.new("L", opaque.size, 255)
    ImageDraw.Draw(alpha).rectangle((0, 0, 100, 383), fill=0)
    noisy = np.random.default_rng(11).integers(0, 256, (384, 512, 3), dtype=np.uint8)
    composite = Image.composite(opaque, Image.fromarray(noisy), alpha)  # garbage under the holes
    transparent = composite.convert("RGBA")
    transparent.putalpha(alpha)
    on_white = Image.composite(opaque, Image.new("RGB", opaque.size, (255, 255, 255)), alpha)
    a = fingerprint_file(save(transparent, tmp_path / "transparent.png"))
    b = fingerprint_file(save(on_white, tmp_path / "white.png"))
    assert units(a)["content-image"] == units(b)["content-image"]


def test_images_larger_than_pdq_max_side_are_hashed_from_a_reduced_copy(original, tmp_path):
    _, found = original
    large = scene(7).resize((4096, 3072), Image.Resampling.BICUBIC)
    assert max(large.size) > fingerprint.PDQ_MAX_SIDE
    copy = pdq_of_image(save(large, tmp_path / "large.png"))
    assert hamming(copy.hash, str(by_scheme(found)["pdq"]["value"])) <= PDQ_MATCH


# ---------------------------------------------------------------- low quality and non-images


def test_flat_image_has_low_quality_and_no_pdq_identifier(tmp_path):
    path = save(Image.new("RGB", (512, 384), (200, 40, 90)), tmp_path / "flat.png")
    reported = pdq_of_image(path)
    assert isinstance(reported, PdqHash)
    assert reported.quality < PDQ_MIN_QUALITY
    hash_, quality, variants = reported  # also unpacks as a (hash, quality, variants) tuple
    assert len(hash_) == 64 and quality == reported.quality and len(variants) == 7
    found = by_scheme(fingerprint_file(path))
    assert "pdq" not in found
    # A uniform image has nothing for a Content-Code to describe: Data and Instance only.
    assert [u.kind for u in iscc_units(str(found["iscc"]["value"]))] == ["data", "instance"]


def test_pdq_of_image_reports_the_same_hash_as_fingerprint_file(original):
    path, found = original
    pdq = by_scheme(found)["pdq"]
    assert pdq_of_image(path) == PdqHash(str(pdq["value"]), int(pdq["quality"]), all_pdq(pdq)[1:])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.7\n" + bytes(range(256)) * 40,
        "名前 — plain UTF-8 text\n".encode() * 100,
        b"BM" + bytes(300),  # BMP's two-byte magic is too weak to call a file an image
    ],
    ids=["empty", "pdf-like", "text", "bm-prefix"],
)
def test_non_image_bytes_are_plain_data(tmp_path, data):
    path = save_bytes(tmp_path / "file.bin", data)
    found = by_scheme(fingerprint_file(path))
    assert list(found) == ["sha256", "iscc"]
    assert found["sha256"]["value"] == hashlib.sha256(data).hexdigest()
    assert str(found["iscc"]["value"]).startswith("ISCC:KU")  # ISCC-SUM: Data and Instance only
    with pytest.raises(FingerprintError, match="not an image"):
        pdq_of_image(path)


def _truncated_png() -> bytes:
    encoded = io.BytesIO()
    scene(7).save(encoded, format="PNG")
    return encoded.getvalue()[: len(encoded.getvalue()) // 2]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "PNG"),  # a PNG signature and nothing decodable
        (None, "PNG"),  # a real PNG cut in half
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100), "HEIC"),
        (b"\x00\x00\x00\x0cJXL \r\n\x87\n" + bytes(100), "JPEG XL"),
        (b"RIFF\x00\x01\x00\x00WEBPVP8 " + bytes(100), "WebP"),
        (b"\xff\xd8\xff\xe0" + bytes(100), "JPEG"),
    ],
    ids=["png-signature-only", "truncated-png", "heic", "jpeg-xl", "webp-garbage", "jpeg-garbage"],
)
def test_an_image_that_cannot_be_decoded_is_refused_not_filed_as_data(tmp_path, data, kind):
    path = save_bytes(tmp_path / "image", _truncated_png() if data is None else data)
    with pytest.raises(FingerprintError, match=f"a {kind} image that cannot be decoded here"):
        fingerprint_file(path)


def test_image_signature_names_formats_by_magic_number():
    assert image_signature(b"\xff\xd8\xff\xdb") == "JPEG"
    assert image_signature(b"\x00\x00\x00\x1cftypavif") == "AVIF"
    assert image_signature(b"\x00\x00\x00\x1cftypisom") is None  # an MP4 video, not an image
    assert image_signature(b"RIFF\x00\x00\x00\x00WAVE") is None
    assert image_signature(b"") is None


# ---------------------------------------------------------------- refusals


def test_max_file_bytes():
    assert MAX_FILE_BYTES == 512 * 1024 * 1024


def test_oversized_file_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(fingerprint, "MAX_FILE_BYTES", 1000)
    assert fingerprint_file(save_bytes(tmp_path / "limit.bin", b"x" * 1000))  # at the limit: fine
    path = save_bytes(tmp_path / "big.bin", b"x" * 1001)
    with pytest.raises(FingerprintError, match="over the 1000-byte limit"):
        fingerprint_file(path)
    with pytest.raises(FingerprintError, match="over the 1000-byte limit"):
        pdq_of_image(path)


def test_missing_file_and_directory_refused(tmp_path):
    with pytest.raises(FingerprintError, match="cannot read"):
        fingerprint_file(tmp_path / "missing.png")
    with pytest.raises(FingerprintError, match="not a regular file"):
        fingerprint_file(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(FingerprintError, match="not a regular file"):
        fingerprint_file(fifo)
    assert time.monotonic() - started < 5


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_refused(tmp_path):
    path = tmp_path / "secret.bin"
    path.write_bytes(b"secret")
    path.chmod(0)
    with pytest.raises(FingerprintError, match="cannot read"):
        fingerprint_file(path)


def test_permission_denied_refused(tmp_path, monkeypatch):
    path = save_bytes(tmp_path / "secret.bin", b"secret")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(FingerprintError, match=r"cannot read .*: Permission denied"):
        fingerprint_file(path)


@pytest.mark.parametrize("limit", [100_000, 50_000], ids=["over-limit-warning", "over-twice-limit-error"])
def test_decompression_bomb_refused(original, monkeypatch, limit):
    path, _ = original  # 512 x 384 = 196,608 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(FingerprintError, match="decompression bomb"):
        fingerprint_file(path)
    with pytest.raises(FingerprintError, match="decompression bomb"):
        pdq_of_image(path)


def test_fingerprint_error_is_a_value_error():
    assert issubclass(FingerprintError, ValueError)
