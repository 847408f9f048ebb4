"""Issue 17, PDQ in the browser: api/static/js/pdq.js, run in Chromium on Meta's published test images
and on generated photo-like images, agrees with the Python `pdqhash` package (what `kotowari
fingerprint` and `claim new --file` compute) and with the hashes Meta publishes.

The bound, MAX_BITS = 8 of 256 bits: the browser decodes and (over 2048 px) scales images with its
own code, Pillow with its own, and a grey level moved here and there moves the few DCT coefficients
that sit next to the median. Meta's own cross-implementation test allows 16 bits; the registry
matches within 31. 8 keeps a browser-computed hash at a quarter of the match radius from the one a
claimant's command line computed, so nothing the command line finds is lost in the browser. Observed
on this machine: 0 bits on every file hashed at its own size (Chromium and Pillow both decode JPEG
with libjpeg-turbo), 2 bits where the image is scaled down first; the test prints the maximum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crawler_client.fingerprint import pdq_of_image
from registry.content_ids import PDQ_MIN_QUALITY
from tests.portal.pdq_images import DATA, browser_pdq, generated, hamming, published

MAX_BITS = 8
MAX_QUALITY_GAP = 5  # quality is a sum of truncated gradients: a grey level can move it by a point


def _cases(tmp_path: Path) -> list[tuple[str, Path]]:
    files = [(name, DATA / name) for name in published()]
    for name, data in generated().items():
        path = tmp_path / name
        path.write_bytes(data)
        files.append((name, path))
    return files


def test_the_browsers_pdq_agrees_with_pdqhash_on_every_image(page: Any, tmp_path: Path) -> None:
    page.goto("/lookup")
    observed: dict[str, int] = {}
    for name, path in _cases(tmp_path):
        expected = pdq_of_image(path)
        found = browser_pdq(page, path.read_bytes())
        assert found is not None, f"{name}: the browser could not decode it"
        assert abs(found["quality"] - expected.quality) <= MAX_QUALITY_GAP, (name, found, expected)
        if expected.quality < PDQ_MIN_QUALITY:
            # Not sent by the page: only the verdict "too flat" has to agree.
            assert found["quality"] < PDQ_MIN_QUALITY + MAX_QUALITY_GAP, name
            continue
        distances = [hamming(found["hash"], expected.hash)]
        distances += [hamming(a, b) for a, b in zip(found["variants"], expected.variants, strict=True)]
        assert len(found["variants"]) == 7
        observed[name] = max(distances)
        assert observed[name] <= MAX_BITS, (name, distances)
    worst = max(observed, key=lambda name: observed[name])
    print(f"PDQ browser vs pdqhash: {len(observed)} images, max {observed[worst]} bits ({worst})")
    assert len(observed) >= 14


def test_the_browsers_pdq_matches_the_hashes_meta_publishes(page: Any) -> None:
    page.goto("/lookup")
    for name, expected in published().items():
        found = browser_pdq(page, (DATA / name).read_bytes())
        assert found is not None
        if found["quality"] < PDQ_MIN_QUALITY:
            continue  # unstable between Meta's own implementations (SOURCE.md)
        assert hamming(found["hash"], expected) <= MAX_BITS, (name, found["hash"], expected)


def test_an_image_under_five_pixels_a_side_has_quality_zero_and_the_zero_hash(page: Any) -> None:
    page.goto("/lookup")
    found = browser_pdq(page, generated()["tiny-4x4.png"])
    assert found == {"hash": "0" * 64, "quality": 0, "variants": ["0" * 64] * 7}


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_bytes_the_browser_cannot_decode_have_no_pdq(page: Any, data: bytes) -> None:
    page.goto("/lookup")
    assert browser_pdq(page, data) is None


def test_the_dihedral_variants_are_the_hashes_of_the_rotated_and_mirrored_image(page: Any) -> None:
    """Variant order as the reference's: rotate 90, 180, 270 (counter-clockwise, as Pillow turns),
    mirror top-bottom, mirror left-right, transpose, transverse. At 320x320 the box filter's window
    (3) and the decimation's sample points are symmetric, so each variant is exactly the hash of the
    image so transformed (at other sizes the samples shift by a pixel and a few bits move)."""
    from PIL import Image

    from tests.portal.pdq_images import encode, photo

    page.goto("/lookup")
    original = photo(320, 320, 11)
    found = browser_pdq(page, encode(original, "PNG"))
    assert found is not None
    transforms = [
        Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_180,
        Image.Transpose.ROTATE_270,
        Image.Transpose.FLIP_TOP_BOTTOM,
        Image.Transpose.FLIP_LEFT_RIGHT,
        Image.Transpose.TRANSPOSE,
        Image.Transpose.TRANSVERSE,
    ]
    for variant, method in zip(found["variants"], transforms, strict=True):
        turned = browser_pdq(page, encode(original.transpose(method), "PNG"))
        assert turned is not None
        assert hamming(turned["hash"], variant) <= MAX_BITS, method
