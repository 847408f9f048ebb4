"""Request bodies read under a size limit, so a large body costs the registry nothing but a 413."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from registry.errors import BodyTooLarge, MalformedJSON, TooManyItems
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


_SPACE = " \t\n\r"
_SPLITTER = json.JSONDecoder()


def is_json_array(raw: bytes) -> bool:
    """Whether a body is a JSON array (a bulk of documents) rather than one document."""
    return raw.lstrip(_SPACE.encode()).startswith(b"[")


def split_json_array(raw: bytes, limit: int) -> list[bytes]:
    """The exact text of each element of a JSON array body, so each document keeps its own strict
    parse and its own refusal (a duplicate key in one does not sink the others).

    Only the array's syntax is judged here: `MalformedJSON` if it is not one array, `TooManyItems`
    beyond `limit` elements or for none.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        parse_json(raw)  # raises with the offset
        raise
    elements: list[bytes] = []
    position = _skip(text, 0) + 1
    position = _skip(text, position)
    if position < len(text) and text[position] == "]":
        position += 1
    else:
        while True:
            try:
                _, end = _SPLITTER.raw_decode(text, position)
            except json.JSONDecodeError as exc:
                raise MalformedJSON(
                    f"not a JSON array of documents: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                    [(f"/{len(elements)}", exc.msg)],
                ) from None
            elements.append(text[position:end].encode("utf-8"))
            if len(elements) > limit:
                raise TooManyItems(
                    f"more than {limit} documents in one request; send them in several",
                    [("", f"at most {limit} documents")],
                )
            position = _skip(text, end)
            if position < len(text) and text[position] == ",":
                position = _skip(text, position + 1)
                continue
            if position < len(text) and text[position] == "]":
                position += 1
                break
            raise MalformedJSON("not a JSON array of documents: expected , or ]", [(f"/{len(elements)}", "")])
    if _skip(text, position) != len(text):
        raise MalformedJSON("not a JSON array of documents: text after the closing ]", [("", "extra data")])
    if not elements:
        raise TooManyItems("an empty array: send at least one signed document", [("", "no documents")])
    return elements


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _SPACE:
        position += 1
    return position
