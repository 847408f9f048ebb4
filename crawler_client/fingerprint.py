"""Content identifiers computed from a local file, so that only identifiers, never the file, leave the
machine.

`fingerprint_file` returns identifier objects in the wire format:

* ``{"scheme": "sha256", "value": hex}`` — the exact file;
* ``{"scheme": "iscc", "value": "ISCC:…"}`` — an ISO 24138 ISCC-CODE of the file's Data-Code and
  Instance-Code, with an image Content-Code first when Pillow can decode the file as an image;
* ``{"scheme": "pdq", "value": hex, "quality": q, "variants": [7 hex]}`` — for images whose PDQ
  quality is at least 50: the PDQ hash and the hashes of the image's 7 other rotations and mirror
  images, so that a rotated or mirrored copy still matches.

SHA-256, Data-Code and Instance-Code are computed in one streaming pass (bounded memory). Files over
`MAX_FILE_BYTES`, unreadable files and images over Pillow's decompression-bomb limit are refused with
`FingerprintError`, and so is a file that announces an image format by its signature (JPEG, PNG,
HEIC, AVIF, JPEG XL, …) but that Pillow cannot decode: registering such a file as plain data would
silently drop the PDQ and Content-Code that find its re-encoded copies. Other files are plain data.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import warnings
from pathlib import Path
from typing import BinaryIO, Final, NamedTuple

import iscc_core  # type: ignore[import-untyped, unused-ignore]
import numpy as np
import pdqhash  # type: ignore[import-untyped, unused-ignore]
from PIL import Image, ImageChops, ImageOps

from crawler_client.errors import KotowariError
from registry.content_ids import PDQ_MIN_QUALITY

__all__ = [
    "MAX_FILE_BYTES",
    "PDQ_MAX_SIDE",
    "FingerprintError",
    "PdqHash",
    "fingerprint_file",
    "fingerprint_image",
    "image_signature",
    "pdq_of_image",
]

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Largest file fingerprinted; bigger files are refused rather than read for minutes."""

PDQ_MAX_SIDE: Final = 2048
"""Larger images are box-filtered to this longest side before PDQ hashing, which bounds memory
(the PDQ binding makes several float copies of the whole image) and moves the hash by a few bits."""

_CHUNK: Final = 1 << 20
_UNIT_BITS: Final = 64  # ISCC-CODEs combine 64-bit units
_PILLOW_MAX_PIXELS: Final = 89_478_485  # Pillow's default MAX_IMAGE_PIXELS, if an operator unset it
_WHITE: Final = (255, 255, 255)


class FingerprintError(KotowariError, ValueError):
    """A file that cannot be fingerprinted: unreadable, too large, or a decompression bomb."""


class PdqHash(NamedTuple):
    """An image's PDQ hash, its quality (0-100) and the hashes of its 7 other dihedral transforms."""

    hash: str
    quality: int
    variants: list[str]


def fingerprint_file(path: str | Path) -> list[dict[str, object]]:
    """The identifiers of a local file in the wire format (sha256, iscc and, for images, pdq).

    A PDQ hash below quality 50 is left out (the registry would refuse it); `pdq_of_image` reports it.
    """
    with _open(path) as stream:
        return _identifiers(stream, path, image_only=False)


def fingerprint_image(data: bytes, *, label: str = "image") -> list[dict[str, object]]:
    """`fingerprint_file` for an image held in memory (a generation service's reference or output);
    bytes Pillow cannot decode as an image are refused with `FingerprintError`, naming `label`."""
    if len(data) > MAX_FILE_BYTES:
        raise FingerprintError(f"{label} is {len(data)} bytes, over the {MAX_FILE_BYTES}-byte limit")
    return _identifiers(io.BytesIO(data), label, image_only=True)


def _identifiers(stream: BinaryIO, path: str | Path, *, image_only: bool) -> list[dict[str, object]]:
    sha256, data_code, instance_code = _hash_stream(stream, path)
    image = _decode_image(stream, path)
    if image is None and image_only:
        raise FingerprintError(f"{path}: not an image (Pillow cannot decode it)")
    units = [data_code, instance_code]
    pdq = None
    if image is not None:
        # A mode Pillow decodes but cannot convert leaves the file fingerprinted as plain data.
        with contextlib.suppress(OSError, ValueError):
            pdq = _pdq(image)
        with contextlib.suppress(OSError, ValueError):
            if (content_code := _image_code(image)) is not None:
                units.insert(0, content_code)
    identifiers: list[dict[str, object]] = [
        {"scheme": "sha256", "value": sha256},
        {"scheme": "iscc", "value": str(iscc_core.gen_iscc_code_v0(units)["iscc"])},
    ]
    if pdq is not None and pdq.quality >= PDQ_MIN_QUALITY:
        identifiers.append(
            {"scheme": "pdq", "value": pdq.hash, "quality": pdq.quality, "variants": pdq.variants}
        )
    return identifiers


def pdq_of_image(path: str | Path) -> PdqHash:
    """The PDQ hash, quality and 7 dihedral variants of an image file, whatever its quality."""
    with _open(path) as stream:
        image = _decode_image(stream, path)
    if image is None:
        raise FingerprintError(f"{path}: not an image Pillow can decode")
    return _pdq(image)


# ---------------------------------------------------------------- reading


def _open(path: str | Path) -> BinaryIO:
    """Open a regular file for reading without blocking on FIFOs or devices, and check its size."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise FingerprintError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise FingerprintError(f"{path} is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise FingerprintError(f"{path} is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _hash_stream(stream: BinaryIO, path: str | Path) -> tuple[str, str, str]:
    """SHA-256 hex, Data-Code and Instance-Code of a stream, in one pass of bounded memory."""
    sha256 = hashlib.sha256()
    data = iscc_core.DataHasherV0()
    instance = iscc_core.InstanceHasherV0()
    total = 0
    try:
        while chunk := stream.read(_CHUNK):
            total += len(chunk)
            if total > MAX_FILE_BYTES:  # grew while we read it
                raise FingerprintError(f"{path} is over the {MAX_FILE_BYTES}-byte limit")
            sha256.update(chunk)
            data.push(chunk)
            instance.push(chunk)
    except OSError as exc:
        raise FingerprintError(f"cannot read {path}: {exc.strerror or exc}") from None
    return sha256.hexdigest(), str(data.code(bits=_UNIT_BITS)), str(instance.code(bits=_UNIT_BITS))


def _decode_image(stream: BinaryIO, path: str | Path) -> Image.Image | None:
    """The first frame of an image, or None when Pillow cannot decode it; refuses decompression bombs."""
    limit = Image.MAX_IMAGE_PIXELS or _PILLOW_MAX_PIXELS
    try:
        stream.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream)
            width, height = image.size
            if width * height > limit:  # also when another thread has reset the warning filters
                raise Image.DecompressionBombError(f"{width}x{height} pixels")
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise FingerprintError(
            f"{path}: image is over {limit} pixels, refused as a possible decompression bomb"
        ) from None
    except Exception:  # Pillow's decoders raise many types for input that is not an image they know
        stream.seek(0)
        if (kind := image_signature(stream.read(_SIGNATURE_BYTES))) is not None:
            raise FingerprintError(
                f"{path}: a {kind} image that cannot be decoded here (unsupported or corrupt); "
                "convert it to PNG or JPEG"
            ) from None
        return None
    return image


_SIGNATURE_BYTES: Final = 32
_SIGNATURES: Final = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"8BPS", "Photoshop"),
)
_ISO_BRANDS: Final = {
    b"heic": "HEIC",
    b"heix": "HEIC",
    b"hevc": "HEIC",
    b"hevx": "HEIC",
    b"heim": "HEIC",
    b"heis": "HEIC",
    b"mif1": "HEIF",
    b"msf1": "HEIF",
    b"avif": "AVIF",
    b"avis": "AVIF",
}


def image_signature(head: bytes) -> str | None:
    """The image format a file's first bytes announce (magic numbers), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp" and (brand := _ISO_BRANDS.get(head[8:12])) is not None:
        return brand
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)


# ---------------------------------------------------------------- ISCC image Content-Code


def _image_code(image: Image.Image) -> str | None:
    """ISCC Content-Code Image, after the normalisation iscc-core documents for gen_image_code.

    As iscc-sdk's image_normalize does it: transpose by EXIF orientation, put transparency on white
    (giving RGB), trim a border of the top-left pixel's colour, convert to grayscale, resize to 32x32
    (bicubic) and flatten. A uniform image has nothing to fingerprint: its code would be all zeros and
    match every other blank image, so it gets no Content-Code.
    """
    with contextlib.suppress(Exception):  # a corrupt EXIF block: keep the stored orientation
        image = ImageOps.exif_transpose(image)
    rgb = _on_white(image)
    corner = Image.new(rgb.mode, rgb.size, rgb.getpixel((0, 0)))
    difference = ImageChops.difference(rgb, corner)
    box = ImageChops.add(difference, difference).getbbox()
    if box is None:
        return None
    if box != (0, 0, *rgb.size):
        rgb = rgb.crop(box)
    pixels = list(rgb.convert("L").resize((32, 32), Image.Resampling.BICUBIC).tobytes())
    if min(pixels) == max(pixels):
        return None
    return str(iscc_core.gen_image_code_v0(pixels, bits=_UNIT_BITS)["iscc"])


def _on_white(image: Image.Image) -> Image.Image:
    """The image as RGB with any transparency composited on white (iscc-sdk image_fill_transparency)."""
    if image.mode == "RGB":
        return image
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGB", image.size, _WHITE)
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


# ---------------------------------------------------------------- PDQ


def _pdq(image: Image.Image) -> PdqHash:
    """PDQ of the image's RGB pixels (alpha dropped, as Meta's python-threatexchange hashes them)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    width, height = rgb.size
    if max(width, height) > PDQ_MAX_SIDE:
        scale = PDQ_MAX_SIDE / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BOX)
    pixels = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    vectors, quality = pdqhash.compute_dihedral(pixels)
    # Bit i of the binding's vector is hex bit i of the canonical PDQ string (ThreatExchange order).
    hashes = [np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes().hex() for vector in vectors]
    return PdqHash(hashes[0], int(quality), hashes[1:])
