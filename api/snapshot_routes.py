"""`GET /v1/snapshot[?since=N]`: the signed snapshot, or the delta from tree size N (binary).

Both are immutable for a given tree size, so they carry an ETag naming it; the snapshot format
is documented in `registry.snapshot`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.state import RegistryState
from registry.errors import InvalidParameter

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


SNAPSHOT_ROUTES = [Route("/v1/snapshot", get_snapshot, methods=["GET"])]
