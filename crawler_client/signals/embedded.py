"""Opt-outs embedded in fetched media: C2PA / CAWG training-and-data-mining assertions and the
IPTC PLUS `DataMining` property in XMP.

C2PA. A C2PA manifest store is a JUMBF box tree (ISO/IEC 19566-5) carried in JPEG APP11 segments
(possibly split across several, reassembled by box instance and sequence number) or in a PNG
`caBX` chunk. Inside, assertion boxes are labelled; we look for `c2pa.training-mining` (C2PA 1.x)
and `cawg.training-mining` (the Creator Assertions Working Group's successor), with an optional
version (`.v1`) and instance (`__1`) suffix, and decode their CBOR (or JSON) content. The
assertion maps entries to `{"use": "allowed" | "notAllowed" | "constrained"}`; early writers put the
entries at the top level instead of under `entries`, so both are read.

| entry (c2pa. / cawg.) | Kotowari uses |
|---|---|
| `ai_training` | train-ai |
| `ai_generative_training` | train-genai |
| `ai_inference` | ai-input, generate |
| `data_mining` | train-ai, ai-input, generate |

`constrained` counts as `notAllowed`: the constraint is for a human to read, so until someone has
agreed to it the use is reserved.

Signatures are **not** validated, deliberately. Validation establishes who made a claim; honouring
a restriction needs no such trust — anyone who embeds "notAllowed" asks for less, never more, and
obeying a forged restriction costs nothing but one item. The converse does not hold, so an
`allowed` entry is reported as `y` only as a statement, which the policy combines with every other
source (any `n` anywhere still wins). Every manifest in the store is read, not only the active one,
so a restriction an earlier author made is not lost when someone re-signs the file.

IPTC PLUS. `plus:DataMining` (namespace `http://ns.useplus.org/ldf/xmp/1.0/`) takes a value from
the PLUS Data Mining vocabulary (`http://ns.useplus.org/ldf/vocab/DMI-…`); see `PLUS_VALUES`.

Malformed media (truncated boxes, bad CBOR, XML with entities) is skipped with a reason; nothing
here raises for bad input.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any, Final
from xml.etree import ElementTree

from crawler_client.signals import Decision, Use, Verdict, combine_uses, unknown

__all__ = [
    "ASSERTION_ENTRIES",
    "MAX_SCAN",
    "PLUS_VALUES",
    "c2pa_verdict",
    "cbor_loads",
    "jumbf_from_jpeg",
    "jumbf_from_png",
    "training_mining_assertions",
    "verdict",
    "xmp_packets",
    "xmp_verdict",
]

MAX_SCAN: Final = 64 * 1024 * 1024
_MAX_DEPTH: Final = 32
_MAX_ITEMS: Final = 100_000

ASSERTION_ENTRIES: Final[Mapping[str, tuple[Use, ...]]] = {
    "ai_training": ("train-ai",),
    "ai_generative_training": ("train-genai",),
    "ai_inference": ("ai-input", "generate"),
    "data_mining": ("train-ai", "ai-input", "generate"),
}
_LABEL = re.compile(r"^(c2pa|cawg)\.training-mining(\.v\d+)?(__\d+)?$")

_ALL_AI: Final[tuple[Use, ...]] = ("train-ai", "ai-input", "generate")
#: PLUS Data Mining values → (uses, value). Unlisted values are reported and unknown.
PLUS_VALUES: Final[Mapping[str, tuple[tuple[Use, ...], Decision]]] = {
    "DMI-UNSPECIFIED": ((), "unknown"),
    "DMI-ALLOWED": (("train-ai", "ai-input", "generate", "search"), "y"),
    "DMI-PROHIBITED-AIMLTRAINING": (("train-ai",), "n"),
    "DMI-PROHIBITED-GENAIMLTRAINING": (("train-genai",), "n"),
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": (_ALL_AI, "n"),
    "DMI-PROHIBITED": ((*_ALL_AI, "search"), "n"),
    "DMI-PROHIBITED-SEECONSTRAINT": ((*_ALL_AI, "search"), "n"),
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": ((*_ALL_AI, "search"), "n"),
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR": ((*_ALL_AI, "search"), "n"),
}
_PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


class _Malformed(ValueError):
    pass


# ------------------------------------------------------------------ CBOR (RFC 8949), decode only


def cbor_loads(data: bytes) -> Any:
    """Decode one CBOR data item: the subset C2PA assertions use (no float16 subnormals trickery
    needed, tags are unwrapped). Raises ValueError on malformed or over-deep input."""
    return _cbor(data, 0, 0)[0]


def _cbor_length(data: bytes, pos: int, info: int) -> tuple[int | None, int]:
    if info < 24:
        return info, pos
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info in sizes:
        size = sizes[info]
        if pos + size > len(data):
            raise _Malformed("truncated CBOR")
        return int.from_bytes(data[pos : pos + size], "big"), pos + size
    if info == 31:
        return None, pos
    raise _Malformed("reserved CBOR additional information")


def _cbor(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > _MAX_DEPTH:
        raise _Malformed("CBOR nested too deeply")
    if pos >= len(data):
        raise _Malformed("truncated CBOR")
    initial = data[pos]
    major, info = initial >> 5, initial & 0x1F
    pos += 1
    if major == 7:
        if info == 20:
            return False, pos
        if info == 21:
            return True, pos
        if info in (22, 23):
            return None, pos
        formats = {25: (">e", 2), 26: (">f", 4), 27: (">d", 8)}
        if info in formats:
            fmt, size = formats[info]
            if pos + size > len(data):
                raise _Malformed("truncated CBOR float")
            return struct.unpack(fmt, data[pos : pos + size])[0], pos + size
        if info < 24:
            return None, pos
        if info == 24:
            return None, pos + 1
        raise _Malformed("unexpected CBOR break")
    length, pos = _cbor_length(data, pos, info)
    if major == 0:
        if length is None:
            raise _Malformed("indefinite integer")
        return length, pos
    if major == 1:
        if length is None:
            raise _Malformed("indefinite integer")
        return -1 - length, pos
    if major in (2, 3):
        if length is None:
            chunks: list[Any] = []
            while pos < len(data) and data[pos] != 0xFF:
                chunk, pos = _cbor(data, pos, depth + 1)
                if not isinstance(chunk, bytes if major == 2 else str):
                    raise _Malformed("a chunk of an indefinite string is of another type")
                chunks.append(chunk)
            if pos >= len(data):
                raise _Malformed("indefinite string never closed")
            pos += 1
            joined: Any = b"".join(chunks) if major == 2 else "".join(chunks)
            return joined, pos
        if pos + length > len(data):
            raise _Malformed("truncated CBOR string")
        raw = data[pos : pos + length]
        return (bytes(raw) if major == 2 else raw.decode("utf-8", "replace")), pos + length
    if major == 4:
        items: list[Any] = []
        while length is None or len(items) < length:
            if length is None and pos < len(data) and data[pos] == 0xFF:
                return items, pos + 1
            if len(items) >= _MAX_ITEMS:
                raise _Malformed("CBOR array too long")
            item, pos = _cbor(data, pos, depth + 1)
            items.append(item)
        return items, pos
    if major == 5:
        mapping: dict[Any, Any] = {}
        count = 0
        while length is None or count < length:
            if length is None and pos < len(data) and data[pos] == 0xFF:
                return mapping, pos + 1
            if count >= _MAX_ITEMS:
                raise _Malformed("CBOR map too long")
            key, pos = _cbor(data, pos, depth + 1)
            value, pos = _cbor(data, pos, depth + 1)
            if isinstance(key, (str, int, bytes, bool)) or key is None:
                mapping[key] = value
            count += 1
        return mapping, pos
    # major 6: a tag; the tagged item is what matters here
    return _cbor(data, pos, depth + 1)


# ------------------------------------------------------------------ containers → JUMBF


def jumbf_from_jpeg(data: bytes) -> list[bytes]:
    """JUMBF superboxes carried in a JPEG's APP11 segments, reassembled (ISO 19566-5 / C2PA)."""
    if not data.startswith(b"\xff\xd8"):
        return []
    packets: dict[tuple[int, bytes], list[tuple[int, bytes]]] = {}
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: no more metadata
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            break
        segment = data[pos + 4 : pos + 2 + length]
        pos += 2 + length
        if marker == 0xEB and len(segment) >= 16 and segment[:2] == b"JP":
            instance = int.from_bytes(segment[2:4], "big")
            sequence = int.from_bytes(segment[4:8], "big")
            box_type = segment[12:16]
            packets.setdefault((instance, box_type), []).append((sequence, segment[8:]))
    boxes = []
    for parts in packets.values():
        parts.sort()
        first = parts[0][1]
        header = 16 if first[:4] == b"\x00\x00\x00\x01" else 8
        boxes.append(first + b"".join(part[header:] for _, part in parts[1:]))
    return boxes


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length:
            return
        yield kind, body
        if kind == b"IEND":
            return
        pos += 12 + length


def jumbf_from_png(data: bytes) -> list[bytes]:
    """The JUMBF manifest store of a PNG's `caBX` chunk(s)."""
    return [body for kind, body in _png_chunks(data) if kind == b"caBX"]


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, content start, content end) of each ISO BMFF-style box in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _label(data: bytes, start: int, end: int) -> str | None:
    # jumd: 16-byte content type UUID, a toggles byte, then (if bit 1) a NUL-terminated label.
    if end - start < 17:
        return None
    toggles = data[start + 16]
    if not toggles & 0x02:
        return None
    stop = data.find(b"\x00", start + 17, end)
    if stop < 0:
        stop = end
    return data[start + 17 : stop].decode("utf-8", "replace")


def training_mining_assertions(jumbf: bytes) -> list[tuple[str, Any]]:
    """(label, decoded content) of every training-mining assertion anywhere in a JUMBF tree."""
    found: list[tuple[str, Any]] = []

    def walk(start: int, end: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        for kind, content_start, content_end in _boxes(jumbf, start, end):
            if kind != b"jumb":
                continue
            label: str | None = None
            children = list(_boxes(jumbf, content_start, content_end))
            if children and children[0][0] == b"jumd":
                label = _label(jumbf, children[0][1], children[0][2])
            if label and _LABEL.match(label):
                for child_kind, child_start, child_end in children[1:]:
                    raw = jumbf[child_start:child_end]
                    try:
                        if child_kind == b"cbor":
                            found.append((label, cbor_loads(raw)))
                        elif child_kind == b"json":
                            found.append((label, json.loads(raw.decode("utf-8"))))
                    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                        found.append((label, _Malformed(f"undecodable content: {exc}")))
            else:
                walk(content_start, content_end, depth + 1)

    walk(0, len(jumbf), 0)
    return found


def _assertion_uses(content: Any) -> tuple[dict[Use, Decision], list[str]]:
    if not isinstance(content, dict):
        return unknown(), ["not a map"]
    entries = content.get("entries", content)
    if not isinstance(entries, dict):
        return unknown(), ["entries is not a map"]
    uses = unknown()
    notes: list[str] = []
    for key, entry in entries.items():
        if not isinstance(key, str) or "." not in key:
            continue
        name = key.split(".", 1)[1]
        if name not in ASSERTION_ENTRIES or not isinstance(entry, dict):
            continue
        use_value = entry.get("use")
        value: Decision
        if use_value in ("notAllowed", "constrained"):
            value = "n"
        elif use_value == "allowed":
            value = "y"
        else:
            notes.append(f"{key}: unknown use {use_value!r}")
            continue
        notes.append(f"{key}={use_value}")
        for use in ASSERTION_ENTRIES[name]:
            if uses[use] != "n":
                uses[use] = value
    # train-genai inherits a train-ai statement unless it has its own; a train-ai reservation covers it.
    if uses["train-genai"] == "unknown" or uses["train-ai"] == "n":
        uses["train-genai"] = "n" if "n" in (uses["train-ai"], uses["train-genai"]) else uses["train-ai"]
    return uses, notes


def c2pa_verdict(data: bytes, *, location: str = "embedded C2PA manifest") -> Verdict:
    """The combined training-mining assertions of a JPEG's or PNG's C2PA manifest store."""
    stores = jumbf_from_jpeg(data) or jumbf_from_png(data)
    if not stores:
        return Verdict("C2PA/CAWG training-mining", location, "post-fetch", unknown(), "no C2PA manifest")
    parts, notes = [], []
    for store in stores:
        for label, content in training_mining_assertions(store):
            if isinstance(content, Exception):
                notes.append(f"{label}: {content}")
                continue
            uses, entry_notes = _assertion_uses(content)
            parts.append(uses)
            notes.append(f"{label}: {', '.join(entry_notes) or 'no known entry'}")
    if not parts:
        reason = "; ".join(notes) or "manifest has no training-mining assertion"
        return Verdict("C2PA/CAWG training-mining", location, "post-fetch", unknown(), reason)
    note = "; ".join(notes) + " (signature not validated: not needed to honour a restriction)"
    return Verdict("C2PA/CAWG training-mining", location, "post-fetch", combine_uses(parts), note)


# ------------------------------------------------------------------ XMP / IPTC PLUS


_XMP = re.compile(rb"<x:xmpmeta[\s>].*?</x:xmpmeta>|<rdf:RDF[\s>].*?</rdf:RDF>", re.DOTALL)


def xmp_packets(data: bytes) -> list[bytes]:
    """XMP packets in a file: found in the bytes (JPEG APP1, WebP, TIFF, plain PNG iTXt), and
    inside compressed PNG iTXt chunks (inflated with a size bound)."""
    packets = [m.group(0) for m in _XMP.finditer(data[:MAX_SCAN])]
    for kind, body in _png_chunks(data):
        if kind != b"iTXt" or not body.startswith(b"XML:com.adobe.xmp\x00"):
            continue
        rest = body[len(b"XML:com.adobe.xmp\x00") :]
        if len(rest) < 2 or rest[0] != 1:
            continue
        parts = rest[2:].split(b"\x00", 2)
        if len(parts) < 3:
            continue
        try:
            inflater = zlib.decompressobj()
            text = inflater.decompress(parts[2], 16 * 1024 * 1024)
        except zlib.error:
            continue
        packets += [m.group(0) for m in _XMP.finditer(text)]
    return packets


def _plus_values(packet: bytes) -> list[str]:
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        raise _Malformed("XMP with a DTD or entities is refused")
    root = ElementTree.fromstring(packet)
    name = f"{{{_PLUS_NS}}}DataMining"
    values: list[str] = []
    for element in root.iter():
        if name in element.attrib:
            values.append(element.attrib[name])
        if element.tag == name:
            resource = element.attrib.get(f"{{{_RDF_NS}}}resource")
            text = resource or "".join(element.itertext())
            values.append(text)
    return [value.strip() for value in values if value.strip()]


def xmp_verdict(data: bytes, *, location: str = "embedded XMP") -> Verdict:
    """IPTC PLUS `plus:DataMining` in the file's XMP."""
    if _PLUS_NS.encode() not in data[:MAX_SCAN] and data[:4] != b"\x89PNG":
        return Verdict("IPTC PLUS DataMining", location, "post-fetch", unknown(), "no PLUS DataMining in XMP")
    parts: list[dict[Use, Decision]] = []
    notes: list[str] = []
    for packet in xmp_packets(data):
        try:
            values = _plus_values(packet)
        except (ElementTree.ParseError, _Malformed) as exc:
            notes.append(f"unreadable XMP packet ({exc})")
            continue
        for value in values:
            code = value.rsplit("/", 1)[-1]
            if code not in PLUS_VALUES:
                notes.append(f"unknown DataMining value {value!r}")
                continue
            uses_for, decision = PLUS_VALUES[code]
            uses = unknown()
            for use in uses_for:
                uses[use] = decision
            if "train-ai" in uses_for:
                uses["train-genai"] = decision
            parts.append(uses)
            notes.append(code)
    if not parts:
        return Verdict(
            "IPTC PLUS DataMining",
            location,
            "post-fetch",
            unknown(),
            "; ".join(notes) or "no PLUS DataMining in XMP",
        )
    return Verdict("IPTC PLUS DataMining", location, "post-fetch", combine_uses(parts), "; ".join(notes))


def verdict(data: bytes) -> list[Verdict]:
    """Both embedded signals of a fetched file."""
    return [c2pa_verdict(data), xmp_verdict(data)]
