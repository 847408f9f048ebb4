"""Authority over HTTP: file attestations, mandates, revocations, rotations and recoveries; ask the
registry to verify a domain; read what the log says about a DID."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.bodies import read_body, read_json
from api.notice_routes import _INTAKE, _REF, _op, _path
from api.state import RegistryState
from registry.authority.documents import AUTHORITY_DOCUMENT_TYPES, FILED_TYPES
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


def authority_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, component schemas) for the authority endpoints, from the validating models."""
    models: list[type[BaseModel]] = [
        AUTHORITY_DOCUMENT_TYPES[name] for name in sorted(AUTHORITY_DOCUMENT_TYPES)
    ]
    _, top = models_json_schema([(model, "validation") for model in models], ref_template=_REF)
    filed = {"oneOf": [{"$ref": _REF.format(model=name)} for name in sorted(FILED_TYPES)]}
    errors = {**_INTAKE, "409": "nonce already used, a replaced key, or against the authority rules"}
    operation = _op("File a signed authority or key-lifecycle document", "201", None, **errors)
    operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": filed}}}
    verification_body = {
        "type": "object",
        "required": ["did", "host"],
        "additionalProperties": False,
        "properties": {
            "did": {"type": "string"},
            "host": {"type": "string"},
            "method": {
                "type": "string",
                "enum": ["well-known", "did-web", "dns-txt"],
                "default": "well-known",
            },
        },
    }
    verify = _op(
        "Ask the registry to verify that a DID controls a host; logs a registry-signed DomainVerification",
        "201",
        None,
        **{"400": "not strict JSON", "422": "invalid request, or the check failed (says what it fetched)"},
    )
    verify["requestBody"] = {"required": True, "content": {"application/json": {"schema": verification_body}}}
    paths: dict[str, Any] = {
        "/v1/authority": {"post": operation},
        "/v1/authority/{did}": {
            "get": {
                **_op("What the log says about a DID's authority and keys", e404="nothing logged about it"),
                "parameters": _path("did"),
            }
        },
        "/v1/verifications": {"post": verify},
    }
    return paths, top.get("$defs", {})
