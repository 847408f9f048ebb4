"""The transparency log over HTTP: C2SP tlog-tiles (checkpoint, hash tiles, entry bundles) and
JSON inclusion and consistency proofs.

Tile paths follow tlog-tiles: `/log/tile/{L}/{N}[.p/{W}]` and `/log/tile/entries/{N}[.p/{W}]`,
where N is written in 3-digit path elements, all but the last prefixed by `x` (1234067 is
`x001/x234/067`). A tile or bundle never changes once it exists; full ones are cached for a year.
"""

from __future__ import annotations

import base64
import binascii
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.state import RegistryState
from registry.errors import InvalidParameter, NotFound
from registry.log import TILE_WIDTH, LogOutOfRange

_TILE_PATH = re.compile(
    r"(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE = "public, max-age=60"


def _state(request: Request) -> RegistryState:
    state: RegistryState = request.app.state.registry
    return state


def _number(request: Request, name: str) -> int:
    text = request.query_params.get(name)
    if text is None:
        raise InvalidParameter(f"the query parameter {name} is required", [(name, "missing")])
    if not _DECIMAL.fullmatch(text):
        raise InvalidParameter(
            f"{name} must be a non-negative decimal integer, not {text!r}", [(name, "not a number")]
        )
    return int(text)


def _leaf_hash(request: Request) -> bytes:
    text = request.query_params.get("hash")
    if text is None:
        raise InvalidParameter("the query parameter hash is required", [("hash", "missing")])
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        raise InvalidParameter(
            "hash must be a 32-byte leaf hash in base64 or hex", [("hash", "not a leaf hash")]
        )
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


async def checkpoint(request: Request) -> Response:
    """The latest checkpoint; with witnesses configured, the newest one they cosigned (see
    `registry.witnessing.Witnessing.cosigned_checkpoint`), log signature and cosignatures in one note."""
    state = _state(request)
    if state.witnessing is not None:
        note = await state.witnessing.cosigned_checkpoint()
    else:
        note = await state.log.latest_checkpoint()
    return Response(note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"})


async def witnesses(request: Request) -> Response:
    """Each configured witness: the size it last cosigned, when, its last error, whether it refused."""
    witnessing = _state(request).witnessing
    if witnessing is None:
        return JSONResponse({"witnesses": [], "quorum_met": False})
    return JSONResponse(witnessing.status())


async def tile(request: Request) -> Response:
    match = _TILE_PATH.fullmatch(request.path_params["path"])
    if match is None:
        raise InvalidParameter(f"not a tlog-tiles path: {request.path_params['path']!r}")
    index = int(match["index"].replace("x", "").replace("/", ""))
    width = TILE_WIDTH if match["width"] is None else int(match["width"])
    if not 1 <= width < TILE_WIDTH and match["width"] is not None:
        raise InvalidParameter(f"a partial tile's width is 1 to {TILE_WIDTH - 1}, not {width}")
    log = _state(request).log
    try:
        if match["level"] == "entries":
            data = await log.entry_bundle(index, width)
        else:
            data = await log.hash_tile(int(match["level"]), index, width)
    except LogOutOfRange as exc:
        raise NotFound(str(exc)) from None
    cache = FULL_TILE_CACHE if width == TILE_WIDTH else PARTIAL_TILE_CACHE
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})


async def inclusion_proof(request: Request) -> Response:
    leaf = _leaf_hash(request)
    tree_size = _number(request, "tree_size")
    log = _state(request).log
    index = await log.index_of(leaf)
    if index is None:
        raise NotFound("no log entry has that leaf hash")
    try:
        proof = await log.inclusion_proof(index, tree_size)
    except LogOutOfRange as exc:
        raise InvalidParameter(str(exc), [("tree_size", "out of range")]) from None
    return JSONResponse(
        {"leaf_index": index, "tree_size": tree_size, "inclusion_proof": [_b64(node) for node in proof]}
    )


async def consistency_proof(request: Request) -> Response:
    first, second = _number(request, "first"), _number(request, "second")
    try:
        proof = await _state(request).log.consistency_proof(first, second)
    except LogOutOfRange as exc:
        raise InvalidParameter(
            str(exc), [("second" if "beyond" in str(exc) else "first", "out of range")]
        ) from None
    return JSONResponse(
        {"first": first, "second": second, "consistency_proof": [_b64(node) for node in proof]}
    )


LOG_ROUTES = [
    Route("/v1/log/witnesses", witnesses, methods=["GET"]),
    Route("/log/checkpoint", checkpoint, methods=["GET"]),
    Route("/log/tile/{path:path}", tile, methods=["GET"]),
    Route("/v1/log/proof/inclusion", inclusion_proof, methods=["GET"]),
    Route("/v1/log/proof/consistency", consistency_proof, methods=["GET"]),
]
