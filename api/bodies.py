"""Request bodies read under a size limit, so a large body costs the registry nothing but a 413."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from registry.errors import BodyTooLarge, MalformedJSON
from registry.intake import parse_json


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or `BodyTooLarge` as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    if size == 0:
        raise MalformedJSON("the request has no body; send a JSON document")
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Any:
    """The body parsed as strict JSON (see `keys.parse_strict_json`)."""
    return parse_json(await read_body(request, limit))
