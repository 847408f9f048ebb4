"""Builders for test media: CBOR, JUMBF boxes, JPEG APP11 segments, PNG chunks and XMP packets.

Written from the container specifications (RFC 8949, ISO/IEC 19566-5, JPEG, PNG), independently of
the reader under test, so the tests check the reader against the formats, not against itself.
"""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from typing import Any

CBOR_UUID = bytes.fromhex("63626F72001100108000 00AA00389B71".replace(" ", ""))
JSON_UUID = bytes.fromhex("6A736F6E001100108000 00AA00389B71".replace(" ", ""))
STORE_UUID = bytes.fromhex("63327061001100108000 00AA00389B71".replace(" ", ""))


def cbor(value: Any) -> bytes:
    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | info]) + n.to_bytes(size, "big")
        raise ValueError(n)

    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode()
        return head(3, len(data)) + data
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(type(value))


def box(kind: bytes, content: bytes) -> bytes:
    return struct.pack(">I", 8 + len(content)) + kind + content


def superbox(label: str, type_uuid: bytes, *children: bytes) -> bytes:
    description = box(b"jumd", type_uuid + b"\x03" + label.encode() + b"\x00")
    return box(b"jumb", description + b"".join(children))


def assertion(label: str, content: Any, *, as_json: bool = False) -> bytes:
    if as_json:
        return superbox(label, JSON_UUID, box(b"json", json.dumps(content).encode()))
    return superbox(label, CBOR_UUID, box(b"cbor", cbor(content)))


def manifest_store(*assertions: bytes) -> bytes:
    store = superbox("c2pa.assertions", uuid.uuid4().bytes, *assertions)
    manifest = superbox("urn:uuid:" + str(uuid.uuid4()), uuid.uuid4().bytes, store)
    return superbox("c2pa", STORE_UUID, manifest)


def jpeg_with(jumbf: bytes, *, segment_size: int = 60000, extra: bytes = b"") -> bytes:
    """A minimal JPEG whose APP11 segments carry `jumbf` (split as ISO 19566-5 says)."""
    header = jumbf[:8]
    payload = jumbf[8:]
    segments = b""
    sequence = 1
    first = True
    while first or payload:
        chunk, payload = payload[:segment_size], payload[segment_size:]
        body = b"JP" + struct.pack(">HI", 1, sequence) + header + chunk
        segments += b"\xff\xeb" + struct.pack(">H", len(body) + 2) + body
        sequence += 1
        first = False
    return b"\xff\xd8" + segments + extra + b"\xff\xda\x00\x02" + b"\x00" * 16 + b"\xff\xd9"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with(*chunks: bytes) -> bytes:
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"".join(chunks) + idat + png_chunk(b"IEND", b"")


def xmp(data_mining: str, *, as_element: bool = False) -> bytes:
    value = f"http://ns.useplus.org/ldf/vocab/{data_mining}"
    if as_element:
        inner = f"<plus:DataMining rdf:resource='{value}'/>"
        attribute = ""
    else:
        inner = ""
        attribute = f' plus:DataMining="{value}"'
    return (
        "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>"
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        f"<rdf:Description rdf:about='' xmlns:plus='http://ns.useplus.org/ldf/xmp/1.0/'{attribute}>{inner}"
        "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
    ).encode()


def jpeg_with_xmp(packet: bytes) -> bytes:
    body = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    return b"\xff\xd8\xff\xe1" + struct.pack(">H", len(body) + 2) + body + b"\xff\xd9"
