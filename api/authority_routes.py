"""Authority over HTTP: file attestations, mandates, revocations, rotations and recoveries; ask the
registry to verify a domain; read what the log says about a DID."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.bodies import read_body, read_json
from api.state import RegistryState
from registry.authority.service import AuthorityService
from registry.errors import NotFound


def _service(request: Request) -> tuple[RegistryState, AuthorityService]:
    state: RegistryState = request.app.state.registry
    if state.authority is None:
        raise NotFound("this registry keeps no authority records")
    return state, state.authority


async def file_authority(request: Request) -> Response:
    state, service = _service(request)
    receipt = await service.file(await read_body(request, state.settings.max_body_bytes))
    return JSONResponse(receipt, status_code=201)


async def verify_domain(request: Request) -> Response:
    state, service = _service(request)
    answer = await service.verify_domain(await read_json(request, state.settings.max_body_bytes))
    return JSONResponse(answer, status_code=201)


async def describe(request: Request) -> Response:
    _, service = _service(request)
    return JSONResponse(await service.describe(request.path_params["did"]))


AUTHORITY_ROUTES = [
    Route("/v1/authority", file_authority, methods=["POST"]),
    Route("/v1/authority/{did:str}", describe, methods=["GET"]),
    Route("/v1/verifications", verify_domain, methods=["POST"]),
]
