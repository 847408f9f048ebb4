"""Images for the PDQ tests, and PDQ computed in the page: Meta's published test images (copied under
tests/portal/data/pdq, see SOURCE.md there) and photo-like images generated deterministically (smooth
colour waves plus grain, as PIL writes them in several formats, sizes and modes)."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

DATA = Path(__file__).parent / "data" / "pdq"


def published() -> dict[str, str]:
    """File name → the PDQ hash Meta publishes for it (expected.csv)."""
    with (DATA / "expected.csv").open(encoding="utf-8", newline="") as rows:
        return {row["file"]: row["pdq"] for row in csv.DictReader(rows)}


def photo(width: int, height: int, seed: int, *, grain: float = 6.0) -> Image.Image:
    """A photo-like RGB image: a few colour waves per channel at random frequencies, plus grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    pixels = np.full((height, width, 3), 128.0)
    for channel in range(3):
        for _ in range(6):
            fx, fy = rng.uniform(0.5, 6, 2)
            phase = rng.uniform(0, 2 * np.pi)
            amplitude = rng.uniform(20, 50)
            pixels[..., channel] += amplitude * np.sin(2 * np.pi * (fx * x / width + fy * y / height) + phase)
    pixels += rng.normal(0, grain, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def flat(width: int, height: int) -> Image.Image:
    """An almost uniform image (a faint horizontal ramp): its PDQ quality is far below 50."""
    ramp = np.linspace(120, 124, width)[None, :, None].repeat(height, 0).repeat(3, 2)
    return Image.fromarray(ramp.astype(np.uint8), "RGB")


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def generated() -> dict[str, bytes]:
    """Name → bytes of each generated image: PNG, JPEG and WebP; grey and translucent; small and
    over PDQ_MAX_SIDE (2048) on a side, where both sides scale the image down before hashing."""
    with_alpha = photo(320, 240, 6).convert("RGBA")
    with_alpha.putalpha(200)
    return {
        "photo-640x480.png": encode(photo(640, 480, 1), "PNG"),
        "photo-300x200.jpg": encode(photo(300, 200, 4), "JPEG", quality=85),
        "photo-200x200.webp": encode(photo(200, 200, 7), "WEBP", quality=90),
        "grey-400x400.png": encode(photo(400, 400, 5).convert("L"), "PNG"),
        "translucent-320x240.png": encode(with_alpha, "PNG"),
        "portrait-90x1200.png": encode(photo(90, 1200, 8), "PNG"),
        "large-3000x2000.jpg": encode(photo(3000, 2000, 2, grain=2.0), "JPEG", quality=90),
        "panorama-5000x700.jpg": encode(photo(5000, 700, 3, grain=2.0), "JPEG", quality=90),
        "tiny-4x4.png": encode(photo(4, 4, 9), "PNG"),
    }


def browser_pdq(page: Any, data: bytes) -> dict[str, Any] | None:
    """api/static/js/pdq.js's answer for `data`, computed in the page (which must be a portal page,
    so that the module loads from the server): {hash, quality, variants}, or None if not an image."""
    result: dict[str, Any] | None = page.evaluate(
        """async (b64) => {
            const { pdqOfImage } = await import("/static/js/pdq.js");
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            return await pdqOfImage(new Blob([bytes]));
        }""",
        base64.b64encode(data).decode("ascii"),
    )
    return result


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
