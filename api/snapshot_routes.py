"""`GET /v1/snapshot[?since=N]`: the signed snapshot, or the delta from tree size N (binary).

Both are immutable for a given tree size, so they carry an ETag naming it; the snapshot format
is documented in `registry.snapshot`.

The same reads by path, as `kotowari publish` lays them out for a static server (which cannot
serve a query string): `GET /v1/snapshots/latest` (a JSON pointer naming the current tree size M),
`/v1/snapshots/full/{M}` and `/v1/snapshots/delta/{N}-{M}`. The live registry holds only the
current size, so a path naming another M answers 404 `not-found` (read the pointer again).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.state import RegistryState
from registry.errors import InvalidParameter, NotFound
from registry.snapshot_file import tree_size_of

MEDIA_TYPE = "application/vnd.kotowari.snapshot"


async def get_snapshot(request: Request) -> Response:
    state: RegistryState = request.app.state.registry
    since = request.query_params.get("since")
    if since is None:
        body = await state.snapshots.full()
    else:
        if not since.isdigit() or len(since) > 19:
            raise InvalidParameter(f"since must be a tree size (a non-negative integer), not {since!r}")
        body = await state.snapshots.delta(int(since))
    return Response(body, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-cache"})


def _size(text: str) -> int:
    if not text.isdigit() or len(text) > 19 or (len(text) > 1 and text[0] == "0"):
        raise InvalidParameter(f"a tree size is a non-negative integer, not {text!r}")
    return int(text)


async def _current(request: Request, size: int) -> bytes:
    """The full snapshot if the registry is at tree size `size`, else 404."""
    state: RegistryState = request.app.state.registry
    body = await state.snapshots.full()
    current = tree_size_of(body)
    if size != current:
        raise NotFound(
            f"this registry's snapshot is at tree size {current}, not {size}: see /v1/snapshots/latest"
        )
    return body


async def latest_pointer(request: Request) -> Response:
    state: RegistryState = request.app.state.registry
    size = tree_size_of(await state.snapshots.full())
    pointer = {
        "tree_size": size,
        "snapshot": f"/v1/snapshots/full/{size}",
        "delta": f"/v1/snapshots/delta/{{since}}-{size}",
    }
    return JSONResponse(pointer, headers={"Cache-Control": "no-cache"})


async def full_at(request: Request) -> Response:
    body = await _current(request, _size(request.path_params["size"]))
    return Response(body, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-cache"})


async def delta_between(request: Request) -> Response:
    since, _, size = str(request.path_params["span"]).partition("-")
    first, second = _size(since), _size(size)
    if first > second:
        raise InvalidParameter(f"a delta goes from a smaller tree size to a larger one, not {first}-{second}")
    state: RegistryState = request.app.state.registry
    await _current(request, second)
    body = await state.snapshots.delta(first)
    if tree_size_of(body) != second:  # the log grew between the two reads
        raise NotFound(
            f"this registry's snapshot is no longer at tree size {second}: see /v1/snapshots/latest"
        )
    return Response(body, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-cache"})


SNAPSHOT_ROUTES = [
    Route("/v1/snapshot", get_snapshot, methods=["GET"]),
    Route("/v1/snapshots/latest", latest_pointer, methods=["GET"]),
    Route("/v1/snapshots/full/{size}", full_at, methods=["GET"]),
    Route("/v1/snapshots/delta/{span}", delta_between, methods=["GET"]),
]
