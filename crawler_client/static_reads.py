"""Reading a static copy of a registry (`kotowari publish`): snapshots by path, proofs from tiles.

A static server serves files, not queries: `GET /v1/log/proof/consistency?…` and
`GET /v1/snapshot?since=N` find no file there. The client knows it reads a static copy when the
copy's `/v1/registry` says so (its `static` member), or when such a query endpoint answers 404 (or
403, as object stores do) with something other than a registry's problem+json. It then

- computes consistency proofs from the hash tiles (`crawler_client.tile_proofs`), and verifies
  them against the signed roots exactly as it verifies a registry's proof;
- reads snapshots by path: the pointer `/v1/snapshots/latest` names the tree size M, then
  `/v1/snapshots/full/{M}` or the delta `/v1/snapshots/delta/{N}-{M}`. A copy publishes deltas from
  a few earlier sizes only: from any other size the delta is `DeltaUnavailable`, and `pull` falls
  back to the full snapshot (checked to extend the local one, as always).

What a static copy cannot answer (a leaf looked up by its hash, signed check answers, claim
lookups) raises `StaticCopy`, saying that it needs the live registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crawler_client.audit.tiles import MalformedTile
from crawler_client.errors import UnexpectedAnswer
from crawler_client.tile_proofs import TileFlow

if TYPE_CHECKING:
    from crawler_client.core import ClientCore, Flow, Response

__all__ = [
    "DeltaUnavailable",
    "StaticCopy",
    "is_static",
    "looks_static",
    "refuses_queries",
    "snapshot_flow",
    "tile_proof_flow",
]


class StaticCopy(UnexpectedAnswer):
    """The registry URL is a static copy, which cannot answer this: ask the live registry."""


class DeltaUnavailable(StaticCopy):
    """The static copy publishes no delta from this tree size: download the full snapshot."""


def is_static(info: Mapping[str, Any]) -> bool:
    """Whether `GET /v1/registry`'s answer is a published static copy's."""
    return isinstance(info.get("static"), dict)


def looks_static(response: Response) -> bool:
    """A query endpoint answered as a file server does when there is no such file."""
    return response.status in (403, 404) and response.problem() is None


def refuses_queries(response: Response) -> bool:
    """A query (`POST /v1/check`, a filing) answered as a file server answers one it cannot serve:
    no such file, or no such method (405; 501 from Python's `http.server`)."""
    return response.status in (403, 404, 405, 501) and response.problem() is None


def tile_proof_flow(core: ClientCore, proof: TileFlow) -> Flow[list[bytes]]:
    """Fetch the tiles `proof` asks for; the proof it computes from them."""
    try:
        path = next(proof)
        while True:
            data = core.raw((yield core.build("GET", path)))
            path = proof.send(data)
    except StopIteration as done:
        nodes: list[bytes] = done.value
        return nodes
    except MalformedTile as exc:
        raise UnexpectedAnswer(f"{core.registry}: {exc}") from None


def snapshot_flow(core: ClientCore, since: int | None) -> Flow[bytes]:
    """The full snapshot, or the delta from `since`, through the static copy's pointer."""
    pointer = core.json_object((yield core.build("GET", "/v1/snapshots/latest")))
    size = pointer.get("tree_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise UnexpectedAnswer(f"{core.registry}/v1/snapshots/latest names no tree size")
    if since is None:
        return core.raw((yield core.build("GET", f"/v1/snapshots/full/{size}")))
    sources = pointer.get("deltas_from")
    unavailable = DeltaUnavailable(
        f"{core.registry} is a static copy at tree size {size} with no delta from {since}: "
        "download the full snapshot"
    )
    if since > size or (isinstance(sources, list) and since not in sources):
        raise unavailable
    response = yield core.build("GET", f"/v1/snapshots/delta/{since}-{size}")
    if looks_static(response):
        raise unavailable
    return core.raw(response)
